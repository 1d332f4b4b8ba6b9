"""The badge lookup: token, scope and org status from prepared queries, in one thread hop.

The extension asks for an org's status on every tab switch and page load, for every
member of staff, so this is the API's hottest path. ``agent.services.status.org_status``
answers the same question through the ORM in seven queries; here the statements are
built once at import with bound parameters, rows come back as plain tuples, and the
route makes one trip to the thread pool for all of it. The caller (token, user, scope)
and the org's client are one statement, so a cached answer costs one query. The
answer is the same ``OrgStatus`` (a test compares the two on every kind of org).

``BadgeCache`` keeps each org's answer, serialised, for a couple of seconds. Who
asks is checked on every request (the token, and the org's client against the
caller's scope, both read fresh), so only the status itself can be that old: a
crawl's result shows up within the cache's lifetime, and a change made through this
server (a capture, a review, an import) empties the cache at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, func, select
from sqlmodel import col

from agent.clock import utcnow
from agent.domain import FindingClass, ScanStatus, Severity
from agent.security.auth import Principal, lookup_hash, principal_from_row, scope_admits
from agent.services.status import OrgStatus, PersonStatus
from agent.storage.models import (
    ApiToken,
    AppUser,
    AppUserClient,
    Client,
    ClientOrgLink,
    Finding,
    Org,
    Scan,
    Staff,
)


class NotVisible(LookupError):
    """The org is unknown, or outside the caller's scope: both answer 404."""


class Unauthenticated(PermissionError):
    """No valid token."""


def _latest_scan(column: Any) -> Any:
    return (
        select(column)
        .where(col(Scan.org_id) == col(Org.id))
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
        .limit(1)
        .scalar_subquery()
    )


_ORG = (
    select(
        Org.id,
        Org.portal,
        Org.portal_org_id,
        Org.name,
        Client.id,
        Client.name,
        Client.client_manager,
        Client.archived,
        select(func.max(Scan.finished_at))
        .where(col(Scan.org_id) == col(Org.id), col(Scan.status) == ScanStatus.OK.value)
        .scalar_subquery(),
        _latest_scan(Scan.finished_at),
        _latest_scan(Scan.status),
        _latest_scan(Scan.reason),
    )
    .select_from(Org)
    .join(
        ClientOrgLink,
        (col(ClientOrgLink.portal) == col(Org.portal))
        & (col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id)),
        isouter=True,
    )
    .join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)
    .where(
        col(Org.portal) == bindparam("portal"), col(Org.portal_org_id) == bindparam("portal_org_id")
    )
)

_CALLER_AND_ORG = (
    select(
        # the caller, in ``agent.security.auth.principal_from_row``'s order
        ApiToken.id,
        AppUser.id,
        AppUser.name,
        AppUser.role,
        AppUser.scope,
        Staff.name,
        # the org asked for (none when unknown), its client, and whether the caller
        # selected that client
        Org.id,
        Client.id,
        Client.client_manager,
        exists().where(
            col(AppUserClient.user_id) == col(AppUser.id),
            col(AppUserClient.client_id) == col(Client.id),
        ),
    )
    .select_from(ApiToken)
    .join(AppUser, col(AppUser.id) == col(ApiToken.user_id))
    .join(Staff, col(Staff.id) == col(AppUser.staff_id), isouter=True)
    .join(
        Org,
        (col(Org.portal) == bindparam("portal"))
        & (col(Org.portal_org_id) == bindparam("portal_org_id")),
        isouter=True,
    )
    .join(
        ClientOrgLink,
        (col(ClientOrgLink.portal) == col(Org.portal))
        & (col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id)),
        isouter=True,
    )
    .join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)
    .where(col(ApiToken.token_hash) == bindparam("token_hash"), col(ApiToken.revoked_at).is_(None))
)

_FINDINGS = select(
    Finding.email,
    Finding.name,
    Finding.finding_class,
    Finding.severity,
    Finding.review_state,
    Finding.access_status,
    Finding.role,
    Finding.removable_by,
    Finding.detail,
).where(col(Finding.org_id) == bindparam("org_id"), col(Finding.resolved_at).is_(None))


