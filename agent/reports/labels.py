"""How the reports say roles, permissions, statuses and classes, the same way everywhere.

Roles are shown through the cross-portal taxonomy (``agent.reconcile.roles``) so a
reader compares a Xero Adviser with a QBO Accountant at a glance; permissions are
the *effective* ones (shown plus implied by the role: a QBO Company admin manages
users even though the portal lists no such permission), because what matters in
these reports is what a person can do, e.g. re-invite themselves.

Who can remove an access is the scan's fact (``agent.reconcile.removability``:
the practice, or the client and why), with one rule on top that every report
applies the same way (``who_can_remove``): a direct invite is never the practice's
to remove. The client made it and the practice has no record of it; even where the
agent's login could take it away, the client manager first asks the client
(``agent.reconcile.removal_policy`` holds a plan to the same rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

from agent.domain import AccessStatus, FindingClass, RoleTier, Severity
from agent.reconcile import removability as why
from agent.reconcile.roles import (
    MANAGE_USERS,
    PAYROLL_ADMIN,
    extra_permission_label,
    permissions_of,
    role_of,
)
from agent.reports.table_sheet import Style
from agent.reports.words import label

BANK_ADMIN = "BANK_ACCOUNT_ADMIN"

TIER_CODES: dict[RoleTier, str] = {
    RoleTier.ADMIN: "ADM",
    RoleTier.FULL: "FULL",
    RoleTier.LIMITED: "LTD",
    RoleTier.READ_ONLY: "RO",
    RoleTier.NONE: "NONE",
}
TIER_MEANINGS: dict[RoleTier, str] = {
    RoleTier.ADMIN: "Admin: Xero Adviser, QBO Primary/Company admin or Accountant, "
    "MYOB Online admin",
    RoleTier.FULL: "Full access: Xero Standard, QBO Standard all access, MYOB File user",
    RoleTier.LIMITED: "Limited: invoice or cashbook only, limited customers and vendors, "
    "time tracking",
    RoleTier.READ_ONLY: "Read only: Xero Read only, QBO Reports only",
    RoleTier.NONE: "No ledger access, or a role the taxonomy does not know",
}
#: Permission suffixes, in the order they are written.
PERMISSION_CODES: dict[str, str] = {MANAGE_USERS: "MU", PAYROLL_ADMIN: "PA", BANK_ADMIN: "BA"}
PERMISSION_MEANINGS: dict[str, str] = {
    MANAGE_USERS: "Manage users: can add and remove the org's users (themselves included)",
    PAYROLL_ADMIN: "Payroll admin",
    BANK_ADMIN: "Bank account admin",
}
PENDING_MARK = "?"
_TIER_ORDER = {tier: i for i, tier in enumerate(RoleTier)}
_CLASS_ORDER = {cls.value: i for i, cls in enumerate(FindingClass)}

#: Colours by finding class: red for leavers, orange for direct invites, amber for
#: drift, lavender for access the practice cannot remove by removing the person,
#: green for access as granted.
CLASS_STYLES: dict[str, Style] = {
    FindingClass.LEAVER_ACCESS: Style(fill="#FFC7CE", color="#9C0006", bold=True, center=True),
    FindingClass.INVITED_DIRECT: Style(fill="#F8CBAD", color="#843C0C", center=True),
    FindingClass.UNKNOWN_PRACTICE_USER: Style(fill="#F8CBAD", color="#843C0C", center=True),
    FindingClass.PROBABLE_MATCH: Style(fill="#FFE699", color="#7F6000", center=True),
    FindingClass.ROLE_DRIFT: Style(fill="#FFEB9C", color="#9C5700", center=True),
    FindingClass.ARCHIVED_CLIENT_ACCESS: Style(fill="#E4DFEC", color="#403151", center=True),
    FindingClass.UNLINKED_ORG: Style(fill="#E4DFEC", color="#403151", center=True),
    FindingClass.MISSING_EXPECTED: Style(fill="#EDEDED", color="#595959", center=True),
    FindingClass.MANAGED: Style(fill="#C6EFCE", color="#006100", center=True),
    FindingClass.CLIENT_USER: Style(fill="#DDEBF7", color="#1F4E78", center=True),
}
SEVERITY_STYLES: dict[str, Style] = {
    Severity.CRITICAL: Style(fill="#C00000", color="#FFFFFF", bold=True),
    Severity.HIGH: Style(fill="#F8CBAD", color="#843C0C", bold=True),
    Severity.MEDIUM: Style(fill="#FFEB9C", color="#9C5700"),
    Severity.LOW: Style(fill="#EDEDED", color="#404040"),
}
CLASS_MEANINGS: dict[str, str] = {
    FindingClass.LEAVER_ACCESS: "Someone who has left still has access",
    FindingClass.INVITED_DIRECT: "Invited directly by the client: the practice has no record "
    "of it and cannot remove it",
    FindingClass.UNKNOWN_PRACTICE_USER: "A practice address that matches no one on the roster",
    FindingClass.PROBABLE_MATCH: "A private address whose name resembles staff: confirm or reject",
    FindingClass.ROLE_DRIFT: "Granted by the practice, but the role now differs",
    FindingClass.ARCHIVED_CLIENT_ACCESS: "The client is archived: removing the person from the "
    "practice does not remove this",
    FindingClass.UNLINKED_ORG: "The org links to no client: removing the person from the "
    "practice does not remove this",
    FindingClass.MISSING_EXPECTED: "Granted by the practice but not in the org",
    FindingClass.MANAGED: "Granted by the practice and seen as granted",
    FindingClass.CLIENT_USER: "The client's own people",
}


def class_style(finding_class: str, *, center: bool = False) -> Style | None:
    """The class's colours, centred for a matrix cell, left-aligned in a list."""
    style = CLASS_STYLES.get(finding_class)
    return replace(style, center=center) if style is not None else None


