"""The org status the extension's badge reads."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from agent.domain import FailureReason
from agent.findings import reconcile
from agent.runtime import Runtime
from agent.storage.db import session_scope
from server.app import create_app
from tests.factories import DOMAIN, add_client, add_staff, failed_scan, ok_scan, org


def test_org_status_counts_people_and_flags(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ben Brennan", "ben@harbourco.example", status="left",
                  left_on=date(2026, 3, 3))
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!abc12"))
        ok_scan(session, org(session, "!abc12"), [("ben@harbourco.example", "FINANCIALADVISER"),
                                                  ("owner@kowhai.example", "STANDARD")])
        org(session, "!never", "Listed, never scanned")
        failed_scan(session, org(session, "!fail1", "Failing"), FailureReason.NO_PERMISSION)
        reconcile(session, configured_domains=[DOMAIN])
    client = TestClient(create_app(runtime))

    body = client.get("/api/v1/orgs/xero/!abc12/status").json()
    assert body["client"] == "Kōwhai Bakery"
    assert body["client_manager"] == "Mia Manager"
    assert body["open_problems"] == 1
    assert body["worst_severity"] == "critical"
    assert body["counts_by_class"] == {"leaver_access": 1, "client_user": 1}
    assert body["people"][0]["detail"] == (
        "Ben Brennan left on 2026-03-03 and still has Adviser access")
    assert body["last_scan_status"] == "ok"
    assert body["stale"] is False

    never = client.get("/api/v1/orgs/xero/!never/status").json()
    assert never["last_ok_scan_at"] is None
    assert never["people"] == []

    failing = client.get("/api/v1/orgs/xero/!fail1/status").json()
    assert (failing["last_scan_status"], failing["last_scan_reason"]) == ("failed",
                                                                          "no_permission")

    assert client.get("/api/v1/orgs/xero/!nope1/status").status_code == 404
    assert client.get("/api/v1/orgs/sage/!abc12/status").status_code == 422
    assert client.get("/api/v1/health").json()["status"] == "ok"
