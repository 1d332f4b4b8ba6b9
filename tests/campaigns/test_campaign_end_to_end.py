"""A quarter's access review over a sandbox world: three or more managers, each deciding
their own clients; the leaver's removals approved, carried out through the portals and
verified by a re-scan; the campaign closes by itself."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from agent.clock import utcnow
from agent.crawl.pipeline import crawl_and_settle
from agent.crawl.removal import RemovalRun
from agent.domain import CampaignDecision, RemovalState
from agent.runtime import Runtime
from agent.security.users import add_user, principal_of
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.progress import campaign_progress
from agent.services.campaigns.start import CampaignError, start_campaign
from agent.services.campaigns.views import review_list
from agent.services.removals.approval import approve_plan
from agent.storage.db import session_scope
from agent.storage.models import Campaign, CampaignItem, Client, RemovalItem
from sandbox.scenarios import leaver_scenario
from tests.browser_loop import BrowserLoop
from tests.removal.harness import practice

pytestmark = pytest.mark.database


def test_each_manager_reviews_their_clients_and_the_leavers_removals_close_the_campaign(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    scenario = leaver_scenario(21, orgs=6, practice_removable=4, staff=15)
    leaver = scenario.leaver.emails[0].lower()
    with practice(runtime, browser_loop, scenario, tmp_path) as p:
        assert p.proposer is not None
        assert p.approver is not None
        managers = sorted({c.client_manager for c in scenario.world.clients if c.client_manager})
        assert len(managers) >= 3, managers
        with session_scope(runtime.engine) as session:
            for name in managers:
                add_user(session, name=name, role="manager", scope="managed", actor="test")
            started = start_campaign(
                session, p.proposer, "Q1 2027", due_on=utcnow().date() + timedelta(days=30)
            )
            campaign_id = started.campaign.id
            assert campaign_id is not None
            assert started.items > 0
        plans: list[int] = []
        seen_reviewers: set[str] = set()
        for name in managers:
            with session_scope(runtime.engine) as session:
                who = principal_of(session, name)
                mine = review_list(session, who, campaign_id)
                # a manager sees only their own clients' access
                for row in mine.rows:
                    client = session.exec(
                        select(Client).where(Client.external_id == row.client_external_id)
                    ).one()
                    assert client.client_manager == name
                others = session.exec(
                    select(CampaignItem).where(
                        CampaignItem.campaign_id == campaign_id, CampaignItem.reviewer != name
                    )
                ).first()
                assert others is not None
                assert others.id is not None
                with pytest.raises(CampaignError, match="to decide, not"):
                    select_items(session, who, campaign_id, item_ids=[others.id])
                if not mine.rows:
                    continue
                seen_reviewers.add(name)
                leavers = [r.item_id for r in mine.rows if r.email.lower() == leaver]
                kept = [r.item_id for r in mine.rows if r.email.lower() != leaver]
                if leavers:
                    done = decide(
                        session,
                        who,
                        campaign_id,
                        select_items(session, who, campaign_id, item_ids=leavers),
                        Decision(CampaignDecision.REMOVE),
                    )
                    assert done.plan_id is not None
                    plans.append(done.plan_id)
                if kept:
                    decide(
                        session,
                        who,
                        campaign_id,
                        select_items(session, who, campaign_id, item_ids=kept),
                        Decision(CampaignDecision.KEEP, "works on this client"),
                    )
        assert len(seen_reviewers) >= 3
        with session_scope(runtime.engine) as session:  # the admins' items: unlinked orgs
            admin = p.proposer
            rest = [r.item_id for r in review_list(session, admin, campaign_id).rows]
            if rest:
                decide(
                    session,
                    admin,
                    campaign_id,
                    select_items(session, admin, campaign_id, item_ids=rest),
                    Decision(CampaignDecision.KEEP, "practice's own org"),
                )
            assert campaign_progress(session, campaign_id).decided == started.items
        assert plans
        for plan_id in plans:  # a second person approves, as for any plan
            with session_scope(runtime.engine) as session:
                approve_plan(session, p.approver, plan_id, settings=runtime.settings)
            run = RemovalRun(runtime.engine, runtime.box, settings=runtime.settings, concurrency=3)
            browser_loop.run(
                lambda browser, run=run, plan_id=plan_id: run.run(plan_id, browser=browser),
                timeout=600,
            )
        # the re-scan verifies what was removed and closes the campaign
        browser_loop.run(
            lambda browser: crawl_and_settle(runtime, browser=browser, concurrency=3), timeout=300
        )
        with session_scope(runtime.engine) as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            removals = session.exec(
                select(RemovalItem).where(col(RemovalItem.plan_id).in_(plans))
            ).all()
            assert Counter(r.state for r in removals) == {
                RemovalState.VERIFIED: len(scenario.practice_orgs),
                RemovalState.REQUESTED: len(scenario.client_orgs),
            }
            removed = session.exec(
                select(CampaignItem).where(
                    CampaignItem.campaign_id == campaign_id,
                    CampaignItem.decision == CampaignDecision.REMOVE,
                    col(CampaignItem.confirmed_gone_at).is_not(None),
                )
            ).all()
            assert len(removed) == len(scenario.practice_orgs)
            assert campaign.closed_at is not None
        assert p.still_in(leaver) == {o.org_id for o in scenario.client_orgs}
