"""Review state changes by people: allowed moves, required reasons, and the record kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.services.findings import reconcile
from agent.services.review import (
    ReviewError,
    accept_risk,
    acknowledge,
    history,
    reopen,
    request_removal,
    review_queue,
)
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding
from tests.factories import DOMAIN, add_staff, ok_scan, org

TODAY = date(2026, 11, 1)


@pytest.fixture
def findings(engine: Engine) -> dict[str, int]:
    """A leaver's access and a client user on one org, reconciled."""
    with session_scope(engine) as session:
        add_staff(session, "Ben Brennan", "ben@harbourco.example", status="left")
        ok_scan(
            session,
            org(session, "!abc12"),
            [("ben@harbourco.example", "STANDARD"), ("owner@kowhai.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])
    with Session(engine) as session:
        return {f.identity: f.id for f in session.exec(select(Finding))}


def state(engine: Engine, finding_id: int) -> str:
    with Session(engine) as session:
        return session.get(Finding, finding_id).review_state


def test_a_finding_moves_through_review_and_every_move_is_recorded(
    engine: Engine, findings: dict[str, int]
) -> None:
    ben = findings["ben@harbourco.example"]
    with session_scope(engine) as session:
        acknowledge(session, ben, actor="mia", reason="calling the client")
        accept_risk(
            session,
            ben,
            actor="pat",
            reason="client keeps him for the audit",
            expires_on=date(2026, 12, 31),
            today=TODAY,
        )
        request_removal(session, ben, actor="mia", reason="audit done")
        reopen(session, ben, actor="mia", reason="client did not remove him")
    with Session(engine) as session:
        steps = [(e.actor, e.from_state, e.to_state, e.expires_on) for e in history(session, ben)]
        audit = [
            e.detail
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == "finding.reviewed"))
        ]
    assert steps == [
        ("mia", "open", "acknowledged", None),
        ("pat", "acknowledged", "accepted_risk", date(2026, 12, 31)),
        ("mia", "accepted_risk", "removal_requested", None),
        ("mia", "removal_requested", "open", None),
    ]
    assert [(d["from"], d["to"]) for d in audit] == [(s[1], s[2]) for s in steps]
    assert audit[1]["expires_on"] == "2026-12-31"
    assert state(engine, ben) == "open"


@pytest.mark.parametrize(
    ("reason", "expires_on", "message"),
    [
        ("", date(2026, 12, 1), "needs a reason"),
        ("fine", TODAY, "must be in the future"),
        ("fine", date(2026, 10, 1), "must be in the future"),
    ],
)
def test_accepting_a_risk_needs_a_reason_and_a_future_expiry(
    engine: Engine, findings: dict[str, int], reason: str, expires_on: date, message: str
) -> None:
    with session_scope(engine) as session, pytest.raises(ReviewError, match=message):
        accept_risk(
            session,
            findings["ben@harbourco.example"],
            actor="mia",
            reason=reason,
            expires_on=expires_on,
            today=TODAY,
        )
    assert state(engine, findings["ben@harbourco.example"]) == "open"


def test_refused_moves(engine: Engine, findings: dict[str, int]) -> None:
    ben = findings["ben@harbourco.example"]
    with session_scope(engine) as session:
        with pytest.raises(ReviewError, match="needs no action"):
            acknowledge(session, findings["owner@kowhai.example"], actor="mia")
        with pytest.raises(ReviewError, match="no finding"):
            acknowledge(session, 999_999, actor="mia")
        with pytest.raises(ReviewError, match="cannot be moved"):
            reopen(session, ben, actor="mia")
        with pytest.raises(ReviewError, match="actor"):
            acknowledge(session, ben, actor=" ")
        acknowledge(session, ben, actor="mia")
        with pytest.raises(ReviewError, match="cannot be moved"):
            acknowledge(session, ben, actor="mia")


def test_a_resolved_finding_cannot_be_reviewed(engine: Engine, findings: dict[str, int]) -> None:
    with session_scope(engine) as session:
        ok_scan(session, org(session, "!abc12"), [("owner@kowhai.example", "STANDARD")])
        reconcile(session, configured_domains=[DOMAIN])
    with session_scope(engine) as session, pytest.raises(ReviewError, match="resolved"):
        acknowledge(session, findings["ben@harbourco.example"], actor="mia")


def test_the_review_queue_lists_problems_with_their_state_and_expiry(
    engine: Engine, findings: dict[str, int]
) -> None:
    ben = findings["ben@harbourco.example"]
    with session_scope(engine) as session:
        accept_risk(
            session, ben, actor="pat", reason="audit", expires_on=date(2026, 12, 31), today=TODAY
        )
    with Session(engine) as session:
        queue = review_queue(session)
        everything = review_queue(session, include_ok=True)
        accepted = review_queue(session, states=["accepted_risk"])
        opened = review_queue(session, states=["open"])
    assert [(i.finding_id, i.review_state, i.risk_expires_on) for i in queue] == [
        (ben, "accepted_risk", date(2026, 12, 31))
    ]
    assert [i.finding_class for i in everything] == ["leaver_access", "client_user"]
    assert [i.finding_id for i in accepted] == [ben]
    assert opened == []
