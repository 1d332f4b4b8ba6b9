"""Removal end to end: plan, four eyes, run through the sandbox portals, verify by re-scan.

A leaver has access to ten client orgs across the three portals; the agent's login
may remove them from six. The plan proposes six removals and four requests to
clients; the run removes the six through the portals' own pages, re-reads each org,
and only that re-read verifies them. With faults on (5xx, some after the removal was
carried out), nothing is removed twice and all six are still verified.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, select

from agent.crawl.removal import RemovalRun, RemovalRunReport
from agent.domain import RemovalAction, RemovalState, ReviewState
from agent.reports.statement import statement_email, statement_html
from agent.runtime import Runtime
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.services.removals.statements import build_statement, find_client
from agent.storage.db import session_scope
from agent.storage.models import ClientRequest, Finding, RemovalItem
from sandbox.portals.common import update_settings
from sandbox.scenarios import leaver_scenario
from tests.browser_loop import BrowserLoop
from tests.removal.harness import Practice, practice
from tests.webhook import webhook_sink

pytestmark = [pytest.mark.browser, pytest.mark.database]


def _plan_and_approve(p: Practice) -> int:
    assert p.proposer is not None
    assert p.approver is not None
    with session_scope(p.runtime.engine) as session:
        plan = plan_removals(session, p.proposer, PlanRequest(person=p.scenario.leaver.emails[0]))
        plan_id = plan.id
        assert plan_id is not None
        items = list(session.exec(select(RemovalItem).where(RemovalItem.plan_id == plan_id)))
        actions = Counter(i.action for i in items)
        assert actions == {RemovalAction.REMOVE: 6, RemovalAction.ASK_CLIENT: 4}
        assert {i.state for i in items} == {RemovalState.PLANNED}
    with session_scope(p.runtime.engine) as session:
        approval = approve_plan(session, p.approver, plan_id, settings=p.runtime.settings)
    assert len(approval.approved) == 6
    assert len(approval.requested) == 4
    return plan_id


def _run(p: Practice, browser_loop: BrowserLoop, plan_id: int) -> RemovalRunReport:
    run = RemovalRun(p.runtime.engine, p.runtime.box, settings=p.runtime.settings, concurrency=3)
    return browser_loop.run(lambda browser: run.run(plan_id, browser=browser), timeout=600)


def _check_closed(p: Practice, plan_id: int) -> None:
    leaver = p.scenario.leaver.emails[0]
    practice_ids = {o.org_id for o in p.scenario.practice_orgs}
    client_ids = {o.org_id for o in p.scenario.client_orgs}
    # the portals: gone from the six, still in the four; each removed exactly once
    assert p.still_in(leaver) == client_ids, _items_said(p, plan_id)
    removed = [r for portal in ("xero", "qbo", "myob") for r in p.removals(portal)]
    assert len(removed) == 6
    assert {org for org, _ in removed} == practice_ids
    # and nothing was asked twice: a lost answer was followed by a read, not a repeat
    assert set(p.removal_requests().values()) == {1}
    with session_scope(p.runtime.engine) as session:
        items = list(session.exec(select(RemovalItem).where(RemovalItem.plan_id == plan_id)))
        states = Counter(i.state for i in items)
        assert states == {RemovalState.VERIFIED: 6, RemovalState.REQUESTED: 4}
        for item in items:
            if item.state == RemovalState.VERIFIED:
                assert item.verified_scan_id is not None
                finding = session.get(Finding, item.finding_id)
                assert finding is not None
                assert finding.resolved_at is not None
                assert finding.review_state == ReviewState.VERIFIED_REMOVED
        requests = list(session.exec(select(ClientRequest)))
        assert len(requests) == 4
        assert all(r.seen_removed_at is None for r in requests)
        assert {r.why_client for r in requests} <= {
            "agent lacks Manage users",
            "agent is not a company admin",
            "owner-added advisor",
        }


def _items_said(p: Practice, plan_id: int) -> str:
    with session_scope(p.runtime.engine) as session:
        items = session.exec(select(RemovalItem).where(RemovalItem.plan_id == plan_id)).all()
        return "; ".join(f"#{i.id} {i.state} {i.attempts} tries: {i.detail}" for i in items)


def test_a_leaver_in_ten_orgs_six_removed_and_verified_four_asked_of_clients(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with (
        practice(runtime, browser_loop, leaver_scenario(21), tmp_path) as p,
        webhook_sink() as (
            received,
            url,
        ),
    ):
        plan_id = _plan_and_approve(p)
        p.runtime.settings.alert_webhook_url = url
        report = _run(p, browser_loop, plan_id)
        assert report.claimed == 6
        assert report.requests_sent == 6
        _check_closed(p, plan_id)
        # the client managers heard of the six verified removals, once each
        events = [e for doc in received for e in doc.get("removals", [])]
        assert sorted(e["event"] for e in events) == ["verified"] * 6
        # four statements, each asking its client to remove the leaver
        leaver = p.scenario.leaver
        for org in p.scenario.client_orgs:
            assert org.client_id is not None
            with session_scope(runtime.engine) as session:
                statement = build_statement(session, find_client(session, org.client_id))
            asked = [r for o in statement.orgs for r in o.requests]
            assert [r.email for r in asked] == [leaver.emails[0]]
            html = statement_html(statement)
            assert leaver.name in html
            path = tmp_path / f"{org.client_id}.eml"
            path.write_bytes(
                bytes(statement_email(statement, html, sender="practice@harbourco.example"))
            )
            assert statement.contact_email in path.read_text(encoding="utf-8")
        # a second run finds nothing to do and touches no portal
        again = _run(p, browser_loop, plan_id)
        assert again.claimed == 0
        assert len([r for portal in ("xero", "qbo", "myob") for r in p.removals(portal)]) == 6


@pytest.mark.long
def test_faults_after_the_removal_never_make_it_twice_and_all_six_are_verified(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with practice(runtime, browser_loop, leaver_scenario(22), tmp_path) as p:
        plan_id = _plan_and_approve(p)
        for app in p.apps.values():
            update_settings(app, error_rate=0.1, seed=5)
        _run(p, browser_loop, plan_id)
        # an item the faults outlasted is run again, as a person would
        for _ in range(3):
            with session_scope(runtime.engine) as session:
                failed = session.exec(
                    select(RemovalItem).where(
                        RemovalItem.plan_id == plan_id, RemovalItem.state == RemovalState.FAILED
                    )
                ).all()
            if not failed:
                break
            _run(p, browser_loop, plan_id)
        for app in p.apps.values():
            update_settings(app, error_rate=0.0)
        _check_closed(p, plan_id)


def test_two_runs_of_one_plan_at_once_remove_each_user_once(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with practice(runtime, browser_loop, leaver_scenario(23), tmp_path) as p:
        plan_id = _plan_and_approve(p)

        async def both(browser: object) -> list[RemovalRunReport]:
            runs = [
                RemovalRun(runtime.engine, runtime.box, settings=runtime.settings) for _ in range(2)
            ]
            return list(
                await asyncio.gather(*(r.run(plan_id, browser=browser) for r in runs))  # type: ignore[arg-type]
            )

        reports = browser_loop.run(both, timeout=600)
        assert sum(r.claimed for r in reports) == 6
        _check_closed(p, plan_id)


def test_a_run_that_crashed_after_sending_resumes_without_removing_again(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with practice(runtime, browser_loop, leaver_scenario(24), tmp_path) as p:
        plan_id = _plan_and_approve(p)
        _run(p, browser_loop, plan_id)
        # what a crash right after the portal carried a removal out leaves behind:
        # the item still held by a run, an attempt counted, the answer never recorded
        with session_scope(runtime.engine) as session:
            item = session.exec(
                select(RemovalItem)
                .where(RemovalItem.plan_id == plan_id, RemovalItem.state == RemovalState.VERIFIED)
                .order_by(col(RemovalItem.id))
            ).first()
            assert item is not None
            item.state = RemovalState.RUNNING
            item.claim_token = "crashed"
            item.verified_at = None
            item.verified_scan_id = None
            session.add(item)
        resumed = RemovalRun(
            runtime.engine,
            runtime.box,
            settings=runtime.settings.model_copy(update={"removal_claim_lease_s": 0}),
        )
        report = browser_loop.run(lambda b: resumed.run(plan_id, browser=b), timeout=300)
        assert report.claimed == 1
        assert report.requests_sent == 0
        _check_closed(p, plan_id)


def test_a_page_without_its_csrf_token_is_refused_by_the_portal_and_the_item_fails_so(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with practice(runtime, browser_loop, leaver_scenario(25), tmp_path) as p:
        plan_id = _plan_and_approve(p)
        for app in p.apps.values():
            update_settings(app, csrf_in_pages=False)
        report = _run(p, browser_loop, plan_id)
        assert report.claimed == 6
        assert p.still_in(p.scenario.leaver.emails[0]) == {
            o.org_id
            for o in p.scenario.world.orgs
            if o in p.scenario.practice_orgs or o in p.scenario.client_orgs
        }
        with session_scope(runtime.engine) as session:
            items = session.exec(
                select(RemovalItem).where(
                    RemovalItem.plan_id == plan_id, RemovalItem.action == RemovalAction.REMOVE
                )
            ).all()
            assert {i.state for i in items} == {RemovalState.FAILED}
            assert all("csrf" in i.detail for i in items)
        # once the pages carry their token again, running the plan again finishes it
        for app in p.apps.values():
            update_settings(app, csrf_in_pages=True)
        _run(p, browser_loop, plan_id)
        _check_closed(p, plan_id)


@pytest.mark.long
def test_a_session_that_expires_mid_run_signs_in_again_with_a_fresh_code(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    with practice(runtime, browser_loop, leaver_scenario(26), tmp_path) as p:
        plan_id = _plan_and_approve(p)
        for app in p.apps.values():
            update_settings(app, session_expiry_requests=12)
        report = _run(p, browser_loop, plan_id)
        assert report.sign_ins >= 1
        _check_closed(p, plan_id)
