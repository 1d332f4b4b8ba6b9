"""The plain data reconcile works on: no ORM rows, no pages, just facts.

The crawler and the server turn database rows into these; reconcile turns these
into ``Classification`` values; the findings store turns those back into rows.

Everything here is immutable. The records made once per user row (``SeenUser``,
``Classification``) are named tuples rather than frozen dataclasses: a frozen
dataclass costs several times more to build, and a run over a large practice
builds millions of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

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


class SeenUser(NamedTuple):
    """One user row of an ok scan.

    The last four fields are the facts of who may remove the user
    (``agent.reconcile.removability``), as ``agent.capture.PortalUser`` has them.
    """

    email: str
    name: str
    role: str
    status: AccessStatus
    extra_permissions: tuple[str, ...] = ()
    kind: str | None = None
    portal_user_id: str | None = None
    subscriber: bool = False
    firm: str | None = None
    added_by_owner: bool | None = None


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
class IdentityDecision:
    """A person's verdict on whether an address belongs to a staff member.

    ``confirmed`` makes the address an alias of the staff member for every later
    run; a rejection stops that staff member being proposed for that address again.
    ``identity`` is the normalised address.
    """

    identity: str
    staff_id: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Practice:
    """The roster and the practice's own addresses, the yardstick every user is held to."""

    domains: frozenset[str]
    staff: tuple[StaffMember, ...]
    agent_emails: frozenset[str] = frozenset()
    grants: tuple[Grant, ...] = ()
    decisions: tuple[IdentityDecision, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A staff member a name resembles, with how closely (0-100)."""

    staff_id: int
    name: str
    score: float
    #: the staff member's first address, which tells two people of one name apart
    email: str = ""


class Classification(NamedTuple):
    """The class one (org, identity) falls in, with what a person needs to act on it.

    ``candidates`` is filled for ``probable_match`` only, best first; ``staff_id`` is
    set only when the identity *is* a staff member (by address, never by name).
    ``removable_by`` is ``practice`` or ``client``; ``removable_reason`` says why only
    the client can (empty for the practice).
    """

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
    removable_by: str = "client"
    candidates: tuple[Candidate, ...] = ()
    removable_reason: str = ""
