"""The people who may use the local API: added, listed and removed by a practice admin.

A user has a practice role (``agent.security.principal``) and a client scope
(``agent.security.scope``), and may be linked to the staff member they are, whose
name then also counts as theirs for a ``managed`` scope. Removing a user removes
their tokens and pairing codes with them; the audit log remembers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from agent.imports import PracticeRole
from agent.reconcile.identity import normalise_email
from agent.security.audit import record
from agent.security.principal import AuthError, ClientScope, Principal
from agent.security.scope import normalise_person_name
from agent.storage.models import (
    ApiToken,
    AppUser,
    AppUserClient,
    Client,
    PairingCode,
    Staff,
    StaffEmail,
)
from agent.storage.widths import width

__all__ = [
    "UserSummary",
    "add_user",
    "find_staff_member",
    "find_user",
    "list_users",
    "principal_of",
    "remove_user",
]


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
    longest = width(AppUser.name)
    if not clean or len(clean) > longest:
        raise AuthError(f"a user needs a name of 1 to {longest} characters")
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


def principal_of(session: Session, who: str | int) -> Principal:
    """The user an id or exact name names, as the principal the command line acts as."""
    user = find_user(session, who)
    assert user.id is not None
    staff = session.get(Staff, user.staff_id) if user.staff_id is not None else None
    return Principal(
        user_id=user.id,
        name=user.name,
        role=PracticeRole(user.role),
        scope=ClientScope(user.scope),
        staff_name=staff.name if staff else None,
    )


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
