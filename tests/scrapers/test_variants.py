"""Scrapers rely on what SPEC promises and nothing more.

A portal built by others to SPEC.md may title and head its pages otherwise, leave
the company's name off a page, put columns in another order, add the remove
controls of SPEC's "Removing a user" (qbo's ``Action`` column, xero's and myob's
remove buttons) and add keys to its JSON. The sandbox's ``markup_variant`` renders
all of that; every scraper must read exactly the same users from it as from the
plain pages. And what SPEC does promise stays checked: a needed column or key that
is missing, or ``layout_version`` 2, is ``layout_changed`` for every org, never an
empty org.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser

from agent.capture import LayoutChanged, OrgRef
from agent.scrapers.base import all_orgs
from agent.scrapers.registry import scraper_for
from sandbox.portals import myob, qbo, xero
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer
from sandbox.world import World
from tests.browser_loop import BrowserLoop
from tests.scrapers.worlds import APPS, STATUS, as_seen, credentials, sized_world

pytestmark = pytest.mark.browser

PORTALS = ("xero", "qbo", "myob")


def variant_world(portal: str) -> World:
    """``sized_world``, with viewers and users whose pages show every remove control.

    qbo: every other company's viewer is a Company admin (the Users tab gains its
    ``Action`` column), some firm entries are of the viewer's own firm (links on the
    firms tab), a client is named ``Next``, and a company holds only a Company admin
    (its firms tab is empty). myob: some users are advisors (half of them added by
    the owner).
    """
    world = sized_world(portal)
    if portal == "qbo":
        firm = world.orgs[0].users[0].firm_name
        for n, org in enumerate(world.orgs):
            if n % 2:
                org.users[0] = dataclasses.replace(
                    org.users[0], role="Company admin", kind="users", firm_name=None
                )
            for i, user in enumerate(org.users[1:]):
                if user.kind == "firms" and i % 2 == 0:
                    org.users[i + 1] = dataclasses.replace(user, firm_name=firm)
        world.orgs[2].name = "Next"
        alone = copy.deepcopy(world.orgs[1])
        alone.org_id, alone.name, alone.users = "9" * 12, "Alone & Co", alone.users[:1]
        world.orgs.append(alone)
    if portal == "myob":
        for org in world.orgs:
            for i, user in enumerate(org.users[1:]):
                if i % 4 == 1:
                    org.users[i + 1] = dataclasses.replace(
                        user, kind="Advisor", added_by_owner=i % 8 == 1
                    )
    return world


@dataclasses.dataclass
class Served:
    portal: str
    world: World
    server: PortalServer
    #: a signed-in context's storage state: one sign-in per portal for the module
    state: dict[str, Any]


@pytest.fixture(scope="module")
def served(browser_loop: BrowserLoop) -> Iterator[Callable[[str], Served]]:
    """Each portal's server over its ``variant_world`` and a session, started when asked."""
    running: dict[str, Served] = {}

    def get(portal: str) -> Served:
        if portal not in running:
            world = variant_world(portal)
            server = PortalServer(APPS[portal](world, None)).start()

            async def sign_in(browser: Browser) -> dict[str, Any]:
                context = await browser.new_context()
                try:
                    await scraper_for(portal).sign_in(context, credentials(world, portal, server))
                    return await context.storage_state()
                finally:
                    await context.close()

            running[portal] = Served(portal, world, server, browser_loop.run(sign_in))
        return running[portal]

    yield get
    for one in running.values():
        one.server.stop()


Outcome = dict[str, Any]


def read_all(
    browser_loop: BrowserLoop, served: Served, *, probe: str | None = None
) -> tuple[list[OrgRef], dict[str, Outcome], str]:
    """The org list and, per org, what its scan gives: users seen, or the failure's type.

    ``probe``: a path fetched with the same session, whose body is returned (to show
    which pages the portal served).
    """
    scraper = scraper_for(served.portal)
    base = served.server.base_url

    async def work(browser: Browser) -> tuple[list[OrgRef], dict[str, Outcome], str]:
        context = await browser.new_context(storage_state=served.state)
        try:
            orgs = await all_orgs(scraper, context, base)
            got: dict[str, Outcome] = {}
            for org in orgs:
                try:
                    result = await scraper.list_users(context, base, org)
                except LayoutChanged as exc:
                    got[org.portal_org_id] = {"failure": type(exc).__name__}
                else:
                    got[org.portal_org_id] = {
                        "users": as_seen(result),
                        "total": result.reported_total,
                    }
            body = await (await context.request.get(base + probe)).text() if probe else ""
            return orgs, got, body
        finally:
            await context.close()

    return browser_loop.run(work, timeout=120)


def variant_probe(one: Served) -> tuple[str, str]:
    """A page of the portal, and what it shows only in the variant."""
    if one.portal == "xero":
        return "/api/myxero/orgs", '"_links"'
    if one.portal == "qbo":  # a company whose viewer is a Company admin
        return f"/app/company/{one.world.orgs[1].org_id}/manageusers", "Users and access"
    return "/businesses", "Choose a business"


