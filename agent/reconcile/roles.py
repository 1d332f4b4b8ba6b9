"""One cross-portal role taxonomy: every portal role maps to a canonical role and a tier.

Roles are compared by canonical code within a portal (``Adviser`` and
``FINANCIALADVISER`` are one Xero role), and by tier across portals (a Xero
Adviser and a QBO Accountant are both ``admin``). Extra permissions are folded to
canonical codes too, so ``Manage users`` and ``MANAGE_USERS`` compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agent.domain import Portal, RoleTier


@dataclass(frozen=True, slots=True)
class Role:
    portal: Portal | None
    code: str
    label: str
    tier: RoleTier


def _roles(portal: Portal, rows: list[tuple[str, str, RoleTier]]) -> dict[str, Role]:
    table: dict[str, Role] = {}
    for code, label, tier in rows:
        role = Role(portal, code, label, tier)
        for key in (code, label):
            table[_key(key)] = role
    return table


def _key(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


_TAXONOMY: dict[Portal, dict[str, Role]] = {
    Portal.XERO: _roles(
        Portal.XERO,
        [
            ("FINANCIALADVISER", "Adviser", RoleTier.ADMIN),
            ("STANDARD", "Standard", RoleTier.FULL),
            ("READONLY", "Read only", RoleTier.READ_ONLY),
            ("INVOICEONLY", "Invoice only", RoleTier.LIMITED),
            ("MANAGEDCLIENT", "Managed client", RoleTier.LIMITED),
            ("CASHBOOKCLIENT", "Cashbook client", RoleTier.LIMITED),
        ],
    ),
    Portal.QBO: _roles(
        Portal.QBO,
        [
            ("PRIMARY_ADMIN", "Primary admin", RoleTier.ADMIN),
            ("COMPANY_ADMIN", "Company admin", RoleTier.ADMIN),
            ("ACCOUNTANT", "Accountant", RoleTier.ADMIN),
            ("STANDARD_ALL", "Standard all access", RoleTier.FULL),
            ("STANDARD_LIMITED", "Standard limited customers and vendors", RoleTier.LIMITED),
            ("STANDARD_NONE", "Standard no access", RoleTier.NONE),
            ("REPORTS_ONLY", "Reports only", RoleTier.READ_ONLY),
            ("TIME_TRACKING", "Time tracking only", RoleTier.LIMITED),
        ],
    ),
    Portal.MYOB: _roles(
        Portal.MYOB,
        [
            ("ONLINE_ADMIN", "Online admin", RoleTier.ADMIN),
            ("FILE_USER", "File user", RoleTier.FULL),
        ],
    ),
}

_EXTRA_PERMISSIONS: dict[str, str] = {
    _key(raw): code
    for code, labels in {
        "MANAGE_USERS": ("MANAGE_USERS", "Manage users"),
        "PAYROLL_ADMIN": ("PAYROLL_ADMIN", "Payroll admin"),
        "BANK_ACCOUNT_ADMIN": ("BANK_ACCOUNT_ADMIN", "Bank account admin"),
    }.items()
    for raw in labels
}


def role_of(portal: Portal | str, raw: str) -> Role:
    """The canonical role for a portal's role code or label; unknown roles keep their text."""
    found = _TAXONOMY.get(Portal(portal), {}).get(_key(raw))
    if found:
        return found
    return Role(Portal(portal), raw.strip().upper() or "UNKNOWN", raw.strip(), RoleTier.NONE)


def extra_permission_codes(raw: Iterable[str]) -> frozenset[str]:
    return frozenset(_EXTRA_PERMISSIONS.get(_key(p), p.strip().upper()) for p in raw if p.strip())


def extra_permission_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def same_role(portal: Portal | str, a: str, b: str) -> bool:
    return role_of(portal, a).code == role_of(portal, b).code
