"""The org status the extension's badge reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FailureReason
from agent.runtime import Runtime
from agent.security.auth import add_user
from agent.services.findings import reconcile
from agent.services.status import org_status
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


def test_the_badge_fast_path_answers_exactly_as_org_status(runtime: Runtime) -> None:
    """server.badge reads with prepared statements; it must say what agent.services.status says."""
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
    for org_id in ("!kow01", "!rat01", "!unl01", "!never", "!fail1", "!stale"):
        with Session(runtime.engine) as session:
            expected = org_status(session, "xero", org_id, stale_after=timedelta(hours=72))
        found = badge_lookup(runtime.engine, admin, "xero", org_id, stale_after=timedelta(hours=72))
        assert found.status == expected, org_id
    stale_status = badge_lookup(
        runtime.engine, admin, "xero", "!stale", stale_after=timedelta(hours=72)
    ).status
    assert stale_status.stale is True
    assert stale_status.last_scan_status == "failed"
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
