"""Pairing: how a person gets a token without anyone typing a secret into a form.

An admin issues a one-time code for a user (``accessrecon pair`` or the dashboard).
The code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31**8,
about 8.5e11 values. It expires after 5 minutes and every failed exchange counts
against every live code, so after 5 wrong guesses all codes then live are burnt,
whichever code the guesser was after. Only the code's SHA-256 is stored. A good code
is exchanged for a bearer token (``agent.security.tokens``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.imports import PracticeRole
from agent.security.audit import DETAIL_TEXT_LENGTH, record
from agent.security.principal import AuthError, ClientScope, Principal
from agent.security.tokens import TOKEN_BYTES, TOKEN_PREFIX, hash_secret
from agent.storage.models import ApiToken, AppUser, PairingCode, Staff
from agent.storage.widths import fit

__all__ = [
    "CLIENT_LENGTH",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "IssuedCode",
    "IssuedToken",
    "exchange_pairing_code",
    "format_code",
    "issue_pairing_code",
    "normalise_code",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=5)
MAX_CODE_ATTEMPTS = 5
#: How much of the exchanging client's own description (its Origin header, which anyone
#: can set) the audit log and the server log keep.
CLIENT_LENGTH = 100


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime
    user_id: int
    user_name: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: int
    principal: Principal


def normalise_code(code: str) -> str:
    """A code as typed: any case, spaces and hyphens ignored."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def format_code(code: str) -> str:
    """``ABCD-EFGH``: easier to read out and type than eight letters in a row."""
    return f"{code[:4]}-{code[4:]}"


def issue_pairing_code(
    session: Session, *, user_id: int, actor: str, ttl: timedelta = CODE_TTL, note: str = ""
) -> IssuedCode:
    """A new one-time code for ``user_id``; shown once, stored only as its hash."""
    user = session.get(AppUser, user_id)
    if user is None:
        raise AuthError(f"no user with id {user_id}")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = utcnow() + ttl
    row = PairingCode(user_id=user_id, code_hash=hash_secret(code), expires_at=expires)
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="auth.pairing_code_issued",
        detail={
            "user_id": user_id,
            "pairing_code_id": row.id,
            "expires_at": expires.isoformat(),
            "note": note[:DETAIL_TEXT_LENGTH],
        },
    )
    return IssuedCode(code=code, expires_at=expires, user_id=user_id, user_name=user.name)


def exchange_pairing_code(
    session: Session, code: str, *, label: str = "", client: str = ""
) -> IssuedToken | None:
    """A token for a live code, or ``None`` (the failed attempt is counted in ``session``).

    The caller commits either way: a failed attempt must be remembered, or the
    attempt limit would mean nothing.
    """
    now = utcnow()
    wanted = normalise_code(code)
    row = None
    if len(wanted) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in wanted):
        row = session.exec(
            select(PairingCode).where(PairingCode.code_hash == hash_secret(wanted))
        ).first()
    claimed = 0
    if row is not None:
        claimed = session.exec(  # type: ignore[call-overload]
            update(PairingCode)
            .where(
                col(PairingCode.id) == row.id,
                col(PairingCode.used_at).is_(None),
                col(PairingCode.expires_at) > now,
                col(PairingCode.attempts) < MAX_CODE_ATTEMPTS,
            )
            .values(used_at=now)
        ).rowcount
    if row is None or claimed != 1:
        burnt = session.exec(  # type: ignore[call-overload]
            update(PairingCode)
            .where(
                col(PairingCode.used_at).is_(None),
                col(PairingCode.expires_at) > now,
                col(PairingCode.attempts) < MAX_CODE_ATTEMPTS,
            )
            .values(attempts=col(PairingCode.attempts) + 1)
        ).rowcount
        if burnt:
            # Only attempts that count against a live code are recorded, so a flood of
            # guesses cannot grow the audit log without bound.
            record(
                session,
                actor=client or "unknown",
                action="auth.pairing_failed",
                detail={"live_codes": burnt},
            )
        return None
    user = session.get(AppUser, row.user_id)
    assert user is not None
    assert user.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    stored = ApiToken(
        user_id=user.id, token_hash=hash_secret(token), label=fit(label, ApiToken.label)
    )
    session.add(stored)
    session.flush()
    assert stored.id is not None
    row.token_id = stored.id
    session.add(row)
    principal = _principal(session, user, stored.id)
    record(
        session,
        actor=principal.actor,
        action="auth.signed_in",
        detail={
            "token_id": stored.id,
            "label": stored.label,
            "pairing_code_id": row.id,
            "client": client,
        },
    )
    session.flush()
    return IssuedToken(token=token, token_id=stored.id, principal=principal)


def _principal(session: Session, user: AppUser, token_id: int) -> Principal:
    assert user.id is not None
    staff = session.get(Staff, user.staff_id) if user.staff_id else None
    return Principal(
        user_id=user.id,
        name=user.name,
        role=PracticeRole(user.role),
        scope=ClientScope(user.scope),
        staff_name=staff.name if staff else None,
        token_id=token_id,
    )
