"""Who can remove a person's access to an org: the practice, or only the client.

A fact of the scan that showed the access, never guessed from the finding class: the
practice can remove someone when the agent's own login in that org (its row in the
same user list, the *viewer*) may remove users there, and the person is not one the
portal never lets anyone but the owner remove. SPEC, "Removing a user":

* **who may remove**: xero, a ``Standard`` or ``Adviser`` viewer with Manage users
  (on ``Read only`` or ``Invoice only`` it grants nothing); qbo, on the Users tab a
  ``Primary admin`` or ``Company admin`` viewer, on the Accounting firms tab the
  Primary admin and a viewer listed on that tab for its own firm's entries (same
  ``Firm``); myob, an ``Online admin`` viewer or one with the ``Administrator`` role;
* **who can never be removed**: xero's subscriber, qbo's Primary admin, a myob
  advisor added by the business owner. A myob advisor whose entry did not say who
  added it is treated as protected too: removing it may be refused, and a plan the
  portal refuses is worse than a statement the client acts on.

A protected person is the client's to remove whatever the agent's login may do, so
that reason is given first; then a missing viewer; then what the viewer lacks.
Declined and inactive entries are removed the same way (SPEC), so status plays no
part here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from agent.domain import Portal
from agent.reconcile.model import SeenUser
from agent.reconcile.roles import MANAGE_USERS, extra_permission_codes, role_of

PRACTICE = "practice"
CLIENT = "client"

#: Why only the client can remove the access: the phrases people read beside "client".
NOT_IN_ORG = "agent's login not in this org"
LACKS_MANAGE_USERS = "agent lacks Manage users"
SUBSCRIBER = "subscriber"
PRIMARY_ADMIN = "primary admin"
NOT_COMPANY_ADMIN = "agent is not a company admin"
ANOTHER_FIRM = "another firm's entry"
OWNER_ADDED = "owner-added advisor"
NOT_ADMINISTRATOR = "agent is not an administrator"
ADDED_BY_UNKNOWN = "added by unknown"

REASONS = (
    NOT_IN_ORG,
    LACKS_MANAGE_USERS,
    SUBSCRIBER,
    PRIMARY_ADMIN,
    NOT_COMPANY_ADMIN,
    ANOTHER_FIRM,
    OWNER_ADDED,
    NOT_ADMINISTRATOR,
    ADDED_BY_UNKNOWN,
)

_XERO_MANAGERS = frozenset({"STANDARD", "FINANCIALADVISER"})
_QBO_ADMINS = frozenset({"PRIMARY_ADMIN", "COMPANY_ADMIN"})
_QBO_FIRMS_TAB = "firms"
_QBO_ACCOUNTANT = "ACCOUNTANT"
_MYOB_ADVISOR = "advisor"
_MYOB_ADMINISTRATOR = "administrator"


class Removability(NamedTuple):
    """Who can remove one access: ``by`` is ``practice`` or ``client``; ``reason`` says
    why only the client can ("" for the practice)."""

    by: str
    reason: str


BY_PRACTICE = Removability(PRACTICE, "")


def may_manage_users(portal: Portal | str, user: SeenUser) -> bool:
    """Whether a user may remove others on the portal's Users side (SPEC's "who may
    remove"; qbo's firms tab has a rule of its own, see ``removability``)."""
    return _manages(_portal(portal), user.role, user.extra_permissions, user.kind)


@lru_cache(maxsize=4096)
def _manages(portal: Portal, role: str, extras: tuple[str, ...], kind: str | None) -> bool:
    code = role_of(portal, role).code
    if portal is Portal.XERO:
        return code in _XERO_MANAGERS and MANAGE_USERS in extra_permission_codes(extras, portal)
    if portal is Portal.QBO:
        return code in _QBO_ADMINS and not _qbo_firms_tab(kind, role)
    # myob
    return code == "ONLINE_ADMIN" or any(
        " ".join(extra.split()).casefold() == _MYOB_ADMINISTRATOR for extra in extras
    )


def removability(portal: Portal | str, viewer: SeenUser | None, user: SeenUser) -> Removability:
    """Who can remove ``user``'s access, given the agent's own row in the same list.

    ``viewer`` is ``None`` when the agent's login is not in the org's list (a
    capture made by a person, or a login the practice no longer holds).
    """
    known = _portal(portal)
    protected = _protection(known, user)
    if protected:
        return Removability(CLIENT, protected)
    if viewer is None:
        return Removability(CLIENT, NOT_IN_ORG)
    lacking = _what_viewer_lacks(known, viewer, user)
    return Removability(CLIENT, lacking) if lacking else BY_PRACTICE


def removability_among(
    portal: Portal | str, viewers: Sequence[SeenUser], user: SeenUser
) -> Removability:
    """``removability`` when the agent holds several rows in one org (two of its logins,
    or one login on both of qbo's tabs): the practice can if any of them may; else the
    reason the first of them (in the list's order) gives."""
    if not viewers:
        return removability(portal, None, user)
    first = removability(portal, viewers[0], user)
    if first.by == PRACTICE:
        return first
    for viewer in viewers[1:]:
        if removability(portal, viewer, user).by == PRACTICE:
            return BY_PRACTICE
    return first


def _protection(portal: Portal, user: SeenUser) -> str:
    """Why nobody but the owner may remove ``user``; "" when the portal allows it."""
    if portal is Portal.XERO:
        return SUBSCRIBER if user.subscriber else ""
    if portal is Portal.QBO:
        on_users_tab = not _qbo_firms_tab(user.kind, user.role)
        is_primary = role_of(portal, user.role).code == "PRIMARY_ADMIN"
        return PRIMARY_ADMIN if on_users_tab and is_primary else ""
    # myob: only an advisor's entry can be the owner's
    if (user.kind or "").strip().casefold() != _MYOB_ADVISOR:
        return ""
    if user.added_by_owner is None:
        return ADDED_BY_UNKNOWN
    return OWNER_ADDED if user.added_by_owner else ""


def _what_viewer_lacks(portal: Portal, viewer: SeenUser, user: SeenUser) -> str:
    if portal is Portal.XERO:
        return "" if may_manage_users(portal, viewer) else LACKS_MANAGE_USERS
    if portal is Portal.MYOB:
        return "" if may_manage_users(portal, viewer) else NOT_ADMINISTRATOR
    if not _qbo_firms_tab(user.kind, user.role):
        return "" if may_manage_users(portal, viewer) else NOT_COMPANY_ADMIN
    if role_of(portal, viewer.role).code == "PRIMARY_ADMIN" and not _qbo_firms_tab(
        viewer.kind, viewer.role
    ):
        return ""
    same_firm = (
        _qbo_firms_tab(viewer.kind, viewer.role)
        and bool(_firm(viewer.firm))
        and _firm(viewer.firm) == _firm(user.firm)
    )
    return "" if same_firm else ANOTHER_FIRM


def _qbo_firms_tab(kind: str | None, role: str) -> bool:
    """Whether a qbo row is on the Accounting firms tab: its scraper says so, or its user
    type is ``Accountant``, which SPEC gives only that tab (a capture names no tab)."""
    if kind is not None and kind.strip():
        return kind.strip().casefold() == _QBO_FIRMS_TAB
    return role_of(Portal.QBO, role).code == _QBO_ACCOUNTANT


def _firm(firm: str | None) -> str:
    """A ``Firm`` cell as compared: the same cell, whatever its spacing."""
    return " ".join((firm or "").split())


def _portal(portal: Portal | str) -> Portal:
    try:
        return Portal(portal)
    except ValueError:
        raise ValueError(f"who can remove access is not known for portal {portal!r}") from None
