"""The diff between two crawls: only orgs both crawls read are compared."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, FailureReason, Portal
from agent.services.crawl_diff import CrawlNotFound, diff_crawls
from agent.services.scans import record_failed_scan, record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Org
from tests.factories import DOMAIN, failed_scan, org


def crawl(session: Session) -> int:
    row = Crawl(trigger="test")
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def scan_in(session: Session, crawl_id: int, target: Org, users: list[tuple[str, str]]) -> None:
    rows = tuple(PortalUser(email=e, name="", role=r, status=AccessStatus.ACTIVE) for e, r in users)
    ref = OrgRef(Portal(target.portal), target.portal_org_id, target.name)
    record_ok_scan(
        session,
        org_id=target.id,
        started_at=utcnow(),
        crawl_id=crawl_id,
        result=OrgUsers(ref, rows, len(rows), "test"),
    )


def test_new_gone_and_role_changes_between_two_crawls(engine: Engine) -> None:
    with session_scope(engine) as session:
        first, second = crawl(session), crawl(session)
        a, b, c = org(session, "!a", "Alpha"), org(session, "!b", "Beta"), org(session, "!c")
        scan_in(
            session, first, a, [("x@kowhai.example", "STANDARD"), ("y@kowhai.example", "STANDARD")]
        )
        scan_in(session, first, b, [("z@kowhai.example", "STANDARD")])
        scan_in(session, first, c, [("z@kowhai.example", "STANDARD")])
        scan_in(
            session, second, a, [("X@kowhai.example", "READONLY"), ("w@kowhai.example", "STANDARD")]
        )
        record_failed_scan(
            session,
            org_id=b.id,
            reason=FailureReason.TIMEOUT,
            detail="slow",
            started_at=utcnow(),
            crawl_id=second,
        )
        failed_scan(session, c)  # outside any crawl
    with session_scope(engine) as session:
        result = diff_crawls(session, first, second, configured_domains=[DOMAIN])
    assert result.orgs_compared == 1
    assert {(ch.identity, ch.kind, ch.role_before, ch.role_after) for ch in result.changes} == {
        ("x@kowhai.example", "role_changed", "STANDARD", "READONLY"),
        ("y@kowhai.example", "gone", "STANDARD", None),
        ("w@kowhai.example", "new", None, "STANDARD"),
    }
    reasons = {n.portal_org_id: n.reason for n in result.not_compared}
    assert reasons == {
        "!b": f"crawl {second} could not read it (timeout)",
        "!c": f"crawl {second} did not scan it",
    }


def test_an_unknown_crawl_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(CrawlNotFound):
        diff_crawls(session, 1, 2)
