"""Intended access with an end date: judged as never granted the day after, the client
manager reminded before it once, and a bad date refused by the import."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal, ScanSource
from agent.imports import ImportRejected, import_access
from agent.services.access_ends import ALERTED, orgs_with_ended_grants
from agent.services.findings import reconcile
from agent.services.scans import record_ok_scan
from agent.services.settle import settle
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding, IntendedAccess, Org, Staff
from tests.factories import DOMAIN, add_client, add_staff, agent_login, ok_scan, org
from tests.mail import smtp_sink
from tests.webhook import webhook_sink

END = date(2027, 3, 31)
ANA = f"ana@{DOMAIN}"
LOU = f"lou@{DOMAIN}"


def _world(engine: Engine) -> tuple[int, int]:
    """Kōwhai (Mia's client): Ana granted and seen, Lou granted and not seen, both until
    ``END``; Tōtara (no end dates) beside it. Returns the two orgs' ids."""
    with session_scope(engine) as session:
        agent_login(session)
        add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        ana = add_staff(session, "Ana Active", ANA)
        lou = add_staff(session, "Lou Low", LOU)
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        add_client(session, "Tōtara Builders", "Mia Manager", ("xero", "!tot01"))
        for person in (ana, lou):
            assert person.id is not None
            session.add(
                IntendedAccess(
                    staff_id=person.id,
                    portal="xero",
                    portal_org_id="!kow01",
                    role="STANDARD",
                    until=END,
                )
            )
        kowhai = org(session, "!kow01", "Kōwhai Bakery")
        totara = org(session, "!tot01", "Tōtara Builders")
        ok_scan(session, kowhai, [(ANA, "STANDARD"), ("owner@kowhai.example", "STANDARD")])
        ok_scan(session, totara, [("owner@totara.example", "STANDARD")])
        reconcile(session, configured_domains=[DOMAIN], today=END - timedelta(days=3))
        assert kowhai.id is not None
        assert totara.id is not None
        return kowhai.id, totara.id


def _open(session: Session, org_id: int) -> dict[str, str]:
    return {
        f.email: f.finding_class
        for f in session.exec(
            select(Finding).where(Finding.org_id == org_id, Finding.resolved_at == None)  # noqa: E711
        )
    }


def test_access_is_not_intended_the_day_after_until_and_is_on_the_day(
    engine: Engine, settings: Settings
) -> None:
    kowhai, totara = _world(engine)
    with session_scope(engine) as session:
        assert _open(session, kowhai) == {
            ANA: "managed",
            LOU: "missing_expected",
            "owner@kowhai.example": "client_user",
        }
        # On the last day the access is still intended: nothing to judge again.
        assert orgs_with_ended_grants(session, today=END) == []
        settle(session, settings, org_ids=[totara], today=END)
        assert _open(session, kowhai)[ANA] == "managed"
        assert _open(session, kowhai)[LOU] == "missing_expected"

    with session_scope(engine) as session:
        # The day after: no scan of Kōwhai arrives, yet a settle of another org judges it.
        assert orgs_with_ended_grants(session, today=END + timedelta(days=1)) == [kowhai]
        settled = settle(session, settings, org_ids=[totara], today=END + timedelta(days=1))
        assert settled.findings.orgs_reconciled == 2
        found = _open(session, kowhai)
        assert found[ANA] == "invited_direct"
        assert LOU not in found, "an ended grant is not missing"
        assert found["owner@kowhai.example"] == "client_user"
        # Judged once: nothing rests on the ended grants any more.
        assert orgs_with_ended_grants(session, today=END + timedelta(days=1)) == []
        assert (
            settle(
                session, settings, org_ids=[], today=END + timedelta(days=2)
            ).findings.orgs_reconciled
            == 0
        )


def test_an_org_last_read_by_a_capture_waits_for_the_agents_scan(
    engine: Engine, settings: Settings
) -> None:
    kowhai, _totara = _world(engine)
    users = (
        PortalUser(ANA, "Ana Active", "STANDARD", AccessStatus.ACTIVE),
        PortalUser("owner@kowhai.example", "Owner", "STANDARD", AccessStatus.ACTIVE),
    )
    with session_scope(engine) as session:
        target = session.get(Org, kowhai)
        assert target is not None
        record_ok_scan(
            session,
            org_id=kowhai,
            started_at=utcnow(),
            source=ScanSource.EXTENSION,
            result=OrgUsers(OrgRef(Portal.XERO, "!kow01", target.name), users, 2, "2"),
        )
        assert orgs_with_ended_grants(session, today=END + timedelta(days=1)) == []
        ok_scan(session, target, [(ANA, "STANDARD"), ("owner@kowhai.example", "STANDARD")])
        assert orgs_with_ended_grants(session, today=END + timedelta(days=1)) == [kowhai]


def _configured(settings: Settings, port: int, url: str) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "alert_webhook_url": url,
            "alert_fallback_email": "admin@harbourco.example",
        }
    )


