"""A small practice with a history, built through the product's own functions.

Six crawls over six days make the overview's trend; reconcile runs after each, so
every finding's first-seen and resolved times come from the scans, and the times
are then moved back to the days the crawls stand for.

Clients and who manages them:

============================ =========== ================= ============================
org                          manager     client            what it shows
============================ =========== ================= ============================
xero !kow01 Kōwhai Bakery    Mia         Kōwhai Bakery     leaver Ben; Ana managed; a
                                                           direct invitee whose name is
                                                           ``<img src=x onerror=...>``
xero !tot01 Tōtara Builders  Mia         Tōtara Builders   Ana's role drifted; Lou's
                                                           grant missing; Ben gone in
                                                           crawl 5 (resolved)
myob Harakeke Nursery        Mia         Harakeke Nursery  a probable match (gmail)
xero !fai01 Mānuka Honey     Mia         Mānuka Honey      last scan failed
                                                           (no_permission)
xero !rat01 Rātā Joinery     Max         Rātā Joinery      leaver Ben; an unknown
                                                           practice address; Dee managed
qbo Pōhutukawa Café          Max         Pōhutukawa Café   Ana managed
xero !kau01 Kauri Legal      Max         Kauri Legal       archived client, Ana granted
xero !old01 Kererū Transport Max         Kererū Transport  stale: read six days ago only
xero !nev01 Tūī Brewing      Max         Tūī Brewing       listed, never read
xero !unl01 Unlinked Hldgs   —           —                 leaver Ben; Ana unlinked
============================ =========== ================= ============================

Users: Ada Admin (practice admin, all clients), Mia Manager (manager, managed),
Max M. (manager, managed through his staff record), Eve Employee (employee,
selected: Rātā only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyotp
from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.crawl.scan_queue import enqueue
from agent.domain import AccessStatus, FailureReason, Portal
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.findings import reconcile
from agent.services.scans import record_failed_scan, record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Finding, Org, Scan, ScanRequest, Staff
from tests.factories import DOMAIN, add_client, add_staff, api_users, grant

HOSTILE = "<img src=x onerror=alert(1)>"
QBO_CAFE = "9130357792"
MYOB_NURSERY = "3f2c9a4e-8b1d-4c6a-9e7f-0a1b2c3d4e5f"

ORG_NAMES = {
    ("xero", "!kow01"): "Kōwhai Bakery Ltd",
    ("xero", "!tot01"): "Tōtara Builders",
    ("myob", MYOB_NURSERY): "Harakeke Nursery",
    ("xero", "!fai01"): "Mānuka Honey Co",
    ("xero", "!rat01"): "Rātā Joinery Ltd",
    ("qbo", QBO_CAFE): "Pōhutukawa Café",
    ("xero", "!kau01"): "Kauri Legal",
    ("xero", "!old01"): "Kererū Transport",
    ("xero", "!nev01"): "Tūī Brewing",
    ("xero", "!unl01"): "Unlinked Holdings",
}

Person = tuple[str, str, str]  # email, name, role
BEN: Person = (f"ben@{DOMAIN}", "Ben Brennan", "FINANCIALADVISER")
ANA: Person = (f"ana@{DOMAIN}", "Ana Active", "STANDARD")
MAL: Person = (f"mallory@{DOMAIN}", HOSTILE, "STANDARD")
DEE: Person = (f"dee@{DOMAIN}", "Dee Drift", "STANDARD")
GHOST: Person = (f"ghost@{DOMAIN}", "Ghost Writer", "READONLY")
NIA: Person = (f"nia@{DOMAIN}", "Nia New", "STANDARD")


def _owner(org: str) -> Person:
    return (f"owner@{org}.example", f"Owner of {org}", "STANDARD")


FAILED = "failed"


def _crawl_plan(k: int) -> dict[tuple[str, str], list[Person] | str]:
    """Who each org shows in crawl ``k`` (0 to 5); ``FAILED`` for a failed scan."""
    plan: dict[tuple[str, str], list[Person] | str] = {
        ("xero", "!kow01"): [BEN, ANA, _owner("kowhai")] + ([MAL] if k >= 2 else []),
        ("xero", "!tot01"): ([BEN] if 1 <= k <= 3 else [])
        + [(ANA[0], ANA[1], "FINANCIALADVISER"), _owner("totara")],
        ("myob", MYOB_NURSERY): [
            ("anna.active@gmail.example", "Ana Active", "FILE_USER"),
            _owner("harakeke"),
        ],
        ("xero", "!fai01"): FAILED if k == 5 else [NIA, _owner("manuka")],
        ("xero", "!rat01"): [BEN, DEE, _owner("rata")] + ([GHOST] if k >= 3 else []),
        ("qbo", QBO_CAFE): [(ANA[0], ANA[1], "ACCOUNTANT"), _owner("cafe")],
        ("xero", "!kau01"): [ANA, _owner("kauri")],
        ("xero", "!unl01"): [BEN, ANA],
    }
    if k == 0:
        plan[("xero", "!old01")] = [BEN, _owner("kereru")]
    if k == 4:
        plan[("xero", "!rat01")] = FAILED  # a bad day: one failure in the middle
    return plan


CRAWL_DAYS_AGO = [6, 5, 4, 3, 2, 0]


@dataclass
class DashboardWorld:
    runtime: Runtime
    user_ids: dict[str, int]
    staff_ids: dict[str, int]
    login_id: int
    running_request: int


def _scan_org(session: Session, org: Org, users: list[Person] | str, crawl_id: int) -> None:
    ref = OrgRef(Portal(org.portal), org.portal_org_id, org.name)
    if users == FAILED:
        record_failed_scan(
            session,
            org_id=org.id,
            reason=FailureReason.NO_PERMISSION,
            detail="the agent's login may not view this org's users",
            started_at=utcnow(),
            crawl_id=crawl_id,
        )
        return
    assert isinstance(users, list)
    rows = tuple(
        PortalUser(email=e, name=n, role=r, status=AccessStatus.ACTIVE) for e, n, r in users
    )
    record_ok_scan(
        session,
        org_id=org.id,
        started_at=utcnow(),
        crawl_id=crawl_id,
        result=OrgUsers(ref, rows, len(rows), f"the page showed {len(rows)} users"),
    )


def _move_back(session: Session, blocks: list[tuple[datetime, datetime, timedelta]]) -> None:
    """Move every time written during a crawl's block back by that crawl's offset."""

    def moved(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        for start, end, offset in blocks:
            if start <= value <= end:
                return value - offset
        return value

    for scan in session.exec(select(Scan)):
        scan.started_at, scan.finished_at = moved(scan.started_at), moved(scan.finished_at)  # type: ignore[assignment]
        session.add(scan)
    for crawl in session.exec(select(Crawl)):
        crawl.started_at, crawl.finished_at = moved(crawl.started_at), moved(crawl.finished_at)  # type: ignore[assignment]
        session.add(crawl)
    for finding in session.exec(select(Finding)):
        finding.first_seen_at = moved(finding.first_seen_at)  # type: ignore[assignment]
        finding.last_seen_at = moved(finding.last_seen_at)  # type: ignore[assignment]
        finding.resolved_at = moved(finding.resolved_at)
        session.add(finding)
    for org in session.exec(select(Org)):
        org.first_seen_at = moved(org.first_seen_at)  # type: ignore[assignment]
        org.last_listed_at = moved(org.last_listed_at)  # type: ignore[assignment]
        session.add(org)


def build_world(runtime: Runtime) -> DashboardWorld:
    with session_scope(runtime.engine) as session:
        ben = add_staff(session, "Ben Brennan", BEN[0], status="left", left_on=date(2026, 3, 3))
        ana = add_staff(session, "Ana Active", ANA[0])
        add_staff(session, HOSTILE, MAL[0])
        add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        max_staff = add_staff(session, "Max Manager", f"max@{DOMAIN}")
        dee = add_staff(session, "Dee Drift", DEE[0])
        lou = add_staff(session, "Lou Low", f"lou@{DOMAIN}")
        add_staff(session, "Nia New", NIA[0])
        clients = [
            ("Kōwhai Bakery", "Mia Manager", "xero", "!kow01", False),
            ("Tōtara Builders", "Mia Manager", "xero", "!tot01", False),
            ("Harakeke Nursery", "Mia Manager", "myob", MYOB_NURSERY, False),
            ("Mānuka Honey", "Mia Manager", "xero", "!fai01", False),
            ("Rātā Joinery", "Max Manager", "xero", "!rat01", False),
            ("Pōhutukawa Café", "Max Manager", "qbo", QBO_CAFE, False),
            ("Kauri Legal", "Max Manager", "xero", "!kau01", True),
            ("Kererū Transport", "Max Manager", "xero", "!old01", False),
            ("Tūī Brewing", "Max Manager", "xero", "!nev01", False),
        ]
        client_ids = {}
        for name, manager, portal, org_id, archived in clients:
            client_ids[name] = add_client(
                session, name, manager, (portal, org_id), archived=archived
            ).id
        grant(session, ana, "xero", "!kow01", "STANDARD")
        grant(session, ana, "xero", "!tot01", "STANDARD")
        grant(session, ana, "qbo", QBO_CAFE, "ACCOUNTANT")
        grant(session, ana, "xero", "!kau01", "STANDARD")
        grant(session, ana, "xero", "!unl01", "STANDARD")
        grant(session, dee, "xero", "!rat01", "STANDARD")
        grant(session, lou, "xero", "!tot01", "STANDARD")
        login = add_login(
            session,
            runtime.box,
            portal="xero",
            email=f"accessrecon.xero@{DOMAIN}",
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url="http://127.0.0.1:9",
        )
        orgs = {
            key: upsert_org(session, OrgRef(Portal(key[0]), key[1], name), login_id=None)
            for key, name in ORG_NAMES.items()
        }
        blocks: list[tuple[datetime, datetime, timedelta]] = []
        for k, days in enumerate(CRAWL_DAYS_AGO):
            start = utcnow()
            crawl = Crawl(trigger="schedule", status="finished", started_at=start)
            session.add(crawl)
            session.flush()
            assert crawl.id is not None
            for key, users in _crawl_plan(k).items():
                _scan_org(session, orgs[key], users, crawl.id)
            reconcile(session, configured_domains=[DOMAIN])
            crawl.finished_at = utcnow()
            session.add(crawl)
            session.flush()
            blocks.append((start, utcnow(), timedelta(days=days, hours=2 if days else 1)))
        _move_back(session, blocks)
        users = api_users(session, domain=DOMAIN, selected_client_id=client_ids["Rātā Joinery"])
        # a request already run: a row of the past, not queued (on PostgreSQL a queued
        # request is also a job, which would wait for a worker this practice never has)
        done = ScanRequest(requested_by="Ada Admin (user #1)", source="schedule", login_id=login.id)
        done.status, done.done, done.failed, done.total = "done", 9, 1, 10
        done.started_at = utcnow() - timedelta(hours=1, minutes=5)
        done.finished_at = utcnow() - timedelta(hours=1)
        session.add(done)
        running = enqueue(
            session,
            requested_by="Mia Manager (user #2)",
            source="dashboard",
            portal="xero",
            portal_org_id="!kow01",
        )
        running.status, running.done, running.total = "running", 0, 1
        running.started_at = utcnow()
        session.add(running)
        enqueue(
            session,
            requested_by="Max M. (user #3)",
            source="extension",
            portal="xero",
            portal_org_id="!rat01",
        )
        session.flush()
        assert running.id is not None
        staff_ids = {s.name: s.id for s in session.exec(select(Staff)) if s.id is not None}
        del ben, max_staff
        return DashboardWorld(
            runtime=runtime,
            user_ids={k: u.id for k, u in users.items()},
            staff_ids=staff_ids,
            login_id=login.id,
            running_request=running.id,
        )


def finding_id(runtime: Runtime, portal_org_id: str, email: str) -> int:
    with Session(runtime.engine) as session:
        found = session.exec(
            select(Finding.id)
            .join(Org, col(Org.id) == col(Finding.org_id))
            .where(
                Org.portal_org_id == portal_org_id,
                Finding.email == email,
                col(Finding.resolved_at).is_(None),
            )
        ).one()
        assert found is not None
        return found


def set_progress(runtime: Runtime, request_id: int, *, done: int, status: str) -> None:
    with session_scope(runtime.engine) as session:
        request = session.get(ScanRequest, request_id)
        assert request is not None
        request.done, request.status = done, status
        if status == "done":
            request.finished_at = utcnow()
        session.add(request)
