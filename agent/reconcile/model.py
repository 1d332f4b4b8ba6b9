"""The plain data reconcile works on: no ORM rows, no pages, just facts.

The crawler and the server turn database rows into these; reconcile turns these
into ``Classification`` values; the findings store turns those back into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    name: str
    status: StaffStatus
    emails: tuple[str, ...]
    left_on: date | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """Access the practice granted: who, where, as what."""

    staff_id: int
    portal: Portal
    portal_org_id: str
    role: str
    extra_permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeenUser:
    """One user row of an ok scan."""

    email: str
    name: str
    role: str
    status: AccessStatus
    extra_permissions: tuple[str, ...] = ()
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class OrgFacts:
    """An org and what the practice knows of it: its client, if any, and that client's state."""

    portal: Portal
    portal_org_id: str
    name: str
    client_name: str | None = None
    client_archived: bool = False

    @property
    def linked(self) -> bool:
        return self.client_name is not None


@dataclass(frozen=True, slots=True)
class Practice:
    """The roster and the practice's own addresses, the yardstick every user is held to."""

    domains: frozenset[str]
    staff: tuple[StaffMember, ...]
    agent_emails: frozenset[str] = frozenset()
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """The class one (org, identity) falls in, with what a person needs to act on it."""

    portal: Portal
    portal_org_id: str
    identity: str
    finding_class: FindingClass
    email: str
    name: str
    role: str = ""
    extra_permissions: tuple[str, ...] = ()
    access_status: AccessStatus = AccessStatus.ACTIVE
    staff_id: int | None = None
    intended_role: str | None = None
    detail: str = ""
    removable_by: str = field(default="client")
