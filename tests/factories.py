"""Small builders for database states, made through the product's own functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyotp
from cryptography.fernet import Fernet
from sqlmodel import Session

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, FailureReason, Portal
from agent.security.logins import add_login
from agent.security.secrets import SecretBox
from agent.security.users import UserSummary, add_user
from agent.services.scans import (
    ScanOutcome,
    record_capture,
    record_failed_scan,
    record_ok_scan,
    upsert_org,
)
from agent.storage.models import (
    Client,
    ClientOrgLink,
    IntendedAccess,
    Org,
    Staff,
    StaffEmail,
)

DOMAIN = "harbourco.example"


def add_staff(
    session: Session, name: str, *emails: str, status: str = "active", left_on: date | None = None
) -> Staff:
    staff = Staff(name=name, status=status, left_on=left_on, practice_role="employee")
    session.add(staff)
    session.flush()
    assert staff.id is not None
    for i, email in enumerate(emails):
        session.add(StaffEmail(staff_id=staff.id, email=email, is_primary=i == 0))
    session.flush()
    return staff


def add_client(
    session: Session, name: str, manager: str, *orgs: tuple[str, str], archived: bool = False
) -> Client:
    client = Client(
        external_id=f"C-{name}",
        name=name,
        client_manager=manager,
        archived=archived,
        annual_fee=1200.0,
    )
    session.add(client)
    session.flush()
    assert client.id is not None
    for portal, org_id in orgs:
        session.add(ClientOrgLink(client_id=client.id, portal=portal, portal_org_id=org_id))
    session.flush()
    return client


def grant(session: Session, staff: Staff, portal: str, org_id: str, role: str) -> None:
    assert staff.id is not None
    session.add(IntendedAccess(staff_id=staff.id, portal=portal, portal_org_id=org_id, role=role))
    session.flush()


def org(
    session: Session, org_id: str, name: str = "Kōwhai Bakery", portal: Portal = Portal.XERO
) -> Org:
    return upsert_org(session, OrgRef(portal, org_id, name), login_id=None)


def ok_scan(
    session: Session,
    target: Org,
    users: Sequence[tuple[str, str]],
    status: AccessStatus = AccessStatus.ACTIVE,
) -> ScanOutcome:
    """An ok scan showing ``(email, role)`` users."""
    rows = tuple(PortalUser(email=e, name=e.split("@")[0], role=r, status=status) for e, r in users)
    ref = OrgRef(Portal(target.portal), target.portal_org_id, target.name)
    return record_ok_scan(
        session,
        org_id=target.id,
        started_at=utcnow(),
        result=OrgUsers(ref, rows, len(rows), f"JSON total {len(rows)}"),
    )


def failed_scan(
    session: Session, target: Org, reason: FailureReason = FailureReason.TIMEOUT
) -> ScanOutcome:
    return record_failed_scan(
        session, org_id=target.id, reason=reason, detail="test", started_at=utcnow()
    )


def capture(session: Session, target: Org, users: Sequence[tuple[str, str]]) -> ScanOutcome:
    """A complete list recorded as the crawler records it (ok, or suspect on a sudden drop)."""
    rows = tuple(
        PortalUser(email=e, name=e.split("@")[0], role=r, status=AccessStatus.ACTIVE)
        for e, r in users
    )
    ref = OrgRef(Portal(target.portal), target.portal_org_id, target.name)
    return record_capture(
        session,
        org_id=target.id,
        started_at=utcnow(),
        result=OrgUsers(ref, rows, len(rows), f"JSON total {len(rows)}"),
    )


def agent_login(session: Session, email: str = "accessrecon.xero@harbourco.example") -> None:
    """Register the agent's own login, so reconcile recognises it."""
    box = SecretBox([Fernet.generate_key()])
    add_login(
        session,
        box,
        portal="xero",
        email=email,
        password="pw",
        totp_secret=pyotp.random_base32(),
        base_url="http://127.0.0.1:1",
    )


def api_users(session: Session, *, domain: str, selected_client_id: int) -> dict[str, UserSummary]:
    """The four API users the server and dashboard tests sign in as, one per kind of scope.

    ``admin`` sees all clients; ``mia`` and ``max`` (linked to the roster's
    ``max@domain``) the clients they manage; ``eve``, an employee, the one client
    selected for her.
    """
    return {
        "admin": add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="test"
        ),
        "mia": add_user(session, name="Mia Manager", role="manager", scope="managed", actor="test"),
        "max": add_user(
            session,
            name="Max M.",
            role="manager",
            scope="managed",
            staff=f"max@{domain}",
            actor="test",
        ),
        "eve": add_user(
            session,
            name="Eve Employee",
            role="employee",
            scope="selected",
            client_ids=[selected_client_id],
            actor="test",
        ),
    }
