"""Verification: only an ok agent scan after the removal, no longer showing it, verifies it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal, RemovalAction, RemovalState
from agent.services.removals.verification import verify_removals
from agent.services.scans import record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, RemovalItem, RemovalPlan

pytestmark = pytest.mark.database

LEAVER = "lee@harbourco.example"


def _scan(engine: Engine, emails: list[str], *, started_ago_s: float) -> int:
    with session_scope(engine) as session:
        ref = OrgRef(Portal.XERO, "!VVVVV", "Verified Ltd")
        org = upsert_org(session, ref, login_id=None)
        users = tuple(PortalUser(e, e, "STANDARD", AccessStatus.ACTIVE) for e in emails)
        outcome = record_ok_scan(
            session,
            org_id=org.id,
            started_at=utcnow() - timedelta(seconds=started_ago_s),
            result=OrgUsers(ref, users, len(users), "JSON total"),
        )
        return outcome.org_id


def _removed_item(engine: Engine, org_id: int) -> int:
    with session_scope(engine) as session:
        plan = RemovalPlan(proposed_by="test")
        session.add(plan)
        session.flush()
        assert plan.id is not None
        item = RemovalItem(
            plan_id=plan.id,
            org_id=org_id,
            identity=LEAVER,
            email=LEAVER,
            action=RemovalAction.REMOVE,
            state=RemovalState.REMOVED,
            removed_at=utcnow() - timedelta(seconds=30),
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def _state(engine: Engine, item_id: int) -> str:
    with session_scope(engine) as session:
        item = session.get(RemovalItem, item_id)
        assert item is not None
        return item.state


def test_a_scan_from_before_the_removal_proves_nothing(engine: Engine) -> None:
    org_id = _scan(engine, [LEAVER], started_ago_s=3600)
    item_id = _removed_item(engine, org_id)
    with session_scope(engine) as session:
        result = verify_removals(session)
    assert result.items == []
    assert result.still_listed == []
    assert _state(engine, item_id) == RemovalState.REMOVED


def test_a_later_scan_still_listing_the_user_fails_the_item(engine: Engine) -> None:
    org_id = _scan(engine, ["owner@verified.example"], started_ago_s=3600)
    item_id = _removed_item(engine, org_id)
    _scan(engine, [LEAVER, "owner@verified.example"], started_ago_s=1)
    with session_scope(engine) as session:
        result = verify_removals(session, org_ids=[org_id])
    assert result.still_listed == [item_id]
    assert _state(engine, item_id) == RemovalState.FAILED


def test_a_later_scan_without_the_user_verifies_the_item_and_says_so(engine: Engine) -> None:
    org_id = _scan(engine, [LEAVER], started_ago_s=3600)
    item_id = _removed_item(engine, org_id)
    _scan(engine, ["owner@verified.example"], started_ago_s=1)
    with session_scope(engine) as session:
        result = verify_removals(session, org_ids=[org_id])
        actions = [e.action for e in session.exec(select(AuditEvent))]
    assert result.items == [item_id]
    assert _state(engine, item_id) == RemovalState.VERIFIED
    assert "removal.verified" in actions
