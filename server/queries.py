"""What the API reads, always through the caller's client scope.

Plain functions over a session: the routes stay short, and every query that returns
client data takes a ``Scope`` argument, so leaving the scope out is a type error
rather than a leak. Scope rules are ``agent.security.scope``'s: an org is visible when its
client is in scope; an org linked to no client only to an all-clients scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from agent.domain import FindingClass, Severity
from agent.reconcile.identity import normalise_email
from agent.security.scope import Scope, normalise_person_name
from agent.services.finding_lists import FindingRow
from agent.services.staff import emails_of
from agent.storage.links import client_of, join_client
from agent.storage.models import (
    Client,
    Crawl,
    Finding,
    Org,
    Scan,
    ScanRequest,
    Staff,
    StaffEmail,
)
from server.schemas import FindingFilter, FindingOut

SEVERITY_ORDER = case({s.value: s.rank for s in Severity}, value=col(Finding.severity), else_=99)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scope_condition(scope: Scope) -> ColumnElement[bool] | None:
    """The WHERE clause keeping rows (joined to ``Client``, outer) inside ``scope``."""
    if scope.client_ids is None:
        return None
    return col(Client.id).in_(sorted(scope.client_ids))


def clients_managed_by(session: Session, manager: str) -> list[int]:
    """Clients whose manager is ``manager``, compared as ``agent.security.scope`` compares names."""
    wanted = normalise_person_name(manager)
    return [
        cid
        for cid, name in session.exec(select(Client.id, Client.client_manager))
        if cid is not None and normalise_person_name(name) == wanted
    ]


def _findings_query(session: Session, scope: Scope, flt: FindingFilter) -> Any:
    query = join_client(select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id)))
    in_scope = scope_condition(scope)
    if in_scope is not None:
        query = query.where(in_scope)
    if not flt.include_resolved:
        query = query.where(col(Finding.resolved_at).is_(None))
    if flt.finding_class:
        query = query.where(col(Finding.finding_class).in_([c.value for c in flt.finding_class]))
    elif flt.problems_only:
        query = query.where(
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem])
        )
    if flt.severity:
        query = query.where(col(Finding.severity).in_([s.value for s in flt.severity]))
    if flt.review_state:
        query = query.where(col(Finding.review_state).in_([s.value for s in flt.review_state]))
    if flt.access_status:
        query = query.where(col(Finding.access_status).in_([s.value for s in flt.access_status]))
    if flt.portal:
        query = query.where(Org.portal == flt.portal.value)
    if flt.staff_id is not None:
        query = query.where(Finding.staff_id == flt.staff_id)
    if flt.person:
        person = flt.person.strip()
        if "@" in person:
            # The identity is the normalised address (a plus-tag on any domain dropped),
            # so every spelling of the mailbox finds it; the shown address as well, for
            # rows reconciled before a rule changed.
            wanted = normalise_email(person)
            query = query.where(
                (col(Finding.identity) == wanted) | (func.lower(col(Finding.email)) == wanted)
            )
        else:
            # The name the portal shows, or the roster's name of the matched staff member.
            pattern = _like(person)
            staff = select(Staff.id).where(col(Staff.name).ilike(pattern, escape="\\"))
            query = query.where(
                col(Finding.name).ilike(pattern, escape="\\") | col(Finding.staff_id).in_(staff)
            )
    if flt.client_manager is not None:
        query = query.where(col(Client.id).in_(clients_managed_by(session, flt.client_manager)))
    if flt.text:
        pattern = _like(flt.text.strip())
        query = query.where(
            col(Finding.email).ilike(pattern, escape="\\")
            | col(Finding.name).ilike(pattern, escape="\\")
            | col(Org.name).ilike(pattern, escape="\\")
            | col(Org.portal_org_id).ilike(pattern, escape="\\")
            | col(Client.name).ilike(pattern, escape="\\")
        )
    return query


def finding_out(finding: Finding, org: Org, client: Client | None) -> FindingOut:
    """The API's shape of a finding: validated from ``FindingRow``, the one place it is built."""
    return FindingOut.model_validate(FindingRow.of(finding, org, client), from_attributes=True)


