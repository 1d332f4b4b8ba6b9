"""Access review campaigns on a small practice: snapshot, who decides what, follow-up, notices.

No portal is involved: scans are recorded through the product's own functions and
reconciled, so each campaign starts from findings as a crawl would leave them. The
clock is injected wherever a date matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.domain import CampaignDecision, FindingClass, ReviewerBasis
from agent.security.principal import Principal
from agent.security.users import add_user, principal_of
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.notices import send_notices
from agent.services.campaigns.progress import campaign_progress, follow_up
from agent.services.campaigns.start import CampaignError, start_campaign
from agent.services.campaigns.views import review_list
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Campaign, CampaignItem, Client, RemovalItem
from tests.campaigns.world import ANA, DUE, LEE, START, TEMP, review_world
from tests.factories import DOMAIN, failed_scan, ok_scan, org
from tests.mail import Sink, smtp_sink

pytestmark = pytest.mark.database


def _as(session: Session, name: str) -> Principal:
    return principal_of(session, name)


@pytest.fixture
def campaign_id(engine: Engine) -> int:
    review_world(engine)
    with session_scope(engine) as session:
        started = start_campaign(
            session, _as(session, "Ada Admin"), "Q1 2027", due_on=DUE, now=START
        )
        assert started.items == 5
        assert started.orgs_never_read == 1
        assert started.campaign.id is not None
        return started.campaign.id


def _items(session: Session, campaign_id: int) -> dict[tuple[str, str], CampaignItem]:
    rows = session.exec(select(CampaignItem).where(CampaignItem.campaign_id == campaign_id))
    return {(i.identity, _org_name(session, i)): i for i in rows}


def _org_name(session: Session, item: CampaignItem) -> str:
    from agent.storage.models import Org

    found = session.get(Org, item.org_id)
    assert found is not None
    return found.portal_org_id


def test_a_campaign_with_no_ok_scan_is_refused_with_one_reason(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
        failed_scan(session, org(session, "!never", "Never Read Ltd"))
    with (
        session_scope(engine) as session,
        pytest.raises(CampaignError, match="no org has an ok scan"),
    ):
        start_campaign(session, _as(session, "Ada Admin"), "Q1 2027", due_on=DUE, now=START)
    with session_scope(engine) as session:
        assert session.exec(select(Campaign)).all() == []


def test_the_snapshot_puts_each_practice_access_in_its_reviewers_list(
    engine: Engine, campaign_id: int
) -> None:
    with session_scope(engine) as session:
        items = _items(session, campaign_id)
        # client users, the agent's login and never-read orgs are not reviewed
        assert set(items) == {
            (LEE, "!mia01"),
            (ANA, "!mia01"),
            (ANA, "!max01"),
            (TEMP, "!max01"),
            (ANA, "!nolnk"),
        }
        assert items[(LEE, "!mia01")].finding_class == FindingClass.LEAVER_ACCESS
        assert items[(LEE, "!mia01")].reviewer == "Mia Manager"
        assert items[(TEMP, "!max01")].reviewer == "Max Manager"
        assert items[(ANA, "!nolnk")].reviewer == ""
        assert items[(ANA, "!nolnk")].reviewer_basis == ReviewerBasis.PRACTICE_ADMIN
        mia = review_list(session, _as(session, "Mia Manager"), campaign_id)
        assert {(r.email, r.portal_org_id) for r in mia.rows} == {(LEE, "!mia01"), (ANA, "!mia01")}
        assert [r.reason_required for r in mia.rows if r.email == LEE] == [True]
        admin = review_list(session, _as(session, "Ada Admin"), campaign_id)
        assert {r.portal_org_id for r in admin.rows} == {"!nolnk"}
        with pytest.raises(PermissionError):
            review_list(session, _as(session, "Mia Manager"), campaign_id, everyone=True)
        with pytest.raises(CampaignError, match="only practice admins"):
            start_campaign(session, _as(session, "Mia Manager"), "Mine", due_on=DUE, now=START)
        with pytest.raises(CampaignError, match="already exists"):
            start_campaign(session, _as(session, "Ada Admin"), "Q1  2027", due_on=DUE, now=START)


def test_a_manager_decides_only_their_own_items_and_keeping_a_leaver_needs_a_reason(
    engine: Engine, campaign_id: int
) -> None:
    with session_scope(engine) as session:
        items = _items(session, campaign_id)
        max_item = items[(TEMP, "!max01")].id
        lee_item = items[(LEE, "!mia01")].id
        assert max_item is not None
        assert lee_item is not None
        mia = _as(session, "Mia Manager")
        with pytest.raises(CampaignError, match="for Max Manager to decide"):
            select_items(session, mia, campaign_id, item_ids=[max_item])
        chosen = select_items(session, mia, campaign_id, item_ids=[lee_item])
        with pytest.raises(CampaignError, match="keeping it needs a reason"):
            decide(session, mia, campaign_id, chosen, Decision(CampaignDecision.KEEP))
        # bulk by client: only Mia's items of her client
        bakery = select_items(session, mia, campaign_id, client="Mia's Bakery")
        assert {i.identity for i in bakery} == {LEE, ANA}
        with pytest.raises(CampaignError, match="nothing in Mia Manager's list"):
            select_items(session, mia, campaign_id, client="Max's Garage")
        # bulk by person: Ana in Mia's list is one item, not her three
        anas = select_items(session, mia, campaign_id, person="Ana Active")
        assert [i.identity for i in anas] == [ANA]
        done = decide(
            session, mia, campaign_id, anas, Decision(CampaignDecision.KEEP, "the client asked")
        )
        assert done.items == [anas[0].id]
    with session_scope(engine) as session:
        item = session.get(CampaignItem, anas[0].id)
        assert item is not None
        assert item.decision == CampaignDecision.KEEP
        assert item.reason == "the client asked"
        assert item.decided_by.startswith("Mia Manager")


def test_remove_becomes_a_plan_item_proposed_by_the_reviewer(
    engine: Engine, campaign_id: int
) -> None:
    with session_scope(engine) as session:
        mia = _as(session, "Mia Manager")
        chosen = select_items(session, mia, campaign_id, person=LEE)
        done = decide(session, mia, campaign_id, chosen, Decision(CampaignDecision.REMOVE))
        assert done.plan_id is not None
        item = session.get(CampaignItem, chosen[0].id)
        assert item is not None
        assert item.removal_item_id is not None
        removal = session.get(RemovalItem, item.removal_item_id)
        assert removal is not None
        assert removal.plan_id == done.plan_id
        assert removal.identity == LEE
        assert removal.state == "planned"  # a second person still approves it
        # deciding again does not plan twice
        again = decide(session, mia, campaign_id, chosen, Decision(CampaignDecision.REMOVE))
        assert again.plan_id is None


def test_not_my_client_goes_up_to_the_partner_then_the_admins(
    engine: Engine, campaign_id: int
) -> None:
    with session_scope(engine) as session:
        max_ = _as(session, "Max Manager")
        chosen = select_items(session, max_, campaign_id, person=TEMP)
        done = decide(session, max_, campaign_id, chosen, Decision(CampaignDecision.NOT_MY_CLIENT))
        assert done.reassigned_to == "Pat Partner"
        item = session.get(CampaignItem, chosen[0].id)
        assert item is not None
        assert (item.reviewer, item.decision) == ("Pat Partner", "")
        with pytest.raises(CampaignError, match="for Pat Partner to decide"):
            select_items(session, max_, campaign_id, item_ids=[chosen[0].id or 0])
        pat = _as(session, "Pat Partner")
        mine = select_items(session, pat, campaign_id, item_ids=[chosen[0].id or 0])
        up = decide(session, pat, campaign_id, mine, Decision(CampaignDecision.NOT_MY_CLIENT))
        assert up.reassigned_to == "the practice admins"
        ada = _as(session, "Ada Admin")
        back = select_items(session, ada, campaign_id, item_ids=[chosen[0].id or 0])
        with pytest.raises(CampaignError, match="no one above the practice admins"):
            decide(session, ada, campaign_id, back, Decision(CampaignDecision.NOT_MY_CLIENT))
        handed = decide(
            session,
            ada,
            campaign_id,
            back,
            Decision(CampaignDecision.NOT_MY_CLIENT, "", "Mia Manager"),
        )
        assert handed.reassigned_to == "Mia Manager"
        with pytest.raises(CampaignError, match="cannot hand the items to 'Nobody'"):
            decide(
                session,
                _as(session, "Mia Manager"),
                campaign_id,
                select_items(session, _as(session, "Mia Manager"), campaign_id, person=TEMP),
                Decision(CampaignDecision.NOT_MY_CLIENT, "", "Nobody"),
            )


def test_already_gone_is_checked_by_the_next_scan(engine: Engine, campaign_id: int) -> None:
    with session_scope(engine) as session:
        max_ = _as(session, "Max Manager")
        chosen = select_items(session, max_, campaign_id, person=TEMP)
        decide(session, max_, campaign_id, chosen, Decision(CampaignDecision.ALREADY_GONE))
        item_id = chosen[0].id
        assert follow_up(session).confirmed == 0  # no scan since the claim
    with session_scope(engine) as session:  # the next scan still shows the access
        ok_scan(
            session, org(session, "!max01", "Max's Garage"), [(ANA, "STANDARD"), (TEMP, "STANDARD")]
        )
        result = follow_up(session)
        assert result.reopened == 1
        item = session.get(CampaignItem, item_id)
        assert item is not None
        assert item.decision == ""
        assert "still shows the access" in item.reason
    with session_scope(engine) as session:
        max_ = _as(session, "Max Manager")
        chosen = select_items(session, max_, campaign_id, person=TEMP)
        decide(session, max_, campaign_id, chosen, Decision(CampaignDecision.ALREADY_GONE))
    with session_scope(engine) as session:  # now it is gone
        ok_scan(session, org(session, "!max01", "Max's Garage"), [(ANA, "STANDARD")])
        assert follow_up(session).confirmed == 1
        item = session.get(CampaignItem, item_id)
        assert item is not None
        assert item.confirmed_gone_at is not None
        assert item.decision == CampaignDecision.ALREADY_GONE


def test_a_campaign_closes_when_every_item_is_settled_and_then_takes_no_decision(
    engine: Engine, campaign_id: int
) -> None:
    with session_scope(engine) as session:
        for name in ("Mia Manager", "Max Manager", "Ada Admin"):
            who = _as(session, name)
            mine = [r.item_id for r in review_list(session, who, campaign_id).rows]
            items = select_items(session, who, campaign_id, item_ids=mine)
            decide(
                session,
                who,
                campaign_id,
                items,
                Decision(CampaignDecision.KEEP, "needed for payroll"),
            )
            if name == "Max Manager":
                assert follow_up(session).closed == []  # the admins' item is still open
        assert follow_up(session).closed == ["Q1 2027"]
        progress = campaign_progress(session, campaign_id)
        assert (progress.items, progress.decided, progress.settled) == (5, 5, 5)
        ada = _as(session, "Ada Admin")
        items = select_items(session, ada, campaign_id, person=ANA)
        with pytest.raises(CampaignError, match=r"closed on .*decisions are final"):
            decide(session, ada, campaign_id, items, Decision(CampaignDecision.REMOVE))


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as sink:
        yield sink


def _sent_to(sink: Sink, since: int) -> dict[str, str]:
    return {str(m["To"]).strip(): str(m["Subject"]).strip() for m in sink.parsed()[since:]}


def test_invitations_then_a_reminder_before_the_due_date_then_escalation_to_the_partner(
    engine: Engine, campaign_id: int, settings: Settings, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    mail = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "alert_fallback_email": f"admin@{DOMAIN}",
            "dashboard_url": "https://accessrecon.harbourco.example/dashboard/",
        }
    )
    days = mail.campaign_reminder_days
    with session_scope(engine) as session:
        report = send_notices(session, mail, today=START.date(), now=START)
    assert report.failed == []
    invited = _sent_to(sink, 0)
    assert set(invited) == {f"mia@{DOMAIN}", f"max@{DOMAIN}", f"admin@{DOMAIN}"}
    assert invited[f"mia@{DOMAIN}"].startswith("accessrecon: access review Q1 2027: 2 item(s)")
    body = sink.parsed()[0].get_content()
    assert f"https://accessrecon.harbourco.example/dashboard/review/{campaign_id}" in body

    # Mia decides everything; Max decides nothing
    with session_scope(engine) as session:
        mia = _as(session, "Mia Manager")
        decide(
            session,
            mia,
            campaign_id,
            select_items(session, mia, campaign_id, client="Mia's Bakery"),
            Decision(CampaignDecision.KEEP, "still doing their payroll"),
        )
    for offset, expected in ((days + 1, set()), (days, {f"max@{DOMAIN}", f"admin@{DOMAIN}"})):
        before = len(sink.messages)
        day = DUE - timedelta(days=offset)
        with session_scope(engine) as session:
            send_notices(session, mail, today=day, now=START)
        assert set(_sent_to(sink, before)) == expected, day
    before = len(sink.messages)
    with session_scope(engine) as session:  # the same day again: nothing twice
        send_notices(session, mail, today=DUE - timedelta(days=days - 1), now=START)
        send_notices(session, mail, today=DUE, now=START)
    assert len(sink.messages) == before

    with session_scope(engine) as session:  # the day after: Max's open items go to the partner
        send_notices(session, mail, today=DUE + timedelta(days=1), now=START)
        items = _items(session, campaign_id)
        for key in ((ANA, "!max01"), (TEMP, "!max01")):
            assert items[key].reviewer == "Pat Partner"
            assert items[key].escalated_from == "Max Manager"
            assert items[key].reviewer_basis == ReviewerBasis.ESCALATED
        assert items[(ANA, "!nolnk")].reviewer == ""  # the admins have no one above them
        assert items[(LEE, "!mia01")].reviewer == "Mia Manager"  # decided: stays
        client = session.exec(select(Client).where(Client.name == "Max's Garage")).one()
        assert client.client_manager == "Max Manager"  # the client list is not changed
    escalated = _sent_to(sink, before)
    assert set(escalated) == {f"pat@{DOMAIN}"}
    assert "overdue: 2 open item(s) passed to you" in escalated[f"pat@{DOMAIN}"]
    before = len(sink.messages)
    with session_scope(engine) as session:
        send_notices(session, mail, today=DUE + timedelta(days=2), now=START)
        pat = _as(session, "Pat Partner")
        assert {r.email for r in review_list(session, pat, campaign_id).rows} == {ANA, TEMP}
    assert len(sink.messages) == before
