"""Every scraper reads exactly the users the world holds, on every portal.

Sizes are chosen at the portals' edges: an org with only the viewer, exactly one
page (25 for qbo's tabs), one past a page, two pages of myob's largest page size,
and 300 users; names hold Unicode, apostrophes, ``<``, ``=`` and emoji.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser

from agent.domain import AccessStatus, Portal
from agent.scrapers import Credentials, OrgRef, OrgUsers, all_orgs, scraper_for
from sandbox.generate import generate_world
from sandbox.portals import myob, qbo, xero
from sandbox.serve import PortalServer
from sandbox.world import World, WorldOrg, WorldUser
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser

APPS = {"xero": xero.create_app, "qbo": qbo.create_app, "myob": myob.create_app}
SIZES = (0, 24, 25, 26, 49, 50, 51, 300)
NAMES = ["Zoë O'Brien", "<img src=x onerror=alert(1)>", "Bree 🍀 = Best", "Ōtautahi & Sons"]
STATUS = {"ACTIVE": AccessStatus.ACTIVE, "PENDING": AccessStatus.PENDING,
          "DECLINED": AccessStatus.DECLINED, "Active": AccessStatus.ACTIVE,
          "Invited": AccessStatus.PENDING, "Inactive": AccessStatus.INACTIVE,
          "INVITED": AccessStatus.PENDING}


def _extra_user(portal: str, org: WorldOrg, i: int) -> WorldUser:
    given = NAMES[i % len(NAMES)]
    email = f"person.{i}@client-{abs(hash(org.org_id)) % 10_000}.example"
    if portal == "xero":
        return WorldUser(user_id=f"{org.org_id}-{i}", first_name=given, last_name=str(i),
                         email=email, role="STANDARD", status="ACTIVE")
    if portal == "qbo":
        firm = i % 3 == 0
        return WorldUser(user_id=f"{org.org_id}-{i}", first_name=given, last_name=str(i),
                         email=email, role="Accountant" if firm else "Reports only",
                         status="Invited" if i % 7 == 0 else "Active",
                         kind="firms" if firm else "users",
                         firm_name="Other & Co = Firm" if firm else None)
    return WorldUser(user_id=f"{org.org_id}-{i}", first_name=given, last_name=str(i),
                     email=email, role="File user", status="INVITED" if i % 7 == 0 else "ACTIVE",
                     kind="User", myob_roles=["Invoicing"])


def sized_world(portal: str) -> World:
    """Orgs holding the viewer plus exactly ``size`` other users, for each size."""
    base = generate_world(31, staff=6, orgs_per_portal=len(SIZES), users_per_org=1,
                          portals=(portal,))
    world = copy.deepcopy(base)
    for org, size in zip(world.orgs, SIZES, strict=True):
        org.name = f"{org.name} ({size})"
        org.users = [org.users[0]] + [_extra_user(portal, org, i) for i in range(size)]
    return world


@pytest.fixture(scope="module", params=sorted(APPS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, World, PortalServer]]:
    portal = request.param
    world = sized_world(portal)
    with PortalServer(APPS[portal](world)) as server:
        yield portal, world, server


def test_scraper_reads_exactly_the_worlds_users(
    browser_loop: BrowserLoop, served: tuple[str, World, PortalServer]
) -> None:
    portal, world, server = served
    scraper = scraper_for(portal)
    login = world.logins_of(portal)[0]
    creds = Credentials(portal=Portal(portal), base_url=server.base_url, email=login.email,
                        password=login.password, totp_secret=login.totp_secret)

    async def work(browser: Browser) -> tuple[list[OrgRef], dict[str, OrgUsers]]:
        context = await browser.new_context()
        try:
            await scraper.sign_in(context, creds)
            orgs = list(await all_orgs(scraper, context, server.base_url))
            got = {o.portal_org_id: await scraper.list_users(context, server.base_url, o)
                   for o in orgs}
            return orgs, got
        finally:
            await context.close()

    orgs, got = browser_loop.run(work)
    assert sorted(o.portal_org_id for o in orgs) == sorted(o.org_id for o in world.orgs)
    assert {o.portal_org_id: o.name for o in orgs} == {o.org_id: o.name for o in world.orgs}
    for org in world.orgs:
        result = got[org.org_id]
        assert result.reported_total == len(org.users)
        want = sorted((u.email, u.name, STATUS[u.status]) for u in org.users)
        have = sorted((u.email, u.name, u.status) for u in result.users)
        assert have == want, f"{portal} org {org.name}"
