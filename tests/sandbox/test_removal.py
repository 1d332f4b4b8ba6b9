"""The sandbox portals remove users as SPEC.md's "Removing a user" says, over real HTTP.

Each test starts the portal it needs over its own copy of ``removal_world``'s world,
signs in like a browser, takes the CSRF token from the page that offers removal and
removes the JSON portals' way (xero ``POST …/remove``, myob ``DELETE``) or qbo's
(its delete page's form; asking for JSON where a test reads the refusal's body).
The qbo pages and the fault knobs have tests of their own below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.portals.common import runtime_of
from tests.sandbox.removal_world import (
    M_ADMIN,
    M_NONE,
    M_ROLE,
    Q_ADMIN,
    Q_FIRM,
    Q_NONE,
    Q_PRIMARY,
    SECOND,
    X_MAIN,
    X_NO_MANAGE,
    X_READ_ONLY,
    X_STANDARD,
    Remover,
    build,
)
from tests.sandbox.test_portals import Portal, start, visible_text

PORTALS = ("xero", "qbo", "myob")
#: per portal: an org whose viewer may remove, a plain user there, the viewer's own id
MAIN = {
    "xero": (X_MAIN, "u3", "u1"),
    "qbo": (Q_ADMIN, "u42", "u40"),
    "myob": (M_ADMIN, "u81", "u80"),
}


@pytest.fixture
def remover() -> Iterator[Callable[..., Remover]]:
    """A signed-in ``Remover`` of a portal of its own, over a fresh copy of the world."""
    started: list[Portal] = []

    def make(name: str, **settings: Any) -> Remover:
        portal = start(build(), name, **settings)
        started.append(portal)
        client, _ = portal.sign_in()
        return Remover(portal, client)

    yield make
    for portal in started:
        portal.close()


def history(r: Remover, org_id: str) -> list[tuple[str, str]]:
    return [(e.user_id, e.removed_by) for e in runtime_of(r.portal.app).removals.of(org_id)]


@pytest.mark.parametrize("name", PORTALS)
def test_a_permitted_removal_takes_the_user_off_the_list_count_and_json(remover, name):
    r = remover(name)
    org_id, user_id, _ = MAIN[name]
    before, total = r.listing(org_id)
    assert user_id in before
    assert total == len(before)
    org = next(o for o in r.portal.world.orgs if o.org_id == org_id)
    name_of = next(u.name for u in org.users if u.user_id == user_id)
    answer = r.remove(org_id, user_id, r.token(org_id))
    assert r.removed(answer, user_id), answer.text
    after, after_total = r.listing(org_id)
    assert after == [u for u in before if u != user_id]
    assert after_total == total - 1
    assert history(r, org_id) == [(user_id, "robot@practice.example")]
    entry = runtime_of(r.portal.app).removals.of(org_id)[0]
    assert entry.email == f"person{user_id[1:]}@client.example"
    assert entry.name == name_of
    assert entry.at == r.portal.clock.now


@pytest.mark.parametrize("name", PORTALS)
def test_removing_again_answers_404_not_found(remover, name):
    r = remover(name)
    org_id, user_id, _ = MAIN[name]
    token = r.token(org_id)
    assert r.removed(r.remove(org_id, user_id, token), user_id)
    again = r.remove(org_id, user_id, token)
    assert (again.status_code, again.json()) == (404, {"error": "not_found"})
    unknown = r.remove(org_id, "u999999", token)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "not_found"})
    assert len(history(r, org_id)) == 1


@pytest.mark.parametrize("name", PORTALS)
def test_a_removal_without_the_sessions_token_is_403_csrf_and_removes_nothing(remover, name):
    r = remover(name)
    org_id, user_id, _ = MAIN[name]
    other = remover(name)  # another session's token is no token for this one
    for token in (None, "", "nonsense", "abc.def", r.token(org_id) + "x", other.token(org_id)):
        answer = r.remove(org_id, user_id, token)
        assert (answer.status_code, answer.json()) == (403, {"error": "csrf"}), token
    assert user_id in r.listing(org_id)[0]
    assert history(r, org_id) == []


@pytest.mark.parametrize("name", PORTALS)
def test_nobody_removes_themselves(remover, name):
    r = remover(name)
    org_id, _, me = MAIN[name]
    answer = r.remove(org_id, me, r.token(org_id))
    assert (answer.status_code, answer.json()) == (409, {"error": "self"})
    assert me in r.listing(org_id)[0]


@pytest.mark.parametrize(
    ("name", "org_id", "user_id", "status", "error"),
    [
        ("xero", X_MAIN, "u2", 409, "subscriber"),
        ("qbo", Q_ADMIN, "u41", 409, "primary_admin"),
        ("myob", M_ADMIN, "u82", 403, "owner_only"),
    ],
)
def test_protected_users_are_refused_as_spec_says(remover, name, org_id, user_id, status, error):
    r = remover(name)
    answer = r.remove(org_id, user_id, r.token(org_id))
    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert user_id in r.listing(org_id)[0]


@pytest.mark.parametrize(
    ("name", "token_org", "org_id", "user_id"),
    [
        ("xero", X_MAIN, X_NO_MANAGE, "u12"),  # an Adviser without Manage users
        ("xero", X_MAIN, X_READ_ONLY, "u22"),  # Manage users on Read only grants nothing
        ("qbo", Q_ADMIN, Q_ADMIN, "u45"),  # a Company admin and a firm's entry
        ("qbo", Q_FIRM, Q_FIRM, "u52"),  # an Accountant and the Users tab
        ("qbo", Q_FIRM, Q_FIRM, "u54"),  # an Accountant and another firm's entry
        ("qbo", Q_ADMIN, Q_NONE, "u71"),  # a Standard user
        ("myob", M_ADMIN, M_NONE, "u96"),  # neither Online admin nor Administrator
    ],
)
def test_a_viewer_without_the_right_gets_403_no_permission(
    remover, name, token_org, org_id, user_id
):
    r = remover(name)
    answer = r.remove(org_id, user_id, r.token(token_org))
    assert (answer.status_code, answer.json()) == (403, {"error": "no_permission"})
    assert history(r, org_id) == []


@pytest.mark.parametrize(
    ("name", "org_id", "user_id"),
    [
        ("xero", X_STANDARD, "u32"),  # Standard with Manage users
        ("qbo", Q_FIRM, "u53"),  # the Accountant and its own firm's entry
        ("qbo", Q_PRIMARY, "u61"),  # the primary admin and any firm's entry
        ("myob", M_ADMIN, "u83"),  # an advisor nobody says the owner added
        ("myob", M_ROLE, "u91"),  # a File user with the Administrator role
    ],
)
def test_every_kind_of_permitted_viewer_removes(remover, name, org_id, user_id):
    r = remover(name)
    token = r.token(Q_FIRM if org_id == Q_FIRM else org_id)
    assert r.removed(r.remove(org_id, user_id, token), user_id)
    assert user_id not in r.listing(org_id)[0]


@pytest.mark.parametrize(
    ("name", "org_id", "user_ids"),
    [
        ("xero", X_MAIN, ["u4", "u5"]),  # pending, declined
        ("qbo", Q_ADMIN, ["u43"]),
        ("qbo", Q_FIRM, ["u55"]),
        ("myob", M_ADMIN, ["u84"]),
    ],
)
def test_pending_and_declined_invitations_are_removed_the_same_way(remover, name, org_id, user_ids):
    r = remover(name)
    token = r.token(org_id)
    for user_id in user_ids:
        assert r.removed(r.remove(org_id, user_id, token), user_id)
    assert not set(user_ids) & set(r.listing(org_id)[0])


@pytest.mark.parametrize("name", PORTALS)
def test_concurrent_removals_of_one_user_remove_it_once(remover, name):
    r = remover(name)
    org_id, user_id, _ = MAIN[name]
    token = r.token(org_id)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: r.remove(org_id, user_id, token), range(12)))
    assert sum(r.removed(a, user_id) for a in answers) == 1
    assert sorted(a.status_code for a in answers if not r.removed(a, user_id)) == [404] * 11
    assert history(r, org_id) == [(user_id, "robot@practice.example")]


def test_a_login_removed_by_another_no_longer_opens_the_org(remover):
    r = remover("xero")
    second = r.portal.client()
    assert r.portal.submit_password(second, email=SECOND).status_code == 303
    assert r.portal.submit_code(second, r.portal.fresh_code()).status_code == 303
    assert second.get(f"/api/orgs/{X_MAIN}/users").status_code == 200
    assert r.removed(r.remove(X_MAIN, "u6", r.token(X_MAIN)), "u6")
    assert second.get(f"/api/orgs/{X_MAIN}/users").status_code == 404
    assert [o["shortCode"] for o in second.get("/api/myxero/orgs").json()["orgs"]] == []


# ----------------------------------------------------------------------- the pages


def test_xero_offers_remove_buttons_and_a_dialog_to_a_viewer_who_may_remove(remover):
    r = remover("xero")
    page = r.page(X_MAIN)
    assert 'data-can-remove="1" data-viewer-id="u1"' in page
    assert 'data-org-name="Main &amp; Sons &lt;Ltd&gt;"' in page
    for text in ('"Remove user"', '"Remove " + name + " from "', '" was removed"', "showModal"):
        assert text in page
    assert "X-CSRF-Token" in page
    other = r.page(X_NO_MANAGE)
    assert "data-can-remove" not in other
    assert '<meta name="csrf-token"' not in other
    refused = r.client.get(f"/app/{X_READ_ONLY}/settings/users").text
    assert "You don't have permission to view users" in visible_text(refused)


def test_myob_cards_offer_removal_except_of_self_and_owner_added_advisors(remover):
    r = remover("myob")
    page = r.page(M_ADMIN)
    found = re.finditer(r'<article [^>]*data-user-id="([^"]+)".*?</article>', page, re.S)
    cards = {m.group(1): m.group(0) for m in found}
    assert "<button" not in cards["u80"]
    assert "<p>Added by the business owner</p>" in cards["u82"]
    assert "<button" not in cards["u82"]
    assert ">Remove access for Person83 Client</button>" in cards["u83"]
    assert ">Remove access for Person84 Client</button>" in cards["u84"]
    assert 'data-business-name="Admin Business &amp; Co"' in page
    assert '"\'s access to "' in page
    assert re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    body = r.client.get(f"/api/businesses/{M_ADMIN}/users?pageSize=50").json()
    added = {item["id"]: item["addedBy"] for item in body["items"]}
    assert added["u82"] == "owner"
    assert {v for k, v in added.items() if k != "u82"} == {"user"}
    assert "<button" in r.page(M_ROLE)
    r.portal.settings(layout_version=2)
    renamed = r.client.get(f"/api/businesses/{M_ADMIN}/users?pageSize=50").json()
    assert {m["grantedBy"] for m in renamed["results"]} == {"owner", "user"}
    assert not any("addedBy" in m for m in renamed["results"])
    assert "Added by the business owner" in r.page(M_ADMIN)


def test_a_removal_sent_to_the_wrong_method_or_org_answers_json(remover):
    r = remover("myob")
    token = r.token(M_ADMIN)
    gone = r.client.delete(
        "/api/businesses/e2d1c0b9-a8f7-4e6d-8c5b-4a3f2e1d0c9b/users/u81",
        headers={"X-CSRF-Token": token},
    )
    assert (gone.status_code, gone.json()) == (404, {"error": "not_found"})
    wrong = r.client.post(f"/api/businesses/{M_ADMIN}/users/u81", headers={"X-CSRF-Token": token})
    assert wrong.status_code == 405
    assert "u81" in r.listing(M_ADMIN)[0]


def test_layout_2_keeps_the_remove_controls_under_its_new_markup(remover):
    r = remover("qbo", layout_version=2)
    page = r.page(Q_ADMIN)
    assert "<table" not in page
    link = f'<a href="/app/company/{Q_ADMIN}/manageusers/u42/delete">Delete Person42 Client</a>'
    assert f"{link}</li>" in page
    assert r.removed(r.remove(Q_ADMIN, "u42", r.token(Q_ADMIN)), "u42")
    assert 'data-person-id="u42"' not in r.page(Q_ADMIN)
    x = remover("xero", layout_version=2)
    assert 'removeCell("div"' in x.page(X_MAIN)
    assert x.removed(x.remove(X_MAIN, "u3", x.token(X_MAIN)), "u3")
    assert x.client.get(f"/api/orgs/{X_MAIN}/users").json()["count"] == 29
