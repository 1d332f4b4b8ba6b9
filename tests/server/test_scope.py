"""Client scope: a manager never sees another manager's clients, in the API or in exports."""

from __future__ import annotations

import csv
import io
import zipfile

from agent.capture import OrgRef, OrgUsers
from agent.clock import utcnow
from agent.domain import Portal
from agent.services.scans import find_org, record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import Client, Crawl
from tests.server.conftest import Practice

KOWHAI = "/api/v1/orgs/xero/!kow01/status"
RATA = "/api/v1/orgs/xero/!rat01/status"
UNLINKED = "/api/v1/orgs/xero/!unl01/status"


def _org_ids(page: dict) -> set[str]:
    return {item["portal_org_id"] for item in page["items"]}


def test_org_status_is_visible_only_within_scope(practice: Practice) -> None:
    expected = {
        "admin": {KOWHAI: 200, RATA: 200, UNLINKED: 200},
        "mia": {KOWHAI: 200, RATA: 404, UNLINKED: 404},
        "max": {KOWHAI: 404, RATA: 200, UNLINKED: 404},
        "eve": {KOWHAI: 404, RATA: 200, UNLINKED: 404},
    }
    for who, paths in expected.items():
        client = practice.client(who)
        for path, status in paths.items():
            response = client.get(path)
            assert response.status_code == status, (who, path)
            if status == 404:
                # Out of scope looks exactly like never listed: nothing leaks.
                assert response.json() == client.get("/api/v1/orgs/xero/!zzz99/status").json()


def test_findings_lists_hold_only_the_scopes_orgs(practice: Practice) -> None:
    seen = {
        who: _org_ids(practice.client(who).get("/api/v1/findings").json())
        for who in ("admin", "mia", "max", "eve")
    }
    assert seen == {
        "admin": {"!kow01", "!rat01", "!unl01"},
        "mia": {"!kow01"},
        "max": {"!rat01"},
        "eve": {"!rat01"},
    }
    # Filters cannot widen a scope.
    mia = practice.client("mia")
    assert (
        _org_ids(mia.get("/api/v1/findings", params={"client_manager": "Max Manager"}).json())
        == set()
    )
    assert _org_ids(mia.get("/api/v1/findings", params={"text": "Rātā"}).json()) == set()
    rata_finding = practice.client("max").get("/api/v1/findings").json()["items"][0]["id"]
    assert mia.get(f"/api/v1/findings/{rata_finding}").status_code == 404
    assert (
        mia.post(
            f"/api/v1/findings/{rata_finding}/review", json={"decision": "acknowledged"}
        ).status_code
        == 404
    )


def test_a_persons_access_is_cut_to_the_scope(practice: Practice) -> None:
    ben = practice.staff_ids["ben"]
    seen = {
        who: {
            o["portal_org_id"]
            for o in practice.client(who).get(f"/api/v1/people/{ben}/access").json()["orgs"]
        }
        for who in ("admin", "mia", "max")
    }
    assert seen == {"admin": {"!kow01", "!rat01", "!unl01"}, "mia": {"!kow01"}, "max": {"!rat01"}}


def test_exports_are_cut_to_the_scope(practice: Practice) -> None:
    mia = practice.client("mia")
    response = mia.post("/api/v1/exports/findings.csv", json={})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["portal_org_id"] for r in rows} == {"!kow01"}
    assert "Rātā" not in response.text
    assert "!rat01" not in response.text
    assert "Unlinked" not in response.text

    workbook = mia.post("/api/v1/exports/leaver.xlsx", json={"person": "Ben Brennan"})
    assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as book:
        content = "".join(
            book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
        )
    assert "Kōwhai" in content
    assert "Rātā" not in content
    assert "!rat01" not in content
    assert "Unlinked" not in content

    everything = practice.client("admin").post(
        "/api/v1/exports/leaver.xlsx", json={"person": "ben@harbourco.example"}
    )
    with zipfile.ZipFile(io.BytesIO(everything.content)) as book:
        content = "".join(
            book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
        )
    for name in ("Kōwhai", "Rātā", "Unlinked"):
        assert name in content


