"""A practice whose every report row is known, with names built to break spreadsheets.

Two client managers (Ana Ruiz and Ben Ono) and a third one called ``@SUM(A1)``; a
leaver whose name is a formula; clients called ``+1 Bakery``, ``-2 Dairy``, a
tab- and a CR-led name and one that is raw sheet XML; an org linked to no client;
an archived client. Everything is stored through the product's own functions
(imports aside: rows are added directly) and reconciled, so the findings are the
product's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, FailureReason, Portal
from agent.services.findings import reconcile
from agent.services.scans import record_capture, record_failed_scan, record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Client, ClientOrgLink, Finding, Org
from tests.factories import DOMAIN, add_staff, agent_login, grant

FORMULA_NAME = '=HYPERLINK("http://x","y")'
XML_NAME = (
    '<r><t>x</t></r></is></c><c r="Z1"><f>HYPERLINK("http://evil","click")</f></c>'
    '<c r="Z2" t="inlineStr"><is><r><t>z</t></r>'
)
#: Every hostile text the state stores somewhere a report prints it.
HOSTILE = (
    FORMULA_NAME,
    "+1 Bakery",
    "-2 Dairy",
    "@SUM(A1)",
    "\tTab Cafe",
    "\rCR Motors",
    XML_NAME,
    "=cmd|' /C calc'!A0",
)

ANA, BEN, SUM_MANAGER = "Ana Ruiz", "Ben Ono", "@SUM(A1)"
LEAVER_EMAIL = f"leaver@{DOMAIN}"
#: the agent's own login: in ``+1 Bakery``'s org only, where it may remove users, so
#: that org's access is the practice's to remove and every other org's the client's
AGENT_EMAIL = f"accessrecon.xero@{DOMAIN}"


@dataclass(frozen=True, slots=True)
class ClientSpec:
    name: str
    manager: str
    job_manager: str
    fee: float | None
    orgs: tuple[tuple[str, str, str], ...]  # (portal, org id, org name)
    archived: bool = False
    contact: str = ""


CLIENTS = (
    ClientSpec(
        "+1 Bakery",
        ANA,
        "Jo Job",
        1200.0,
        (("xero", "!AAA01", "Plus One Bakery Ltd"), ("qbo", "4620816365", "Plus One QBO")),
        contact="=cmd|' /C calc'!A0",
    ),
    ClientSpec(
        "\tTab Cafe",
        ANA,
        "Jo Job",
        None,
        (("xero", "!CCC03", "Tab Cafe Ltd"),),
        contact="accounts@tabcafe.example",
    ),
    ClientSpec(
        "Old Mill", ANA, "Kim Job", 5000.0, (("xero", "!GGG07", "Old Mill Ltd"),), archived=True
    ),
    ClientSpec("-2 Dairy", SUM_MANAGER, "Kim Job", 800.0, (("xero", "!BBB02", "Minus Two Dairy"),)),
    ClientSpec(
        "\rCR Motors",
        BEN,
        "Kim Job",
        2500.5,
        (("myob", "0b6f8c2e-6c57-4b8e-9d5e-3f3f5c9c1a11", "CR Motors"),),
    ),
    ClientSpec(XML_NAME, BEN, "Jo Job", 700.0, (("xero", "!DDD04", "Sheet XML Ltd"),)),
    ClientSpec("Kōwhai Bakery", BEN, "", 3000.0, (("xero", "!FFF06", "Kōwhai Bakery Ltd"),)),
)
UNLINKED_ORG = ("xero", "!EEE05", "@Unlinked Org")


@dataclass(slots=True)
class State:
    """What was stored: ids by name, for the assertions."""

    client_ids: dict[str, int] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)
    org_ids: dict[str, int] = field(default_factory=dict)  # by portal org id

    def clients_of(self, manager: str) -> set[int]:
        return {self.client_ids[c.name] for c in CLIENTS if c.manager == manager}

    def names_of(self, manager: str) -> set[str]:
        """Client names and portal org ids that belong to ``manager``'s clients."""
        out: set[str] = set()
        for spec in CLIENTS:
            if spec.manager == manager:
                out.add(spec.name)
                out.update(org_id for _, org_id, _ in spec.orgs)
                out.update(org_name for _, _, org_name in spec.orgs)
        return out


def user(
    email: str, role: str, *extras: str, name: str = "", status: AccessStatus = AccessStatus.ACTIVE
) -> PortalUser:
    return PortalUser(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        status=status,
        extra_permissions=tuple(extras),
    )


def _scan(session: Session, org: Org, users: list[PortalUser]) -> None:
    ref = OrgRef(Portal(org.portal), org.portal_org_id, org.name)
    record_ok_scan(
        session,
        org_id=org.id,
        started_at=utcnow(),
        result=OrgUsers(ref, tuple(users), len(users), f"JSON total {len(users)}"),
    )


