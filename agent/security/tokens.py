"""Bearer tokens: how a request proves which user sent it.

A successful pairing (``agent.security.pairing``) returns a bearer token: ``art_``
and 32 random bytes in url-safe base64. Only its SHA-256 is stored: a copy of the
database does not let anyone use the API. Tokens are listed (never shown again) and
revocable; revocation takes effect on the next request. A 256-bit random token needs
no slow hash: there is nothing to guess.

A token seen in a URL (a query string such as ``?access_token=``) has been written
to server logs and browser history, so the server revokes it on sight
(``revoke_leaked_token``): the holder pairs again and sends the new token only in
the ``Authorization`` header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.imports import PracticeRole
from agent.security.audit import DETAIL_TEXT_LENGTH, record
from agent.security.principal import AuthError, ClientScope, Principal
from agent.storage.models import ApiToken, AppUser, DashboardSession, Staff

__all__ = [
    "LONGEST_TOKEN",
    "TOKEN_BYTES",
    "TOKEN_PREFIX",
    "LeakedToken",
    "TokenSummary",
    "authenticate",
    "authenticate_on",
    "hash_secret",
    "list_tokens",
    "lookup_hash",
    "principal_from_row",
    "revoke_leaked_token",
    "revoke_token",
]

TOKEN_PREFIX = "art_"  # noqa: S105  (a marker for secret scanners, not a secret)
TOKEN_BYTES = 32
#: Anything longer is not a token (or dashboard session id) of ours, so it is not even hashed.
LONGEST_TOKEN = 200


@dataclass(frozen=True, slots=True)
class TokenSummary:
    id: int
    user_id: int
    user_name: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeakedToken:
    """A token (or dashboard session) that was sent in a URL, and whether this revoked it."""

    token_id: int
    user_id: int
    #: ``False`` when it had been revoked already (this URL was a second leak, or a late one)
    revoked_now: bool


LEAKED_IN_URL = "sent in a URL, where logs and browser history keep it"


def hash_secret(value: str) -> str:
    """The stored form of a token, pairing code or session id: its SHA-256, in hex."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


_AUTHENTICATE = (
    select(ApiToken.id, AppUser.id, AppUser.name, AppUser.role, AppUser.scope, Staff.name)
    .select_from(ApiToken)
    .join(AppUser, col(AppUser.id) == col(ApiToken.user_id))
    .join(Staff, col(Staff.id) == col(AppUser.staff_id), isouter=True)
    .where(col(ApiToken.token_hash) == bindparam("token_hash"), col(ApiToken.revoked_at).is_(None))
)
"""Built once: authentication runs on every request, so it skips statement building."""


def authenticate(session: Session, token: str) -> Principal | None:
    """The user a bearer token belongs to, or ``None`` if it is unknown or revoked."""
    return authenticate_on(session.connection(), token)


def authenticate_on(connection: Connection, token: str) -> Principal | None:
    """``authenticate`` on a plain connection."""
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    row = connection.execute(_AUTHENTICATE, {"token_hash": token_hash}).first()
    return None if row is None else principal_from_row(*row)


def lookup_hash(token: str) -> str | None:
    """The stored form of a token to look up, or ``None`` for one that cannot be ours."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > LONGEST_TOKEN:
        return None
    return hash_secret(token)


def principal_from_row(
    token_id: int, user_id: int, name: str, role: str, scope: str, staff_name: str | None
) -> Principal:
    """A caller from the columns ``_AUTHENTICATE`` selects, in its order."""
    return Principal(
        user_id=user_id,
        name=name,
        role=PracticeRole(role),
        scope=ClientScope(scope),
        staff_name=staff_name,
        token_id=token_id,
    )


def list_tokens(session: Session, *, user_id: int | None = None) -> list[TokenSummary]:
    query = (
        select(ApiToken, AppUser.name)
        .join(AppUser, col(AppUser.id) == col(ApiToken.user_id))
        .order_by(col(ApiToken.id))
    )
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [
        TokenSummary(
            id=t.id,
            user_id=t.user_id,
            user_name=name,
            label=t.label,
            created_at=t.created_at,
            revoked_at=t.revoked_at,
        )
        for t, name in session.exec(query)
        if t.id is not None
    ]


def revoke_token(
    session: Session,
    token_id: int,
    *,
    actor: str,
    owner_id: int | None = None,
    reason: str = "",
) -> TokenSummary:
    """Revoke a token (a user's own only, when ``owner_id`` is given); revoking twice is a no-op.

    ``reason`` is kept in the audit event when the revocation is not a person's choice.
    """
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise AuthError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        detail: dict[str, object] = {
            "token_id": token_id,
            "user_id": token.user_id,
            "label": token.label,
        }
        if reason:
            detail["reason"] = reason[:DETAIL_TEXT_LENGTH]
        record(session, actor=actor, action="auth.token_revoked", detail=detail)
        session.flush()
    user = session.get(AppUser, token.user_id)
    assert token.id is not None
    return TokenSummary(
        id=token.id,
        user_id=token.user_id,
        user_name=user.name if user else "",
        label=token.label,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )


def revoke_leaked_token(session: Session, value: str) -> LeakedToken | None:
    """Revoke the token ``value`` is, if it is one of ours; ``None`` if it matches nothing.

    ``value`` may be an API token (``art_…``, with or without ``Bearer``) or a dashboard
    session id, whose token is revoked (ending that session). The audit event names
    the reason; the value itself is never recorded.
    """
    text = value.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    if not text or len(text) > LONGEST_TOKEN:
        return None
    digest = hash_secret(text)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None:
        dashboard = session.exec(
            select(DashboardSession).where(DashboardSession.session_hash == digest)
        ).first()
        token = session.get(ApiToken, dashboard.token_id) if dashboard is not None else None
    if token is None or token.id is None:
        return None
    live = token.revoked_at is None
    revoke_token(session, token.id, actor="system", reason=LEAKED_IN_URL)
    return LeakedToken(token_id=token.id, user_id=token.user_id, revoked_now=live)
