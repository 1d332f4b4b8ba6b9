"""Recording captures: a sudden drop to no one is held as suspect, not applied."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.domain import ScanStatus
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from agent.storage.models import Finding
from tests.factories import DOMAIN, agent_login, capture, org

ROBOT = ("accessrecon.xero@harbourco.example", "FINANCIALADVISER")
OWNER = ("owner@kowhai.example", "STANDARD")
CLERK = ("clerk@kowhai.example", "READONLY")


def _open(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN])
    with Session(engine) as session:
        return {f.identity for f in session.exec(select(Finding)) if f.resolved_at is None}


def test_drop_to_viewer_only_is_suspect_until_seen_twice(engine: Engine) -> None:
    with session_scope(engine) as session:
        agent_login(session)
        first = capture(session, org(session, "!abc12"), [ROBOT, OWNER, CLERK])
    assert first.status is ScanStatus.OK
    assert _open(engine) == {OWNER[0], CLERK[0]}

    with session_scope(engine) as session:
        drop = capture(session, org(session, "!abc12"), [ROBOT])
    assert drop.status is ScanStatus.SUSPECT
    assert _open(engine) == {OWNER[0], CLERK[0]}, "a suspect scan must not resolve findings"

    with session_scope(engine) as session:
        again = capture(session, org(session, "!abc12"), [ROBOT])
    assert again.status is ScanStatus.OK
    assert _open(engine) == set()


def test_a_smaller_list_that_is_not_empty_applies_at_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        agent_login(session)
        capture(session, org(session, "!abc12"), [ROBOT, OWNER, CLERK])
        smaller = capture(session, org(session, "!abc12"), [ROBOT, OWNER])
    assert smaller.status is ScanStatus.OK
    assert _open(engine) == {OWNER[0]}


def test_a_first_scan_with_only_the_viewer_is_ok(engine: Engine) -> None:
    with session_scope(engine) as session:
        only = capture(session, org(session, "!new01"), [ROBOT])
    assert only.status is ScanStatus.OK
