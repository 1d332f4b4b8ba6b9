"""Removals under the fault knobs, and qbo's delete pages (SPEC.md, Removing a user).

The faults apply to removals as to any request: a ``5xx`` may come after the removal
was carried out, so only a read of the org tells; a request that never completes may
have removed too; a rate-limited or expired request removes nothing. qbo removes
through pages: a row's link, a page asking to confirm with a form, a redirect to the
tab saying who went; its refusals are pages with the JSON portals' status codes, or
their JSON for a request that asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.portals.common import runtime_of
from tests.sandbox.removal_world import (
    FILLERS,
    JSON,
    M_ADMIN,
    OTHER_FIRM,
    Q_ADMIN,
    Q_FIRM,
    X_MAIN,
    Remover,
    build,
    token_in,
)
from tests.sandbox.test_portals import Portal, start, visible_text

PORTALS = ("xero", "qbo", "myob")
ORG = {"xero": X_MAIN, "qbo": Q_ADMIN, "myob": M_ADMIN}


@pytest.fixture
def remover() -> Iterator[Callable[..., Remover]]:
    started: list[Portal] = []

    def make(name: str, **settings: Any) -> Remover:
        portal = start(build(), name, **settings)
        started.append(portal)
        client, _ = portal.sign_in()
        return Remover(portal, client)

    yield make
    for portal in started:
        portal.close()


def removed_ids(r: Remover, org_id: str) -> list[str]:
    return [e.user_id for e in runtime_of(r.portal.app).removals.of(org_id)]


@pytest.mark.parametrize("name", PORTALS)
def test_a_server_error_may_come_after_the_removal_was_carried_out(remover, name):
    r = remover(name, seed=5)
    org_id = ORG[name]
    token = r.token(org_id)
    seen = set()
    for user_id in FILLERS:
        r.portal.settings(error_rate=1.0)
        failed = r.remove(org_id, user_id, token)
        r.portal.settings(error_rate=0.0)
        assert failed.status_code in {500, 502, 503}
        listed, _ = r.listing(org_id)
        again = r.remove(org_id, user_id, token)
        if user_id in listed:  # refused before the work: nothing happened yet
            assert r.removed(again, user_id)
            seen.add("before")
        else:  # carried out: the org says so, and a second removal finds no one
            assert (again.status_code, again.json()) == (404, {"error": "not_found"})
            seen.add("after")
        assert removed_ids(r, org_id).count(user_id) == 1
        if seen == {"before", "after"}:
            break
    assert seen == {"before", "after"}


@pytest.mark.parametrize("name", PORTALS)
def test_a_removal_that_never_completes_may_still_have_removed(remover, name):
    r = remover(name, seed=2)
    org_id = ORG[name]
    token = r.token(org_id)
    outcomes = set()
    quick = r.portal.client(timeout=0.2, cookies=r.client.cookies)
    hurried = Remover(r.portal, quick)
    for user_id in FILLERS[:12]:
        r.portal.settings(timeout_rate=1.0)
        with pytest.raises(httpx.TimeoutException):
            hurried.remove(org_id, user_id, token)
        r.portal.settings(timeout_rate=0.0)
        outcomes.add(user_id in r.listing(org_id)[0])
        if outcomes == {True, False}:
            break
    assert outcomes == {True, False}


@pytest.mark.parametrize("name", PORTALS)
def test_rate_limited_and_expired_removals_remove_nothing(remover, name):
    r = remover(name)
    org_id = ORG[name]
    user_id = FILLERS[0]
    token = r.token(org_id)
    r.portal.settings(rate_limit_per_s=0.001)
    r.client.get("/")  # spends the budget's one request
    limited = r.remove(org_id, user_id, token)
    assert (limited.status_code, limited.json()) == (429, {"error": "rate_limited"})
    assert int(limited.headers["retry-after"]) >= 1
    r.portal.settings(rate_limit_per_s=None, session_expiry_requests=1)
    expired = r.remove(org_id, user_id, token)
    assert (expired.status_code, expired.json()) == (401, {"error": "session_expired"})
    r.portal.settings(session_expiry_requests=None)
    assert removed_ids(r, org_id) == []
    fresh, _ = r.portal.sign_in()
    assert user_id in Remover(r.portal, fresh).listing(org_id)[0]


# ------------------------------------------------------------------------ qbo pages


def action_links(page: str) -> dict[str, str]:
    """``{link text: href}`` of the Action column."""
    return {text: href for href, text in re.findall(r'<a href="([^"]+/delete)">([^<]+)</a>', page)}


def test_qbo_deletes_through_the_link_the_page_and_its_form(remover):
    r = remover("qbo")
    tab = r.page(Q_ADMIN)
    links = action_links(tab)
    assert links["Delete Person42 Client"] == f"/app/company/{Q_ADMIN}/manageusers/u42/delete"
    assert "Delete Person41 Client" not in links  # the primary admin
    assert "Delete Access Robot" not in links  # the viewer
    confirm = r.client.get(links["Delete Person42 Client"])
    assert confirm.status_code == 200
    assert "<h2>Delete Person42 Client?</h2>" in confirm.text
    assert re.findall(r"<button[^>]*>([^<]+)</button>", confirm.text) == ["Delete"]
    hidden = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', confirm.text)
    assert hidden
    assert token_in(confirm.text) == hidden.group(1)
    form = re.search(r'<form method="post" action="([^"]+)"', confirm.text)
    assert form
    done = r.client.post(form.group(1), data={"csrf_token": hidden.group(1)})
    assert done.status_code == 303
    assert done.headers["location"] == f"/app/company/{Q_ADMIN}/manageusers?tab=users&removed=u42"
    after = r.client.get(done.headers["location"]).text
    assert "Person42 Client was deleted" in visible_text(after)
    assert 'data-user-id="u42"' not in after
    assert "Person42 Client was deleted" not in visible_text(r.page(Q_ADMIN))


def test_qbo_firms_tab_removes_the_viewers_own_firms_entries(remover):
    r = remover("qbo")
    users = r.page(Q_FIRM)
    assert ">Action</th>" not in users  # an Accountant removes nobody on the Users tab
    assert '<meta name="csrf-token"' not in users
    firms = r.page(Q_FIRM, "?tab=firms")
    assert sorted(action_links(firms)) == ["Remove Person53 Client", "Remove Person55 Client"]
    assert f"{OTHER_FIRM.replace('&', '&amp;')}</td>" in firms
    confirm = r.client.get(action_links(firms)["Remove Person53 Client"]).text
    assert "<h2>Remove Person53 Client?</h2>" in confirm
    assert re.findall(r"<button[^>]*>([^<]+)</button>", confirm) == ["Remove"]
    done = r.client.post(
        f"/app/company/{Q_FIRM}/manageusers/u53/delete", data={"csrf_token": token_in(confirm)}
    )
    assert done.headers["location"].endswith("?tab=firms&removed=u53")
    assert "Person53 Client was removed" in visible_text(
        r.client.get(done.headers["location"]).text
    )


@pytest.mark.parametrize(
    ("org_id", "user_id", "status", "text", "error"),
    [
        (Q_FIRM, "u54", 403, "You don't have permission to manage users", "no_permission"),
        (Q_FIRM, "u52", 403, "You don't have permission to manage users", "no_permission"),
        (Q_ADMIN, "u41", 409, "The primary admin can't be deleted", "primary_admin"),
        (Q_ADMIN, "u40", 409, "You can't remove yourself", "self"),
        (Q_ADMIN, "u999", 404, "Page not found", "not_found"),
    ],
)
def test_qbo_refuses_as_a_page_with_the_json_status_or_as_json(
    remover, org_id, user_id, status, text, error
):
    r = remover("qbo")
    token = r.token(org_id)
    path = f"/app/company/{org_id}/manageusers/{user_id}/delete"
    for answer in (r.client.get(path), r.client.post(path, data={"csrf_token": token})):
        assert answer.status_code == status
        assert text in visible_text(answer.text)
        assert "<form" not in answer.text
    as_json = r.client.post(path, data={"csrf_token": token}, headers=JSON)
    assert (as_json.status_code, as_json.json()) == (status, {"error": error})
    assert removed_ids(r, org_id) == []


def test_qbo_refuses_a_form_without_its_token(remover):
    r = remover("qbo")
    path = f"/app/company/{Q_ADMIN}/manageusers/u42/delete"
    page = r.client.post(path, data={"csrf_token": "forged.token"})
    assert page.status_code == 403
    assert "<form" not in page.text
    as_json = r.client.post(path, data={}, headers=JSON)
    assert (as_json.status_code, as_json.json()) == (403, {"error": "csrf"})
    header = r.client.post(path, headers={"X-CSRF-Token": r.token(Q_ADMIN)})
    assert header.status_code == 303  # the header serves as well as the form field
    signed_out = r.portal.client().post(path, data={"csrf_token": "x"})
    assert signed_out.status_code == 302
    assert signed_out.headers["location"].startswith("/signin?next=")