@pytest.mark.parametrize("portal", PORTALS)
def test_the_variant_is_read_exactly_as_the_plain_pages(
    browser_loop: BrowserLoop, served: Callable[[str], Served], portal: str
) -> None:
    one = served(portal)
    path, mark = variant_probe(one)
    plain_orgs, plain, plain_probe = read_all(browser_loop, one, probe=path)
    update_settings(one.server.app, markup_variant=True)
    try:
        orgs, got, probe = read_all(browser_loop, one, probe=path)
    finally:
        update_settings(one.server.app, markup_variant=False)
    assert mark in probe  # the variant was what was read
    assert mark not in plain_probe
    assert orgs == plain_orgs
    assert got == plain
    assert {o.portal_org_id: o.name for o in orgs} == {o.org_id: o.name for o in one.world.orgs}
    for org in one.world.orgs:
        seen = got[org.org_id]
        assert seen["total"] == len(org.users)
        assert [(email, name, status) for email, name, _, status, *_ in seen["users"]] == sorted(
            (u.email, u.name, STATUS[u.status]) for u in org.users
        ), org.name


@pytest.mark.parametrize("variant", [False, True])
@pytest.mark.parametrize(
    ("tab", "column"),
    [("users", "email"), ("users", "type"), ("firms", "firm"), ("firms", "status")],
)
def test_a_missing_needed_qbo_column_is_layout_changed(
    browser_loop: BrowserLoop,
    served: Callable[[str], Served],
    monkeypatch: pytest.MonkeyPatch,
    variant: bool,
    tab: str,
    column: str,
) -> None:
    one = served("qbo")
    for table in ("COLUMNS", "VARIANT_COLUMNS"):
        columns = dict(getattr(qbo, table))
        columns[tab] = tuple(c for c in columns[tab] if c != column)
        monkeypatch.setattr(qbo, table, columns)
    update_settings(one.server.app, markup_variant=variant)
    try:
        _, got, _ = read_all(browser_loop, one)
    finally:
        update_settings(one.server.app, markup_variant=False)
    has_tab = {org.org_id for org in one.world.orgs if any(qbo.tab_of(u) == tab for u in org.users)}
    assert has_tab
    for org_id in has_tab:
        assert got[org_id] == {"failure": "LayoutChanged"}, org_id


@pytest.mark.parametrize("variant", [False, True])
def test_a_client_list_without_its_client_column_is_layout_changed(
    browser_loop: BrowserLoop,
    served: Callable[[str], Served],
    monkeypatch: pytest.MonkeyPatch,
    variant: bool,
) -> None:
    one = served("qbo")
    monkeypatch.setattr(qbo, "CLIENT_COLUMNS", ("Status",))
    # the variant's table still links every row to the company, from another column
    monkeypatch.setattr(qbo, "VARIANT_CLIENT_COLUMNS", ("Status", "Go to"))
    update_settings(one.server.app, markup_variant=variant)
    try:
        with pytest.raises(LayoutChanged, match="no table with columns Client, Status"):
            read_all(browser_loop, one)
    finally:
        update_settings(one.server.app, markup_variant=False)


@pytest.mark.parametrize(
    ("portal", "key"),
    [
        ("xero", "email"),
        ("xero", "extraPermissions"),
        ("xero", "lastLoginUtc"),
        ("xero", "userId"),
        ("xero", "isSubscriber"),
        ("myob", "id"),
        ("myob", "email"),
        ("myob", "roles"),
        ("myob", "userType"),
    ],
)
def test_a_missing_needed_json_key_is_layout_changed(
    browser_loop: BrowserLoop,
    served: Callable[[str], Served],
    monkeypatch: pytest.MonkeyPatch,
    portal: str,
    key: str,
) -> None:
    """Never read as a user without that field (no permissions, no roles, no login)."""
    one = served(portal)
    module: Any = xero if portal == "xero" else myob
    plain_user_json = module.user_json

    def without_key(user: Any) -> dict[str, Any]:
        row = dict(plain_user_json(user))
        del row[key]
        return row

    monkeypatch.setattr(module, "user_json", without_key)
    update_settings(one.server.app, markup_variant=True)
    try:
        _, got, _ = read_all(browser_loop, one)
    finally:
        update_settings(one.server.app, markup_variant=False)
    assert got == {org.org_id: {"failure": "LayoutChanged"} for org in one.world.orgs}


@pytest.mark.parametrize("portal", PORTALS)
def test_layout_version_2_is_layout_changed_for_every_org_with_the_variant_too(
    browser_loop: BrowserLoop, served: Callable[[str], Served], portal: str
) -> None:
    one = served(portal)
    update_settings(one.server.app, markup_variant=True, layout_version=2)
    try:
        orgs, got, _ = read_all(browser_loop, one)
    finally:
        update_settings(one.server.app, markup_variant=False, layout_version=1)
    assert len(orgs) == len(one.world.orgs)  # org lists do not change in layout 2
    assert got == {org.org_id: {"failure": "LayoutChanged"} for org in one.world.orgs}
