"""Field parsers shared by the imports: text, dates, yes/no, money, emails, portals, org ids.

Each parser takes one cell (text from a CSV, or a typed XLSX value) and returns a
clean value or raises ``FieldError`` with a reason a practice admin understands,
quoting what they wrote. ``RowCheck`` applies parsers to one row and turns every
failure into a ``RowError`` without stopping, so a file is reported whole.

Org ids are normalised here once for the whole product: a Xero short code is kept
exactly (its case matters), a QBO realm id is its digits, a MYOB business id is its
UUID in lower case. ``normalise_org_id`` is what other layers should call to compare.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from sqlmodel import SQLModel

from agent.domain import Portal, StaffStatus
from agent.imports.errors import FieldError, Problems, RowError
from agent.imports.reading import Cell, Row
from agent.reconcile.identity import looks_like_email, normalise_email

T = TypeVar("T")


class PracticeRole(StrEnum):
    """A staff member's role in the practice, as the roster states it."""

    PRACTICE_ADMIN = "practice_admin"
    PARTNER = "partner"
    MANAGER = "manager"
    EMPLOYEE = "employee"


_EXCEL_EXACT = 2**53
"""Beyond this a number held by Excel (a double) may have been rounded."""

_XERO_ID = re.compile(r"![A-Za-z0-9]{5}")
_QBO_ID = re.compile(r"[0-9]{10,19}")
_MYOB_ID = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?"
)
_ORG_ID_HELP = {
    Portal.XERO: "a Xero short code is ! and five letters or digits, e.g. !x7Kp2",
    Portal.QBO: "a QuickBooks realm id is 10 to 19 digits, e.g. 9130352157364426",
    Portal.MYOB: "a MYOB business id is a UUID, e.g. 3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f",
}
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ][0-9:.]+)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_MONEY = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_CURRENCY = "$£€¥"
_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}
_LIST_SPLIT = re.compile(r"[;,\t\r\n]+")
_PERMISSION_SPLIT = re.compile(r"[;\t\r\n]+")
_ID_SPLIT = re.compile(r"[;,\s]+")


def show(cell: Cell) -> str:
    """A value quoted for a message, cut short if long."""
    text = str(cell)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def column_length(model: type[SQLModel], field: str) -> int | None:
    """The declared length of a model's string column, so imports refuse what won't fit."""
    column = model.__table__.c[field]  # type: ignore[attr-defined]
    length = getattr(column.type, "length", None)
    return length if isinstance(length, int) else None


def to_text(cell: Cell) -> str | None:
    """A cell as text: a whole number without ``.0``, a date in ISO form; blank is None."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < _EXCEL_EXACT:
        return str(int(cell))
    if isinstance(cell, datetime) and cell.time() == time(0):
        return cell.date().isoformat()
    if isinstance(cell, date | time):
        return cell.isoformat()
    text = str(cell).strip()
    return text or None


def parse_text(cell: Cell, *, max_length: int | None = None) -> str:
    text = to_text(cell) or ""
    if max_length is not None and len(text) > max_length:
        raise FieldError(f"is {len(text)} characters long; at most {max_length} fit")
    return text


def parse_date(cell: Cell) -> date:
    """A date: an Excel date cell, ``2025-03-03``, or day-first ``03/03/2025``."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool | int | float):
        raise FieldError(
            f"{show(cell)} is a number, not a date; format the cell as a date "
            "or write it as 2025-03-03"
        )
    text = to_text(cell) or ""
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise FieldError(
            f"{show(text)} is not a date; write it as 2025-03-03 or 03/03/2025 (day first)"
        )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise FieldError(f"{show(text)} is not a real date ({exc})") from exc


def parse_bool(cell: Cell) -> bool:
    """yes/no, true/false, y/n, 1/0 in any case, or an Excel TRUE/FALSE cell."""
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    word = (to_text(cell) or "").casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise FieldError(f"{show(cell)} is not yes or no (use yes/no, true/false or 1/0)")


