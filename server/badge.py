"""The badge lookup: the caller, its scope and the org's status, in one thread hop.

The extension asks for an org's status on every tab switch and page load, for every
member of staff, so this is the API's hottest path. The status is
``agent.services.status.org_status``, read on the same connection as the caller;
the caller (token, user, scope) and the org's client are one prepared statement
here, so an answer costs three queries and a cached one costs one, and the route
makes one trip to the thread pool for all of it.

The answer also names the agent's own logins in the org (the login that lists it,
and any other login of the practice its last ok scan showed). Reconcile never
classifies them, so without this a person looking at the org's users page would see
an unlabelled robot account and might remove it, and with it the org's scans. The
statement that reads the caller reads them too, on a cache miss only.

``BadgeCache`` keeps each org's answer, serialised, for a couple of seconds. Who
asks is checked on every request (the token, and the org's client against the
caller's scope, both read fresh), so only the status itself can be that old: a
crawl's result shows up within the cache's lifetime, and a change made through this
server (a capture, a review, an import) empties the cache at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, func, or_, select
from sqlmodel import col

from agent.domain import ScanStatus
from agent.security.principal import Principal
from agent.security.scope import scope_admits
from agent.security.tokens import lookup_hash, principal_from_row
from agent.services.status import OrgStatus, org_status
from agent.storage.links import join_client
from agent.storage.models import (
    ApiToken,
    AppUser,
    AppUserClient,
    Client,
    Observation,
    Org,
    PortalLogin,
    Scan,
    Staff,
)


class NotVisible(LookupError):
    """The org is unknown, or outside the caller's scope: both answer 404."""


class Unauthenticated(PermissionError):
    """No valid token."""


#: Between the agent's login emails in one column: a control character no email holds.
_LOGIN_SEPARATOR = "\x1f"

_LATEST_OK_SCAN = (
    select(col(Scan.id))
    .where(col(Scan.org_id) == col(Org.id), col(Scan.status) == ScanStatus.OK.value)
    .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
    .limit(1)
    .correlate(Org)
    .scalar_subquery()
)

#: The agent's own logins in the org, in one column: the login that lists the org, and
#: any login of the same portal that the org's last ok scan showed.
_AGENT_LOGINS = (
    select(func.aggregate_strings(col(PortalLogin.email), _LOGIN_SEPARATOR))
    .where(
        col(PortalLogin.portal) == col(Org.portal),
        or_(
            col(PortalLogin.id) == col(Org.login_id),
            func.lower(PortalLogin.email).in_(
                select(func.lower(Observation.email)).where(
                    col(Observation.scan_id) == _LATEST_OK_SCAN
                )
            ),
        ),
    )
    .correlate(Org)
    .scalar_subquery()
)


def _caller_and_org(*extra: Any) -> Any:
    """The caller and the org asked for in one statement, with ``extra`` columns after."""
    return join_client(
        select(
            # the caller, in ``agent.security.tokens.principal_from_row``'s order
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
            *extra,
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
    ).where(col(ApiToken.token_hash) == bindparam("token_hash"), col(ApiToken.revoked_at).is_(None))


_CALLER_AND_ORG = _caller_and_org()
_CALLER_ORG_AND_AGENT_LOGINS = _caller_and_org(_AGENT_LOGINS)


@dataclass(frozen=True, slots=True)
class BadgeLookup:
    principal: Principal
    status: OrgStatus
    #: the agent's own logins in the org, by email, sorted: to keep, never to remove
    agent_logins: tuple[str, ...] = ()


def badge_lookup(
    engine: Engine, token: str | None, portal: str, portal_org_id: str, *, stale_after: timedelta
) -> BadgeLookup:
    """The caller, the org's status and the agent's logins in it; raises
    ``Unauthenticated`` or ``NotVisible``."""
    with engine.connect() as connection:
        row = _caller_row(connection, _CALLER_ORG_AND_AGENT_LOGINS, token, portal, portal_org_id)
        principal = _visible_to(row)
        status = org_status(connection, portal, portal_org_id, stale_after=stale_after)
    if status is None:
        raise NotVisible
    return BadgeLookup(principal, status, _login_emails(row[10]))


def _login_emails(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted({e for e in (joined or "").split(_LOGIN_SEPARATOR) if e}, key=str.casefold))


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
    render: Callable[[OrgStatus, Sequence[str], bool], bytes],
) -> tuple[Principal, bytes]:
    """The caller and the org's serialised status, from the cache when it is fresh.

    The token and the scope are checked against the database every time; raises
    ``Unauthenticated`` or ``NotVisible`` like ``badge_lookup``.
    """
    key = (portal, portal_org_id, include_people)
    body = cache.get(key)
    if body is None:
        found = badge_lookup(engine, token, portal, portal_org_id, stale_after=stale_after)
        body = render(found.status, found.agent_logins, include_people)
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
    return _visible_to(_caller_row(connection, _CALLER_AND_ORG, token, portal, portal_org_id))


def _caller_row(
    connection: Connection, statement: Any, token: str | None, portal: str, portal_org_id: str
) -> Sequence[Any]:
    token_hash = lookup_hash(token) if token else None
    if token_hash is None:
        raise Unauthenticated
    row = connection.execute(
        statement, {"token_hash": token_hash, "portal": portal, "portal_org_id": portal_org_id}
    ).first()
    if row is None:
        raise Unauthenticated
    return row


def _visible_to(row: Sequence[Any]) -> Principal:
    """The caller of ``row``, if the org is theirs to see; ``NotVisible`` otherwise."""
    principal = principal_from_row(*row[:6])
    org_id, client_id, manager, selected = row[6:10]
    if org_id is None or not scope_admits(principal, client_id, manager, selected=selected):
        raise NotVisible
    return principal