def _worst_first(query: Any) -> Any:
    return query.order_by(SEVERITY_ORDER, col(Org.name), col(Finding.email), col(Finding.id))


def list_findings(
    session: Session,
    scope: Scope,
    flt: FindingFilter,
    *,
    limit: int,
    offset: int = 0,
    exclude_classes: Sequence[FindingClass] = (),
) -> tuple[list[FindingOut], int]:
    """One page of findings, worst first, and how many match in all."""
    query = _findings_query(session, scope, flt)
    if exclude_classes:
        query = query.where(col(Finding.finding_class).not_in([c.value for c in exclude_classes]))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = _worst_first(query).offset(offset).limit(limit)
    return [finding_out(f, o, c) for f, o, c in session.exec(query)], total


def finding_rows(session: Session, scope: Scope, flt: FindingFilter) -> list[FindingRow]:
    """Every finding ``flt`` matches in scope, worst first: what the findings export writes."""
    query = _worst_first(_findings_query(session, scope, flt))
    return [FindingRow.of(f, o, c) for f, o, c in session.exec(query)]


def get_finding(session: Session, scope: Scope, finding_id: int) -> FindingOut | None:
    """One finding, or ``None`` if it does not exist or is outside the scope."""
    query = _findings_query(session, scope, FindingFilter(include_resolved=True))
    row = session.exec(query.where(col(Finding.id) == finding_id)).first()
    return finding_out(*row) if row else None


# -- people ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffRow:
    id: int
    name: str
    status: str
    left_on: object
    practice_role: str
    emails: list[str]


