"""A practice whose client statement is known line by line, built through the product.

Client ``O'Brien <Bakers> & Sons`` (managed by Mia Manager, contact
accounts@obrien.example) has three orgs:

* xero !obr01, read ok: Ben (a leaver the practice granted, whom the client is asked
  to remove: the agent's login lacks Manage users), Ana (granted by the practice),
  Ivy (staff the client invited directly), the owner ``Olive <O'Brien> & Co`` (the
  client's own user), a pending invite of the bookkeeper, a declined invitation (not
  access) and the agent's own login;
* qbo 4620816365, whose only scan failed (no permission): not read;
* myob 0b6f…1a11, linked but never listed by the agent: not read.

Client ``Other Ltd`` (Max Manager) has xero !oth01. Eve, an employee, sees Other Ltd
only. The removal request comes from a plan Mia proposed and Ada approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyotp
from sqlmodel import Session

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, FailureReason, Portal
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.users import principal_of
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.services.scans import record_ok_scan
from agent.services.settle import settle
from agent.storage.db import session_scope
from agent.storage.models import Client
from tests.factories import (
    DOMAIN,
    add_client,
    add_staff,
    api_users,
    failed_scan,
    grant,
    ok_scan,
    org,
)

CLIENT_NAME = "O'Brien <Bakers> & Sons"
OWNER_NAME = "Olive <O'Brien> & Co"
CONTACT = "accounts@obrien.example"
XERO_ORG = "!obr01"
QBO_ORG = "4620816365"
MYOB_ORG = "0b6f8c2e-6c57-4b8e-9d5e-3f3f5c9c1a11"
AGENT = "accessrecon.xero@harbourco.example"

#: (email, name) of everyone the statement lists for the xero org
LISTED = (
    (f"ben@{DOMAIN}", "Ben Brennan"),
    (f"ana@{DOMAIN}", "Ana Active"),
    (f"ivy@{DOMAIN}", "Ivy Invited"),
    ("owner@obrien.example", OWNER_NAME),
    ("books@obrien.example", "Bea Bookkeeper"),
    (AGENT, "Access Recon"),
)
DECLINED = ("gone@obrien.example", "Dee Declined")


@dataclass(frozen=True)
class StatementWorld:
    client_id: int
    other_id: int
    user_ids: dict[str, int]


def _user(email: str, name: str, role: str, status: AccessStatus) -> PortalUser:
    return PortalUser(email=email, name=name, role=role, status=status)


def _scan_xero(session: Session) -> None:
    target = org(session, XERO_ORG, "O'Brien Bakers Ltd")
    active, pending = AccessStatus.ACTIVE, AccessStatus.PENDING
    rows = (
        _user(f"ben@{DOMAIN}", "Ben Brennan", "FINANCIALADVISER", active),
        _user(f"ana@{DOMAIN}", "Ana Active", "STANDARD", active),
        _user(f"ivy@{DOMAIN}", "Ivy Invited", "STANDARD", active),
        _user("owner@obrien.example", OWNER_NAME, "STANDARD", active),
        _user("books@obrien.example", "Bea Bookkeeper", "STANDARD", pending),
        _user(AGENT, "Access Recon", "STANDARD", active),
        _user(*DECLINED, "READONLY", AccessStatus.DECLINED),
    )
    record_ok_scan(
        session,
        org_id=target.id,
        started_at=utcnow(),
        result=OrgUsers(
            OrgRef(Portal.XERO, XERO_ORG, target.name), rows, len(rows), f"JSON total {len(rows)}"
        ),
    )


def build(runtime: Runtime, *, contact: str = CONTACT) -> StatementWorld:
    with session_scope(runtime.engine) as session:
        ben = add_staff(
            session, "Ben Brennan", f"ben@{DOMAIN}", status="left", left_on=date(2026, 3, 3)
        )
        ana = add_staff(session, "Ana Active", f"ana@{DOMAIN}")
        add_staff(session, "Ivy Invited", f"ivy@{DOMAIN}")
        add_staff(session, "Max Manager", f"max@{DOMAIN}")
        client = add_client(
            session,
            CLIENT_NAME,
            "Mia Manager",
            ("xero", XERO_ORG),
            ("qbo", QBO_ORG),
            ("myob", MYOB_ORG),
        )
        client.contact_email = contact
        session.add(client)
        other = add_client(session, "Other Ltd", "Max Manager", ("xero", "!oth01"))
        grant(session, ben, "xero", XERO_ORG, "FINANCIALADVISER")
        grant(session, ana, "xero", XERO_ORG, "STANDARD")
        add_login(  # with the runtime's key, so the server can open it
            session,
            runtime.box,
            portal="xero",
            email=AGENT,
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url="http://127.0.0.1:1",
        )
        _scan_xero(session)
        failed_scan(
            session, org(session, QBO_ORG, "O'Brien QBO", Portal.QBO), FailureReason.NO_PERMISSION
        )
        ok_scan(session, org(session, "!oth01", "Other Ltd"), [("boss@other.example", "STANDARD")])
        settle(session, runtime.settings)
        users = api_users(session, domain=DOMAIN, selected_client_id=other.id or 0)
        assert client.id is not None
        assert other.id is not None
        client_id, other_id = client.id, other.id
        ids = {k: u.id for k, u in users.items()}
    with session_scope(runtime.engine) as session:
        plan = plan_removals(
            session, principal_of(session, ids["mia"]), PlanRequest(person="Ben Brennan")
        )
        assert plan.id is not None
        approval = approve_plan(
            session, principal_of(session, ids["admin"]), plan.id, settings=runtime.settings
        )
        assert approval.requested, approval
    return StatementWorld(client_id, other_id, ids)


def client_row(runtime: Runtime, client_id: int) -> Client:
    with session_scope(runtime.engine) as session:
        found = session.get(Client, client_id)
        assert found is not None
        session.expunge(found)
        return found
