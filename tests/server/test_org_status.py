"""The org status the extension's badge reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FailureReason
from agent.runtime import Runtime
from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.services.status import OrgStatus, org_status
from agent.storage.db import session_scope
from agent.storage.models import Org, Scan
from server.badge import NotVisible, Unauthenticated, badge_lookup
from server.config import ServerSettings
from tests.factories import DOMAIN, add_client, add_staff, failed_scan, ok_scan, org
from tests.server.conftest import api_client, build_practice, token_for


def test_org_status_counts_people_and_flags(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        add_staff(
            session, "Ben Brennan", "ben@harbourco.example", status="left", left_on=date(2026, 3, 3)
        )
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!abc12"))
        ok_scan(
            session,
            org(session, "!abc12"),
            [("ben@harbourco.example", "FINANCIALADVISER"), ("owner@kowhai.example", "STANDARD")],
        )
        org(session, "!never", "Listed, never scanned")
        failed_scan(session, org(session, "!fail1", "Failing"), FailureReason.NO_PERMISSION)
        reconcile(session, configured_domains=[DOMAIN])
        user = add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
    client = api_client(runtime, token_for(runtime, user.id))

    body = client.get("/api/v1/orgs/xero/!abc12/status").json()
    assert body["client"] == "Kōwhai Bakery"
    assert body["client_manager"] == "Mia Manager"
    assert body["open_problems"] == 1
    assert body["unreviewed_problems"] == 1
    assert body["worst_severity"] == "critical"
    assert body["counts_by_class"] == {"leaver_access": 1, "client_user": 1}
    assert body["counts_by_review_state"] == {"open": 1}
    assert body["people_count"] == 2
    assert body["people"][0]["detail"] == (
        "Ben Brennan left on 2026-03-03 and still has Adviser access"
    )
    assert body["people"][0]["review_state"] == "open"
    # no agent login in the org: only the client can remove Ben, and the answer says why
    assert (body["people"][0]["removable_by"], body["people"][0]["removable_reason"]) == (
        "client",
        "agent's login not in this org",
    )
    assert body["people"][0]["removable_reason_words"] == (
        "accessrecon's login is not a user of this org"
    )
    assert body["last_scan_status"] == "ok"
    assert (body["stale"], body["never_scanned"], body["last_scan_failed"]) == (False, False, False)

    slim = client.get("/api/v1/orgs/xero/!abc12/status", params={"include_people": "false"})
    assert slim.json()["people"] == []
    assert slim.json()["open_problems"] == 1

    never = client.get("/api/v1/orgs/xero/!never/status").json()
    assert never["last_ok_scan_at"] is None
    assert never["never_scanned"] is True
    assert never["people"] == []

    failing = client.get("/api/v1/orgs/xero/!fail1/status").json()
    assert (failing["last_scan_status"], failing["last_scan_reason"]) == ("failed", "no_permission")
    assert failing["last_scan_failed"] is True

    assert client.get("/api/v1/orgs/xero/!nope1/status").status_code == 404
    assert client.get("/api/v1/orgs/sage/!abc12/status").status_code == 422
    assert client.get("/api/v1/health").json()["status"] == "ok"


def _summary(status: OrgStatus) -> dict[str, object]:
    """The status without its times, which differ from run to run."""
    return {
        "name": status.name,
        "client": status.client,
        "client_manager": status.client_manager,
        "client_archived": status.client_archived,
        "scanned_ok": status.last_ok_scan_at is not None,
        "scanned": status.last_scan_at is not None,
        "last_scan": (status.last_scan_status, status.last_scan_reason),
        "flags": (status.stale, status.never_scanned, status.last_scan_failed),
        "worst_severity": status.worst_severity,
        "counts": (
            status.open_problems,
            status.unreviewed_problems,
            status.people_count,
            status.pending_count,
        ),
        "by_class": status.counts_by_class,
        "by_severity": status.counts_by_severity,
        "by_review_state": status.counts_by_review_state,
        "people": [(p.email, p.finding_class, p.severity, p.review_state) for p in status.people],
    }


BEN = (f"ben@{DOMAIN}", "leaver_access", "critical", "open")
KINDS_OF_ORG: dict[str, dict[str, object]] = {
    "!kow01": {  # linked, ok scan: a leaver, staff with no grant, a client user
        "name": "Kōwhai Bakery Ltd",
        "client": "Kōwhai Bakery",
        "client_manager": "Mia Manager",
        "client_archived": False,
        "scanned_ok": True,
        "scanned": True,
        "last_scan": ("ok", None),
        "flags": (False, False, False),
        "worst_severity": "critical",
        "counts": (2, 2, 3, 0),
        "by_class": {"leaver_access": 1, "invited_direct": 1, "client_user": 1},
        "by_severity": {"critical": 1, "high": 1, "info": 1},
        "by_review_state": {"open": 2},
        "people": [
            BEN,
            (f"ana@{DOMAIN}", "invited_direct", "high", "open"),
            ("owner@kowhai.example", "client_user", "info", "open"),
        ],
    },
    "!rat01": {  # linked to another manager's client
        "name": "Rātā Joinery Ltd",
        "client": "Rātā Joinery",
        "client_manager": "max  manager",
        "client_archived": False,
        "scanned_ok": True,
        "scanned": True,
        "last_scan": ("ok", None),
        "flags": (False, False, False),
        "worst_severity": "critical",
        "counts": (1, 1, 2, 0),
        "by_class": {"leaver_access": 1, "client_user": 1},
        "by_severity": {"critical": 1, "info": 1},
        "by_review_state": {"open": 1},
        "people": [BEN, ("boss@rata.example", "client_user", "info", "open")],
    },
    "!unl01": {  # linked to no client
        "name": "Unlinked Holdings",
        "client": None,
        "client_manager": None,
        "client_archived": False,
        "scanned_ok": True,
        "scanned": True,
        "last_scan": ("ok", None),
        "flags": (False, False, False),
        "worst_severity": "critical",
        "counts": (1, 1, 1, 0),
        "by_class": {"leaver_access": 1},
        "by_severity": {"critical": 1},
        "by_review_state": {"open": 1},
        "people": [BEN],
    },
    "!never": {  # listed, never scanned
        "name": "Listed, never scanned",
        "client": None,
        "client_manager": None,
        "client_archived": False,
        "scanned_ok": False,
        "scanned": False,
        "last_scan": (None, None),
        "flags": (False, True, False),
        "worst_severity": None,
        "counts": (0, 0, 0, 0),
        "by_class": {},
        "by_severity": {},
        "by_review_state": {},
        "people": [],
    },
    "!fail1": {  # only a failed scan
        "name": "Failing",
        "client": None,
        "client_manager": None,
        "client_archived": False,
        "scanned_ok": False,
        "scanned": True,
        "last_scan": ("failed", "timeout"),
        "flags": (False, True, True),
        "worst_severity": None,
        "counts": (0, 0, 0, 0),
        "by_class": {},
        "by_severity": {},
        "by_review_state": {},
        "people": [],
    },
    "!stale": {  # an old ok scan, then a failed one
        "name": "Stale",
        "client": None,
        "client_manager": None,
        "client_archived": False,
        "scanned_ok": True,
        "scanned": True,
        "last_scan": ("failed", "rate_limited"),
        "flags": (True, False, True),
        "worst_severity": None,
        "counts": (0, 0, 0, 0),
        "by_class": {},
        "by_severity": {},
        "by_review_state": {},
        "people": [],
    },
}


def test_the_badge_answers_every_kind_of_org(runtime: Runtime) -> None:
    """The badge's connection and a page's session read one builder, with every count."""
    practice = build_practice(runtime)
    with session_scope(runtime.engine) as session:
        org(session, "!never", "Listed, never scanned")
        failed_scan(session, org(session, "!fail1", "Failing"), FailureReason.TIMEOUT)
        target = org(session, "!stale", "Stale")
        ok_scan(session, target, [("someone@else.example", "STANDARD")])
        failed_scan(session, target, FailureReason.RATE_LIMITED)
        stale = session.exec(
            select(Scan).where(Scan.org_id == target.id, Scan.status == "ok")
        ).one()
        # Scans are append-only; moving one back in time needs raw SQL.
        session.connection().execute(
            update(Scan)
            .where(col(Scan.id) == stale.id)
            .values(finished_at=utcnow() - timedelta(days=30))
        )
    admin = practice.tokens["admin"]
    for org_id, expected in KINDS_OF_ORG.items():
        found = badge_lookup(
            runtime.engine, admin, "xero", org_id, stale_after=timedelta(hours=72)
        ).status
        assert (found.portal, found.portal_org_id) == ("xero", org_id)
        assert _summary(found) == expected, org_id
        with Session(runtime.engine) as session:
            assert org_status(session, "xero", org_id, stale_after=timedelta(hours=72)) == found, (
                org_id
            )
    with Session(runtime.engine) as session:
        assert org_status(session, "xero", "!nope1", stale_after=timedelta(hours=72)) is None
    with pytest.raises(NotVisible):
        badge_lookup(
            runtime.engine,
            practice.tokens["mia"],
            "xero",
            "!rat01",
            stale_after=timedelta(hours=72),
        )
    with pytest.raises(NotVisible):
        badge_lookup(runtime.engine, admin, "xero", "!nope1", stale_after=timedelta(hours=72))
    with pytest.raises(Unauthenticated):
        badge_lookup(runtime.engine, "art_nope", "xero", "!kow01", stale_after=timedelta(hours=72))


def test_a_badge_answer_costs_three_statements(runtime: Runtime) -> None:
    """The caller, the org with its scans, its findings: bench/api measures this path."""
    practice = build_practice(runtime)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        badge_lookup(
            runtime.engine,
            practice.tokens["admin"],
            "xero",
            "!kow01",
            stale_after=timedelta(hours=72),
        )
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert len(statements) == 3, statements


def test_the_badge_cache_never_skips_the_token_or_the_scope(runtime: Runtime) -> None:
    practice = build_practice(runtime)
    client = api_client(
        runtime, practice.tokens["admin"], server_settings=ServerSettings(badge_cache_seconds=60)
    )
    path = "/api/v1/orgs/xero/!kow01/status"
    assert client.get(path).json()["counts_by_class"]["leaver_access"] == 1
    # Another process resolves Ben's access (the worker's crawl): the cached answer
    # stands until it expires...
    with session_scope(runtime.engine) as session:
        ok_scan(
            session,
            session.exec(select(Org).where(Org.portal_org_id == "!kow01")).one(),
            [("owner@kowhai.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])
    assert client.get(path).json()["counts_by_class"]["leaver_access"] == 1
    # ...but who may read it is checked on every request.
    mia_token, max_token = practice.tokens["mia"], practice.tokens["max"]
    assert client.get(path, headers={"Authorization": f"Bearer {max_token}"}).status_code == 404
    assert client.get(path, headers={"Authorization": f"Bearer {mia_token}"}).status_code == 200
    mia_token_id = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {mia_token}"}
    ).json()["token_id"]
    assert client.request("DELETE", f"/api/v1/tokens/{mia_token_id}", json={}).status_code == 200
    assert client.get(path, headers={"Authorization": f"Bearer {mia_token}"}).status_code == 401
    # A change made through this server (here: that revocation) empties the cache.
    assert client.get(path).json()["counts_by_class"].get("leaver_access") is None
