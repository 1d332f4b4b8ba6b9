"""What is about to stop being allowed: intended access that ends, accepted risks that expire.

Both are permissions with an end date, and a client manager acts on both the same
way before the day (extend it, or take the access away), so they are one list in
date order:

* ``access_end`` — an intended-access row whose ``until`` falls within the horizon;
  once past, it stays on the list while the person still has access to the org (an
  open finding other than ``missing_expected``), since reconcile now reports that
  access as never granted.
* ``accepted_risk`` — a finding whose accepted risk expires within the horizon;
  once past, it stays on the list while the access remains and nobody has decided
  anew (the finding was reopened by the expiry, or is waiting for the next reconcile
  to reopen it).

Past items carry a negative ``days_left``. "Who" for an access end is whoever
imported the access file that holds the row (the latest ``import.access`` audit
event); for a risk, whoever accepted it, with their reason. The list is cut to the
caller's client scope (``agent.security.scope``): an org linked to no client only
for those who see every client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import and_
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, ReviewState
from agent.security.scope import Scope
from agent.services.review import SYSTEM
from agent.storage.models import (
    AuditEvent,
    Client,
    ClientOrgLink,
    Finding,
    FindingReview,
    IntendedAccess,
    Org,
    Staff,
    StaffEmail,
)

__all__ = ["DEFAULT_HORIZON_DAYS", "MAX_HORIZON_DAYS", "ExpiringItem", "ExpiringKind", "expiring"]

DEFAULT_HORIZON_DAYS = 30
#: the furthest ahead the list looks (ten years): beyond it a date is a typing slip
MAX_HORIZON_DAYS = 3650


class ExpiringKind(StrEnum):
    ACCESS_END = "access_end"
    ACCEPTED_RISK = "accepted_risk"


@dataclass(frozen=True, slots=True)
class ExpiringItem:
    """One permission with an end: its last day, and whose access it is."""

    kind: ExpiringKind
    #: the last day it is allowed (``until``, or the risk's expiry)
    ends_on: date
    #: days from today to ``ends_on``; negative once it has passed
    days_left: int
    client_id: int | None
    client: str | None
    client_manager: str | None
    portal: str
    portal_org_id: str
    org_name: str | None
    name: str
    email: str
    role: str
    #: who granted (imported the access file) or accepted the risk
    by: str
    reason: str
    finding_id: int | None = None
    grant_id: int | None = None

    @property
    def expired(self) -> bool:
        return self.days_left < 0


_OrgKey = tuple[str, str]


def expiring(
    session: Session,
    scope: Scope,
    *,
    days: int = DEFAULT_HORIZON_DAYS,
    today: date | None = None,
) -> list[ExpiringItem]:
    """Everything in ``scope`` that ends within ``days`` of ``today`` or has ended with
    the access still there, oldest end first."""
    if not 0 <= days <= MAX_HORIZON_DAYS:
        raise ValueError(f"days must be from 0 to {MAX_HORIZON_DAYS}, not {days}")
    today = today or utcnow().date()
    horizon = today + timedelta(days=days)
    where = _Where(
        today,
        {(o.portal, o.portal_org_id): o for o in session.exec(select(Org))},
        _clients(session),
    )
    items = [*_access_ends(session, horizon, where), *_accepted_risks(session, horizon, where)]
    kept = [i for i in items if scope.allows(i.client_id)]
    return sorted(
        kept, key=lambda i: (i.ends_on, i.kind.value, i.client or "", i.name, i.portal_org_id)
    )


def _clients(session: Session) -> dict[_OrgKey, Client]:
    return {
        (link.portal, link.portal_org_id): client
        for link, client in session.exec(
            select(ClientOrgLink, Client).join(
                Client, col(Client.id) == col(ClientOrgLink.client_id)
            )
        )
    }


@dataclass(frozen=True, slots=True)
class _Where:
    """What an item needs to know of orgs: their names and clients, by portal org id."""

    today: date
    orgs: dict[_OrgKey, Org]
    clients: dict[_OrgKey, Client]

    def item(
        self,
        kind: ExpiringKind,
        ends_on: date,
        key: _OrgKey,
        *,
        name: str,
        email: str,
        role: str,
        by: str,
        reason: str,
        finding_id: int | None = None,
        grant_id: int | None = None,
    ) -> ExpiringItem:
        client = self.clients.get(key)
        org = self.orgs.get(key)
        return ExpiringItem(
            kind=kind,
            ends_on=ends_on,
            days_left=(ends_on - self.today).days,
            client_id=client.id if client else None,
            client=client.name if client else None,
            client_manager=(client.client_manager or None) if client else None,
            portal=key[0],
            portal_org_id=key[1],
            org_name=org.name if org else None,
            name=name,
            email=email,
            role=role,
            by=by,
            reason=reason,
            finding_id=finding_id,
            grant_id=grant_id,
        )


def _access_ends(session: Session, horizon: date, where: _Where) -> list[ExpiringItem]:
    rows = session.exec(
        select(IntendedAccess, Staff)
        .join(Staff, col(Staff.id) == col(IntendedAccess.staff_id))
        .where(col(IntendedAccess.until).is_not(None), col(IntendedAccess.until) <= horizon)
    ).all()
    if not rows:
        return []
    still_there = _still_there(session)
    emails = _primary_emails(session, [s.id for _, s in rows if s.id is not None])
    granted_by = _access_importer(session)
    items: list[ExpiringItem] = []
    for grant, staff in rows:
        assert grant.until is not None
        key = (grant.portal, grant.portal_org_id)
        if grant.until < where.today and (grant.staff_id, *key) not in still_there:
            continue
        items.append(
            where.item(
                ExpiringKind.ACCESS_END,
                grant.until,
                key,
                name=staff.name,
                email=emails.get(grant.staff_id, ""),
                role=grant.role,
                by=granted_by,
                reason="",
                grant_id=grant.id,
            )
        )
    return items


def _still_there(session: Session) -> set[tuple[int, str, str]]:
    """(staff, portal, org id) of every open finding that is access, not its absence."""
    rows = session.exec(
        select(Finding.staff_id, Org.portal, Org.portal_org_id)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.staff_id).is_not(None),
            Finding.finding_class != FindingClass.MISSING_EXPECTED,
        )
    )
    return {(staff_id, portal, org_id) for staff_id, portal, org_id in rows if staff_id}


def _primary_emails(session: Session, staff_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for staff_id, email in session.exec(
        select(StaffEmail.staff_id, StaffEmail.email)
        .where(col(StaffEmail.staff_id).in_(staff_ids))
        .order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.id))
    ):
        found.setdefault(staff_id, email)
    return found


def _access_importer(session: Session) -> str:
    """Who imported the access file now in force (its rows are theirs); "" if unknown."""
    actor = session.exec(
        select(AuditEvent.actor)
        .where(AuditEvent.action == "import.access")
        .order_by(col(AuditEvent.id).desc())
    ).first()
    return actor or ""


def _accepted_risks(session: Session, horizon: date, where: _Where) -> list[ExpiringItem]:
    accepted = select(FindingReview.finding_id).where(
        FindingReview.to_state == ReviewState.ACCEPTED_RISK
    )
    rows = session.exec(
        select(Finding, Org)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.review_state).in_([ReviewState.ACCEPTED_RISK, ReviewState.OPEN]),
            col(Finding.id).in_(accepted),
        )
    ).all()
    history: dict[int, list[FindingReview]] = {}
    for review in session.exec(
        select(FindingReview)
        .join(Finding, col(Finding.id) == col(FindingReview.finding_id))
        .where(
            and_(col(Finding.resolved_at).is_(None), col(FindingReview.finding_id).in_(accepted))
        )
        .order_by(col(FindingReview.id))
    ):
        history.setdefault(review.finding_id, []).append(review)
    items: list[ExpiringItem] = []
    for finding, org in rows:
        assert finding.id is not None
        reviews = history.get(finding.id, [])
        acceptance = next(
            (r for r in reversed(reviews) if r.to_state == ReviewState.ACCEPTED_RISK), None
        )
        if acceptance is None or acceptance.expires_on is None:
            continue
        ends_on = acceptance.expires_on
        if ends_on > horizon:
            continue
        if finding.review_state == ReviewState.OPEN and not (
            ends_on < where.today and _reopened_by_product(reviews)
        ):
            continue  # reopened by a person, or for another reason: no acceptance stands
        items.append(
            where.item(
                ExpiringKind.ACCEPTED_RISK,
                ends_on,
                (org.portal, org.portal_org_id),
                name=finding.name,
                email=finding.email,
                role=finding.role,
                by=acceptance.actor,
                reason=acceptance.reason,
                finding_id=finding.id,
            )
        )
    return items


def _reopened_by_product(reviews: list[FindingReview]) -> bool:
    """Whether the finding's last review change is the product reopening an accepted risk
    (past its expiry, that is the expiry; a person's decision since would be last)."""
    if not reviews:
        return False
    last = reviews[-1]
    return (
        last.actor == SYSTEM
        and last.from_state == ReviewState.ACCEPTED_RISK
        and last.to_state == ReviewState.OPEN
    )
