"""Logins a person signs in: when one needs a person, and when a person connected it.

An ``interactive`` login (``agent.security.logins.SignInMethod``) is signed in by a
person with ``accessrecon login connect``; crawls then use the browser state that
sign-in left. When that state is missing or the portal no longer accepts it, no
crawl can help: the login *needs sign-in*. That is kept in two places, each for
its own reader:

* ``PortalLogin.needs_sign_in_since``, the login's standing state, which the command
  line and the dashboard show until a person connects it again;
* a failed ``SignInAttempt`` with reason ``needs_sign_in``, like every other failed
  sign-in, so the alerts (once per failure episode), the evidence report and the
  crawl history see it without knowing about interactive logins. A connection ends
  the episode with an ``ok`` attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from agent.clock import utcnow
from agent.security.audit import record
from agent.security.logins import LoginError, SignInMethod
from agent.services.signins import record_sign_in
from agent.storage.models import PortalLogin

#: the reason of a failed sign-in that only a person can put right
NEEDS_SIGN_IN = "needs_sign_in"
CONNECTED = "login.connect"


def connect_command(login_id: int) -> str:
    """The command a person runs to sign the login in."""
    return f"accessrecon login connect {login_id}"


def needs_sign_in_detail(login_id: int, why: str) -> str:
    """Why the login needs a person, and what to run: what every reader of it shows."""
    return f"{why}; a person must sign in: run '{connect_command(login_id)}'"


def interactive_login(session: Session, login_id: int) -> PortalLogin:
    """The interactive login ``login_id``, or a ``LoginError`` saying why not."""
    row = session.get(PortalLogin, login_id)
    if row is None:
        raise LoginError(f"no login with id {login_id}")
    if row.sign_in_method != SignInMethod.INTERACTIVE:
        raise LoginError(
            f"login {login_id} ({row.portal} {row.email}) signs in by itself with its "
            f"password and TOTP secret; 'login connect' is for logins a person signs in "
            "(add it with --method interactive)"
        )
    return row


def mark_needs_sign_in(
    session: Session,
    *,
    login_id: int,
    crawl_id: int | None,
    why: str,
    now: datetime | None = None,
) -> str:
    """Keep that the login needs a person (since the first time), and the failed
    attempt; returns the attempt's detail."""
    detail = needs_sign_in_detail(login_id, why)
    row = session.get(PortalLogin, login_id)
    if row is not None and row.needs_sign_in_since is None:
        row.needs_sign_in_since = now or utcnow()
        session.add(row)
    record_sign_in(
        session,
        login_id=login_id,
        crawl_id=crawl_id,
        ok=False,
        reason=NEEDS_SIGN_IN,
        detail=detail,
    )
    return detail


def mark_still_signed_in(session: Session, *, login_id: int) -> None:
    """The portal accepted the stored sign-in after all: the login needs nobody."""
    row = session.get(PortalLogin, login_id)
    if row is not None and row.needs_sign_in_since is not None:
        row.needs_sign_in_since = None
        session.add(row)


def record_connected(
    session: Session,
    *,
    login_id: int,
    actor: str,
    now: datetime | None = None,
) -> PortalLogin:
    """A person signed the login in (its browser state is saved): it no longer needs
    sign-in; a good sign-in attempt ends any failure episode; and the audit event."""
    row = interactive_login(session, login_id)
    at = now or utcnow()
    row.connected_at = at
    row.needs_sign_in_since = None
    row.updated_at = at
    session.add(row)
    record_sign_in(
        session,
        login_id=login_id,
        crawl_id=None,
        ok=True,
        detail=f"signed in by a person with '{connect_command(login_id)}'",
    )
    record(
        session,
        actor=actor,
        action=CONNECTED,
        detail={"login_id": login_id, "portal": row.portal, "email": row.email},
    )
    return row
