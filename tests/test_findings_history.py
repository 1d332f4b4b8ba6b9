"""Findings keep their history: first and last seen, resolved only by a later ok scan.

Also the review state the history drives: a class change reopens, a later ok scan
verifies a requested removal, an accepted risk reopens after its expiry; and an org
goes stale when its last ok scan is old.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.services.finding_lists import stale_orgs, stale_since
from agent.services.findings import reconcile
from agent.services.review import accept_risk, acknowledge, history, request_removal
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding, Scan
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
        first = ok_scan(
            session, target, [(ANNA, "FINANCIALADVISER"), ("owner@kowhai.example", "STANDARD")]
        )
    _reconcile(engine)
    found = _findings(engine)
    assert {k: f.finding_class for k, f in found.items()} == {
        ANNA: "managed",
        "owner@kowhai.example": "client_user",
    }
    assert found[ANNA].first_scan_id == first.scan_id
    assert found[ANNA].resolved_at is None

    _reconcile(engine)  # applying the same scan again changes nothing
    again = _findings(engine)
    assert {k: (f.last_scan_id, f.resolved_at) for k, f in again.items()} == {
        k: (f.last_scan_id, f.resolved_at) for k, f in found.items()
    }

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


def _scan(engine: Engine, org_id: str, users: list[tuple[str, str]]) -> int:
    with session_scope(engine) as session:
        return ok_scan(session, org(session, org_id), users).scan_id


def test_scans_between_two_runs_are_applied_in_order(engine: Engine) -> None:
    """Seen, gone and back between two runs: resolved at the first scan without it, then
    a new episode from the scan that shows it again."""
    owner, temp = "owner@kowhai.example", "temp@kowhai.example"
    _scan(engine, "!abc12", [(owner, "STANDARD"), (temp, "STANDARD")])
    _reconcile(engine)
    without = _scan(engine, "!abc12", [(owner, "STANDARD")])
    with session_scope(engine) as session:
        failed_scan(session, org(session, "!abc12"))
    back = _scan(engine, "!abc12", [(owner, "STANDARD"), (temp, "READONLY")])
    gone_again = _scan(engine, "!abc12", [(temp, "READONLY")])
    _reconcile(engine)
    with Session(engine) as session:
        times = {s.id: s.finished_at for s in session.exec(select(Scan))}
    found = _findings(engine)
    assert found[temp].first_scan_id == back
    assert found[temp].resolved_at is None
    assert found[temp].role == "READONLY"
    assert found[owner].resolved_at == times[gone_again]
    assert found[owner].last_scan_id == back
    assert times[without] < times[back]


def test_reconciling_one_org_after_its_rescan_equals_a_full_run(engine: Engine) -> None:
    with session_scope(engine) as session:
        anna = add_staff(session, "Anna Ashby", ANNA)
        add_staff(session, "Ben Brennan", "ben@harbourco.example", status="left")
        add_client(session, "Kōwhai", "Mia", ("xero", "!k1"))
        add_client(session, "Old Mill", "Mia", ("xero", "!k2"), archived=True)
        grant(session, anna, "xero", "!k1", "Adviser")
        grant(session, anna, "xero", "!k2", "Adviser")
        for org_id in ("!k1", "!k2", "!k3"):
            ok_scan(
                session,
                org(session, org_id),
                [(ANNA, "FINANCIALADVISER"), ("owner@kowhai.example", "STANDARD")],
            )
    _reconcile(engine)
    with session_scope(engine) as session:
        target = org(session, "!k2")
        ok_scan(
            session,
            target,
            [("ben@harbourco.example", "STANDARD"), ("owner@kowhai.example", "READONLY")],
        )
        target_id = target.id
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN], org_ids=[target_id])
    incremental = _snapshot(engine)
    _reconcile(engine)
    assert _snapshot(engine) == incremental
    classes = {(k[0], k[1]): v[0] for k, v in incremental.items() if v[4] is None}
    assert classes[(target_id, "ben@harbourco.example")] == "leaver_access"
    assert classes[(target_id, ANNA)] == "missing_expected"


def _snapshot(engine: Engine) -> dict[tuple[int, str], tuple]:
    with Session(engine) as session:
        return {
            (f.org_id, f.identity): (
                f.finding_class,
                f.role,
                f.first_scan_id,
                f.last_scan_id,
                f.resolved_at,
                f.review_state,
                f.detail,
                f.removable_by,
            )
            for f in session.exec(select(Finding))
        }


def test_an_org_goes_stale_when_its_last_ok_scan_is_old(engine: Engine) -> None:
    _scan(engine, "!abc12", [("owner@kowhai.example", "STANDARD")])
    with session_scope(engine) as session:
        target = org(session, "!abc12")
        failed_scan(session, target)  # a failed scan does not freshen anything
        never = org(session, "!never")
        last_ok = session.exec(select(Scan).where(Scan.status == "ok")).one().finished_at
        soon = last_ok + timedelta(hours=71)
        later = last_ok + timedelta(hours=73)
        assert stale_since(session, target.id, stale_after_hours=72, now=soon) is None
        assert stale_since(session, target.id, stale_after_hours=72, now=later) == last_ok
        stale = stale_orgs(session, stale_after_hours=72, now=later)
    assert [(s.org_id, s.last_ok_scan_at) for s in stale] == [
        (target.id, last_ok),
        (never.id, None),
    ]


def test_removal_is_verified_only_by_a_later_ok_scan(engine: Engine) -> None:
    _scan(engine, "!abc12", [("ben@harbourco.example", "STANDARD")])
    with session_scope(engine) as session:
        add_staff(session, "Ben Brennan", "ben@harbourco.example", status="left")
    _reconcile(engine)
    ben = _findings(engine)["ben@harbourco.example"]
    assert ben.finding_class == "leaver_access"
    with session_scope(engine) as session:
        request_removal(session, ben.id, actor="mia", reason="asked the client")
    with session_scope(engine) as session:
        failed_scan(session, org(session, "!abc12"))
    _reconcile(engine)
    assert _findings(engine)["ben@harbourco.example"].review_state == "removal_requested"
    _scan(engine, "!abc12", [("owner@kowhai.example", "STANDARD")])
    _reconcile(engine)
    ben = _findings(engine)["ben@harbourco.example"]
    assert ben.review_state == "verified_removed"
    assert ben.resolved_at is not None
    with Session(engine) as session:
        steps = [(e.actor, e.to_state) for e in history(session, ben.id)]
    assert steps == [("mia", "removal_requested"), ("system", "verified_removed")]


def test_a_class_change_reopens_a_reviewed_finding(engine: Engine) -> None:
    with session_scope(engine) as session:
        anna = add_staff(session, "Anna Ashby", ANNA)
        add_client(session, "Kōwhai", "Mia", ("xero", "!abc12"))
    _scan(engine, "!abc12", [(ANNA, "FINANCIALADVISER")])
    _reconcile(engine)
    finding = _findings(engine)[ANNA]
    assert finding.finding_class == "invited_direct"
    with session_scope(engine) as session:
        acknowledge(session, finding.id, actor="mia")
    with session_scope(engine) as session:
        grant(session, anna, "xero", "!abc12", "Standard")
    _reconcile(engine)  # the same scan, a new grant: now it is role drift
    finding = _findings(engine)[ANNA]
    assert (finding.finding_class, finding.review_state) == ("role_drift", "open")
    with Session(engine) as session:
        last = history(session, finding.id)[-1]
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "finding.reviewed")
        ).all()
    assert (last.actor, last.from_state, last.to_state) == ("system", "acknowledged", "open")
    assert "invited_direct to role_drift" in last.reason
    assert len(audit) == 2


def test_an_accepted_risk_reopens_after_its_expiry(engine: Engine) -> None:
    _scan(engine, "!abc12", [("temp@harbourco.example", "STANDARD")])
    _reconcile(engine)
    temp = _findings(engine)["temp@harbourco.example"]
    with session_scope(engine) as session:
        accept_risk(
            session,
            temp.id,
            actor="mia",
            reason="contractor until June",
            expires_on=date(2026, 6, 30),
            today=date(2026, 6, 1),
        )
    with session_scope(engine) as session:
        summary = reconcile(session, configured_domains=[DOMAIN], today=date(2026, 6, 30))
    assert summary.reopened == 0
    assert _findings(engine)["temp@harbourco.example"].review_state == "accepted_risk"
    with session_scope(engine) as session:
        summary = reconcile(session, configured_domains=[DOMAIN], today=date(2026, 7, 1))
    assert summary.reopened == 1
    assert _findings(engine)["temp@harbourco.example"].review_state == "open"