@dataclass(frozen=True, slots=True)
class BadgeLookup:
    principal: Principal
    status: OrgStatus


def badge_lookup(
    engine: Engine, token: str | None, portal: str, portal_org_id: str, *, stale_after: timedelta
) -> BadgeLookup:
    """The caller and the org's status; raises ``Unauthenticated`` or ``NotVisible``."""
    with engine.connect() as connection:
        principal = caller_for_org(connection, token, portal, portal_org_id)
        row = connection.execute(_ORG, {"portal": portal, "portal_org_id": portal_org_id}).first()
        if row is None:
            raise NotVisible
        (
            org_id,
            org_portal,
            org_key,
            org_name,
            client_id,
            client_name,
            manager,
            archived,
            last_ok_at,
            last_at,
            last_status,
            last_reason,
        ) = row
        people = [PersonStatus(*f) for f in connection.execute(_FINDINGS, {"org_id": org_id})]
    people.sort(key=lambda p: (Severity(p.severity).rank, p.name.casefold()))
    problems = [p for p in people if FindingClass(p.finding_class).is_problem]
    worst = min((Severity(p.severity) for p in problems), key=lambda s: s.rank, default=None)
    stale = last_ok_at is not None and (utcnow() - last_ok_at) > stale_after
    return BadgeLookup(
        principal,
        OrgStatus(
            portal=org_portal,
            portal_org_id=org_key,
            name=org_name,
            client=client_name,
            client_manager=manager if client_id is not None else None,
            client_archived=bool(archived),
            last_ok_scan_at=last_ok_at,
            last_scan_at=last_at,
            last_scan_status=ScanStatus(last_status) if last_status else None,
            last_scan_reason=last_reason,
            stale=stale,
            worst_severity=worst.value if worst else None,
            open_problems=len(problems),
            counts_by_class=dict(Counter(p.finding_class for p in people)),
            counts_by_severity=dict(Counter(p.severity for p in people)),
            people=people,
        ),
    )


class BadgeCache:
    """Serialised badge answers per org for ``ttl`` seconds; ``ttl <= 0`` turns it off."""

    def __init__(self, ttl: float, *, max_entries: int = 20_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str, bool], tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, bool]) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: tuple[str, str, bool], body: bytes) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cached_badge(
    engine: Engine,
    cache: BadgeCache,
    token: str | None,
    portal: str,
    portal_org_id: str,
    *,
    include_people: bool,
    stale_after: timedelta,
    render: Callable[[OrgStatus, bool], bytes],
) -> tuple[Principal, bytes]:
    """The caller and the org's serialised status, from the cache when it is fresh.

    The token and the scope are checked against the database every time; raises
    ``Unauthenticated`` or ``NotVisible`` like ``badge_lookup``.
    """
    key = (portal, portal_org_id, include_people)
    body = cache.get(key)
    if body is None:
        found = badge_lookup(engine, token, portal, portal_org_id, stale_after=stale_after)
        body = render(found.status, include_people)
        cache.put(key, body)
        return found.principal, body
    with engine.connect() as connection:
        principal = caller_for_org(connection, token, portal, portal_org_id)
    return principal, body


def caller_for_org(
    connection: Connection, token: str | None, portal: str, portal_org_id: str
) -> Principal:
    """Who is asking, if the org is theirs to see, in one query.

    Raises ``Unauthenticated`` for a missing, unknown or revoked token, and
    ``NotVisible`` for an org never listed or outside the caller's scope.
    """
    token_hash = lookup_hash(token) if token else None
    if token_hash is None:
        raise Unauthenticated
    row = connection.execute(
        _CALLER_AND_ORG,
        {"token_hash": token_hash, "portal": portal, "portal_org_id": portal_org_id},
    ).first()
    if row is None:
        raise Unauthenticated
    principal = principal_from_row(*row[:6])
    org_id, client_id, manager, selected = row[6:]
    if org_id is None or not scope_admits(principal, client_id, manager, selected=selected):
        raise NotVisible
    return principal
