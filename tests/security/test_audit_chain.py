"""The audit log's hash chain: recorded events verify; tampering with the triggers
dropped is caught and named; concurrent recorders never fork the chain; the command
line says so in one line; a restored backup still verifies."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from alembic import command
from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from accessrecon.commands.audit import audit_app
from agent.security.audit import record
from agent.security.audit_chain import (
    AuditChainError,
    BreakReason,
    ChainReport,
    event_hash,
    verify_chain,
)
from agent.security.canonical import GENESIS
from agent.services.backup import restore_backup, write_backup
from agent.storage.db import alembic_config, make_engine, session_scope, upgrade_to_head
from agent.storage.models import AuditChainHead, AuditEvent
from tests.conftest import DATABASES, fresh_database
from tests.factories import agent_login

ROOT = Path(__file__).resolve().parents[2]
EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
HEAD = AuditChainHead.__table__  # type: ignore[attr-defined]

TRIGGERS = {
    "sqlite": (
        "DROP TRIGGER audit_event_no_update",
        "DROP TRIGGER audit_event_no_delete",
        "DROP TRIGGER audit_chain_head_no_delete",
    ),
    "postgresql": (
        "DROP TRIGGER audit_event_no_update_or_delete ON audit_event",
        "DROP TRIGGER audit_chain_head_no_delete ON audit_chain_head",
    ),
}


def _record(engine: Engine, count: int, actor: str = "cli:pat") -> None:
    for i in range(count):
        with session_scope(engine) as session:
            record(session, actor=actor, action="test.event", detail={"n": i})


def _some_history(engine: Engine) -> None:
    """Six events, as the product adds them: through record(), in one transaction
    together, and added directly as some services do."""
    _record(engine, 2)
    with session_scope(engine) as session:
        record(session, actor="Mia Manager", action="finding.reviewed", detail={"é": "ā✓"})
        session.add(
            AuditEvent(
                at=datetime(2026, 12, 6, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=13))),
                actor="api:ops",
                action="test.odd_values",
                detail={"f": 0.1, "big": 2**62, "nested": {"b": [1, None, True]}, "t": (1, 2)},
            )
        )
    with session_scope(engine) as session:
        agent_login(session)  # logins.py adds its AuditEvent itself
    _record(engine, 1)


def _verify(engine: Engine) -> ChainReport:
    with engine.connect() as connection:
        return verify_chain(connection)


def _rows(connection: Connection) -> list:
    return list(connection.execute(select(EVENTS).order_by(EVENTS.c.id)))


def _drop_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in TRIGGERS[engine.dialect.name]:
            connection.execute(text(statement))


def test_recorded_events_form_a_chain_anyone_can_check(engine: Engine) -> None:
    _some_history(engine)
    report = _verify(engine)
    assert report.ok, report.broken
    assert (report.events, report.unchained, report.head_seq) == (6, 0, 6)
    with engine.connect() as connection:
        rows = _rows(connection)
        head = connection.execute(select(HEAD)).one()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[3].at == datetime(2026, 12, 5, 20, 30, 1, 123456, tzinfo=UTC)
    assert rows[3].detail["t"] == [1, 2]
    # The documented rule, by hand: SHA-256 of the previous hash, then the canonical
    # JSON of {seq, at, actor, action, detail}.
    previous = GENESIS
    for row in rows:
        content = {
            "seq": row.seq,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "detail": row.detail,
        }
        body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row.prev_hash == previous
        assert row.hash == hashlib.sha256(previous.encode() + body.encode()).hexdigest()
        previous = row.hash
    assert (head.seq, head.hash) == (6, previous)
    assert report.head_hash == previous


def test_the_triggers_still_refuse_changes_after_the_upgrade(engine: Engine) -> None:
    _record(engine, 2)
    for statement in (
        update(EVENTS).where(EVENTS.c.seq == 1).values(actor="someone else"),
        delete(EVENTS).where(EVENTS.c.seq == 2),
        delete(HEAD),
    ):
        with pytest.raises(DBAPIError, match=r"cannot be|append-only"), engine.begin() as c:
            c.execute(statement)
    assert _verify(engine).events == 2


def _swap(connection: Connection, a: int, b: int, columns: tuple[str, ...]) -> None:
    rows = {r.seq: r for r in _rows(connection)}
    if "seq" in columns:  # seq is unique: move one out of the way first
        connection.execute(update(EVENTS).where(EVENTS.c.id == rows[a].id).values(seq=-1))
    for mine, theirs in ((b, a), (a, b)):
        values = {name: getattr(rows[theirs], name) for name in columns}
        connection.execute(update(EVENTS).where(EVENTS.c.id == rows[mine].id).values(values))


def _forge_next(connection: Connection) -> None:
    """A well-chained event appended by hand, without moving the head."""
    last = _rows(connection)[-1]
    at = datetime.now(UTC)
    digest = event_hash(last.hash, seq=6, at=at, actor="x", action="y", detail={})
    connection.execute(
        EVENTS.insert().values(
            at=at, actor="x", action="y", detail={}, seq=6, prev_hash=last.hash, hash=digest
        )
    )


CONTENT = ("at", "actor", "action", "detail")
EDITED = "content edited: its time, actor, action or detail no longer match its hash"
TAMPERING: dict[str, tuple[Callable[[Connection], object], BreakReason, str]] = {
    "detail edited": (
        lambda c: c.execute(update(EVENTS).where(EVENTS.c.seq == 3).values(detail={"n": 99})),
        BreakReason.CONTENT_EDITED,
        f"audit event 3 (seq 3): {EDITED}",
    ),
    "middle row deleted": (
        lambda c: c.execute(delete(EVENTS).where(EVENTS.c.seq == 3)),
        BreakReason.ROW_MISSING,
        "audit event 4 (seq 4): row missing: seq 3 missing after event 2 (seq 2)",
    ),
    "first row deleted": (
        lambda c: c.execute(delete(EVENTS).where(EVENTS.c.seq == 1)),
        BreakReason.ROW_MISSING,
        "audit event 2 (seq 2): row missing: seq 1 missing after the start of the chain",
    ),
    "last row deleted": (
        lambda c: c.execute(delete(EVENTS).where(EVENTS.c.seq == 5)),
        BreakReason.ROW_MISSING,
        "audit event 4 (seq 4): row missing: seq 5 missing after it: "
        "the chain head counts 5 events",
    ),
    "two rows' contents swapped": (
        lambda c: _swap(c, 2, 4, CONTENT),
        BreakReason.CONTENT_EDITED,
        f"audit event 2 (seq 2): {EDITED}",
    ),
    "two whole rows swapped": (
        lambda c: _swap(c, 2, 3, (*CONTENT, "seq", "prev_hash", "hash")),
        BreakReason.ORDER_BROKEN,
        "audit event 2 (seq 3): order broken: it is stored before event 3 (seq 2), "
        "which it follows",
    ),
    "previous hash rewritten": (
        lambda c: c.execute(update(EVENTS).where(EVENTS.c.seq == 4).values(prev_hash="0" * 64)),
        BreakReason.ORDER_BROKEN,
        "audit event 4 (seq 4): order broken: its previous hash is not the hash of event 3 (seq 3)",
    ),
    "head rewritten": (
        lambda c: c.execute(update(HEAD).values(hash="f" * 64)),
        BreakReason.HEAD_MISMATCH,
        "the audit chain: head mismatch: the chain head's hash is not the hash of event seq 5",
    ),
    "head deleted": (
        lambda c: c.execute(delete(HEAD)),
        BreakReason.HEAD_MISMATCH,
        "the audit chain: head mismatch: the chain head row is missing",
    ),
    "event appended past the head": (
        _forge_next,
        BreakReason.HEAD_MISMATCH,
        "audit event 6 (seq 6): head mismatch: it is past the chain head (seq 5): "
        "added without moving the head",
    ),
    "unchained event added": (
        lambda c: c.execute(
            EVENTS.insert().values(at=datetime.now(UTC), actor="x", action="y", detail={})
        ),
        BreakReason.NOT_CHAINED,
        "audit event 6: not chained: it was added after the chain began (event 1) "
        "without joining it",
    ),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_with_the_triggers_dropped_is_caught_and_named(engine: Engine, case: str) -> None:
    _record(engine, 5)
    assert _verify(engine).ok
    _drop_triggers(engine)
    tamper, reason, line = TAMPERING[case]
    with engine.begin() as connection:
        tamper(connection)
    broken = _verify(engine).broken
    assert broken is not None
    assert broken.reason == reason
    assert broken.line() == line


def test_a_missing_head_stops_recording_and_a_bad_detail_changes_nothing(engine: Engine) -> None:
    _record(engine, 2)
    with pytest.raises(ValueError, match="not JSON compliant"), session_scope(engine) as session:
        record(session, actor="x", action="y", detail={"bad": math.nan})
    assert _verify(engine).head_seq == 2
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(delete(HEAD))
    with pytest.raises(AuditChainError, match="head row is missing while 2 events"):
        _record(engine, 1)
    assert _verify(engine).events == 2


def _record_concurrently(engine: Engine, threads: int, each: int) -> None:
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with session_scope(engine) as session:
                    record(session, actor=f"thread:{k}", action="test.event", detail={"i": i})
                    session.flush()  # chained: the head stays locked until the commit
                    time.sleep(0.001 * (i % 3))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []


def test_concurrent_threads_never_chain_onto_the_same_event(engine: Engine) -> None:
    _record_concurrently(engine, threads=4, each=15)
    report = _verify(engine)
    assert report.ok, report.broken
    assert (report.events, report.head_seq) == (60, 60)


RECORDER = """
import sys
from agent.security.audit import record
from agent.storage.db import make_engine, session_scope
engine = make_engine(sys.argv[1])
for i in range(int(sys.argv[3])):
    with session_scope(engine) as session:
        record(session, actor=sys.argv[2], action="test.event", detail={"i": i})
