"""API users, their pairing codes and tokens. Admins manage everyone; a user sees themself.

Tokens are listed by id, label and dates, never by value: only the hash is stored.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from agent.imports import PracticeRole
from agent.security.pairing import format_code, issue_pairing_code
from agent.security.principal import AuthError, ClientScope
from agent.security.tokens import list_tokens, revoke_token
from agent.security.users import UserSummary, add_user, list_users, remove_user
from server.deps import AdminUser, CurrentUser, ScopeDep, SessionDep
from server.schemas import IdField, IdPath, Name, Problem, UserOut, user_out_from_principal

router = APIRouter(tags=["users"])


class UserDetailOut(UserOut):
    staff_id: int | None
    client_ids: list[int]
    active_tokens: int
    created_at: datetime


class MeOut(UserOut):
    token_id: int | None
    client_ids: list[int] | None = Field(
        description="the clients in scope now; null means all clients"
    )


class UserIn(BaseModel):
    name: Name = Field(min_length=1)
    role: PracticeRole
    scope: ClientScope
    client_ids: list[IdField] = Field(default_factory=list, max_length=10_000)
    staff: Name | None = Field(
        default=None, description="the staff member this user is: id, email or name"
    )


class PairingCodeIn(BaseModel):
    """Nothing is needed; the body exists because every state change is a JSON POST."""

    note: Name = Field(default="", description="why the code was issued, for the audit log")


class PairingCodeOut(BaseModel):
    code: str = Field(description="type this into the extension within 5 minutes; shown once")
    expires_at: datetime
    user_id: int
    user_name: str


class TokenOut(BaseModel):
    id: int
    user_id: int
    user_name: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _detail(user: UserSummary) -> UserDetailOut:
    return UserDetailOut(
        id=user.id,
        name=user.name,
        role=user.role,
        scope=user.scope,
        staff_name=user.staff_name,
        staff_id=user.staff_id,
        client_ids=list(user.client_ids),
        active_tokens=user.active_tokens,
        created_at=user.created_at,
    )


@router.get("/me")
def me(principal: CurrentUser, scope: ScopeDep) -> MeOut:
    """Who this token belongs to, and the clients it may see."""
    return MeOut(
        **user_out_from_principal(principal).model_dump(),
        token_id=principal.token_id,
        client_ids=None if scope.client_ids is None else sorted(scope.client_ids),
    )


@router.get("/users")
def get_users(session: SessionDep, _admin: AdminUser) -> list[UserDetailOut]:
    return [_detail(u) for u in list_users(session)]


@router.post("/users", status_code=status.HTTP_201_CREATED, responses={422: {"model": Problem}})
def post_user(body: UserIn, session: SessionDep, admin: AdminUser) -> UserDetailOut:
    """Add a user; then issue them a pairing code."""
    try:
        user = add_user(
            session,
            name=body.name,
            role=body.role,
            scope=body.scope,
            client_ids=body.client_ids,
            staff=body.staff,
            actor=admin.actor,
        )
    except AuthError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    return _detail(user)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def delete_user(user_id: IdPath, session: SessionDep, admin: AdminUser) -> None:
    """Remove a user and revoke everything they hold."""
    if user_id == admin.user_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "you cannot remove yourself; another admin can"
        )
    try:
        remove_user(session, user_id, actor=admin.actor)
    except AuthError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    session.commit()


@router.post(
    "/users/{user_id}/pairing-codes",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Problem}},
)
def post_pairing_code(
    user_id: IdPath, body: PairingCodeIn, session: SessionDep, admin: AdminUser
) -> PairingCodeOut:
    """A one-time pairing code for the user (what the dashboard shows)."""
    try:
        issued = issue_pairing_code(session, user_id=user_id, actor=admin.actor, note=body.note)
    except AuthError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    session.commit()
    return PairingCodeOut(
        code=format_code(issued.code),
        expires_at=issued.expires_at,
        user_id=issued.user_id,
        user_name=issued.user_name,
    )


@router.get("/tokens")
def get_tokens(
    session: SessionDep, principal: CurrentUser, all_users: bool = False
) -> list[TokenOut]:
    """Your tokens; an admin may ask for everyone's (``all_users=true``)."""
    if all_users and not principal.is_admin:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only a practice admin may list other users' tokens"
        )
    rows = list_tokens(session, user_id=None if all_users else principal.user_id)
    return [
        TokenOut(
            id=t.id,
            user_id=t.user_id,
            user_name=t.user_name,
            label=t.label,
            created_at=t.created_at,
            revoked_at=t.revoked_at,
        )
        for t in rows
    ]


@router.delete("/tokens/{token_id}", responses={404: {"model": Problem}})
def delete_token(token_id: IdPath, session: SessionDep, principal: CurrentUser) -> TokenOut:
    """Revoke a token: your own, or anyone's if you are an admin. Effective immediately."""
    try:
        token = revoke_token(
            session,
            token_id,
            actor=principal.actor,
            owner_id=None if principal.is_admin else principal.user_id,
        )
    except AuthError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    session.commit()
    return TokenOut(
        id=token.id,
        user_id=token.user_id,
        user_name=token.user_name,
        label=token.label,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )
