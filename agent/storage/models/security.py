"""Who may use the local API, how they signed in, and what they did.

The audit log is append-only and hash-chained (``agent.security.audit_chain``);
tokens, pairing codes and dashboard sessions are stored only as their SHA-256.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Connection, LargeBinary, UniqueConstraint
from sqlalchemy import event as sqlalchemy_event
from sqlmodel import Field, SQLModel

from agent.clock import utcnow
from agent.storage.models.defaults import no_detail

__all__ = [
    "ApiToken",
    "AppUser",
    "AppUserClient",
    "AuditChainHead",
    "AuditEvent",
    "DashboardSession",
    "KeyCanary",
    "PairingCode",
]


class AppUser(SQLModel, table=True):
    """A person who may use the local API, with a practice role and a client scope.

    ``scope`` is ``all``, ``selected`` (the clients listed in ``app_user_client``) or
    ``managed`` (clients whose client manager is this user's name or the name of the
    staff member they are linked to); ``agent.security.scope`` resolves it on every request.
    """

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    role: str = Field(max_length=32)
    scope: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class AppUserClient(SQLModel, table=True):
    """One client in a ``selected`` scope."""

    __tablename__ = "app_user_client"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    client_id: int = Field(foreign_key="client.id", index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token obtained by pairing; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class PairingCode(SQLModel, table=True):
    """A short one-time code that a person exchanges for a token; expiring, attempt-limited."""

    __tablename__ = "pairing_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None
    token_id: int | None = Field(default=None, foreign_key="api_token.id")


class DashboardSession(SQLModel, table=True):
    """A browser signed in to the dashboard; only the SHA-256 of its cookie is stored.

    Signing in exchanges a pairing code (``agent.security.pairing``) for an API token whose value
    is thrown away: the session stands on that token, so revoking the token (or
    removing the user, which deletes it) ends the session on the next request, and
    the token list shows every signed-in browser.
    """

    __tablename__ = "dashboard_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(unique=True, max_length=64)
    token_id: int = Field(foreign_key="api_token.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what, when. Append-only, and chained: ``hash`` covers the row and ``prev_hash``.

    ``seq``, ``prev_hash`` and ``hash`` are set as the row is inserted, however it was
    added; rows from before the chain began keep ``seq`` empty.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    detail: dict[str, object] = Field(default_factory=no_detail, sa_column=Column(JSON))
    seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


@sqlalchemy_event.listens_for(AuditEvent, "before_insert")
def _join_the_chain(_mapper: Any, connection: Connection, event: AuditEvent) -> None:
    """No audit row is inserted unchained, whichever code path added it."""
    from agent.security.audit_chain import link  # the chain's rules live with the audit log

    link(connection, event)


class AuditChainHead(SQLModel, table=True):
    """The newest chained event's ``seq`` and ``hash``: one row, moved with every event.

    It is what catches the newest events deleted, and its lock is what keeps two
    transactions from chaining onto the same event.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="audit_chain_head_one_row"),)

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)


class KeyCanary(SQLModel, table=True):
    """A known value encrypted with the secret key, so a wrong key is caught at start-up."""

    __tablename__ = "key_canary"

    id: int | None = Field(default=None, primary_key=True)
    canary_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
