"""Who may use the local API, and which clients each of them may see.

**Users.** Each API user has a practice role (``practice_admin``, ``partner``,
``manager``, ``employee``) and a client scope:

* ``all`` — every client, and every org linked to no client;
* ``selected`` — the clients an admin picked for them;
* ``managed`` — the clients they manage: ``Client.client_manager`` equals the user's
  name or the name of the staff member the user is linked to, compared ignoring case
  and repeated spaces. It is resolved on every request, so importing a new client
  list moves a client between managers at once.

An org linked to no client belongs to nobody's client list, so only ``all`` scope
sees it (the leaver report puts such orgs on a sheet of their own for the same
reason). Only practice admins manage users, tokens of other users, portal logins
and imports; partners and managers may record review decisions on findings in
their scope, and post passive captures of orgs in their scope; employees read.

**Pairing.** An admin issues a one-time code for a user (``accessrecon pair`` or
the dashboard). The code is 8 characters from an alphabet without look-alikes
(no 0/O, 1/I/L): 31**8, about 8.5e11 values. It expires after 5 minutes and every
failed exchange counts against every live code, so after 5 wrong guesses all codes
then live are burnt, whichever code the guesser was after. Only the code's SHA-256
is stored.

**Tokens.** A successful exchange returns a bearer token: ``art_`` and 32 random
bytes in url-safe base64. Only its SHA-256 is stored: a copy of the database does
not let anyone use the API. Tokens are listed (never shown again) and revocable;
revocation takes effect on the next request. A 256-bit random token needs no slow
hash: there is nothing to guess.

A token seen in a URL (a query string such as ``?access_token=``) has been written
to server logs and browser history, so the server revokes it on sight
(``revoke_leaked_token``): the holder pairs again and sends the new token only in
the ``Authorization`` header.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, bindparam, delete, func, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.imports import PracticeRole
from agent.reconcile.identity import normalise_email
from agent.security.audit import record
from agent.storage.models import (
    ApiToken,
    AppUser,
    AppUserClient,
    Client,
    DashboardSession,
    PairingCode,
    Staff,
    StaffEmail,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "TOKEN_PREFIX",
    "AuthError",
    "ClientScope",
    "IssuedCode",
    "IssuedToken",
    "LeakedToken",
    "PracticeRole",
    "Principal",
    "Scope",
    "TokenSummary",
    "UserSummary",
    "add_user",
    "authenticate",
    "authenticate_on",
    "client_in_scope",
    "client_in_scope_on",
    "clients_by_external_id",
    "exchange_pairing_code",
    "find_staff_member",
    "find_user",
    "format_code",
    "hash_secret",
    "issue_pairing_code",
    "list_tokens",
    "list_users",
    "lookup_hash",
    "manager_names",
    "normalise_code",
    "normalise_person_name",
    "principal_from_row",
    "remove_user",
    "resolve_scope",
    "revoke_leaked_token",
    "revoke_token",
    "scope_admits",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=5)
MAX_CODE_ATTEMPTS = 5
TOKEN_PREFIX = "art_"  # noqa: S105  (a marker for secret scanners, not a secret)
TOKEN_BYTES = 32


class AuthError(ValueError):
    """A user, token or pairing request that cannot be carried out; the message says why."""


class ClientScope(StrEnum):
    ALL = "all"
    SELECTED = "selected"
    MANAGED = "managed"


REVIEWER_ROLES = frozenset(
    {PracticeRole.PRACTICE_ADMIN, PracticeRole.PARTNER, PracticeRole.MANAGER}
)
#: Who may post a passive capture: it raises findings and queues scans, so it is a change
#: to the practice's data, which employees (read-only users) do not make.
CAPTURE_ROLES = REVIEWER_ROLES


@dataclass(frozen=True, slots=True)
class Principal:
    """The user behind a request's token."""

    user_id: int
    name: str
    role: PracticeRole
    scope: ClientScope
    staff_name: str | None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this user: unique even after a user is re-created."""
        return f"{self.name} (user #{self.user_id})"

    @property
    def is_admin(self) -> bool:
        return self.role is PracticeRole.PRACTICE_ADMIN

    @property
    def can_review(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def can_capture(self) -> bool:
        return self.role in CAPTURE_ROLES


@dataclass(frozen=True, slots=True)
class Scope:
    """Which clients a request may see: ``client_ids`` is ``None`` for all (and unlinked orgs)."""

    kind: ClientScope
    client_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.client_ids is None

    def allows(self, client_id: int | None) -> bool:
        """Whether an org linked to ``client_id`` (``None``: to no client) is in scope."""
        if self.client_ids is None:
            return True
        return client_id is not None and client_id in self.client_ids

    def describe(self) -> dict[str, object]:
        """The scope as the audit log records it."""
        if self.client_ids is None:
            return {"scope": self.kind.value}
        return {"scope": self.kind.value, "client_ids": sorted(self.client_ids)}


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


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: int
    name: str
    role: PracticeRole
    scope: ClientScope
    staff_id: int | None
    staff_name: str | None
    client_ids: tuple[int, ...]
    active_tokens: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenSummary:
    id: int
    user_id: int
    user_name: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_person_name(name: str) -> str:
    """Names as people type them: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


