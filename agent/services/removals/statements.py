"""A client's access statement: everyone who can reach their books, and whom to remove.

Where only the client can remove an access, the practice asks the client, and the
statement is what it sends: for each org linked to the client, the people its
latest ok agent scan lists (declined and inactive entries are not access), how each
came to be there, since when, and the practice's open requests to remove someone,
with why the practice cannot do it itself.

Only an ok agent scan proves who is in an org. An org that was never read ok (or
never listed by the agent at all) says so, and is never shown as an org with no
users; an org whose latest attempt failed after an ok read says that too, so the
client knows the list is as of the earlier read.

"Since" is the finding's first-seen time (the start of the access as the agent saw
it). How a person came to be there follows the practice's own records: a staff
member with an intended-access grant for the org was granted it by the practice, a
staff member without one was invited by the client, a ``client_user`` finding is the
client's own user. The agent's own logins are listed as the practice's review login.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import AccessStatus, FindingClass, Portal
from agent.reconcile.identity import normalise_with
from agent.services.reconcile_inputs import agent_identities, grant_in_force
from agent.services.removals.client_requests import requests_of_client
from agent.services.removals.plans import latest_ok_scan
from agent.storage.models import (
    Client,
    ClientOrgLink,
    ClientRequest,
    Finding,
    IntendedAccess,
    Observation,
    Org,
    Scan,
)

__all__ = [
    "ClientStatement",
    "OrgStatement",
    "Origin",
    "PersonLine",
    "RequestLine",
    "StatementError",
    "build_statement",
    "find_client",
]


class StatementError(ValueError):
    """A statement that cannot be made; the message names what is wrong."""


class Origin(StrEnum):
    """How a person came to have access, as the practice's own records tell it."""

    PRACTICE_GRANT = "practice_grant"
    CLIENT_INVITE = "client_invite"
    CLIENT_USER = "client_user"
    REVIEW_LOGIN = "review_login"
    UNKNOWN_PRACTICE = "unknown_practice"
    UNCONFIRMED = "unconfirmed"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True, slots=True)
class PersonLine:
    name: str
    email: str
    #: the role as the portal stores it; the renderer gives the portal's own words
    role: str
    status: str
    since: datetime | None
    origin: Origin
    #: the practice has an open request to the client to remove this person here
    to_remove: bool


@dataclass(frozen=True, slots=True)
class RequestLine:
    name: str
    email: str
    why_remove: str
    why_client: str
    requested_at: datetime
    reminded_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrgStatement:
    portal: str
    portal_org_id: str
    org_name: str
    #: when the latest ok agent scan finished; ``None``: never read, ``people`` means nothing
    read_at: datetime | None
    #: a later attempt that failed: when, and why (the list is as of ``read_at``)
    failed_at: datetime | None = None
    failed_reason: str = ""
    people: list[PersonLine] = field(default_factory=list)
    requests: list[RequestLine] = field(default_factory=list)

    @property
    def read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True, slots=True)
class ClientStatement:
    client_id: int
    external_id: str
    name: str
    contact_email: str
    as_of: datetime
    orgs: list[OrgStatement]

    @property
    def people_count(self) -> int:
        return sum(len(o.people) for o in self.orgs)

    @property
    def request_count(self) -> int:
        return sum(len(o.requests) for o in self.orgs)

    @property
    def unread(self) -> list[OrgStatement]:
        return [o for o in self.orgs if not o.read]


def find_client(session: Session, key: str) -> Client:
    """The client whose practice client id, or else exact name, is ``key``."""
    wanted = key.strip()
    if not wanted:
        raise StatementError("name a client: its client id or its exact name")
    by_id = session.exec(select(Client).where(Client.external_id == wanted)).first()
    if by_id is not None:
        return by_id
    named = list(session.exec(select(Client).where(Client.name == wanted).order_by(col(Client.id))))
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(c.external_id for c in named)
        raise StatementError(f"{len(named)} clients are called {wanted!r}: name one by id ({ids})")
    raise StatementError(f"no client has client id or name {wanted!r}")


def build_statement(
    session: Session, client: Client, *, as_of: datetime | None = None
) -> ClientStatement:
    """The statement of ``client`` as the database holds it now."""
    assert client.id is not None
    agents = agent_identities(session)
    requests = requests_of_client(session, client.id, open_only=True)
    orgs: list[OrgStatement] = []
    seen_orgs: set[int] = set()
    links = session.exec(
        select(ClientOrgLink)
        .where(ClientOrgLink.client_id == client.id)
        .order_by(col(ClientOrgLink.portal), col(ClientOrgLink.portal_org_id))
    )
    for link in links:
        org = session.exec(
            select(Org).where(Org.portal == link.portal, Org.portal_org_id == link.portal_org_id)
        ).first()
        if org is None or org.id is None:
            orgs.append(OrgStatement(link.portal, link.portal_org_id, "", read_at=None))
            continue
        seen_orgs.add(org.id)
        orgs.append(_org_statement(session, org, agents, _of_org(requests, org.id)))
    for org_id in sorted({r.org_id for r in requests} - seen_orgs):
        org = session.get(Org, org_id)
        if org is not None:
            orgs.append(_org_statement(session, org, agents, _of_org(requests, org_id)))
    orgs.sort(key=_org_order)
    return ClientStatement(
        client_id=client.id,
        external_id=client.external_id,
        name=client.name,
        contact_email=client.contact_email,
        as_of=as_of or utcnow(),
        orgs=orgs,
    )


