"""Identity decisions: confirmed addresses become aliases that survive roster imports;
rejected staff are not proposed again; both apply to every later run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal
from agent.imports import ImportKind, run_import
from agent.services.findings import reconcile
from agent.services.identities import DecisionError, candidates_of, confirm_match, reject_match
from agent.services.scans import record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding, Staff, StaffEmail
from tests.factories import DOMAIN, org

ROSTER = """name,emails,status,left_on,practice_role
Anna Ashby,anna.ashby@harbourco.example,active,,manager
Sam Patel,sam.patel@harbourco.example,active,,employee
Sam Patel,sam.patel2@harbourco.example,on leave,,employee
"""
ANNA_HOME, SAM_HOME = "anna.home@gmail.example", "sam@home.example"


def scan(engine: Engine, users: list[tuple[str, str]]) -> None:
    with session_scope(engine) as session:
        target = org(session, "!abc12")
        rows = tuple(
            PortalUser(email=e, name=n, role="STANDARD", status=AccessStatus.ACTIVE)
            for e, n in users
        )
        ref = OrgRef(Portal.XERO, "!abc12", target.name)
        record_ok_scan(
            session,
            org_id=target.id,
            started_at=utcnow(),
            result=OrgUsers(ref, rows, len(rows), "test"),
        )
        reconcile(session, configured_domains=[DOMAIN])


def findings(engine: Engine) -> dict[str, Finding]:
    with Session(engine) as session:
        return {f.identity: f for f in session.exec(select(Finding))}


def staff_ids(engine: Engine, name: str) -> list[int]:
    with Session(engine) as session:
        return sorted(s.id for s in session.exec(select(Staff).where(Staff.name == name)))


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Path:
    roster = tmp_path / "staff.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run_import(engine, ImportKind.STAFF, roster, practice_domains=[DOMAIN])
    scan(engine, [(ANNA_HOME, "Ashby, Anna"), (SAM_HOME, "Sam Patel")])
    return roster


def test_names_alone_give_probable_matches_with_their_candidates(
    engine: Engine, world: Path
) -> None:
    found = findings(engine)
    assert found[ANNA_HOME].finding_class == "probable_match"
    assert found[SAM_HOME].finding_class == "probable_match"
    with Session(engine) as session:
        assert [c.staff_name for c in candidates_of(session, found[ANNA_HOME].id)] == ["Anna Ashby"]
        assert sorted(c.staff_id for c in candidates_of(session, found[SAM_HOME].id)) == staff_ids(
            engine, "Sam Patel"
        )


def test_a_confirmed_match_is_an_alias_that_survives_the_next_roster_import(
    engine: Engine, world: Path
) -> None:
    with session_scope(engine) as session:
        result = confirm_match(
            session,
            finding_id=findings(engine)[ANNA_HOME].id,
            actor="mia",
            practice_domains=[DOMAIN],
            note="her gmail",
        )
        reconcile(session, configured_domains=[DOMAIN], org_ids=result.org_ids)
    anna = findings(engine)[ANNA_HOME]
    assert (anna.finding_class, anna.staff_id) == ("invited_direct", result.staff_id)
    with Session(engine) as session:
        assert candidates_of(session, anna.id) == []

    run_import(engine, ImportKind.STAFF, world, practice_domains=[DOMAIN])
    scan(engine, [(ANNA_HOME.upper(), "Anna A."), (SAM_HOME, "Sam Patel")])
    assert findings(engine)[ANNA_HOME].finding_class == "invited_direct"
    with Session(engine) as session:
        assert ANNA_HOME not in set(session.exec(select(StaffEmail.email)))
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "identity.confirmed")
        ).all()
    assert [(e.actor, e.detail["identity"]) for e in events] == [("mia", ANNA_HOME)]


def test_same_name_staff_are_never_linked_without_saying_which(engine: Engine, world: Path) -> None:
    sam = findings(engine)[SAM_HOME]
    first, second = staff_ids(engine, "Sam Patel")
    with session_scope(engine) as session, pytest.raises(DecisionError, match="2 candidates"):
        confirm_match(session, finding_id=sam.id, actor="mia", practice_domains=[DOMAIN])
    with session_scope(engine) as session:
        reject_match(
            session, finding_id=sam.id, staff_id=first, actor="mia", practice_domains=[DOMAIN]
        )
        reconcile(session, configured_domains=[DOMAIN])
    with Session(engine) as session:
        assert [c.staff_id for c in candidates_of(session, sam.id)] == [second]
    with session_scope(engine) as session:
        reject_match(session, finding_id=sam.id, actor="mia", practice_domains=[DOMAIN])
        reconcile(session, configured_domains=[DOMAIN])
    assert findings(engine)[SAM_HOME].finding_class == "client_user"
    scan(engine, [(SAM_HOME, "Sam Patel")])  # remembered on later scans too
    assert findings(engine)[SAM_HOME].finding_class == "client_user"


def test_a_confirmation_can_be_replaced_by_another(engine: Engine, world: Path) -> None:
    sam = findings(engine)[SAM_HOME]
    first, second = staff_ids(engine, "Sam Patel")
    with session_scope(engine) as session:
        confirm_match(
            session, finding_id=sam.id, staff_id=first, actor="mia", practice_domains=[DOMAIN]
        )
        confirm_match(
            session, finding_id=sam.id, staff_id=second, actor="pat", practice_domains=[DOMAIN]
        )
        reconcile(session, configured_domains=[DOMAIN])
    assert findings(engine)[SAM_HOME].staff_id == second


def test_practice_and_roster_addresses_cannot_be_confirmed(engine: Engine, world: Path) -> None:
    (anna,) = staff_ids(engine, "Anna Ashby")
    with session_scope(engine) as session:
        with pytest.raises(DecisionError, match="practice address"):
            confirm_match(
                session,
                email="a.ashby@harbourco.example",
                staff_id=anna,
                actor="mia",
                practice_domains=[DOMAIN],
            )
        with pytest.raises(DecisionError, match="already on the roster"):
            confirm_match(
                session,
                email="Sam.Patel@harbourco.example ",
                staff_id=anna,
                actor="mia",
                practice_domains=["other.example"],
            )
        with pytest.raises(DecisionError, match="no staff member"):
            confirm_match(session, email=ANNA_HOME, staff_id=999_999, actor="mia")
