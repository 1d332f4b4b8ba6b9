"""The audit log is append-only by the database's own rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from agent.security.audit import list_events, record
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent


def _one_event(engine: Engine) -> int:
    with session_scope(engine) as session:
        event = record(
            session,
            actor="Ada Admin (user #1)",
            action="export.findings_csv",
            detail={"rows": 3, "sha256": "ab" * 32},
        )
        session.flush()
        assert event.id is not None
        return event.id


def test_events_can_be_added_and_read(engine: Engine) -> None:
    first = _one_event(engine)
    second = _one_event(engine)
    with Session(engine) as session:
        page = list_events(session, action="export")
        assert [e.id for e in page.events] == [second, first]
        assert page.total == 2
        assert list_events(session, action="export.findings_csv").total == 2
        assert list_events(session, action="expo").total == 0
        assert list_events(session, actor="someone else").total == 0


REFUSED = (
    "UPDATE audit_event SET actor = 'nobody'",
    "UPDATE audit_event SET detail = '{}' WHERE id = :id",
    "DELETE FROM audit_event WHERE id = :id",
    "DELETE FROM audit_event",
)


def test_the_database_refuses_to_change_or_delete_an_event(engine: Engine) -> None:
    event_id = _one_event(engine)
    statements = REFUSED + (
        ("TRUNCATE audit_event",) if engine.dialect.name == "postgresql" else ()
    )
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement), {"id": event_id})
    with Session(engine) as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        assert event.actor == "Ada Admin (user #1)"
        assert event.detail["rows"] == 3


def test_the_orm_cannot_rewrite_history_either(engine: Engine) -> None:
    event_id = _one_event(engine)
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.id == event_id)).one()
        event.actor = "someone else"
        session.add(event)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
        session.rollback()
        session.delete(session.get(AuditEvent, event_id))
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
