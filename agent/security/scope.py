"""Which clients a user may see.

A user's client scope is one of:

* ``all`` — every client, and every org linked to no client;
* ``selected`` — the clients an admin picked for them;
* ``managed`` — the clients they manage: ``Client.client_manager`` equals the user's
  name or the name of the staff member the user is linked to, compared ignoring case
  and repeated spaces. It is resolved on every request, so importing a new client
  list moves a client between managers at once.

An org linked to no client belongs to nobody's client list, so only ``all`` scope
sees it (the leaver report puts such orgs on a sheet of their own for the same
reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam
from sqlmodel import Session, col, select

from agent.security.principal import AuthError, ClientScope, Principal
from agent.storage.models import AppUserClient, Client

__all__ = [
    "Scope",
    "client_in_scope",
    "client_in_scope_on",
    "clients_by_external_id",
    "manager_names",
    "normalise_person_name",
    "resolve_scope",
    "scope_admits",
]


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


def normalise_person_name(name: str) -> str:
    """Names as people type them: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


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
