"""Backups restore whole, across databases and schema versions; retention is audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session, SQLModel

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal, ScanSource
from agent.services.backup import BackupError, restore_backup, write_backup
from agent.services.findings import reconcile
from agent.services.retention import purge_observations
from agent.services.scans import record_capture
from agent.storage.db import alembic_config, make_engine, session_scope, upgrade_to_head
from agent.storage.models import AuditEvent, Observation, Scan
from tests.conftest import DATABASES, fresh_database
from tests.factories import DOMAIN, add_client, add_staff, agent_login, grant, ok_scan, org


def _populate(engine: Engine) -> None:
    with session_scope(engine) as session:
        agent_login(session)
        anna = add_staff(session, "Anna Ashby", "anna@harbourco.example", "anna@mail.example")
        add_client(session, "Kōwhai = Bakery", "Mia Manager", ("xero", "!abc12"))
        grant(session, anna, "xero", "!abc12", "Adviser")
        ok_scan(
            session,
            org(session, "!abc12"),
            [("anna@harbourco.example", "FINANCIALADVISER"), ("owner@kowhai.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])


def _dump(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            t.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(t)))
            for t in SQLModel.metadata.sorted_tables
        }


@pytest.mark.parametrize("target_kind", DATABASES)
def test_backup_restores_every_row_into_a_new_database(
    engine: Engine, tmp_path: Path, target_kind: str
) -> None:
    _populate(engine)
    summary = write_backup(engine, tmp_path / "backup.zip")
    assert summary.rows["observation"] == 2
    with fresh_database(target_kind, tmp_path) as url:
        target = make_engine(url)
        restored = restore_backup(target, tmp_path / "backup.zip")
        assert restored.rows == summary.rows
        assert _dump(target) == _dump(engine)
        with session_scope(target) as session:  # the restored database keeps working
            ok_scan(session, org(session, "!new01"), [("x@y.example", "STANDARD")])
        target.dispose()


def test_restore_refuses_a_database_that_has_data(engine: Engine, tmp_path: Path) -> None:
    _populate(engine)
    write_backup(engine, tmp_path / "backup.zip")
    before = _dump(engine)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(engine, tmp_path / "backup.zip")
    assert _dump(engine) == before
    (tmp_path / "junk.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with pytest.raises(BackupError, match="not an accessrecon backup"):
        restore_backup(engine, tmp_path / "junk.zip")


def _first_release(url: str) -> Engine:
    """A database as the first release made it, with a little data in it."""
    old = make_engine(url)
    command.upgrade(alembic_config(old), "0001")
    with old.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff (id, name, status, practice_role) "
                "VALUES (1, 'Anna Ashby', 'left', 'employee')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO staff_email (id, staff_id, email, is_primary) "
                "VALUES (1, 1, 'anna@harbourco.example', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO org (id, portal, portal_org_id, name, first_seen_at, last_listed_at) "
                "VALUES (1, 'xero', '!abc12', 'Kōwhai', '2026-01-02 03:04:05+00:00', "
                "'2026-01-02 03:04:05+00:00')"
            )
        )
    return old


def test_a_first_release_database_upgrades_to_head_keeping_its_data(database_url: str) -> None:
    old = _first_release(database_url)
    upgrade_to_head(old)
    assert set(SQLModel.metadata.tables) <= set(inspect(old).get_table_names())
    with Session(old) as session:
        assert session.execute(text("SELECT name, status FROM staff")).all() == [
            ("Anna Ashby", "left")
        ]
        assert session.execute(text("SELECT portal_org_id FROM org")).scalar() == "!abc12"
    old.dispose()


def test_a_first_release_backup_restores_into_the_newest_schema(
    database_url: str, tmp_path: Path
) -> None:
    old = _first_release(database_url)
    write_backup(old, tmp_path / "old.zip")
    with fresh_database("sqlite", tmp_path) as url:
        target = make_engine(url)
        restore_backup(target, tmp_path / "old.zip")
        with Session(target) as session:
            assert (
                session.execute(text("SELECT email FROM staff_email")).scalar()
                == "anna@harbourco.example"
            )
        assert set(SQLModel.metadata.tables) <= set(inspect(target).get_table_names())
        target.dispose()
    old.dispose()


def test_retention_keeps_evidence_findings_need_and_is_audited(engine: Engine) -> None:
    scan_ids = []
    with session_scope(engine) as session:
        agent_login(session)
    for _ in range(3):
        with session_scope(engine) as session:
            outcome = ok_scan(session, org(session, "!abc12"), [("a@client.example", "STANDARD")])
            scan_ids.append(outcome.scan_id)
            reconcile(session, configured_domains=[DOMAIN])
    first, middle, latest = scan_ids
    with session_scope(engine) as session:
        dry = purge_observations(session, before=utcnow(), actor="admin", dry_run=True)
    with session_scope(engine) as session:
        purge = purge_observations(session, before=utcnow(), actor="admin")
    assert (dry.scans, dry.observations) == (purge.scans, purge.observations) == (1, 1)
    with Session(engine) as session:
        left = {o.scan_id for o in session.exec(select(Observation)).scalars()}
        scans = session.exec(select(Scan)).scalars().all()
        audit = [
            e for e in session.exec(select(AuditEvent)).scalars() if e.action == "retention.purge"
        ]
    # The finding's first and last seen scans, and the org's latest ok scan, keep theirs.
    assert left == {first, latest}
    assert middle not in left
    assert len(scans) == 3, "scan rows stay as evidence"
    assert len(audit) == 1, "a dry run writes nothing"
    assert audit[0].detail == {"before": audit[0].detail["before"], "scans": 1, "observations": 1}
    assert audit[0].actor == "admin"
    with session_scope(engine) as session, pytest.raises(ValueError, match="future"):
        purge_observations(session, before=utcnow() + timedelta(days=1), actor="admin")


def test_retention_keeps_the_agent_scan_that_captures_are_applied_on(engine: Engine) -> None:
    """A passive capture is read on top of the org's latest agent scan: that one stays whole."""
    agent_scans = []
    with session_scope(engine) as session:
        agent_login(session)
    for _ in range(3):
        with session_scope(engine) as session:
            outcome = ok_scan(session, org(session, "!abc12"), [("a@client.example", "STANDARD")])
            agent_scans.append(outcome.scan_id)
            reconcile(session, configured_domains=[DOMAIN])
    with session_scope(engine) as session:
        target = org(session, "!abc12")
        rows = (
            PortalUser(
                email="a@client.example", name="a", role="STANDARD", status=AccessStatus.ACTIVE
            ),
        )
        captured = record_capture(
            session,
            org_id=target.id,
            started_at=utcnow(),
            source=ScanSource.EXTENSION,
            result=OrgUsers(OrgRef(Portal.XERO, "!abc12", target.name), rows, 1, "page: 1"),
        )
        reconcile(session, configured_domains=[DOMAIN])
    with session_scope(engine) as session:
        purge_observations(session, before=utcnow(), actor="admin")
    with Session(engine) as session:
        left = {o.scan_id for o in session.exec(select(Observation)).scalars()}
    first, middle, latest_agent = agent_scans
    assert left == {first, latest_agent, captured.scan_id}
    assert middle not in left
