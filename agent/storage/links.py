"""An org's client: the one way from a portal org to the practice's client it belongs to.

The link is by the portal's own org id (``ClientOrgLink``), not by ``Org.id``: the
client list is usually imported before a crawl has listed the org, so a link may
name an org that is not stored yet, and an org may be linked to no client at all.
Both joins are outer, so an unlinked org stays in a query with ``None`` for its
client; a caller that wants linked orgs only asks for a client id that is not null.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, and_
from sqlmodel import Session, col, select

from agent.storage.models import Client, ClientOrgLink, Org

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def join_client(query: _Query) -> _Query:
    """``query``, which already has ``Org`` in it, with the org's link and client added."""
    return query.join(
        ClientOrgLink,
        and_(
            col(ClientOrgLink.portal) == col(Org.portal),
            col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id),
        ),
        isouter=True,
    ).join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)


def client_of(session: Session, portal: str, portal_org_id: str) -> Client | None:
    """The client a portal org id is linked to, whether or not the org is stored yet."""
    return session.exec(
        select(Client)
        .select_from(ClientOrgLink)
        .join(Client, col(Client.id) == col(ClientOrgLink.client_id))
        .where(
            col(ClientOrgLink.portal) == portal, col(ClientOrgLink.portal_org_id) == portal_org_id
        )
    ).first()