_PORTAL_ORDER = {portal.value: i for i, portal in enumerate(Portal)}


def _org_order(org: OrgStatement) -> tuple[int, str, str]:
    return (
        _PORTAL_ORDER.get(org.portal, len(_PORTAL_ORDER)),
        org.org_name.casefold(),
        org.portal_org_id,
    )


def _of_org(requests: Iterable[ClientRequest], org_id: int) -> list[ClientRequest]:
    return [r for r in requests if r.org_id == org_id]


def _org_statement(
    session: Session, org: Org, agents: frozenset[str], requests: list[ClientRequest]
) -> OrgStatement:
    assert org.id is not None
    lines = [
        RequestLine(
            name=r.name,
            email=r.email,
            why_remove=r.why_remove,
            why_client=r.why_client,
            requested_at=r.requested_at,
            reminded_at=r.reminded_at,
        )
        for r in requests
    ]
    scan = latest_ok_scan(session, org.id)
    failed = _failed_since(session, org.id, scan)
    if scan is None or scan.id is None:
        return OrgStatement(
            org.portal,
            org.portal_org_id,
            org.name,
            read_at=None,
            failed_at=failed.finished_at if failed else None,
            failed_reason=(failed.reason or "") if failed else "",
            requests=lines,
        )
    asked = {r.identity for r in requests}
    return OrgStatement(
        org.portal,
        org.portal_org_id,
        org.name,
        read_at=scan.finished_at,
        failed_at=failed.finished_at if failed else None,
        failed_reason=(failed.reason or "") if failed else "",
        people=_people(session, org, scan.id, agents, asked),
        requests=lines,
    )


def _failed_since(session: Session, org_id: int, ok: Scan | None) -> Scan | None:
    """The org's latest agent scan, when it did not succeed and came after the last ok one."""
    latest = session.exec(
        select(Scan)
        .where(Scan.org_id == org_id, Scan.source == "agent")
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
        .limit(1)
    ).first()
    if latest is None or latest.status == "ok" or (ok is not None and latest.id == ok.id):
        return None
    return latest


def _people(
    session: Session, org: Org, scan_id: int, agents: frozenset[str], asked: set[str]
) -> list[PersonLine]:
    rows = [
        o
        for o in session.exec(
            select(Observation).where(Observation.scan_id == scan_id).order_by(col(Observation.id))
        )
        if AccessStatus(o.status).is_access
    ]
    identities = {normalise_with(o.email): o for o in rows}
    findings = {
        f.identity: f
        for f in session.exec(
            select(Finding).where(
                Finding.org_id == org.id, col(Finding.identity).in_(sorted(identities))
            )
        )
    }
    granted = set(
        session.exec(
            select(IntendedAccess.staff_id).where(
                IntendedAccess.portal == org.portal,
                IntendedAccess.portal_org_id == org.portal_org_id,
                grant_in_force(utcnow().date()),
            )
        )
    )
    unmatched = [o.email for i, o in identities.items() if i not in findings]
    first_seen = _first_observed(session, org, unmatched) if unmatched else {}
    people: list[PersonLine] = []
    for identity, row in identities.items():
        finding = findings.get(identity)
        people.append(
            PersonLine(
                name=row.name,
                email=row.email,
                role=row.role,
                status=row.status,
                since=finding.first_seen_at if finding else first_seen.get(identity),
                origin=_origin(identity, finding, agents, granted),
                to_remove=identity in asked,
            )
        )
    people.sort(key=lambda p: (p.name.casefold() or p.email.casefold(), p.email.casefold()))
    return people


def _origin(
    identity: str, finding: Finding | None, agents: frozenset[str], granted: set[int]
) -> Origin:
    if identity in agents:
        return Origin.REVIEW_LOGIN
    if finding is None:
        return Origin.NOT_CHECKED
    cls = finding.finding_class
    if cls == FindingClass.CLIENT_USER:
        return Origin.CLIENT_USER
    if cls == FindingClass.PROBABLE_MATCH:
        return Origin.UNCONFIRMED
    if finding.staff_id is not None:
        return Origin.PRACTICE_GRANT if finding.staff_id in granted else Origin.CLIENT_INVITE
    if cls == FindingClass.UNKNOWN_PRACTICE_USER:
        return Origin.UNKNOWN_PRACTICE
    return Origin.NOT_CHECKED


def _first_observed(session: Session, org: Org, emails: list[str]) -> dict[str, datetime]:
    """When the org's ok agent scans first showed each address (people with no finding)."""
    found: dict[str, datetime] = {}
    for email, first in session.exec(
        select(Observation.email, func.min(Scan.finished_at))
        .join(Scan, col(Scan.id) == col(Observation.scan_id))
        .where(
            Scan.org_id == org.id,
            Scan.status == "ok",
            Scan.source == "agent",
            col(Observation.email).in_(emails),
        )
        .group_by(col(Observation.email))
    ):
        identity = normalise_with(email)
        if identity not in found or first < found[identity]:
            found[identity] = first
    return found
