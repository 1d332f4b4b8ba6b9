"""Scrapers read what decides who may remove a user, from SPEC's keys and columns only.

xero: ``userId`` and ``isSubscriber``; qbo: the ``Firm`` cell of the Accounting
firms tab and the user id in a row's ``Action`` link, which only rows the viewer may
remove carry; myob: ``id`` and ``addedBy``. For qbo, the rows with a link must be
exactly those ``agent.reconcile.removability`` gives the practice: the portal and
the rule agree on who the agent's login may remove.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser

from agent.capture import OrgUsers, PortalUser
from agent.domain import Portal
from agent.reconcile import SeenUser
from agent.reconcile.removability import PRACTICE, removability
from agent.scrapers.base import all_orgs
from agent.scrapers.registry import scraper_for
from sandbox.generate import generate_world
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer
from sandbox.world import World, WorldOrg, WorldUser
from tests.browser_loop import BrowserLoop
from tests.scrapers.worlds import APPS, credentials

pytestmark = pytest.mark.browser

OUR_FIRM = "Harbour & Co Accountants"
OTHER_FIRM = "Other & Co = Firm"


def person(org: WorldOrg, i: int, **fields: Any) -> WorldUser:
    base: dict[str, Any] = {
        "user_id": f"u-{org.org_id[-4:]}-{i}",
        "first_name": "Zoë",
        "last_name": f"O'Brien {i}",
        "email": f"person.{i}@client-{org.org_id[-4:]}.example",
    }
    return WorldUser(**(base | fields))


def facts_world(portal: str) -> World:
    """Three orgs whose viewers differ in what they may remove, each with people of
    every kind the rules tell apart."""
    world = generate_world(11, staff=4, orgs_per_portal=3, users_per_org=1, portals=(portal,))
    for n, org in enumerate(world.orgs):
        viewer = org.users[0]
        if portal == "xero":
            people = [
                person(org, 1, role="STANDARD", status="ACTIVE", is_subscriber=True),
                person(org, 2, role="STANDARD", status="ACTIVE"),
                person(org, 3, role="READONLY", status="DECLINED"),
            ]
        elif portal == "qbo":
            viewer = [
                dataclasses.replace(viewer, role="Company admin", kind="users", firm_name=None),
                dataclasses.replace(viewer, role="Primary admin", kind="users", firm_name=None),
                viewer,  # an Accountant on the firms tab, of our firm
            ][n]
            people = [
                person(org, 2, role="Reports only", status="Active", kind="users"),
                person(
                    org, 3, role="Accountant", status="Invited", kind="firms", firm_name=OUR_FIRM
                ),
                person(
                    org, 4, role="Accountant", status="Active", kind="firms", firm_name=OTHER_FIRM
                ),
            ]
            if viewer.role != "Primary admin":
                people.append(person(org, 1, role="Primary admin", status="Active", kind="users"))
        else:
            kinds = ["User", "Advisor", "Advisor", "Advisor", "User"]
            people = [
                person(
                    org,
                    i,
                    role="File user",
                    status="ACTIVE",
                    kind=kind,
                    myob_roles=["Payroll"],
                    added_by_owner=i == 2,
                )
                for i, kind in enumerate(kinds, 1)
            ]
        org.users = [viewer, *people]
    return world


@pytest.fixture(scope="module")
def served(browser_loop: BrowserLoop) -> Iterator[Callable[[str], tuple[World, PortalServer]]]:
    running: dict[str, tuple[World, PortalServer]] = {}

    def get(portal: str) -> tuple[World, PortalServer]:
        if portal not in running:
            world = facts_world(portal)
            running[portal] = (world, PortalServer(APPS[portal](world, None)).start())
        return running[portal]

    yield get
    for _, server in running.values():
        server.stop()


def read(
    browser_loop: BrowserLoop, world: World, portal: str, server: PortalServer
) -> tuple[dict[str, OrgUsers], dict[str, dict[str, Any]]]:
    """Every org's users as the scraper reads them, and (myob) the raw JSON items by id."""
    scraper = scraper_for(portal)
    base = server.base_url

    async def work(browser: Browser) -> tuple[dict[str, OrgUsers], dict[str, dict[str, Any]]]:
        context = await browser.new_context()
        try:
            await scraper.sign_in(context, credentials(world, portal, server))
            got = {
                org.portal_org_id: await scraper.list_users(context, base, org)
                for org in await all_orgs(scraper, context, base)
            }
            raw: dict[str, dict[str, Any]] = {}
            if portal == "myob":
                for org_id in got:
                    url = f"{base}/api/businesses/{org_id}/users?page=1&pageSize=50"
                    body = json.loads(await (await context.request.get(url)).text())
                    raw |= {str(item["id"]): item for item in body["items"]}
            return got, raw
        finally:
            await context.close()

    return browser_loop.run(work, timeout=120)


