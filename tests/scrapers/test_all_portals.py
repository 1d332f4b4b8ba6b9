"""Every scraper reads exactly the users the world holds, on every portal.

Sizes are chosen at the portals' edges (``worlds.sized_world``): an org with only
the viewer, exactly one page (25 for qbo's tabs), one past a page, two pages of
myob's largest page size, and 300 users; names hold Unicode, apostrophes, ``<``,
``=`` and emoji.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.serve import PortalServer
from sandbox.world import World
from tests.browser_loop import BrowserLoop
from tests.scrapers.worlds import APPS, STATUS, read_login, sized_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=sorted(APPS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, World, PortalServer]]:
    portal = request.param
    world = sized_world(portal)
    with PortalServer(APPS[portal](world, None)) as server:
        yield portal, world, server


def test_scraper_reads_exactly_the_worlds_users(
    browser_loop: BrowserLoop, served: tuple[str, World, PortalServer]
) -> None:
    portal, world, server = served
    orgs, got, _ = read_login(browser_loop, world, portal, server)
    assert sorted(o.portal_org_id for o in orgs) == sorted(o.org_id for o in world.orgs)
    assert {o.portal_org_id: o.name for o in orgs} == {o.org_id: o.name for o in world.orgs}
    for org in world.orgs:
        result = got[org.org_id]
        assert result.reported_total == len(org.users)
        want = sorted((u.email, u.name, STATUS[u.status]) for u in org.users)
        have = sorted((u.email, u.name, u.status) for u in result.users)
        assert have == want, f"{portal} org {org.name}"
