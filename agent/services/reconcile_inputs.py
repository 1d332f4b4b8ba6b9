"""What reconcile reads from the database, as its plain inputs.

The roster, grants, agent logins and identity decisions (``load_practice``), the
practice's own e-mail domains, an org with its client, and the users one scan
showed: ``agent.reconcile`` classifies these without touching the database.

A grant whose ``until`` is before ``today`` is not read: from the day after its end
the access is judged as if it had never been granted (``grant_in_force``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import AccessStatus, Portal, StaffStatus
from agent.reconcile import Grant, OrgFacts, Practice, SeenUser, StaffMember
from agent.reconcile.identity import email_domain, normalise_with
from agent.services.identities import load_decisions
from agent.storage.links import client_of, join_client
from agent.storage.models import (
    Client,
    IntendedAccess,
    Observation,
    Org,
    PortalLogin,
    Staff,
    StaffEmail,
)


def practice_domains(session: Session, configured: Sequence[str]) -> frozenset[str]:
    """The configured practice domains, else the domain most staff primary emails share."""
    if configured:
        return frozenset(d.casefold() for d in configured)
    domains = Counter(
        email_domain(e) for e in session.exec(select(StaffEmail.email).where(StaffEmail.is_primary))
    )
    if not domains:
        return frozenset()
    top, _ = domains.most_common(1)[0]
    return frozenset({top})


def grant_in_force(today: date) -> ColumnElement[bool]:
    """The WHERE clause keeping the intended access still intended on ``today``."""
    return or_(col(IntendedAccess.until).is_(None), col(IntendedAccess.until) >= today)


def load_practice(
    session: Session, domains: frozenset[str], *, today: date | None = None
) -> Practice:
    """The roster, grants in force on ``today`` (default: today, UTC), agent logins and
    identity decisions, as reconcile's plain data."""
    in_force = grant_in_force(today or utcnow().date())
    emails: dict[int, list[str]] = {}
    for row in session.exec(
        select(StaffEmail).order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.id))
    ):
        emails.setdefault(row.staff_id, []).append(row.email)
    staff = tuple(
        StaffMember(
            id=s.id,
            name=s.name,
            status=StaffStatus(s.status),
            emails=tuple(emails.get(s.id, ())),
            left_on=s.left_on,
        )
        for s in session.exec(select(Staff).order_by(col(Staff.id)))
        if s.id is not None
    )
    grants = tuple(
        Grant(
            staff_id=g.staff_id,
            portal=Portal(g.portal),
            portal_org_id=g.portal_org_id,
            role=g.role,
            extra_permissions=tuple(g.extra_permissions or ()),
        )
        for g in session.exec(select(IntendedAccess).where(in_force))
    )
    agents = frozenset(session.exec(select(PortalLogin.email)))
    return Practice(
        domains=domains,
        staff=staff,
        agent_emails=agents,
        grants=grants,
        decisions=load_decisions(session),
    )


def agent_identities(session: Session) -> frozenset[str]:
    """The agent's own logins, as identities: never reported, never removed."""
    return frozenset(normalise_with(e) for e in session.exec(select(PortalLogin.email)))


def org_facts(session: Session, org: Org, client: Client | None = None) -> OrgFacts:
    return facts_of(org, client or client_of(session, org.portal, org.portal_org_id))


def clients_of_orgs(session: Session, org_ids: Sequence[int]) -> dict[int, Client]:
    """The client of each org that has one, in one query (``agent.storage.links``)."""
    if not org_ids:
        return {}
    rows = session.exec(
        join_client(select(Org.id, Client).select_from(Org)).where(
            col(Org.id).in_(list(org_ids)), col(Client.id).is_not(None)
        )
    )
    return {org_id: client for org_id, client in rows if org_id is not None}


def facts_of(org: Org, client: Client | None) -> OrgFacts:
    """An org's facts given its client (``None``: it links to no client)."""
    return OrgFacts(
        portal=Portal(org.portal),
        portal_org_id=org.portal_org_id,
        name=org.name,
        client_name=client.name if client else None,
        client_archived=bool(client and client.archived),
    )


def seen_users(session: Session, scan_id: int) -> list[SeenUser]:
    return seen_users_of(session, [scan_id]).get(scan_id, [])


def seen_users_of(session: Session, scan_ids: Sequence[int]) -> dict[int, list[SeenUser]]:
    """The users of several scans in one query, by scan, each in the scan's order."""
    found: dict[int, list[SeenUser]] = {}
    if not scan_ids:
        return found
    for o in session.exec(
        select(Observation)
        .where(col(Observation.scan_id).in_(list(scan_ids)))
        .order_by(col(Observation.scan_id), col(Observation.id))
    ):
        found.setdefault(o.scan_id, []).append(
            SeenUser(
                email=o.email,
                name=o.name,
                role=o.role,
                status=AccessStatus(o.status),
                extra_permissions=tuple(o.extra_permissions or ()),
                kind=o.kind,
                portal_user_id=o.portal_user_id,
                subscriber=o.subscriber,
                firm=o.firm,
                added_by_owner=o.added_by_owner,
            )
        )
    return found
