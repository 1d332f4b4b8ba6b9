"""How a client removes a user in each portal, in the words of the portal's own screens.

One table, so the statement, its email and any later page tell a client the same
thing. The steps follow the real products (not the imitation portals): the menus
and buttons a business owner sees when signed in to their own file. Each portal's
``cannot`` lists who even an admin there cannot remove, and what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain import Portal

__all__ = ["REMOVAL_STEPS", "PortalSteps", "steps_for"]


@dataclass(frozen=True, slots=True)
class PortalSteps:
    #: the product's name as clients know it
    title: str
    #: who in the business may remove users
    who: str
    steps: tuple[str, ...]
    cannot: tuple[str, ...]


REMOVAL_STEPS: dict[Portal, PortalSteps] = {
    Portal.XERO: PortalSteps(
        title="Xero",
        who="A user with the Manage users permission (or the subscriber).",
        steps=(
            "Sign in to Xero and open the organisation.",
            "Open the organisation menu and choose Settings, then Users.",
            "Find the person and select their name (or the ⋯ menu beside it).",
            "Choose Remove (Delete user on older screens), then confirm.",
        ),
        cannot=(
            "The subscriber cannot be removed: transfer the subscription to someone else first.",
            "A pending invitation is listed with the users: remove it the same way.",
        ),
    ),
    Portal.QBO: PortalSteps(
        title="QuickBooks Online",
        who="The primary admin or a company admin.",
        steps=(
            "Sign in to QuickBooks Online and open the company.",
            "Select Settings (the gear icon), then Manage users.",
            "On the Users tab find the person; an accountant is on the Accounting firms tab.",
            "In the Action column open the ▼ menu, choose Delete (or Remove), then confirm.",
        ),
        cannot=(
            "The primary admin cannot be deleted: make someone else primary admin first.",
            "Only the primary admin, or a member of the same firm, removes an accounting "
            "firm's user.",
        ),
    ),
    Portal.MYOB: PortalSteps(
        title="MYOB",
        who="The business owner, an online admin, or a user with the Administrator role.",
        steps=(
            "Sign in to MYOB and open the business.",
            "Open the settings menu (the gear, or the business name) and choose "
            "Users and permissions.",
            "Select the person's name.",
            "Choose Remove access, then confirm.",
        ),
        cannot=("An advisor added by the business owner can be removed only by the owner.",),
    ),
}


def steps_for(portal: str) -> PortalSteps | None:
    """The steps for a stored portal value, or ``None`` for a portal without any."""
    try:
        return REMOVAL_STEPS[Portal(portal)]
    except ValueError:
        return None