def normalise_code(code: str) -> str:
    """A code as typed: any case, spaces and hyphens ignored."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


# -- users ----------------------------------------------------------------------------


def add_user(
    session: Session,
    *,
    name: str,
    role: PracticeRole | str,
    scope: ClientScope | str,
    client_ids: Iterable[int] = (),
    staff: str | int | None = None,
    actor: str,
) -> UserSummary:
    """Create an API user.

    Args:
        name: the user's display name; unique. For ``managed`` scope it is also a name
            matched against client managers.
        role: a ``PracticeRole`` value.
        scope: ``all``, ``selected`` (needs ``client_ids``) or ``managed``.
        client_ids: the clients of a ``selected`` scope.
        staff: the staff member this user is (id, email or exact name), whose name
            also counts as theirs for ``managed`` scope.
        actor: who is adding the user, for the audit log.
    """
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise AuthError("a user needs a name of 1 to 200 characters")
    try:
        which_role = PracticeRole(role)
    except ValueError:
        known = ", ".join(r.value for r in PracticeRole)
        raise AuthError(f"unknown role {role!r}; use one of {known}") from None
    try:
        which_scope = ClientScope(scope)
    except ValueError:
        known = ", ".join(s.value for s in ClientScope)
        raise AuthError(f"unknown scope {scope!r}; use one of {known}") from None
    if session.exec(select(AppUser).where(AppUser.name == clean)).first() is not None:
        raise AuthError(f"there is already a user named {clean!r}")
    wanted = sorted(set(client_ids))
    if which_scope is ClientScope.SELECTED:
        if not wanted:
            raise AuthError("a selected-clients scope needs at least one client")
        found = set(session.exec(select(Client.id).where(col(Client.id).in_(wanted))))
        missing = [i for i in wanted if i not in found]
        if missing:
            raise AuthError(f"no client with id {', '.join(map(str, missing))}")
    elif wanted:
        raise AuthError(f"clients are chosen only for the selected scope, not {which_scope}")
    staff_row = find_staff_member(session, staff) if staff is not None else None
    user = AppUser(
        name=clean, role=which_role, scope=which_scope, staff_id=staff_row.id if staff_row else None
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    session.add_all(AppUserClient(user_id=user.id, client_id=cid) for cid in wanted)
    record(
        session,
        actor=actor,
        action="auth.user_added",
        detail={
            "user_id": user.id,
            "name": clean,
            "role": which_role.value,
            "scope": which_scope.value,
            "client_ids": wanted,
            "staff_id": user.staff_id,
        },
    )
    session.flush()
    return _user_summary(session, user)


def find_staff_member(session: Session, who: str | int) -> Staff:
    """The staff member an id, email or exact name names."""
    if isinstance(who, int) or (isinstance(who, str) and who.strip().isdigit()):
        row = session.get(Staff, int(who))
        if row is None:
            raise AuthError(f"no staff member with id {who}")
        return row
    text = who.strip()
    if "@" in text:
        match = session.exec(
            select(Staff)
            .join(StaffEmail, col(StaffEmail.staff_id) == col(Staff.id))
            .where(StaffEmail.email == normalise_email(text))
        ).first()
        if match is None:
            raise AuthError(f"no staff member has the address {text!r}")
        return match
    wanted = normalise_person_name(text)
    matches = [s for s in session.exec(select(Staff)) if normalise_person_name(s.name) == wanted]
    if len(matches) != 1:
        raise AuthError(
            f"{len(matches) or 'no'} staff members are named {text!r}; give an email or id instead"
        )
    return matches[0]


def find_user(session: Session, who: str | int) -> AppUser:
    """A user by id or exact name."""
    if isinstance(who, int) or who.strip().isdigit():
        user = session.get(AppUser, int(who))
    else:
        user = session.exec(select(AppUser).where(AppUser.name == " ".join(who.split()))).first()
    if user is None:
        raise AuthError(f"no user {who!r}")
    return user


def list_users(session: Session) -> list[UserSummary]:
    return [
        _user_summary(session, u) for u in session.exec(select(AppUser).order_by(col(AppUser.name)))
    ]


def remove_user(session: Session, user_id: int, *, actor: str) -> None:
    """Delete a user with their tokens, pairing codes and client list; the audit log remembers."""
    user = session.get(AppUser, user_id)
    if user is None:
        raise AuthError(f"no user with id {user_id}")
    session.exec(delete(PairingCode).where(col(PairingCode.user_id) == user_id))  # type: ignore[call-overload]
    session.exec(delete(ApiToken).where(col(ApiToken.user_id) == user_id))  # type: ignore[call-overload]
    session.exec(delete(AppUserClient).where(col(AppUserClient.user_id) == user_id))  # type: ignore[call-overload]
    session.delete(user)
    record(
        session,
        actor=actor,
        action="auth.user_removed",
        detail={"user_id": user_id, "name": user.name},
    )
    session.flush()


def _user_summary(session: Session, user: AppUser) -> UserSummary:
    assert user.id is not None
    staff = session.get(Staff, user.staff_id) if user.staff_id else None
    clients = tuple(
        session.exec(
            select(AppUserClient.client_id)
            .where(AppUserClient.user_id == user.id)
            .order_by(col(AppUserClient.client_id))
        )
    )
    tokens = session.exec(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ).one()
    return UserSummary(
        id=user.id,
        name=user.name,
        role=PracticeRole(user.role),
        scope=ClientScope(user.scope),
        staff_id=user.staff_id,
        staff_name=staff.name if staff else None,
        client_ids=clients,
        active_tokens=tokens,
        created_at=user.created_at,
    )


# -- pairing --------------------------------------------------------------------------


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
            "note": note[:200],
        },
    )
    return IssuedCode(code=code, expires_at=expires, user_id=user_id, user_name=user.name)


def format_code(code: str) -> str:
    """``ABCD-EFGH``: easier to read out and type than eight letters in a row."""
    return f"{code[:4]}-{code[4:]}"


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
    stored = ApiToken(user_id=user.id, token_hash=hash_secret(token), label=label[:200])
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


# -- tokens ---------------------------------------------------------------------------


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
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
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


def _principal(session: Session, user: AppUser, token_id: int | None) -> Principal:
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
            detail["reason"] = reason[:200]
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


# -- scope ----------------------------------------------------------------------------


def resolve_scope(session: Session, principal: Principal) -> Scope:
    """The clients the user may see now; see the module docstring for the rules."""
    if principal.scope is ClientScope.ALL:
        return Scope(ClientScope.ALL, None)
    if principal.scope is ClientScope.SELECTED:
        ids = session.exec(
            select(AppUserClient.client_id).where(AppUserClient.user_id == principal.user_id)
        )
        return Scope(ClientScope.SELECTED, frozenset(ids))
    names = manager_names(principal)
    # Compared in Python: SQLite's lower() folds ASCII only, and managers' names are not.
    ids = (
        cid
        for cid, manager in session.exec(select(Client.id, Client.client_manager))
        if cid is not None and normalise_person_name(manager) in names
    )
    return Scope(ClientScope.MANAGED, frozenset(ids))


def manager_names(principal: Principal) -> frozenset[str]:
    names = {normalise_person_name(principal.name)}
    if principal.staff_name:
        names.add(normalise_person_name(principal.staff_name))
    return frozenset(n for n in names if n)


def clients_by_external_id(session: Session, external_ids: Sequence[str]) -> list[int]:
    """Client ids for the practice's own client ids (what an admin types on the command line)."""
    found = dict(
        session.exec(
            select(Client.external_id, Client.id).where(col(Client.external_id).in_(external_ids))
        ).all()
    )
    missing = [e for e in external_ids if e not in found]
    if missing:
        raise AuthError(f"no client with client id {', '.join(missing)}")
    return [int(found[e]) for e in external_ids]