def test_scan_requests_and_captures_respect_the_scope(practice: Practice) -> None:
    mia = practice.client("mia")
    assert (
        mia.post(
            "/api/v1/scan-requests", json={"portal": "xero", "portal_org_id": "!rat01"}
        ).status_code
        == 404
    )
    assert (
        mia.post(
            "/api/v1/scan-requests", json={"portal": "xero", "portal_org_id": "!unl01"}
        ).status_code
        == 404
    )
    queued = practice.client("max").post(
        "/api/v1/scan-requests", json={"portal": "xero", "portal_org_id": "!rat01"}
    )
    assert queued.status_code == 202
    assert mia.get(f"/api/v1/scan-requests/{queued.json()['id']}").status_code == 404
    capture = {
        "portal": "xero",
        "portal_org_id": "!rat01",
        "org_name": "Rātā Joinery Ltd",
        "users": [],
        "shown_count": 0,
    }
    assert mia.post("/api/v1/captures", json=capture).status_code == 403
    capture["portal_org_id"] = "!new01"
    assert mia.post("/api/v1/captures", json=capture).status_code == 403
    # An org never linked to a client is all-clients business.
    assert practice.client("admin").post("/api/v1/captures", json=capture).status_code == 201


def test_managed_scope_follows_the_client_list(practice: Practice) -> None:
    """ "Manage" is read from the client list on each request: a re-import moves clients."""
    mia = practice.client("mia")
    assert mia.get(RATA).status_code == 404
    with session_scope(practice.runtime.engine) as session:
        rata = session.get(Client, practice.client_ids["rata"])
        assert rata is not None
        rata.client_manager = "MIA  manager"
        session.add(rata)
    assert mia.get(RATA).status_code == 200
    assert practice.client("max").get(RATA).status_code == 404
    assert mia.get("/api/v1/me").json()["client_ids"] == sorted(practice.client_ids.values())


def test_roles_limit_what_a_user_may_change(practice: Practice) -> None:
    eve = practice.client("eve")
    finding = eve.get("/api/v1/findings").json()["items"][0]["id"]
    assert (
        eve.post(
            f"/api/v1/findings/{finding}/review", json={"decision": "acknowledged"}
        ).status_code
        == 403
    )
    files = {"file": ("staff.csv", b"name,emails,status\n", "text/csv")}
    for who in ("mia", "eve"):
        client = practice.client(who)
        assert client.post("/api/v1/imports/staff", files=files).status_code == 403
        assert client.get("/api/v1/users").status_code == 403
        assert (
            client.post(
                "/api/v1/users", json={"name": "X", "role": "employee", "scope": "all"}
            ).status_code
            == 403
        )
        assert client.get("/api/v1/logins").status_code == 403
        assert client.get("/api/v1/audit").status_code == 403
        assert client.post("/api/v1/audit/export", json={}).status_code == 403
        assert client.post("/api/v1/scan-requests", json={"login_id": 1}).status_code == 403
    max_client = practice.client("max")
    own = max_client.get("/api/v1/findings").json()["items"][0]["id"]
    reviewed = max_client.post(
        f"/api/v1/findings/{own}/review",
        json={"decision": "acknowledged", "reason": "calling them"},
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["review_state"] == "acknowledged"


def test_crawl_history_counts_only_scans_in_scope(practice: Practice) -> None:
    with session_scope(practice.runtime.engine) as session:
        crawl = Crawl(trigger="schedule")
        session.add(crawl)
        session.flush()
        for org_id in ("!kow01", "!rat01", "!unl01"):
            org = find_org(session, "xero", org_id)
            assert org is not None
            ref = OrgRef(Portal.XERO, org_id, org.name)
            record_ok_scan(
                session,
                org_id=org.id,
                started_at=utcnow(),
                crawl_id=crawl.id,
                result=OrgUsers(ref, (), 0, "none"),
            )
    counts = {
        who: practice.client(who).get("/api/v1/crawls").json()["items"][0]["scans_ok"]
        for who in ("admin", "mia", "eve")
    }
    assert counts == {"admin": 3, "mia": 1, "eve": 1}