"""


def test_two_processes_recording_at_once_keep_one_chain(engine: Engine, database_url: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RECORDER, database_url, f"process:{k}", "40"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    _record(engine, 20, actor="test")  # and this process as well
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    report = _verify(engine)
    assert report.ok, report.broken
    assert report.events == 100
    with engine.connect() as connection:
        seqs = [r.seq for r in _rows(connection)]
    assert sorted(seqs) == list(range(1, 101))


def test_verify_holds_while_events_are_being_recorded(engine: Engine) -> None:
    _record(engine, 1)
    errors: list[BaseException] = []

    def recording() -> None:
        try:
            _record_concurrently(engine, threads=2, each=20)
        except BaseException as exc:
            errors.append(exc)

    recorder = threading.Thread(target=recording)
    recorder.start()
    reports = []
    while recorder.is_alive():
        reports.append(_verify(engine))
    recorder.join()
    assert errors == []
    assert reports
    assert all(r.ok for r in reports), [r.broken for r in reports if not r.ok]
    assert _verify(engine).events == 41


def test_the_upgrade_keeps_older_events_unchained_and_the_triggers(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0011")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_event (at, actor, action, detail) "
                "VALUES ('2026-01-01 00:00:00.000000', 'a', 'b', '{}')"
            )
        )
    upgrade_to_head(engine)
    _record(engine, 3)
    report = _verify(engine)
    assert report.ok, report.broken
    assert (report.events, report.unchained) == (3, 1)
    command.downgrade(config, "0011")  # and back: the triggers survive both ways
    upgrade_to_head(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event"))
    engine.dispose()


@pytest.mark.parametrize("target_kind", DATABASES)
def test_a_restored_backup_still_verifies_and_goes_on(
    engine: Engine, tmp_path: Path, target_kind: str
) -> None:
    _some_history(engine)
    before = _verify(engine)
    write_backup(engine, tmp_path / "backup.zip")
    with fresh_database(target_kind, tmp_path) as url:
        target = make_engine(url)
        upgrade_to_head(target)  # restore takes a migrated empty database down and up again
        restore_backup(target, tmp_path / "backup.zip")
        assert _verify(target) == before
        _record(target, 1)
        after = _verify(target)
        assert after.ok, after.broken
        assert after.events == before.events + 1
        target.dispose()


# The wiring accessrecon/cli.py uses.
cli = typer.Typer()
cli.add_typer(audit_app, name="audit")


def test_the_command_says_ok_or_names_the_first_broken_event(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    _record(engine, 3)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    head = _verify(engine).head_hash
    assert result.stdout == f"OK: 3 audit events chained, head {head[:16]}\n"
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.seq == 2).values(actor="someone else"))
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "accessrecon: audit event 2 (seq 2): content edited: its time, actor, action or "
        "detail no longer match its hash\n"
    )


def test_the_installed_command_has_audit_verify(engine: Engine, database_url: str) -> None:
    _record(engine, 2)
    result = subprocess.run(
        [sys.executable, "-m", "accessrecon", "audit", "verify"],
        cwd=ROOT,
        env={**os.environ, "ACCESSRECON_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 2 audit events chained, head ")
