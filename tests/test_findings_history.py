"""Findings keep their history: first and last seen, resolved only by a later ok scan."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.findings import reconcile
from agent.storage.db import session_scope
from agent.storage.models import Finding
from tests.factories import DOMAIN, add_client, add_staff, failed_scan, grant, ok_scan, org

ANNA = "anna.ashby@harbourco.example"


def _findings(engine: Engine) -> dict[str, Finding]:
    with Session(engine) as session:
        return {f.identity: f for f in session.exec(select(Finding))}


def _reconcile(engine: Engine) -> None:
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN])


def test_finding_lifecycle_across_scans(engine: Engine) -> None:
    with session_scope(engine) as session:
        anna = add_staff(session, "Anna Ashby", ANNA)
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!abc12"))
        grant(session, anna, "xero", "!abc12", "Adviser")
        target = org(session, "!abc12")
        first = ok_scan(session, target, [(ANNA, "FINANCIALADVISER"),
                                          ("owner@kowhai.example", "STANDARD")])
    _reconcile(engine)
    found = _findings(engine)
    assert {k: f.finding_class for k, f in found.items()} == {
        ANNA: "managed", "owner@kowhai.example": "client_user"}
    assert found[ANNA].first_scan_id == first.scan_id
    assert found[ANNA].resolved_at is None

    _reconcile(engine)  # applying the same scan again changes nothing
    again = _findings(engine)
    assert {k: (f.last_scan_id, f.resolved_at) for k, f in again.items()} == {
        k: (f.last_scan_id, f.resolved_at) for k, f in found.items()}

    with session_scope(engine) as session:
        failed_scan(session, org(session, "!abc12"))
    _reconcile(engine)  # a failed scan resolves nothing
    assert all(f.resolved_at is None for f in _findings(engine).values())

    with session_scope(engine) as session:
        later = ok_scan(session, org(session, "!abc12"), [(ANNA, "FINANCIALADVISER")])
    _reconcile(engine)
    after = _findings(engine)
    assert after["owner@kowhai.example"].resolved_at is not None
    assert after[ANNA].last_scan_id == later.scan_id
    assert after[ANNA].first_scan_id == first.scan_id
    assert after[ANNA].first_seen_at <= after[ANNA].last_seen_at


def test_an_org_with_only_failed_scans_gets_no_findings(engine: Engine) -> None:
    with session_scope(engine) as session:
        failed_scan(session, org(session, "!fail1"))
    with session_scope(engine) as session:
        summary = reconcile(session, configured_domains=[DOMAIN])
    assert summary.orgs_without_ok_scan == 1
    assert _findings(engine) == {}
