"""Identity decisions: a person says whether an address is a staff member's.

A ``probable_match`` names staff whose name resembles the address's user. Someone
who knows confirms it (the address becomes the staff member's alias) or rejects it
(that staff member is not proposed for that address again). Decisions are stored
apart from the roster (``match_decision``), so a roster import that does not list
the address keeps them; every later reconcile reads them
(``agent.services.reconcile_inputs.load_practice``).

Rules:

* Only addresses off the practice's domains can be confirmed: a practice address
  belongs in the roster itself.
* An address that is already a roster address cannot be confirmed as anyone's.
* Confirming replaces an earlier confirmation of the same address (an address is
  one person's) and a rejection of the same pair; rejecting replaces a
  confirmation of the same pair.
* With no staff member named, confirming takes the finding's only candidate; two
  or more candidates (two staff with the same name, say) need one named.

Each decision is also an ``AuditEvent`` (``identity.confirmed`` or
``identity.rejected``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.reconcile.identity import email_domain, normalise_email
from agent.reconcile.model import IdentityDecision
from agent.storage.models import (
    AuditEvent,
    Finding,
    MatchCandidate,
    MatchDecision,
    Staff,
    StaffEmail,
)
from agent.storage.widths import fit

CONFIRMED = "confirmed"
REJECTED = "rejected"


class DecisionError(ValueError):
    """A confirmation or rejection that cannot be recorded; the message says why."""


@dataclass(frozen=True, slots=True)
class DecisionResult:
    identity: str
    staff_id: int
    staff_name: str
    decision: str
    org_ids: tuple[int, ...]


def load_decisions(session: Session) -> tuple[IdentityDecision, ...]:
    """Every decision, as reconcile's plain data."""
    return tuple(
        IdentityDecision(d.identity, d.staff_id, d.decision == CONFIRMED)
        for d in session.exec(select(MatchDecision).order_by(col(MatchDecision.id)))
    )


def candidates_of(session: Session, finding_id: int) -> list[MatchCandidate]:
    """The staff a probable match's name resembles, best first."""
    return list(
        session.exec(
            select(MatchCandidate)
            .where(MatchCandidate.finding_id == finding_id)
            .order_by(col(MatchCandidate.score).desc(), col(MatchCandidate.staff_id))
        )
    )


def orgs_showing(session: Session, identity: str) -> tuple[int, ...]:
    """The orgs with a finding for this identity: the ones to reconcile after a decision."""
    return tuple(
        sorted(set(session.exec(select(Finding.org_id).where(Finding.identity == identity))))
    )


def _finding(session: Session, finding_id: int) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise DecisionError(f"no finding {finding_id}")
    return finding


def _staff(session: Session, finding: Finding, staff_id: int | None, verb: str) -> Staff:
    assert finding.id is not None
    proposals = candidates_of(session, finding.id)
    if staff_id is None:
        if len(proposals) != 1:
            names = ", ".join(f"{c.staff_name} (#{c.staff_id})" for c in proposals)
            raise DecisionError(
                f"finding {finding.id} has {len(proposals)} candidates"
                + (f" ({names})" if names else "")
                + f": say which staff member to {verb}"
            )
        staff_id = proposals[0].staff_id
        expected_name: str | None = proposals[0].staff_name
    else:
        expected_name = next((c.staff_name for c in proposals if c.staff_id == staff_id), None)
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise DecisionError(f"no staff member #{staff_id}")
    if expected_name is not None and expected_name != staff.name:
        raise DecisionError(
            f"staff member #{staff_id} is now {staff.name}, not "
            f"{expected_name}: reconcile again and retry"
        )
    return staff


def _record(
    session: Session,
    *,
    identity: str,
    staff: Staff,
    decision: str,
    actor: str,
    note: str,
) -> DecisionResult:
    assert staff.id is not None
    if not actor.strip():
        raise DecisionError("say who is deciding (an actor is required)")
    existing = session.exec(select(MatchDecision).where(MatchDecision.identity == identity))
    for row in existing:
        same_pair = row.staff_id == staff.id
        replaced_confirmation = decision == CONFIRMED and row.decision == CONFIRMED
        if same_pair or replaced_confirmation:
            session.delete(row)
    session.flush()
    note = fit(note, MatchDecision.note)
    session.add(
        MatchDecision(
            identity=identity,
            staff_id=staff.id,
            decision=decision,
            decided_by=fit(actor, MatchDecision.decided_by),
            decided_at=utcnow(),
            note=note,
        )
    )
    session.add(
        AuditEvent(
            actor=fit(actor, AuditEvent.actor),
            action=f"identity.{decision}",
            detail={
                "identity": identity,
                "staff_id": staff.id,
                "staff_name": staff.name,
                "note": note,
            },
        )
    )
    session.flush()
    return DecisionResult(identity, staff.id, staff.name, decision, orgs_showing(session, identity))


def _check_address(session: Session, identity: str, domains: Sequence[str]) -> None:
    if "@" not in identity:
        raise DecisionError(f"{identity!r} is not an address")
    if email_domain(identity) in {d.casefold() for d in domains}:
        raise DecisionError(f"{identity} is a practice address: add it to the roster instead")
    owner = session.exec(select(StaffEmail).where(StaffEmail.email == identity)).first()
    if owner is not None:
        raise DecisionError(f"{identity} is already on the roster (staff #{owner.staff_id})")


def confirm_match(
    session: Session,
    *,
    finding_id: int | None = None,
    email: str | None = None,
    staff_id: int | None = None,
    actor: str,
    practice_domains: Sequence[str] = (),
    note: str = "",
) -> DecisionResult:
    """Record that an address is a staff member's (by finding, or by address and staff)."""
    identity, staff = _target(session, finding_id, email, staff_id, "confirm", practice_domains)
    _check_address(session, identity, practice_domains)
    return _record(
        session, identity=identity, staff=staff, decision=CONFIRMED, actor=actor, note=note
    )


def reject_match(
    session: Session,
    *,
    finding_id: int | None = None,
    email: str | None = None,
    staff_id: int | None = None,
    actor: str,
    practice_domains: Sequence[str] = (),
    note: str = "",
) -> DecisionResult:
    """Record that an address is *not* a staff member's, so they are not proposed again."""
    identity, staff = _target(session, finding_id, email, staff_id, "reject", practice_domains)
    return _record(
        session, identity=identity, staff=staff, decision=REJECTED, actor=actor, note=note
    )


def _target(
    session: Session,
    finding_id: int | None,
    email: str | None,
    staff_id: int | None,
    verb: str,
    practice_domains: Sequence[str],
) -> tuple[str, Staff]:
    if (finding_id is None) == (email is None):
        raise DecisionError("name either a finding or an address")
    if finding_id is not None:
        finding = _finding(session, finding_id)
        return finding.identity, _staff(session, finding, staff_id, verb)
    assert email is not None
    if staff_id is None:
        raise DecisionError(f"say which staff member to {verb} for {email}")
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise DecisionError(f"no staff member #{staff_id}")
    return normalise_email(email, practice_domains), staff