def build(engine: Engine) -> State:
    """Store the practice, scan every org once (plus a failed and a suspect scan), reconcile."""
    state = State()
    with session_scope(engine) as session:
        leaver = add_staff(
            session, FORMULA_NAME, LEAVER_EMAIL, status="left", left_on=date(2026, 3, 3)
        )
        ana = add_staff(session, ANA, f"ana.ruiz@{DOMAIN}")
        ben = add_staff(session, BEN, f"ben.ono@{DOMAIN}")
        for staff in (leaver, ana, ben):
            assert staff.id is not None
            state.staff_ids[staff.name] = staff.id
        orgs: dict[str, Org] = {}
        for spec in CLIENTS:
            client = Client(
                external_id=f"C-{len(state.client_ids) + 1:03d}",
                name=spec.name,
                client_manager=spec.manager,
                job_manager=spec.job_manager,
                annual_fee=spec.fee,
                archived=spec.archived,
                contact_email=spec.contact,
            )
            session.add(client)
            session.flush()
            assert client.id is not None
            state.client_ids[spec.name] = client.id
            for portal, org_id, org_name in spec.orgs:
                session.add(ClientOrgLink(client_id=client.id, portal=portal, portal_org_id=org_id))
                orgs[org_id] = upsert_org(
                    session, OrgRef(Portal(portal), org_id, org_name), login_id=None
                )
        portal, org_id, org_name = UNLINKED_ORG
        orgs[org_id] = upsert_org(session, OrgRef(Portal(portal), org_id, org_name), login_id=None)
        for org_id, org in orgs.items():
            assert org.id is not None
            state.org_ids[org_id] = org.id

        agent_login(session, AGENT_EMAIL)
        grant(session, ana, "xero", "!AAA01", "FINANCIALADVISER")
        grant(session, ben, "xero", "!FFF06", "STANDARD")
        grant(session, ben, "xero", "!GGG07", "STANDARD")
        grant(session, ben, "xero", "!CCC03", "STANDARD")
        grant(session, ben, "xero", "!EEE05", "STANDARD")
        grant(session, leaver, "xero", "!AAA01", "FINANCIALADVISER")

        _scan(
            session,
            orgs["!AAA01"],
            [
                user(LEAVER_EMAIL, "FINANCIALADVISER", "MANAGE_USERS", name=FORMULA_NAME),
                user(f"ana.ruiz@{DOMAIN}", "FINANCIALADVISER", "MANAGE_USERS"),
                user("owner@plusone.example", "STANDARD", name="Olive Owner"),
                user(AGENT_EMAIL, "FINANCIALADVISER", "MANAGE_USERS", name="Access Robot"),
            ],
        )
        _scan(
            session,
            orgs["4620816365"],
            [
                user(f"ana.ruiz@{DOMAIN}", "Company admin", status=AccessStatus.PENDING),
            ],
        )
        _scan(session, orgs["!BBB02"], [user(LEAVER_EMAIL, "READONLY")])
        _scan(
            session,
            orgs["!CCC03"],
            [
                user(f"temp.0042@{DOMAIN}", "STANDARD", name="\tTemp Contractor"),
            ],
        )
        _scan(
            session,
            orgs["0b6f8c2e-6c57-4b8e-9d5e-3f3f5c9c1a11"],
            [
                user(f"ben.ono@{DOMAIN}", "File user", "Payroll", "Banking"),
            ],
        )
        _scan(
            session,
            orgs["!DDD04"],
            [
                user(f"ana.ruiz@{DOMAIN}", "STANDARD"),
                user("ana.r@home.example", "STANDARD", name="Ruiz, Ana"),
            ],
        )
        _scan(session, orgs["!FFF06"], [user(f"ben.ono@{DOMAIN}", "READONLY")])
        _scan(session, orgs["!GGG07"], [user(f"ben.ono@{DOMAIN}", "STANDARD")])
        _scan(
            session,
            orgs["!EEE05"],
            [
                user(LEAVER_EMAIL, "STANDARD", name=FORMULA_NAME),
                user(f"ben.ono@{DOMAIN}", "STANDARD"),
            ],
        )
        record_failed_scan(
            session,
            org_id=orgs["!FFF06"].id,
            reason=FailureReason.TIMEOUT,
            detail="the users page did not load",
            started_at=utcnow(),
        )
        ref = OrgRef(Portal.XERO, "!BBB02", "Minus Two Dairy")
        _scan(
            session,
            orgs["!BBB02"],
            [user(LEAVER_EMAIL, "READONLY"), user("owner@dairy.example", "STANDARD")],
        )
        record_capture(
            session,
            org_id=orgs["!BBB02"].id,
            started_at=utcnow(),
            result=OrgUsers(ref, (), 0, "JSON total 0"),
        )
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN])
    return state


def open_classes(engine: Engine) -> dict[tuple[str, str], str]:
    """(portal org id, email) → class of every open finding: what the state produced."""
    with Session(engine) as session:
        return {
            (org.portal_org_id, f.email): f.finding_class
            for f, org in session.exec(
                select(Finding, Org).join(Org).where(col(Finding.resolved_at).is_(None))
            )
        }