def test_the_client_manager_is_reminded_once_seven_days_before(
    engine: Engine, settings: Settings
) -> None:
    _kowhai, totara = _world(engine)
    with smtp_sink() as (sink, port), webhook_sink() as (received, url):
        configured = _configured(settings, port, url)
        with session_scope(engine) as session:
            eight = settle(session, configured, org_ids=[totara], today=END - timedelta(days=8))
        assert "access_ends.email" not in eight.alerts.sent
        assert sink.messages == []
        assert received == []

        with session_scope(engine) as session:
            seven = settle(session, configured, org_ids=[totara], today=END - timedelta(days=7))
        assert seven.alerts.failed == []
        assert seven.alerts.sent["access_ends.email"] == 2  # Ana's and Lou's grants
        assert seven.alerts.sent["access_ends.webhook"] == 2
        [(to, content)] = sink.messages
        assert to == [f"mia@{DOMAIN}"]
        mail = message_from_bytes(content, policy=policy.default)
        assert "2 intended accesses ending on your clients" in mail["Subject"]
        body = mail.get_content()
        assert "Ana Active" in body
        assert "Lou Low" in body
        assert "ends 2027-03-31 (in 7 days)" in body
        [hook] = received
        assert hook["client_manager"] == "Mia Manager"
        assert {e["email"] for e in hook["access_ends"]} == {ANA, LOU}
        assert {e["days_left"] for e in hook["access_ends"]} == {7}

        for days in (7, 6, 0):
            with session_scope(engine) as session:
                again = settle(
                    session, configured, org_ids=[totara], today=END - timedelta(days=days)
                )
            assert not any(k.startswith("access_ends") for k in again.alerts.sent)
        assert len(sink.messages) == 1
        assert len(received) == 1

        # A new end date is a new reminder, when it comes due.
        with session_scope(engine) as session:
            lou = session.exec(select(Staff).where(Staff.name == "Lou Low")).one()
            grant = session.exec(
                select(IntendedAccess).where(IntendedAccess.staff_id == lou.id)
            ).one()
            grant.until = END + timedelta(days=30)
            session.add(grant)
        with session_scope(engine) as session:
            later = settle(session, configured, org_ids=[totara], today=END + timedelta(days=23))
        assert later.alerts.sent["access_ends.email"] == 1
        assert (
            "Lou Low"
            in message_from_bytes(sink.messages[-1][1], policy=policy.default).get_content()
        )
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == ALERTED)).all()
    assert len(events) == 6  # three grant ends, each on two channels