def class_rank(finding_class: str) -> int:
    """Lower is worse: DESIGN.md's precedence order."""
    return _CLASS_ORDER.get(finding_class, len(_CLASS_ORDER))


# The label functions are cached: a practice has a few dozen distinct (portal, role,
# permissions) combinations, and a 100k-row report asks for each of them thousands
# of times.


@lru_cache(maxsize=4096)
def role_label(portal: str, raw: str) -> str:
    """The portal's own name for a role (``FINANCIALADVISER`` is "Adviser")."""
    return role_of(portal, raw).label or raw


@lru_cache(maxsize=4096)
def _permissions(portal: str, role: str, extras: tuple[str, ...]) -> frozenset[str]:
    return permissions_of(portal, role, extras)


def permissions_text(portal: str, role: str, extras: Iterable[str] | None) -> str:
    """Effective extra permissions, readable: "Manage users, Payroll admin"."""
    return _permissions_text(portal, role, tuple(extras or ()))


@lru_cache(maxsize=4096)
def _permissions_text(portal: str, role: str, extras: tuple[str, ...]) -> str:
    codes = _permissions(portal, role, extras)
    known = [c for c in PERMISSION_CODES if c in codes]
    other = sorted(codes - set(known))
    return ", ".join(extra_permission_label(c) for c in (*known, *other))


def status_text(finding_class: str, access_status: str) -> str:
    """``active`` or ``pending``; access granted but never seen is "not in org"."""
    if finding_class == FindingClass.MISSING_EXPECTED:
        return "not in org"
    return access_status


def status_label(finding_class: str, access_status: str) -> str:
    """The status in words: "Active", "Invite pending", "Not in org"."""
    return label(status_text(finding_class, access_status).replace(" ", "_"))


#: Why a direct invite is the client's to remove even where the agent's login could.
DIRECT_INVITE = "the client invited them directly"

#: Why only the client can remove an access, as the practice reads it (the scan stores
#: ``agent.reconcile.removability``'s short reasons; a client's statement has its own
#: words for a business owner)
REASON_WORDS: dict[str, str] = {
    why.NOT_IN_ORG: "accessrecon's login is not a user of this org",
    why.LACKS_MANAGE_USERS: "accessrecon's login may not manage users here",
    why.SUBSCRIBER: "they are the subscriber",
    why.PRIMARY_ADMIN: "they are the primary admin",
    why.NOT_COMPANY_ADMIN: "accessrecon's login is not a company admin here",
    why.ANOTHER_FIRM: "they belong to another firm",
    why.OWNER_ADDED: "the business owner added them",
    why.NOT_ADMINISTRATOR: "accessrecon's login is not an administrator here",
    why.ADDED_BY_UNKNOWN: "the business owner may have added them",
}


def reason_words(reason: str) -> str:
    """A stored reason the client must act, in words (one not known is shown as stored)."""
    return REASON_WORDS.get(reason, reason)


class WhoCanRemove(NamedTuple):
    """``by`` is ``practice`` or ``client``; ``reason`` says why the client ("" else)."""

    by: str
    reason: str

    @property
    def words(self) -> str:
        """ "Practice", or "Client: they are the subscriber"."""
        return f"{label(self.by)}: {reason_words(self.reason)}" if self.reason else label(self.by)


def who_can_remove(finding_class: str, removable_by: str, removable_reason: str) -> WhoCanRemove:
    """Who can remove an access, as every report says it (see the module docstring)."""
    if finding_class == FindingClass.INVITED_DIRECT and removable_by == "practice":
        return WhoCanRemove("client", DIRECT_INVITE)
    if removable_by == "practice":
        return WhoCanRemove("practice", "")
    return WhoCanRemove("client", removable_reason)


def access_code(portal: str, role: str, extras: Iterable[str] | None, access_status: str) -> str:
    """The matrix's short code: tier, permission suffixes, ``?`` if only invited.

    ``ADM+MU`` is an admin who manages users; ``FULL?`` is full access waiting on an
    accepted invitation.
    """
    return _access_code(portal, role, tuple(extras or ()), access_status)


@lru_cache(maxsize=4096)
def _access_code(portal: str, role: str, extras: tuple[str, ...], access_status: str) -> str:
    tier = role_of(portal, role).tier
    codes = _permissions(portal, role, extras)
    text = TIER_CODES[tier] + "".join(
        f"+{short}" for code, short in PERMISSION_CODES.items() if code in codes
    )
    if access_status == AccessStatus.PENDING:
        text += PENDING_MARK
    return text


def code_legend() -> list[tuple[str, str]]:
    """What each part of a matrix code means: tiers, permission suffixes, the marks."""
    rows = [(code, TIER_MEANINGS[tier]) for tier, code in TIER_CODES.items()]
    rows += [(f"+{short}", PERMISSION_MEANINGS[code]) for code, short in PERMISSION_CODES.items()]
    rows += [
        (PENDING_MARK, "After a code: invited, invitation not accepted yet (access in waiting)"),
        (
            "ADM / RO",
            "A client with several orgs where the access differs: every distinct "
            "code, strongest first; the colour is the worst class among them",
        ),
    ]
    return rows


def code_rank(code: str) -> tuple[int, str]:
    """Strongest access first, so combined cells read "ADM / RO", never "RO / ADM"."""
    head = code.split("+", 1)[0].rstrip(PENDING_MARK)
    for tier, short in TIER_CODES.items():
        if short == head:
            return (_TIER_ORDER[tier], code)
    return (len(_TIER_ORDER), code)