def seen(user: PortalUser) -> SeenUser:
    return SeenUser(
        user.email,
        user.name,
        user.role,
        user.status,
        user.extra_permissions,
        user.kind,
        user.portal_user_id,
        user.subscriber,
        user.firm,
        user.added_by_owner,
    )


@pytest.mark.parametrize("variant", [False, True])
def test_xero_reads_each_users_id_and_the_subscriber(
    browser_loop: BrowserLoop, served: Callable[[str], tuple[World, PortalServer]], variant: bool
) -> None:
    world, server = served("xero")
    update_settings(server.app, markup_variant=variant)
    try:
        got, _ = read(browser_loop, world, "xero", server)
    finally:
        update_settings(server.app, markup_variant=False)
    for org in world.orgs:
        have = {u.email: (u.portal_user_id, u.subscriber) for u in got[org.org_id].users}
        assert have == {u.email: (u.user_id, u.is_subscriber) for u in org.users}
        assert any(subscriber for _, subscriber in have.values())


@pytest.mark.parametrize("variant", [False, True])
def test_qbo_reads_the_firm_and_the_id_of_each_row_the_viewer_may_remove(
    browser_loop: BrowserLoop, served: Callable[[str], tuple[World, PortalServer]], variant: bool
) -> None:
    world, server = served("qbo")
    update_settings(server.app, markup_variant=variant)
    try:
        got, _ = read(browser_loop, world, "qbo", server)
    finally:
        update_settings(server.app, markup_variant=False)
    linked = 0
    for org in world.orgs:
        users = {u.email: u for u in got[org.org_id].users}
        truth = {u.email: u for u in org.users}
        assert {e: u.firm for e, u in users.items()} == {
            e: u.firm_name if u.kind == "firms" else None for e, u in truth.items()
        }
        ids = {e: u.portal_user_id for e, u in users.items() if u.portal_user_id is not None}
        assert all(ids[e] == truth[e].user_id for e in ids), org.name
        linked += len(ids)
        if not ids:
            continue  # a page without the Action column says nothing of who may remove
        viewer = seen(users[org.users[0].email])
        practice = {
            e
            for e, u in users.items()
            if e != viewer.email and removability(Portal.QBO, viewer, seen(u)).by == PRACTICE
        }
        assert set(ids) == practice, org.name
    if variant:
        assert linked == 5  # the Company admin's 1, the Primary admin's 3, our firm's 1


@pytest.mark.parametrize("variant", [False, True])
def test_myob_reads_each_users_id_and_who_added_an_advisor(
    browser_loop: BrowserLoop, served: Callable[[str], tuple[World, PortalServer]], variant: bool
) -> None:
    world, server = served("myob")
    update_settings(server.app, markup_variant=variant)
    try:
        got, raw = read(browser_loop, world, "myob", server)
    finally:
        update_settings(server.app, markup_variant=False)
    added = {"owner": True, "user": False}
    said = []
    for org in world.orgs:
        users = got[org.org_id].users
        assert {u.email: u.portal_user_id for u in users} == {u.email: u.user_id for u in org.users}
        for user in users:
            assert user.portal_user_id is not None
            said.append(added.get(raw[user.portal_user_id].get("addedBy")))
            assert user.added_by_owner is said[-1]
    if any(s is not None for s in said):  # a portal that says who added them
        assert {True, False} <= set(said)
