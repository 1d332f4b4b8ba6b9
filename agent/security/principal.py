"""Who is behind a request, and what their practice role lets them do.

Each API user has a practice role (``practice_admin``, ``partner``, ``manager``,
``employee``) and a client scope (``agent.security.scope``). Only practice admins
manage users, tokens of other users, portal logins and imports; partners and managers
may record review decisions on findings in their scope, and post passive captures of
orgs in their scope; employees read.

Users (``agent.security.users``), pairing (``agent.security.pairing``), tokens
(``agent.security.tokens``) and scope all speak of a ``Principal`` and refuse with an
``AuthError``, so both live here, below all four.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.imports import PracticeRole

__all__ = ["CAPTURE_ROLES", "REVIEWER_ROLES", "AuthError", "ClientScope", "Principal"]


class AuthError(ValueError):
    """A user, token or pairing request that cannot be carried out; the message says why."""


class ClientScope(StrEnum):
    ALL = "all"
    SELECTED = "selected"
    MANAGED = "managed"


REVIEWER_ROLES = frozenset(
    {PracticeRole.PRACTICE_ADMIN, PracticeRole.PARTNER, PracticeRole.MANAGER}
)
#: Who may post a passive capture: it raises findings and queues scans, so it is a change
#: to the practice's data, which employees (read-only users) do not make.
CAPTURE_ROLES = REVIEWER_ROLES


@dataclass(frozen=True, slots=True)
class Principal:
    """The user behind a request's token."""

    user_id: int
    name: str
    role: PracticeRole
    scope: ClientScope
    staff_name: str | None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this user: unique even after a user is re-created."""
        return f"{self.name} (user #{self.user_id})"

    @property
    def is_admin(self) -> bool:
        return self.role is PracticeRole.PRACTICE_ADMIN

    @property
    def can_review(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def can_capture(self) -> bool:
        return self.role in CAPTURE_ROLES