def parse_money(cell: Cell) -> float:
    """An amount: ``1200``, ``1,200.50``, ``$1,200.50``, ``-$5`` or ``($5.00)``."""
    if isinstance(cell, bool):
        raise FieldError(f"{show(cell)} is not an amount")
    if isinstance(cell, int | float):
        if not math.isfinite(cell):
            raise FieldError(f"{show(cell)} is not an amount")
        return float(cell)
    text = (to_text(cell) or "").replace(" ", "").replace("\u00a0", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    text = text.lstrip(_CURRENCY).rstrip(_CURRENCY)
    if not _MONEY.fullmatch(text):
        raise FieldError(f"{show(cell)} is not an amount; write it like 1200 or $1,200.50")
    value = float(text.replace(",", ""))
    return -value if negative else value


def parse_enum_word(cell: Cell, choices: dict[str, T], what: str, valid: str) -> T:
    word = re.sub(r"[\s_\-]+", "_", (to_text(cell) or "").casefold())
    try:
        return choices[word]
    except KeyError:
        raise FieldError(f"{show(cell)} is not {what}; use {valid}") from None


_STATUSES = {"active": StaffStatus.ACTIVE, "on_leave": StaffStatus.ON_LEAVE,
             "left": StaffStatus.LEFT}

TITLE_ROLES: tuple[tuple[PracticeRole, tuple[str, ...], tuple[str, ...]], ...] = (
    (PracticeRole.PRACTICE_ADMIN, ("admin",),
     ("practice admin", "practice administrator", "practice manager", "office manager",
      "operations manager")),
    (PracticeRole.PARTNER, (),
     ("partner", "director", "principal", "owner", "founder")),
    (PracticeRole.MANAGER, (),
     ("manager", "team leader", "team lead", "supervisor")),
    (PracticeRole.EMPLOYEE, (),
     ("employee", "staff", "senior", "accountant", "bookkeeper", "book keeper", "graduate",
      "intern", "associate", "junior", "intermediate", "analyst", "assistant",
      "administrator", "administration", "receptionist", "consultant", "adviser", "advisor",
      "trainee", "cadet", "clerk", "specialist", "officer", "payroll", "tax agent",
      "student", "contractor", "technician", "coordinator", "auditor")),
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
    (role, frozenset(_words(t) for t in whole),
     re.compile(r"\b(?:" + "|".join(re.escape(_words(p)) for p in phrases) + r")\b"))
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


def parse_staff_status(cell: Cell) -> StaffStatus:
    """active, on leave (``on_leave``, ``On Leave``), or left."""
    return parse_enum_word(cell, _STATUSES, "a staff status", "active, on leave or left")


def parse_job_title(cell: Cell, *, max_length: int | None = None) -> tuple[str, PracticeRole, bool]:
    """A job title as written, the access role it reads as, and whether that was known."""
    title = parse_text(cell, max_length=max_length)
    role, known = role_for_title(title)
    return title, role, known


def parse_portal(cell: Cell) -> Portal:
    word = (to_text(cell) or "").casefold()
    try:
        return Portal(word)
    except ValueError:
        raise FieldError(f"{show(cell)} is not a portal; use xero, qbo or myob") from None


def normalise_org_id(portal: Portal | str, raw: str) -> str:
    """The stored form of an org id, or ``FieldError`` if it is not one of that portal's."""
    portal = Portal(portal)
    text = raw.strip()
    if portal is Portal.XERO:
        if _XERO_ID.fullmatch(text):
            return text
        hint = f" (did you mean !{text}?)" if re.fullmatch(r"[A-Za-z0-9]{5}", text) else ""
        raise FieldError(f"{show(text)} is not a Xero org id{hint}; {_ORG_ID_HELP[portal]}")
    if portal is Portal.QBO:
        if _QBO_ID.fullmatch(text):
            return text
        raise FieldError(f"{show(text)} is not a QuickBooks org id; {_ORG_ID_HELP[portal]}")
    if match := _MYOB_ID.fullmatch(text):
        return match.group(1).lower()
    raise FieldError(f"{show(text)} is not a MYOB org id; {_ORG_ID_HELP[portal]}")


def parse_org_id(portal: Portal, cell: Cell) -> str:
    """An org id from a cell; a number Excel may have rounded is refused, not guessed."""
    if isinstance(cell, float) and not (cell.is_integer() and abs(cell) < _EXCEL_EXACT):
        raise FieldError(
            f"{show(cell)} was stored by Excel as a number and has lost digits; "
            "format the column as Text and enter the id again"
        )
    if isinstance(cell, bool) or not isinstance(cell, str | int | float):
        raise FieldError(f"{show(cell)} is not an org id; {_ORG_ID_HELP[portal]}")
    return normalise_org_id(portal, to_text(cell) or "")


def parse_org_ref(text: str) -> tuple[Portal, str]:
    """``xero:!x7Kp2`` to the portal and its normalised org id."""
    portal_text, colon, org_text = text.partition(":")
    if not colon:
        raise FieldError(
            f"{show(text)} is not portal:org_id; write it like xero:!x7Kp2 or qbo:1234567890"
        )
    portal = parse_portal(portal_text.strip())
    return portal, normalise_org_id(portal, org_text)


def parse_org_refs(cell: Cell) -> list[tuple[Portal, str]]:
    """``portal:org_id`` pairs separated by ``;``, ``,``, tabs or new lines, each once.

    Every bad pair is named in one ``FieldError``.
    """
    refs: list[tuple[Portal, str]] = []
    problems: list[str] = []
    for item in split_list(to_text(cell) or "", _LIST_SPLIT):
        try:
            ref = parse_org_ref(item)
        except FieldError as exc:
            problems.append(str(exc))
            continue
        if ref not in refs:
            refs.append(ref)
    if problems:
        raise FieldError("; ".join(problems))
    return refs


def parse_portal_org_ids(portal: Portal, cell: Cell) -> list[tuple[Portal, str]]:
    """One portal's org ids from its own column (``xero_org``), duplicates dropped.

    Ids are separated by ``;``, ``,``, spaces or new lines; an id may carry its portal
    (``xero:!x7Kp2``) but not another's. A number cell is one id. Every bad id is
    named in one ``FieldError``.
    """
    if not isinstance(cell, str):
        return [(portal, parse_org_id(portal, cell))]
    refs: list[tuple[Portal, str]] = []
    problems: list[str] = []
    for item in split_list(cell, _ID_SPLIT):
        named, colon, rest = item.partition(":")
        if colon and named.strip().casefold() != portal.value:
            problems.append(f"{show(item)} names another portal than {portal}")
            continue
        try:
            ref = (portal, normalise_org_id(portal, rest if colon else item))
        except FieldError as exc:
            problems.append(str(exc))
            continue
        if ref not in refs:
            refs.append(ref)
    if problems:
        raise FieldError("; ".join(problems))
    return refs


def split_list(text: str, separators: re.Pattern[str] = _LIST_SPLIT) -> list[str]:
    return [part.strip() for part in separators.split(text) if part.strip()]


def parse_permissions(cell: Cell) -> list[str]:
    """Extra permissions separated by ``;``, tabs or new lines, as written, once each."""
    return list(dict.fromkeys(split_list(to_text(cell) or "", _PERMISSION_SPLIT)))


def parse_email(cell: Cell, practice_domains: Iterable[str] = ()) -> str:
    """One address, normalised (see ``agent.reconcile.identity.normalise_email``)."""
    text = to_text(cell) or ""
    if not looks_like_email(text):
        raise FieldError(f"{show(text)} is not an email address")
    return normalise_email(text, practice_domains)


def parse_emails(cell: Cell, practice_domains: Iterable[str] = ()) -> list[str]:
    """Addresses separated by ``;``, ``,``, tabs or new lines, normalised, first one first.

    An address written twice (even spelt differently) is kept once; every bad address
    is named in one ``FieldError``.
    """
    domains = tuple(practice_domains)
    emails: list[str] = []
    bad: list[str] = []
    for part in split_list(to_text(cell) or ""):
        try:
            email = parse_email(part, domains)
        except FieldError:
            bad.append(show(part))
            continue
        if email not in emails:
            emails.append(email)
    if bad:
        verb = "is not an email address" if len(bad) == 1 else "are not email addresses"
        raise FieldError(f"{', '.join(bad)} {verb}")
    if not emails:
        raise FieldError("no email address given")
    return emails


class RowCheck:
    """Parses one row's cells, recording each failure as a ``RowError`` and carrying on.

    A parser that fails returns ``None`` to the caller; ``ok`` tells whether the row is
    clean so far, and only clean rows are written. A failure names the column as the
    file's header wrote it, which is what the person sees in their spreadsheet. A
    cell already refused while reading (``Row.flagged``) fails without a second
    message.
    """

    def __init__(self, row: Row, file: str, errors: Problems | list[RowError]) -> None:
        self.row = row
        self.file = file
        self._errors = errors
        self._failures = 0

    @property
    def ok(self) -> bool:
        return self._failures == 0

    def fail(self, column: str | None, reason: str) -> None:
        self._failures += 1
        title = None if column is None else self.row.title(column)
        self._errors.append(RowError(self.file, self.row.number, title, reason))

    def value(
        self, column: str, parser: Callable[[Cell], T], *, required: bool = False
    ) -> T | None:
        """``parser`` applied to the column's cell; a blank cell is ``None`` unless required."""
        if column in self.row.flagged:
            self._failures += 1
            return None
        cell = self.row.get(column)
        if cell is None:
            if required:
                self.fail(column, "a value is required")
            return None
        try:
            return parser(cell)
        except FieldError as exc:
            self.fail(column, str(exc))
            return None

    def text(
        self, column: str, *, required: bool = False, max_length: int | None = None
    ) -> str | None:
        return self.value(
            column, lambda cell: parse_text(cell, max_length=max_length), required=required
        )


__all__ = [
    "PracticeRole",
    "RowCheck",
    "column_length",
    "normalise_org_id",
    "parse_bool",
    "parse_date",
    "parse_email",
    "parse_emails",
    "parse_enum_word",
    "parse_job_title",
    "parse_money",
    "parse_org_id",
    "parse_org_ref",
    "parse_org_refs",
    "parse_permissions",
    "parse_portal",
    "parse_portal_org_ids",
    "parse_staff_status",
    "parse_text",
    "role_for_title",
    "show",
    "split_list",
    "to_text",
]