def search_staff(
    session: Session, *, text: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[StaffRow], int]:
    """The roster, by name or email. It is the practice's own list, not client data."""
    query = select(Staff)
    if text:
        pattern = _like(text.strip())
        matching = select(StaffEmail.staff_id).where(
            col(StaffEmail.email).ilike(pattern, escape="\\")
        )
        query = query.where(
            col(Staff.name).ilike(pattern, escape="\\") | col(Staff.id).in_(matching)
        )
    if status:
        query = query.where(Staff.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(
        session.exec(query.order_by(col(Staff.name), col(Staff.id)).offset(offset).limit(limit))
    )
    return [_staff_row(session, s) for s in rows], total


def get_staff(session: Session, staff_id: int) -> StaffRow | None:
    staff = session.get(Staff, staff_id)
    return _staff_row(session, staff) if staff else None


def _staff_row(session: Session, staff: Staff) -> StaffRow:
    assert staff.id is not None
    emails = emails_of(session, staff.id)
    return StaffRow(
        id=staff.id,
        name=staff.name,
        status=staff.status,
        left_on=staff.left_on,
        practice_role=staff.practice_role,
        emails=emails,
    )


# -- scans ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrawlRow:
    id: int
    trigger: str
    portal: str | None
    started_at: object
    finished_at: object
    status: str
    scans_ok: int
    scans_failed: int


def list_crawls(
    session: Session, scope: Scope, *, limit: int, offset: int
) -> tuple[list[CrawlRow], int]:
    """Crawl history, newest first, with the scans of orgs in scope counted."""
    total = session.exec(select(func.count()).select_from(Crawl)).one()
    crawls = list(
        session.exec(
            select(Crawl)
            .order_by(col(Crawl.started_at).desc(), col(Crawl.id).desc())
            .offset(offset)
            .limit(limit)
        )
    )
    ids = [c.id for c in crawls]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        query = (
            join_client(
                select(Scan.crawl_id, Scan.status, func.count()).join(
                    Org, col(Org.id) == col(Scan.org_id)
                )
            )
            .where(col(Scan.crawl_id).in_(ids))
            .group_by(col(Scan.crawl_id), col(Scan.status))
        )
        in_scope = scope_condition(scope)
        if in_scope is not None:
            query = query.where(in_scope)
        counts = {(crawl_id, status): n for crawl_id, status, n in session.exec(query)}
    return [
        CrawlRow(
            id=c.id,
            trigger=c.trigger,
            portal=c.portal,
            started_at=c.started_at,
            finished_at=c.finished_at,
            status=c.status,
            scans_ok=counts.get((c.id, "ok"), 0),
            scans_failed=counts.get((c.id, "failed"), 0),
        )
        for c in crawls
        if c.id is not None
    ], total


def request_in_scope(session: Session, scope: Scope, request: ScanRequest) -> bool:
    """An org's request is visible with the org; a whole login's only to all-clients scope."""
    if request.portal is not None and request.portal_org_id is not None:
        client = client_of(session, request.portal, request.portal_org_id)
        return scope.allows(client.id if client else None)
    return scope.everything


# -- dashboard ------------------------------------------------------------------------


def count_findings(
    session: Session, scope: Scope, flt: FindingFilter
) -> dict[tuple[str, str], int]:
    """How many findings match, by (class, severity): the overview's tiles."""
    query = (
        _findings_query(session, scope, flt)
        .with_only_columns(col(Finding.finding_class), col(Finding.severity), func.count())
        .group_by(col(Finding.finding_class), col(Finding.severity))
    )
    return {(cls, sev): n for cls, sev, n in session.exec(query)}


def open_problems_at(session: Session, scope: Scope, at: object) -> int:
    """Problem findings in scope that were open at ``at`` (seen by then, not yet resolved).

    A finding is counted under its class of today: the trend shows how much was open,
    not what it was called then.
    """
    query = _findings_query(
        session, scope, FindingFilter(problems_only=True, include_resolved=True)
    )
    query = query.where(
        col(Finding.first_seen_at) <= at,
        col(Finding.resolved_at).is_(None) | (col(Finding.resolved_at) > at),
    )
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def org_findings(session: Session, scope: Scope, org_id: int) -> list[FindingOut]:
    """An org's open findings in scope, worst first: the org page's table, with finding ids."""
    query = _findings_query(session, scope, FindingFilter()).where(col(Finding.org_id) == org_id)
    query = query.order_by(SEVERITY_ORDER, col(Finding.name), col(Finding.email))
    return [finding_out(f, o, c) for f, o, c in session.exec(query)]


def failures_by_crawl(
    session: Session, scope: Scope, crawl_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Failed scans of orgs in scope per crawl, counted by reason."""
    if not crawl_ids:
        return {}
    query = (
        join_client(
            select(Scan.crawl_id, Scan.reason, func.count()).join(
                Org, col(Org.id) == col(Scan.org_id)
            )
        )
        .where(col(Scan.crawl_id).in_(list(crawl_ids)), Scan.status != "ok")
        .group_by(col(Scan.crawl_id), col(Scan.reason))
    )
    in_scope = scope_condition(scope)
    if in_scope is not None:
        query = query.where(in_scope)
    found: dict[int, dict[str, int]] = {}
    for crawl_id, reason, n in session.exec(query):
        found.setdefault(crawl_id, {})[reason or "unconfirmed"] = n
    return found


def managers_in_scope(session: Session, scope: Scope) -> list[str]:
    """The client managers of the clients in scope, for a filter's choices."""
    query = select(Client.client_manager).distinct().where(col(Client.client_manager) != "")
    if scope.client_ids is not None:
        query = query.where(col(Client.id).in_(sorted(scope.client_ids)))
    return sorted(set(session.exec(query)), key=str.casefold)


def recent_requests(session: Session, scope: Scope, *, limit: int) -> list[ScanRequest]:
    """The newest scan requests the scope may see, newest first."""
    rows = session.exec(
        select(ScanRequest)
        .order_by(col(ScanRequest.requested_at).desc(), col(ScanRequest.id).desc())
        .limit(limit * 4 if scope.client_ids is not None else limit)
    )
    return [r for r in rows if request_in_scope(session, scope, r)][:limit]
