"""Portal logins, for practice admins: list, add (secrets in, never out), remove.

A login's password and TOTP secret arrive in a JSON body, are encrypted before they
touch the database (``agent.security.logins``), and are never returned: ``LoginOut`` has no
field that could hold them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError

from agent.domain import Portal
from agent.security.logins import LoginError, LoginSummary, add_login, list_logins, remove_login
from server.deps import AdminUser, BoxDep, SessionDep
from server.schemas import Email, IdPath, Name, Problem, _no_nul

router = APIRouter(tags=["logins"])

Secret = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
Url = Annotated[str, StringConstraints(min_length=8, max_length=500, pattern=r"^https?://[^\s]+$")]


class LoginIn(BaseModel):
    portal: Portal
    email: Email
    password: Secret = Field(repr=False)
    totp_secret: Secret = Field(repr=False)
    base_url: Url | None = None
    label: Name = ""


class LoginOut(BaseModel):
    id: int
    portal: Portal
    base_url: str
    email: str
    label: str
    has_session: bool = Field(description="the agent holds a signed-in browser session")


def _out(row: LoginSummary) -> LoginOut:
    return LoginOut(
        id=row.id,
        portal=row.portal,
        base_url=row.base_url,
        email=row.email,
        label=row.label,
        has_session=row.has_session,
    )


@router.get("/logins")
def get_logins(session: SessionDep, _admin: AdminUser) -> list[LoginOut]:
    return [_out(row) for row in list_logins(session)]


@router.post("/logins", status_code=status.HTTP_201_CREATED, responses={422: {"model": Problem}})
def post_login(body: LoginIn, session: SessionDep, box: BoxDep, admin: AdminUser) -> LoginOut:
    """Add a login, or replace the secrets of the same portal, address and email."""
    for value in (body.password, body.totp_secret, body.base_url or ""):
        try:
            _no_nul(value)
        except ValueError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "text may not contain NUL characters"
            ) from None
    try:
        row = add_login(
            session,
            box,
            portal=body.portal,
            email=body.email,
            password=body.password,
            totp_secret=body.totp_secret,
            base_url=body.base_url,
            label=body.label,
            actor=admin.actor,
        )
    except LoginError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    return _out(row)


@router.delete(
    "/logins/{login_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def delete_login(login_id: IdPath, session: SessionDep, admin: AdminUser) -> None:
    """Remove a login and its secrets; refused while orgs or scans still name it."""
    try:
        remove_login(session, login_id, actor=admin.actor)
        session.commit()
    except LoginError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "orgs or scans on record were found with this login, so it is kept; "
            "add the login again to replace its secrets",
        ) from None
