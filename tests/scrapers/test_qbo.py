"""The qbo scraper refuses a page that does not show the company it asked for."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from agent.domain import Portal
from agent.scrapers import Credentials, LayoutChanged, all_orgs, scraper_for
from sandbox.generate import generate_world
from sandbox.portals import qbo
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser


def test_a_page_showing_another_company_is_layout_changed(browser_loop: BrowserLoop) -> None:
    world = generate_world(41, staff=5, orgs_per_portal=2, users_per_org=2, portals=("qbo",))
    scraper = scraper_for("qbo")
    with PortalServer(qbo.create_app(world)) as server:
        login = world.logins[0]
        creds = Credentials(portal=Portal.QBO, base_url=server.base_url, email=login.email,
                            password=login.password, totp_secret=login.totp_secret)

        async def work(browser: Browser) -> None:
            context = await browser.new_context()
            try:
                await scraper.sign_in(context, creds)
                orgs = await all_orgs(scraper, context, server.base_url)
                first = next(o for o in orgs if o.portal_org_id == world.orgs[0].org_id)
                assert (await scraper.list_users(context, server.base_url, first)).users
                world.orgs[0].name = "Somebody Else Ltd"  # the portal now shows another name
                await scraper.list_users(context, server.base_url, first)
            finally:
                await context.close()

        with pytest.raises(LayoutChanged, match="does not show the company's name"):
            browser_loop.run(work)
