"""The agent's portal logins: stored encrypted, decrypted only to sign in.

Nothing here returns a password or TOTP secret to a caller that only wants to list
logins: ``LoginSummary`` has no secret fields at all.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, select

from agent.capture import Credentials
from agent.clock import utcnow
from agent.domain import Portal
from agent.scrapers.totp import totp_for
from agent.security.secrets import SecretBox
from agent.storage.models import AuditEvent, PortalLogin

DEFAULT_BASE_URLS: dict[Portal, str] = {
    Portal.XERO: "https://login.xero.com",
    Portal.QBO: "https://accounts.intuit.com",
    Portal.MYOB: "https://app.myob.com",
}


class LoginError(ValueError):
    """A login cannot be added or found; the message says which and why."""


class SignInMethod(StrEnum):
    """How a login signs in.

    ``totp``: the agent signs in by itself with the password and the TOTP secret.
    ``interactive``: the portal asks for something no stored secret can answer (a
    code it e-mails or texts, a push to a phone, single sign-on, a CAPTCHA), so a
    person signs in once in a visible browser (``accessrecon login connect``) and the
    crawls use the browser state they left until the portal stops accepting it.
    """

    TOTP = "totp"
    INTERACTIVE = "interactive"


@dataclass(frozen=True, slots=True)
class LoginSummary:
    id: int
    portal: Portal
    base_url: str
    email: str
    label: str
    has_session: bool
    method: SignInMethod = SignInMethod.TOTP
    #: when a person last signed it in with ``accessrecon login connect``
    connected_at: datetime | None = None
    #: since when its stored sign-in is missing or refused (interactive logins only)
    needs_sign_in_since: datetime | None = None


def add_login(
    session: Session,
    box: SecretBox,
    *,
    portal: Portal | str,
    email: str,
    password: str = "",
    totp_secret: str = "",
    base_url: str | None = None,
    label: str = "",
    actor: str = "cli",
    method: SignInMethod | str = SignInMethod.TOTP,
) -> LoginSummary:
    """Store a login, or replace the secrets of the same (portal, base URL, email).

    An ``interactive`` login keeps no password and no TOTP secret: the person who
    signs it in with ``accessrecon login connect`` types whatever the portal asks,
    in a browser they can see, and the crawls only ever use the browser state they
    leave. A password the agent never types would be a secret kept for nothing, and
    for a portal signing in by single sign-on it is not even the portal's to check;
    so ``password`` and ``totp_secret`` must be empty for it. Its stored sign-in
    starts empty, so it needs a sign-in from the moment it is added.
    """
    try:
        kind = Portal(portal)
    except ValueError:
        raise LoginError(f"unknown portal {portal!r}; use one of xero, qbo, myob") from None
    try:
        how = SignInMethod(method)
    except ValueError:
        raise LoginError(
            f"unknown sign-in method {method!r}; use one of "
            + ", ".join(m.value for m in SignInMethod)
        ) from None
    secret = totp_secret.replace(" ", "").upper()
    if how is SignInMethod.INTERACTIVE:
        if password or secret:
            raise LoginError(
                "an interactive login keeps no password or TOTP secret: a person signs "
                "it in with 'accessrecon login connect'"
            )
    else:
        try:
            totp_for(secret).now()
        except (ValueError, binascii.Error) as exc:
            raise LoginError(
                "the TOTP secret is not a valid base32 secret of at least 80 bits "
                "(copy it as the portal showed it)"
            ) from exc
    if not email.strip() or "@" not in email:
        raise LoginError(f"{email!r} is not an email address")
    if how is SignInMethod.TOTP and not password:
        raise LoginError("the password is empty")
    url = (base_url or DEFAULT_BASE_URLS[kind]).rstrip("/")
    row = session.exec(
        select(PortalLogin).where(
            PortalLogin.portal == kind,
            PortalLogin.base_url == url,
            PortalLogin.email == email.strip(),
        )
    ).first()
    action = "login.update" if row else "login.add"
    if row is None:
        row = PortalLogin(
            portal=kind,
            base_url=url,
            email=email.strip(),
            label=label,
            password_enc=b"",
            totp_secret_enc=b"",
        )
    row.password_enc = box.encrypt(password)
    row.totp_secret_enc = box.encrypt(secret)
    row.storage_state_enc = None
    row.sign_in_method = how.value
    row.connected_at = None
    row.label = label or row.label
    row.updated_at = utcnow()
    row.needs_sign_in_since = row.updated_at if how is SignInMethod.INTERACTIVE else None
    session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            detail={
                "login_id": row.id,
                "portal": kind,
                "email": row.email,
                "method": how.value,
            },
        )
    )
    return _summary(row)


def list_logins(session: Session, portal: Portal | str | None = None) -> list[LoginSummary]:
    query = select(PortalLogin).order_by(PortalLogin.portal, PortalLogin.email)
    if portal:
        query = query.where(PortalLogin.portal == str(portal))
    return [_summary(row) for row in session.exec(query)]


def remove_login(session: Session, login_id: int, *, actor: str = "cli") -> None:
    row = session.get(PortalLogin, login_id)
    if row is None:
        raise LoginError(f"no login with id {login_id}")
    session.delete(row)
    session.add(
        AuditEvent(
            actor=actor,
            action="login.remove",
            detail={"login_id": login_id, "portal": row.portal, "email": row.email},
        )
    )


def credentials(row: PortalLogin, box: SecretBox) -> Credentials:
    return Credentials(
        portal=Portal(row.portal),
        base_url=row.base_url,
        email=row.email,
        password=box.decrypt(row.password_enc),
        totp_secret=box.decrypt(row.totp_secret_enc),
    )


def agent_emails(session: Session) -> set[str]:
    """Every address the agent signs in with: recognised in user lists, never reported."""
    return {row.email for row in session.exec(select(PortalLogin))}


def _summary(row: PortalLogin) -> LoginSummary:
    assert row.id is not None
    return LoginSummary(
        row.id,
        Portal(row.portal),
        row.base_url,
        row.email,
        row.label,
        row.storage_state_enc is not None,
        SignInMethod(row.sign_in_method),
        row.connected_at,
        row.needs_sign_in_since,
    )
