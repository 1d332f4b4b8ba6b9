"""The xero scraper against the sandbox Xero portal, in the real Chromium."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pyotp
import pytest
from playwright.async_api import Browser

from agent.capture import (
    Credentials,
    LayoutChanged,
    LoginRejected,
    MfaRejected,
    NoPermission,
    OrgUsers,
)
from agent.domain import AccessStatus, Portal
from agent.scrapers.base import all_orgs
from agent.scrapers.registry import scraper_for
from sandbox.generate import generate_world
from sandbox.portals import xero
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer
from sandbox.world import World
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser

STATUS = {
    "ACTIVE": AccessStatus.ACTIVE,
    "PENDING": AccessStatus.PENDING,
    "DECLINED": AccessStatus.DECLINED,
}


@pytest.fixture(scope="module")
def world() -> World:
    world = generate_world(3, staff=8, orgs_per_portal=4, users_per_org=5, portals=("xero",))
    # One org where the agent's role cannot view users.
    readonly = copy.deepcopy(world.orgs[0])
    readonly.org_id, readonly.name = "!RdOnl", "Read-only org"
    readonly.users[0].role = "READONLY"
    world.orgs.append(readonly)
    return world


@pytest.fixture(scope="module")
def portal(world: World) -> Iterator[PortalServer]:
    with PortalServer(xero.create_app(world)) as server:
        yield server


@pytest.fixture(scope="module")
def session_state(browser_loop: BrowserLoop, world: World, portal: PortalServer) -> dict:
    """One sign-in for the module (a TOTP code is good once per 30 s): its storage state."""

    async def work(browser: Browser) -> dict:
        context = await browser.new_context()
        try:
            await scraper_for("xero").sign_in(context, creds(world, portal))
            return await context.storage_state()
        finally:
            await context.close()

    return browser_loop.run(work)


def creds(world: World, portal: PortalServer, **changes: str) -> Credentials:
    login = world.logins_of("xero")[0]
    fields = {
        "email": login.email,
        "password": login.password,
        "totp_secret": login.totp_secret,
        **changes,
    }
    return Credentials(portal=Portal.XERO, base_url=portal.base_url, **fields)


def test_reads_every_org_exactly_as_the_world_holds_it(
    browser_loop: BrowserLoop, world: World, portal: PortalServer, session_state: dict
) -> None:
    scraper = scraper_for("xero")

    async def work(browser: Browser) -> tuple[list[str], dict[str, OrgUsers], str]:
        context = await browser.new_context(storage_state=session_state)
        try:
            assert await scraper.is_signed_in(context, portal.base_url)
            orgs = await all_orgs(scraper, context, portal.base_url)
            got = {}
            for org in orgs:
                if org.portal_org_id != "!RdOnl":
                    got[org.portal_org_id] = await scraper.list_users(context, portal.base_url, org)
            ro = next(o for o in orgs if o.portal_org_id == "!RdOnl")
            with pytest.raises(NoPermission):
                await scraper.list_users(context, portal.base_url, ro)
            return [o.portal_org_id for o in orgs], got, "ok"
        finally:
            await context.close()

    org_ids, got, _ = browser_loop.run(work)
    assert sorted(org_ids) == sorted(o.org_id for o in world.orgs)
    for org in world.orgs:
        if org.org_id == "!RdOnl":
            continue
        result = got[org.org_id]
        assert result.reported_total == len(org.users)
        want = sorted(
            (u.email, u.name, u.role, STATUS[u.status], tuple(u.extra_permissions))
            for u in org.users
        )
        have = sorted(
            (u.email, u.name, u.role, u.status, u.extra_permissions) for u in result.users
        )
        assert have == want


def test_wrong_password_is_login_failed_and_wrong_code_is_mfa_failed(
    browser_loop: BrowserLoop, world: World, portal: PortalServer
) -> None:
    scraper = scraper_for("xero")

    async def attempt(credentials: Credentials) -> None:
        context = await browser_loop.browser.new_context()
        try:
            await scraper.sign_in(context, credentials)
        finally:
            await context.close()

    with pytest.raises(LoginRejected):
        browser_loop.run(lambda _b: attempt(creds(world, portal, password="wrong-password")))
    with pytest.raises(MfaRejected):
        browser_loop.run(
            lambda _b: attempt(creds(world, portal, totp_secret=pyotp.random_base32()))
        )


def test_layout_version_2_is_layout_changed_not_an_empty_org(
    browser_loop: BrowserLoop, portal: PortalServer, session_state: dict
) -> None:
    scraper = scraper_for("xero")

    async def work(browser: Browser) -> None:
        context = await browser.new_context(storage_state=session_state)
        try:
            orgs = await all_orgs(scraper, context, portal.base_url)
            update_settings(portal.app, layout_version=2)
            try:
                await scraper.list_users(context, portal.base_url, orgs[0])
            finally:
                update_settings(portal.app, layout_version=1)
        finally:
            await context.close()

    with pytest.raises(LayoutChanged):
        browser_loop.run(work)


def test_an_org_id_of_another_format_is_layout_changed_not_stored(
    browser_loop: BrowserLoop,
) -> None:
    """SPEC's short code is ! and five letters or digits; any other id is a changed portal."""
    odd = generate_world(4, staff=4, orgs_per_portal=1, users_per_org=2, portals=("xero",))
    odd.orgs[0].org_id = "!x7Kp2x"
    scraper = scraper_for("xero")

    async def work(browser: Browser) -> None:
        context = await browser.new_context()
        try:
            await scraper.sign_in(context, creds(odd, server))
            await all_orgs(scraper, context, server.base_url)
        finally:
            await context.close()

    with (
        PortalServer(xero.create_app(odd)) as server,
        pytest.raises(LayoutChanged, match="'!x7Kp2x' is not a Xero org id"),
    ):
        browser_loop.run(work)