def test_a_failed_delivery_is_tried_again(engine: Engine, settings: Settings) -> None:
    _kowhai, totara = _world(engine)
    dead = settings.model_copy(update={"alert_webhook_url": "http://127.0.0.1:9/hook"})
    with session_scope(engine) as session:
        first = settle(session, dead, org_ids=[totara], today=END - timedelta(days=7))
    assert "access_ends.webhook" not in first.alerts.sent
    assert any("access ends of Mia Manager" in f for f in first.alerts.failed)
    with webhook_sink() as (received, url), session_scope(engine) as session:
        live = settings.model_copy(update={"alert_webhook_url": url})
        second = settle(session, live, org_ids=[totara], today=END - timedelta(days=6))
    assert second.alerts.sent["access_ends.webhook"] == 2
    assert len(received) == 1


# -- the import -------------------------------------------------------------------------


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def roster(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        add_staff(session, "Ana Active", ANA)
        add_staff(session, "Lou Low", LOU)
    return engine


def _import(engine: Engine, path: Path, today: date = date(2027, 1, 1)) -> list[str]:
    with session_scope(engine) as session:
        result = import_access(session, path, practice_domains=[DOMAIN], today=today)
    return list(result.warnings)


def _grants(engine: Engine) -> list[IntendedAccess]:
    with Session(engine) as session:
        return list(session.exec(select(IntendedAccess)))


def test_until_is_read_in_every_date_form_and_updates_in_place(
    roster: Engine, tmp_path: Path
) -> None:
    header = ["staff_email", "portal", "org_id", "role", "Access until"]
    rows = [
        [ANA, "xero", "!kow01", "STANDARD", "2027-03-31"],
        [ANA, "xero", "!tot01", "STANDARD", "31/03/2027"],
        [LOU, "xero", "!kow01", "STANDARD", ""],
        [LOU, "xero", "!tot01", "STANDARD", "2026-12-01"],
    ]
    warnings = _import(roster, _write(tmp_path / "access.csv", header, rows))
    with Session(roster) as session:
        names = {s.id: s.name for s in session.exec(select(Staff))}
        got = {
            (names[g.staff_id], g.portal_org_id): g.until
            for g in session.exec(select(IntendedAccess))
        }
    assert got == {
        ("Ana Active", "!kow01"): date(2027, 3, 31),
        ("Ana Active", "!tot01"): date(2027, 3, 31),
        ("Lou Low", "!kow01"): None,
        ("Lou Low", "!tot01"): date(2026, 12, 1),
    }
    assert any("until has already passed on row 5" in w for w in warnings)

    rows[2][4] = "2027-06-30"
    with session_scope(roster) as session:
        result = import_access(
            session,
            _write(tmp_path / "again.csv", header, rows),
            practice_domains=[DOMAIN],
            today=date(2027, 1, 1),
        )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)


def test_a_bad_until_names_row_and_column_and_imports_nothing(
    roster: Engine, tmp_path: Path
) -> None:
    header = ["staff_email", "portal", "org_id", "role", "valid until"]
    rows = [
        [ANA, "xero", "!kow01", "STANDARD", "2027-03-31"],
        [LOU, "xero", "!kow01", "STANDARD", "next March"],
        [LOU, "xero", "!tot01", "STANDARD", "2027-02-30"],
    ]
    with pytest.raises(ImportRejected) as refused:
        _import(roster, _write(tmp_path / "access.csv", header, rows))
    errors = [(e.row, e.column, e.reason) for e in refused.value.errors]
    assert [(row, column) for row, column, _ in errors] == [
        (3, "valid until"),
        (4, "valid until"),
    ]
    assert "'next March' is not a date" in errors[0][2]
    assert "not a real date" in errors[1][2]
    assert _grants(roster) == []


def test_an_unread_end_date_column_is_refused_not_dropped(roster: Engine, tmp_path: Path) -> None:
    header = ["staff_email", "portal", "org_id", "role", "Expiry of access"]
    rows = [[ANA, "xero", "!kow01", "STANDARD", "2027-03-31"]]
    with pytest.raises(ImportRejected) as refused:
        _import(roster, _write(tmp_path / "access.csv", header, rows))
    [error] = refused.value.errors
    assert error.column == "Expiry of access"
    assert "until" in error.reason
    assert _grants(roster) == []
