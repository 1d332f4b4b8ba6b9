"""What changed in one org between two captures of its user list.

Only access counts (active or pending, like everywhere in reconcile): a user who
went from active to declined or inactive is ``gone``; one who came back is
``new``. Roles compare through the taxonomy, so a portal relabelling a role is not
a change; a change of extra permissions is a role change. Identities are
normalised addresses, so a change of spelling is not a change either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from agent.domain import AccessStatus, Portal
from agent.reconcile.identity import normalise_with, practice_domain_set
from agent.reconcile.model import SeenUser
from agent.reconcile.roles import extra_permission_codes, role_of


class ChangeKind(StrEnum):
    NEW = "new"
    GONE = "gone"
    ROLE_CHANGED = "role_changed"
    STATUS_CHANGED = "status_changed"


@dataclass(frozen=True, slots=True)
class AccessChange:
    portal: Portal
    portal_org_id: str
    identity: str
    kind: ChangeKind
    email: str
    name: str
    role_before: str | None = None
    role_after: str | None = None
    status_before: AccessStatus | None = None
    status_after: AccessStatus | None = None


def _by_identity(users: Sequence[SeenUser], domains: frozenset[str]) -> dict[str, SeenUser]:
    found: dict[str, SeenUser] = {}
    for user in users:
        if user.status.is_access:
            found.setdefault(normalise_with(user.email, domains), user)
    return found


def diff_users(
    portal: Portal,
    portal_org_id: str,
    before: Sequence[SeenUser],
    after: Sequence[SeenUser],
    practice_domains: frozenset[str] = frozenset(),
) -> list[AccessChange]:
    """Every change of access between two captures of one org, sorted by identity."""
    domains = practice_domain_set(practice_domains)
    old, new = _by_identity(before, domains), _by_identity(after, domains)
    changes: list[AccessChange] = []
    for identity in sorted(old.keys() | new.keys()):
        was, now = old.get(identity), new.get(identity)
        if was is None and now is not None:
            changes.append(
                AccessChange(
                    portal,
                    portal_org_id,
                    identity,
                    ChangeKind.NEW,
                    now.email.strip(),
                    now.name,
                    role_after=now.role,
                    status_after=now.status,
                )
            )
        elif now is None and was is not None:
            changes.append(
                AccessChange(
                    portal,
                    portal_org_id,
                    identity,
                    ChangeKind.GONE,
                    was.email.strip(),
                    was.name,
                    role_before=was.role,
                    status_before=was.status,
                )
            )
        elif was is not None and now is not None:
            kind = _changed(portal, was, now)
            if kind is not None:
                changes.append(
                    AccessChange(
                        portal,
                        portal_org_id,
                        identity,
                        kind,
                        now.email.strip(),
                        now.name,
                        was.role,
                        now.role,
                        was.status,
                        now.status,
                    )
                )
    return changes


def _changed(portal: Portal, was: SeenUser, now: SeenUser) -> ChangeKind | None:
    if role_of(portal, was.role).code != role_of(portal, now.role).code or extra_permission_codes(
        was.extra_permissions, portal
    ) != extra_permission_codes(now.extra_permissions, portal):
        return ChangeKind.ROLE_CHANGED
    if was.status is not now.status:
        return ChangeKind.STATUS_CHANGED
    return None
