"""One cross-portal role taxonomy: every portal role maps to a canonical role and a tier.

Roles are compared by canonical code within a portal (``Adviser`` and
``FINANCIALADVISER`` are one Xero role), and by tier across portals (a Xero
Adviser and a QBO Accountant are both ``admin``). Extra permissions are folded to
canonical codes too, so ``Manage users`` and ``MANAGE_USERS`` compare equal.

Each portal says "extra permissions" its own way, and all of them fold into the same
codes here:

* Xero: extra permission codes or labels beside the role (``MANAGE_USERS``,
  ``Payroll admin``).
* MYOB: the user's roles list; ``Administrator`` can manage users
  (``MANAGE_USERS``) and ``Payroll`` is ``PAYROLL_ADMIN``; the other roles keep
  their own codes (``INVOICING``, ``BANKING``...).
* QBO: no list; some roles carry permissions (``IMPLIED_PERMISSIONS``): the
  Primary admin and Company admins manage users, and the Primary admin is
  ``PRIMARY_ADMIN`` too (the one user only they can hand over).

``permissions_of`` gives a user's effective permissions: the ones shown plus the
ones their role implies.

MYOB access is two things: a user type (``File user``, ``Online admin``: the
``role``) and a set of Roles (``Administrator``, ``Payroll``, or any text a business
made up: the extra permissions). A practice may record either or both, so they are
compared apart: ``is_myob_user_type`` tells the one from the other in what a
practice wrote, and ``myob_role_keys`` puts a set of roles in the form two spellings
of it share (known roles by code, any other by its folded text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

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

MANAGE_USERS = "MANAGE_USERS"
PAYROLL_ADMIN = "PAYROLL_ADMIN"
PRIMARY_ADMIN = "PRIMARY_ADMIN"


def _permission_table(rows: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each permission's code and labels, folded, to the code: built once at import."""
    return {_key(raw): code for code, labels in rows.items() for raw in (code, *labels)}


_COMMON_PERMISSIONS = _permission_table(
    {
        MANAGE_USERS: ("Manage users",),
        PAYROLL_ADMIN: ("Payroll admin",),
        "BANK_ACCOUNT_ADMIN": ("Bank account admin",),
    }
)
_EXTRA_PERMISSIONS: dict[Portal | None, dict[str, str]] = {
    None: _COMMON_PERMISSIONS,
    Portal.XERO: _COMMON_PERMISSIONS,
    Portal.QBO: {**_COMMON_PERMISSIONS, **_permission_table({PRIMARY_ADMIN: ("Primary admin",)})},
    Portal.MYOB: {
        **_COMMON_PERMISSIONS,
        **_permission_table(
            {
                MANAGE_USERS: ("Administrator",),
                PAYROLL_ADMIN: ("Payroll",),
                "INVOICING": ("Invoicing",),
                "PURCHASING": ("Purchasing",),
                "BANKING": ("Banking",),
                "READ_ONLY": ("Read only",),
            }
        ),
    },
}

IMPLIED_PERMISSIONS: dict[tuple[Portal, str], frozenset[str]] = {
    (Portal.QBO, "PRIMARY_ADMIN"): frozenset({MANAGE_USERS, PRIMARY_ADMIN}),
    (Portal.QBO, "COMPANY_ADMIN"): frozenset({MANAGE_USERS}),
    (Portal.QBO, "ACCOUNTANT"): frozenset({MANAGE_USERS}),
    (Portal.MYOB, "ONLINE_ADMIN"): frozenset({MANAGE_USERS}),
}


@lru_cache(maxsize=4096)
def role_of(portal: Portal | str, raw: str) -> Role:
    """The canonical role for a portal's role code or label; unknown roles keep their text."""
    found = _TAXONOMY.get(Portal(portal), {}).get(_key(raw))
    if found:
        return found
    return Role(Portal(portal), raw.strip().upper() or "UNKNOWN", raw.strip(), RoleTier.NONE)


def extra_permission_codes(
    raw: Iterable[str], portal: Portal | str | None = None
) -> frozenset[str]:
    """Canonical codes of permissions as a portal shows them; unknown ones keep their text."""
    table = _EXTRA_PERMISSIONS[Portal(portal) if portal else None]
    return frozenset(table.get(_key(p), p.strip().upper()) for p in raw if p.strip())


def permissions_of(portal: Portal | str, role: str, extras: Iterable[str]) -> frozenset[str]:
    """A user's effective permissions: those shown and those their role carries."""
    return _permissions(Portal(portal), role, tuple(extras))


@lru_cache(maxsize=4096)
def _permissions(portal: Portal, role: str, extras: tuple[str, ...]) -> frozenset[str]:
    implied = IMPLIED_PERMISSIONS.get((portal, role_of(portal, role).code), frozenset())
    return extra_permission_codes(extras, portal) | implied


def can_manage_users(portal: Portal | str, role: str, extras: Iterable[str]) -> bool:
    """Whether a user can add and remove the org's users."""
    return _manages(Portal(portal), role, tuple(extras))


@lru_cache(maxsize=4096)
def _manages(portal: Portal, role: str, extras: tuple[str, ...]) -> bool:
    return MANAGE_USERS in _permissions(portal, role, extras)


def is_myob_user_type(raw: str) -> bool:
    """Whether the text names a MYOB user type (``Online admin``, ``FILE_USER``) rather
    than one of the Roles, which are any other text."""
    return _key(raw) in _TAXONOMY[Portal.MYOB]


def myob_role_keys(raw: Iterable[str]) -> frozenset[str]:
    """A MYOB roles set as compared: order, case, spacing and punctuation ignored.

    Known roles fold to their code (``Payroll`` and ``Payroll admin`` are one); any
    other text, which a business may invent, to its folded letters and digits, which
    never equal a code (codes are upper case), so an unknown role is only ever equal
    to another spelling of itself.
    """
    return _role_keys(tuple(raw))


@lru_cache(maxsize=4096)
def _role_keys(raw: tuple[str, ...]) -> frozenset[str]:
    table = _EXTRA_PERMISSIONS[Portal.MYOB]
    keys = (_key(text) for text in raw)
    return frozenset(table.get(key, key) for key in keys if key)


def extra_permission_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def same_role(portal: Portal | str, a: str, b: str) -> bool:
    return role_of(portal, a).code == role_of(portal, b).code
