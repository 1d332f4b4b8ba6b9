"""Job titles as a practice writes them, read as the access roles the product knows.

A roster names a person's job title (``Senior accountant``, ``Director``); access
rules speak of practice admins, partners, managers and employees. The title is kept
as written and read through ``TITLE_ROLES``, which the README's "Import formats"
shows; a title the table does not know reads as employee, with a warning naming it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from agent.imports.fields import parse_text
from agent.imports.sheet import Cell


class PracticeRole(StrEnum):
    """A staff member's role in the practice, as the roster states it."""

    PRACTICE_ADMIN = "practice_admin"
    PARTNER = "partner"
    MANAGER = "manager"
    EMPLOYEE = "employee"


TITLE_ROLES: tuple[tuple[PracticeRole, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        PracticeRole.PRACTICE_ADMIN,
        ("admin",),
        (
            "practice admin",
            "practice administrator",
            "practice manager",
            "office manager",
            "operations manager",
        ),
    ),
    (PracticeRole.PARTNER, (), ("partner", "director", "principal", "owner", "founder")),
    (PracticeRole.MANAGER, (), ("manager", "team leader", "team lead", "supervisor")),
    (
        PracticeRole.EMPLOYEE,
        (),
        (
            "employee",
            "staff",
            "senior",
            "accountant",
            "bookkeeper",
            "book keeper",
            "graduate",
            "intern",
            "associate",
            "junior",
            "intermediate",
            "analyst",
            "assistant",
            "administrator",
            "administration",
            "receptionist",
            "consultant",
            "adviser",
            "advisor",
            "trainee",
            "cadet",
            "clerk",
            "specialist",
            "officer",
            "payroll",
            "tax agent",
            "student",
            "contractor",
            "technician",
            "coordinator",
            "auditor",
        ),
    ),
)
"""How a practice's job titles read as access roles, in order: the first row that fits wins.

Each row is (role, whole titles, phrases): a title fits a row when it is one of its
whole titles, or when one of its phrases appears in the title as whole words
(``Senior Tax Manager`` holds ``manager``). Case, punctuation, ``_`` and ``-`` do not
matter. A bare ``admin`` is a practice admin only as the whole title, so ``Admin
assistant`` is an employee. The README's "Import formats" shows this table.
"""


def _words(text: str) -> str:
    """A title's words, lower case, single spaced, punctuation, ``_`` and ``-`` dropped."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


_TITLE_TABLE = tuple(
    (
        role,
        frozenset(_words(t) for t in whole),
        re.compile(r"\b(?:" + "|".join(re.escape(_words(p)) for p in phrases) + r")\b"),
    )
    for role, whole, phrases in TITLE_ROLES
)


@lru_cache(maxsize=4096)
def role_for_title(title: str) -> tuple[PracticeRole, bool]:
    """The access role a job title reads as, and whether the table knows the title.

    An unknown title is an employee: the least the practice role grants, so a title
    the table misses never widens anyone's standing. Rosters repeat a few titles on
    every row, so answers are remembered.
    """
    words = _words(title)
    for role, whole, phrases in _TITLE_TABLE:
        if words in whole or phrases.search(words):
            return role, True
    return PracticeRole.EMPLOYEE, False


def parse_job_title(cell: Cell, *, max_length: int | None = None) -> tuple[str, PracticeRole, bool]:
    """A job title as written, the access role it reads as, and whether that was known."""
    title = parse_text(cell, max_length=max_length)
    role, known = role_for_title(title)
    return title, role, known
