"""Dashboard sign-in: a pairing code becomes a session cookie, never a bearer token.

A person types a one-time code (``accessrecon pair --user NAME``, or an admin's
Users page) into ``/dashboard/login``. The code is exchanged by
``agent.security.pairing.exchange_pairing_code`` (the same attempt limits, expiry and audit
event as the extension's pairing); the API token it yields is never shown or sent
to the browser: its value is dropped and the session stands on its id, so revoking
that token, or removing the user, ends the session too.

The browser gets a random session id (32 bytes) in a cookie that is ``HttpOnly``,
``SameSite=Strict`` and limited to ``Path=/dashboard``; the database keeps only its
SHA-256 and an expiry. The CSRF token of the session's forms is an HMAC of the
session id: a copy of the database cannot forge it, and it needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.imports import PracticeRole
from agent.security.pairing import exchange_pairing_code
from agent.security.principal import ClientScope, Principal
from agent.security.tokens import hash_secret, revoke_token
from agent.services.review import SYSTEM
from agent.storage.models import ApiToken, AppUser, DashboardSession, Staff

SESSION_BYTES = 32
TOKEN_LABEL = "dashboard sign-in"  # noqa: S105  (a label shown in the token list)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live dashboard session: who, and the session id to put in the cookie."""

    session_id: str
    principal: Principal


def csrf_token(session_id: str) -> str:
    """The token every form of this session carries; derived, so nothing more is stored."""
    return hmac.new(session_id.encode(), b"accessrecon dashboard form", hashlib.sha256).hexdigest()


def csrf_matches(session_id: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(session_id), sent)


def sign_in(session: Session, code: str, *, lifetime: timedelta, client: str) -> SignedIn | None:
    """A new session for a live pairing code, or ``None`` (the failure is counted).

    The caller commits either way, as ``exchange_pairing_code`` asks.
    """
    issued = exchange_pairing_code(session, code, label=TOKEN_LABEL, client=client)
    if issued is None:
        return None
    _end_expired(session)
    session_id = secrets.token_urlsafe(SESSION_BYTES)
    session.add(
        DashboardSession(
            session_hash=hash_secret(session_id),
            token_id=issued.token_id,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return SignedIn(session_id, issued.principal)


def _end_expired(session: Session) -> None:
    """Revoke the tokens of sessions past their expiry, so no idle token stays live."""
    expired = list(
        session.exec(select(DashboardSession).where(col(DashboardSession.expires_at) <= utcnow()))
    )
    for row in expired:
        revoke_token(session, row.token_id, actor=SYSTEM)
        session.delete(row)
    session.flush()


def principal_for(session: Session, session_id: str) -> Principal | None:
    """The user of a live session: unexpired, and its token not revoked."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.exec(
        select(ApiToken.id, AppUser.id, AppUser.name, AppUser.role, AppUser.scope, Staff.name)
        .select_from(DashboardSession)
        .join(ApiToken, col(ApiToken.id) == col(DashboardSession.token_id))
        .join(AppUser, col(AppUser.id) == col(ApiToken.user_id))
        .join(Staff, col(Staff.id) == col(AppUser.staff_id), isouter=True)
        .where(
            col(DashboardSession.session_hash) == hash_secret(session_id),
            col(DashboardSession.expires_at) > utcnow(),
            col(ApiToken.revoked_at).is_(None),
        )
    ).first()
    if row is None:
        return None
    token_id, user_id, name, role, scope, staff_name = row
    return Principal(
        user_id=user_id,
        name=name,
        role=PracticeRole(role),
        scope=ClientScope(scope),
        staff_name=staff_name,
        token_id=token_id,
    )


def sign_out(session: Session, session_id: str, principal: Principal) -> None:
    """End the session and revoke its token (``auth.token_revoked`` in the audit log)."""
    session.exec(
        delete(DashboardSession).where(  # type: ignore[call-overload]
            col(DashboardSession.session_hash) == hash_secret(session_id)
        )
    )
    if principal.token_id is not None:
        revoke_token(session, principal.token_id, actor=principal.actor)
