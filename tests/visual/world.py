"""The practice the screenshots show, at fixed instants, with something on every page.

It is ``tests.dashboard.world``'s practice (ten orgs, four signed-in users, six
crawls over six days), plus what the dashboard's other pages need to show more than
an empty table: an access review (Q4 2026, due a month later), a removal plan for
Ben Brennan's access, end dates on two grants and one accepted risk.

The world builder writes relative times (``utcnow()`` less whole days, hours and
minutes), so it is built with the clock started at ``BUILT_AT`` (a whole minute) and
left to run: every time it writes is ``BUILT_AT`` plus the build's second or two,
less a whole number of minutes. Pages show times to the minute and ages in whole
days, so they show the same on every run as long as the build takes under a minute;
a build slower than ``BUILD_BUDGET`` is refused rather than allowed to shift one.
The server then shows the practice at ``SHOWN_AT``, frozen, in the same minute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.users import principal_of
from agent.services.campaigns.start import start_campaign
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.services.review import accept_risk
from agent.storage.db import session_scope
from agent.storage.models import Client, IntendedAccess, Staff
from tests.dashboard.world import BEN, build_world, finding_id

BUILT_AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SHOWN_AT = BUILT_AT + timedelta(seconds=30)
BUILD_BUDGET = timedelta(seconds=55)

#: grants that end soon (the expiring page): (staff name, org id) -> days from today
GRANT_ENDS = {("Ana Active", "!kow01"): 5, ("Dee Drift", "!rat01"): 12}


@dataclass(frozen=True, slots=True)
class VisualWorld:
    """The ids the pages' addresses need; plain values, so the serving process can
    hand them to the tests as JSON."""

    user_ids: dict[str, int]
    ben_staff_id: int
    ben_finding_id: int
    campaign_id: int
    plan_id: int
    statement_client_id: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> VisualWorld:
        return cls(**data)  # type: ignore[arg-type]


def build_visual_world(runtime: Runtime) -> VisualWorld:
    """Build the practice on ``runtime``'s migrated database; run under a clock at
    ``BUILT_AT`` (see the module's docstring)."""
    world = build_world(runtime)
    today = utcnow().date()
    ben_finding = finding_id(runtime, "!kow01", BEN[0])
    with session_scope(runtime.engine) as session:
        for (name, org_id), days in GRANT_ENDS.items():
            staff = session.exec(select(Staff).where(Staff.name == name)).one()
            grant = session.exec(
                select(IntendedAccess).where(
                    IntendedAccess.staff_id == staff.id, IntendedAccess.portal_org_id == org_id
                )
            ).one()
            grant.until = today + timedelta(days=days)
            session.add(grant)
        accept_risk(
            session,
            ben_finding,
            actor="Mia Manager",
            reason="Ben hands over the year-end accounts",
            expires_on=today + timedelta(days=20),
        )
        admin = principal_of(session, "Ada Admin")
        campaign = start_campaign(session, admin, "Q4 2026", due_on=today + timedelta(days=30))
        plan = plan_removals(session, admin, PlanRequest(person=BEN[0], note="Ben left on 3 March"))
        kowhai = session.exec(select(Client).where(Client.name == "Kōwhai Bakery")).one()
        assert campaign.campaign.id is not None
        assert plan.id is not None
        assert kowhai.id is not None
        return VisualWorld(
            user_ids=world.user_ids,
            ben_staff_id=world.staff_ids["Ben Brennan"],
            ben_finding_id=ben_finding,
            campaign_id=campaign.campaign.id,
            plan_id=plan.id,
            statement_client_id=kowhai.id,
        )
