"""Worlds and a whole-login read shared by the scraper tests.

``sized_world`` puts orgs at the portals' edges: an org with only the viewer,
exactly one page (25 for qbo's tabs), one past a page, two pages of myob's largest
page size, and 300 users; names hold Unicode, apostrophes, ``<``, ``=`` and emoji.
``read_login`` signs in and reads every org the way the crawler does, so a test
compares what a scraper returns with what the world holds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from playwright.async_api import Browser
from starlette.applications import Starlette

from agent.capture import Credentials, OrgRef, OrgUsers
from agent.domain import AccessStatus, Portal
from agent.scrapers.base import all_orgs
from agent.scrapers.registry import scraper_for
from sandbox.generate import generate_world
from sandbox.portals import myob, qbo, xero
from sandbox.portals.common import PortalSettings
from sandbox.serve import PortalServer
from sandbox.world import World, WorldOrg, WorldUser
from tests.browser_loop import BrowserLoop

APPS: dict[str, Callable[[World, PortalSettings | None], Starlette]] = {
    "xero": xero.create_app,
    "qbo": qbo.create_app,
    "myob": myob.create_app,
}
SIZES = (0, 24, 25, 26, 49, 50, 51, 300)
NAMES = ["Zoë O'Brien", "<img src=x onerror=alert(1)>", "Bree 🍀 = Best", "Ōtautahi & Sons"]
STATUS = {
    "ACTIVE": AccessStatus.ACTIVE,
    "PENDING": AccessStatus.PENDING,
    "DECLINED": AccessStatus.DECLINED,
    "Active": AccessStatus.ACTIVE,
    "Invited": AccessStatus.PENDING,
    "Inactive": AccessStatus.INACTIVE,
    "INVITED": AccessStatus.PENDING,
}


def extra_user(portal: str, org: WorldOrg, i: int) -> WorldUser:
    """The ``i``-th user added to ``org`` beside its viewer."""
    given = NAMES[i % len(NAMES)]
    email = f"person.{i}@client-{abs(hash(org.org_id)) % 10_000}.example"
    if portal == "xero":
        return WorldUser(
            user_id=f"{org.org_id}-{i}",
            first_name=given,
            last_name=str(i),
            email=email,
            role="STANDARD",
            status="ACTIVE",
        )
    if portal == "qbo":
        firm = i % 3 == 0
        return WorldUser(
            user_id=f"{org.org_id}-{i}",
            first_name=given,
            last_name=str(i),
            email=email,
            role="Accountant" if firm else "Reports only",
            status="Invited" if i % 7 == 0 else "Active",
            kind="firms" if firm else "users",
            firm_name="Other & Co = Firm" if firm else None,
        )
    return WorldUser(
        user_id=f"{org.org_id}-{i}",
        first_name=given,
        last_name=str(i),
        email=email,
        role="File user",
        status="INVITED" if i % 7 == 0 else "ACTIVE",
        kind="User",
        myob_roles=["Invoicing"],
    )


def sized_world(portal: str) -> World:
    """Orgs holding the viewer plus exactly ``size`` other users, for each size."""
    base = generate_world(
        31, staff=6, orgs_per_portal=len(SIZES), users_per_org=1, portals=(portal,)
    )
    world = copy.deepcopy(base)
    for org, size in zip(world.orgs, SIZES, strict=True):
        org.name = f"{org.name} ({size})"
        org.users = [org.users[0]] + [extra_user(portal, org, i) for i in range(size)]
    return world


def credentials(world: World, portal: str, server: PortalServer) -> Credentials:
    login = world.logins_of(portal)[0]
    return Credentials(
        portal=Portal(portal),
        base_url=server.base_url,
        email=login.email,
        password=login.password,
        totp_secret=login.totp_secret,
    )


def read_login(
    browser_loop: BrowserLoop,
    world: World,
    portal: str,
    server: PortalServer,
    storage_state: dict | None = None,
) -> tuple[list[OrgRef], dict[str, OrgUsers], dict]:
    """Every org of the world's login and its users, read by the portal's scraper.

    Signs in unless ``storage_state`` (a signed-in context's, as returned) is given.
    """
    scraper = scraper_for(portal)

    async def work(browser: Browser) -> tuple[list[OrgRef], dict[str, OrgUsers], dict]:
        context = await browser.new_context(storage_state=storage_state)
        try:
            if storage_state is None:
                await scraper.sign_in(context, credentials(world, portal, server))
            orgs = list(await all_orgs(scraper, context, server.base_url))
            got = {
                o.portal_org_id: await scraper.list_users(context, server.base_url, o) for o in orgs
            }
            return orgs, got, await context.storage_state()
        finally:
            await context.close()

    return browser_loop.run(work)


def as_seen(result: OrgUsers) -> list[tuple[object, ...]]:
    """Everything a scraper says of an org's users, in a comparable order."""
    return sorted(
        (u.email, u.name, u.role, u.status, u.extra_permissions, u.kind, u.last_login)
        for u in result.users
    )
