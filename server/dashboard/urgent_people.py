"""Who should not be where: the people behind the open critical and high findings.

The overview's tiles count findings; a practice admin acts on people. A leaver with
access to eleven clients is one phone call to make (or one removal plan), not eleven
problems, so the overview opens with a list of people: each with how many orgs they
should not be in, since when, and a link to where they are dealt with.

A staff member is one person whatever address a portal shows them under; an address
that matches nobody on the roster (an unknown practice address) is a person of its
own, found on the findings list by its address. Most urgent first: critical before
high, then the longest open, then the most orgs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from agent.domain import FindingClass, Severity
from agent.security.scope import Scope
from agent.storage.links import join_client
from agent.storage.models import Finding, Org, Staff
from server.queries import scope_condition

URGENT = (Severity.CRITICAL, Severity.HIGH)


@dataclass(slots=True)
class UrgentPerson:
    """One person with open critical or high findings in scope."""

    name: str
    #: the roster's id; ``None`` for an address that matches no staff member
    staff_id: int | None
    #: the address the portals show (the first one met, for a staff member)
    email: str
    severity: Severity
    first_seen_at: datetime
    org_ids: set[int] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    #: the day a staff member left, from the roster
    left_on: date | None = None

    @property
    def orgs(self) -> int:
        return len(self.org_ids)

    def days_open(self, now: datetime) -> int:
        return max((now - self.first_seen_at).days, 0)

    def class_list(self) -> list[str]:
        """Its finding classes, worst first."""
        order = [c.value for c in FindingClass]
        return sorted(self.classes, key=order.index)


def urgent_people(session: Session, scope: Scope) -> list[UrgentPerson]:
    """Everyone with open critical or high findings on orgs in ``scope``, most urgent first."""
    query = join_client(
        select(
            Finding.staff_id,
            Finding.identity,
            Finding.email,
            Finding.name,
            Finding.org_id,
            Finding.severity,
            Finding.finding_class,
            Finding.first_seen_at,
        )
        .select_from(Finding)
        .join(Org, col(Org.id) == col(Finding.org_id))
    ).where(
        col(Finding.resolved_at).is_(None),
        col(Finding.severity).in_([s.value for s in URGENT]),
        col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem]),
    )
    in_scope = scope_condition(scope)
    if in_scope is not None:
        query = query.where(in_scope)
    people: dict[tuple[str, object], UrgentPerson] = {}
    for staff_id, identity, email, name, org_id, severity, cls, first_seen in session.exec(
        query.order_by(col(Finding.first_seen_at), col(Finding.id))
    ):
        key = ("staff", staff_id) if staff_id is not None else ("address", identity)
        person = people.get(key)
        if person is None:
            person = people[key] = UrgentPerson(
                name=name or email,
                staff_id=staff_id,
                email=email,
                severity=Severity(severity),
                first_seen_at=first_seen,
            )
        if Severity(severity).rank < person.severity.rank:
            person.severity = Severity(severity)
        person.first_seen_at = min(person.first_seen_at, first_seen)
        person.org_ids.add(org_id)
        person.classes.add(cls)
    _name_staff(session, [p for p in people.values() if p.staff_id is not None])
    return sorted(
        people.values(),
        key=lambda p: (p.severity.rank, p.first_seen_at, -p.orgs, p.name.casefold()),
    )


def _name_staff(session: Session, people: list[UrgentPerson]) -> None:
    """Staff are named as the roster names them, not as a portal spelt them."""
    if not people:
        return
    roster = {
        s.id: s
        for s in session.exec(
            select(Staff).where(col(Staff.id).in_(sorted({p.staff_id for p in people})))
        )
    }
    for person in people:
        staff = roster.get(person.staff_id)
        if staff is not None:
            person.name, person.left_on = staff.name, staff.left_on