def client_in_scope(session: Session, principal: Principal, client: Client | None) -> bool:
    """One client's check without resolving the whole scope: what single-org routes need."""
    return client_in_scope_on(
        session.connection(),
        principal,
        client.id if client else None,
        client.client_manager if client else None,
    )


_SELECTED = select(AppUserClient.id).where(
    col(AppUserClient.user_id) == bindparam("user_id"),
    col(AppUserClient.client_id) == bindparam("client_id"),
)


def client_in_scope_on(
    connection: Connection, principal: Principal, client_id: int | None, client_manager: str | None
) -> bool:
    """``client_in_scope`` for a client given by id and manager name, on a plain connection."""
    selected = (
        principal.scope is ClientScope.SELECTED
        and client_id is not None
        and connection.execute(
            _SELECTED, {"user_id": principal.user_id, "client_id": client_id}
        ).first()
        is not None
    )
    return scope_admits(principal, client_id, client_manager, selected=selected)


def scope_admits(
    principal: Principal, client_id: int | None, client_manager: str | None, *, selected: bool
) -> bool:
    """The scope rule for one client, told whether it is among the caller's selected clients.

    An org linked to no client is only for those who see every client.
    """
    if principal.scope is ClientScope.ALL:
        return True
    if client_id is None:
        return False
    if principal.scope is ClientScope.SELECTED:
        return selected
    return normalise_person_name(client_manager or "") in manager_names(principal)


@dataclass(frozen=True, slots=True)
class LeakedToken:
    """A token (or dashboard session) that was sent in a URL, and whether this revoked it."""

    token_id: int
    user_id: int
    #: ``False`` when it had been revoked already (this URL was a second leak, or a late one)
    revoked_now: bool


LEAKED_IN_URL = "sent in a URL, where logs and browser history keep it"


def revoke_leaked_token(session: Session, value: str) -> LeakedToken | None:
    """Revoke the token ``value`` is, if it is one of ours; ``None`` if it matches nothing.

    ``value`` may be an API token (``art_…``, with or without ``Bearer``) or a dashboard
    session id, whose token is revoked (ending that session). The audit event names
    the reason; the value itself is never recorded.
    """
    text = value.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    if not text or len(text) > 200:
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
