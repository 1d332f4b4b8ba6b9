"""The staff import: the practice's roster, which replaces the one held.

The roster is what every captured user is matched against, so the import keeps
people's identities stable across re-imports: findings and intended access point at
staff ids, and a re-imported roster must not orphan them.

A row is the same person as an existing staff member when

1. its first (primary) address is that member's primary address, or else
2. any of its addresses belongs to that member (first match in the row's order),

each existing member matching at most one row. Matched members are updated in place
and keep their id; other rows create new members.

Members the file no longer lists are removed with their addresses if nothing points
at them. If findings or intended access do, removing them would lose that history,
and keeping them as they were would let the file's silence hide a leaver; so they are
kept, marked ``left`` (their ``left_on`` kept if known, else empty) with their
addresses, and each is named in a warning. A leaver who still has access is then
reported as ``leaver_access``, the safe way to be wrong. Addresses are stored
normalised with the practice's domains (plus-tags dropped on those domains).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from os import PathLike

from sqlmodel import Session, select

from agent.domain import StaffStatus
from agent.imports.columns import STAFF_COLUMNS, ImportKind
from agent.imports.common import (
    ImportResult,
    record_audit,
    referenced_ids,
    reject_if,
    require_rows,
)
from agent.imports.parsing import (
    RowCheck,
    column_length,
    parse_date,
    parse_emails,
    parse_practice_role,
    parse_staff_status,
    show,
)
from agent.imports.reading import Sheet, read_sheet
from agent.storage.models import Staff, StaffEmail

_NAME_MAX = column_length(Staff, "name")
_EMAIL_MAX = column_length(StaffEmail, "email") or 320


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One valid roster row; ``emails`` are normalised, the primary first."""

    row: int
    name: str
    emails: tuple[str, ...]
    status: StaffStatus
    left_on: date | None
    practice_role: str


def validate_staff(sheet: Sheet, *, practice_domains: Iterable[str]) -> list[StaffRow]:
    """Every row checked; ``ImportRejected`` names every problem if any row is bad."""
    domains = tuple(practice_domains)
    errors = list(sheet.errors)
    require_rows(sheet, "staff", errors)
    first_row_of: dict[str, int] = {}
    parsed: list[StaffRow] = []
    for row in sheet.rows:
        check = RowCheck(row, sheet.file, errors)
        name = check.text("name", required=True, max_length=_NAME_MAX)
        emails = check.value("emails", lambda c: parse_emails(c, domains), required=True)
        status = check.value("status", parse_staff_status, required=True)
        left_on = None
        if status is None or status is StaffStatus.LEFT:
            left_on = check.value("left_on", parse_date)
        role = check.value("practice_role", parse_practice_role)
        if status is StaffStatus.LEFT and not row.has("left_on"):
            missing = "" if "left_on" in sheet.columns else "; the file has no left_on column"
            check.fail("left_on", f"the date the person left is required when status is left"
                                  f"{missing}")
        elif status is not None and status is not StaffStatus.LEFT and row.has("left_on"):
            check.fail("left_on", f"must be empty unless status is left (status is "
                                  f"{status.replace('_', ' ')}, left_on is "
                                  f"{show(row.get('left_on'))})")
        for email in emails or ():
            if len(email) > _EMAIL_MAX:
                check.fail("emails", f"{show(email)} is longer than {_EMAIL_MAX} characters")
            elif first_row_of.setdefault(email, row.number) != row.number:
                check.fail("emails", f"{email} is also on row {first_row_of[email]}; "
                                     "an address belongs to one person")
        if check.ok and name and emails and status:
            parsed.append(StaffRow(
                row=row.number, name=name, emails=tuple(emails), status=status,
                left_on=left_on, practice_role=role.value if role else "",
            ))
    reject_if(errors)
    return parsed


def import_staff(
    session: Session,
    path: str | PathLike[str],
    *,
    practice_domains: Iterable[str],
    actor: str = "cli",
) -> ImportResult:
    """Replace the roster with the file's, in ``session``'s transaction (not committed).

    Args:
        session: the transaction to write in; the caller commits (``run_import`` does).
        path: a CSV or XLSX file with the columns of ``COLUMNS[ImportKind.STAFF]``.
        practice_domains: the practice's email domains, for address normalisation.
        actor: who imported, for the audit log.

    Raises ``ImportRejected`` naming every bad row; then nothing was written.
    """
    sheet = read_sheet(path, STAFF_COLUMNS)
    rows = validate_staff(sheet, practice_domains=practice_domains)
    result = _write_staff(session, sheet, rows)
    record_audit(session, actor=actor, sheet=sheet, result=result)
    session.flush()
    return result


def _match(rows: list[StaffRow], emails: list[StaffEmail]) -> dict[int, int]:
    """Row number to the id of the existing staff member it is, where it is one."""
    primary_owner = {e.email: e.staff_id for e in emails if e.is_primary}
    owner = {e.email: e.staff_id for e in emails}
    matched: dict[int, int] = {}
    claimed: set[int] = set()
    for row in rows:
        staff_id = primary_owner.get(row.emails[0])
        if staff_id is not None and staff_id not in claimed:
            matched[row.row] = staff_id
            claimed.add(staff_id)
    for row in rows:
        if row.row in matched:
            continue
        for email in row.emails:
            staff_id = owner.get(email)
            if staff_id is not None and staff_id not in claimed:
                matched[row.row] = staff_id
                claimed.add(staff_id)
                break
    return matched


def _write_staff(session: Session, sheet: Sheet, rows: list[StaffRow]) -> ImportResult:
    members = {s.id: s for s in session.exec(select(Staff)).all() if s.id is not None}
    addresses = list(session.exec(select(StaffEmail)).all())
    primary_of: dict[int, str] = {}
    all_of: dict[int, set[str]] = {}
    for address in addresses:
        all_of.setdefault(address.staff_id, set()).add(address.email)
        if address.is_primary:
            primary_of[address.staff_id] = address.email
    held = {staff_id: (primary_of.get(staff_id), frozenset(all_of.get(staff_id, ())))
            for staff_id in members}

    matched = _match(rows, addresses)
    created = updated = unchanged = 0
    owners: dict[int, Staff] = {}
    for row in rows:
        staff_id = matched.get(row.row)
        if staff_id is None:
            member = Staff(name=row.name, status=row.status.value, left_on=row.left_on,
                           practice_role=row.practice_role)
            session.add(member)
            created += 1
        else:
            member = members[staff_id]
            before = (member.name, member.status, member.left_on, member.practice_role,
                      held[staff_id])
            member.name, member.status = row.name, row.status.value
            member.left_on, member.practice_role = row.left_on, row.practice_role
            after = (row.name, row.status.value, row.left_on, row.practice_role,
                     (row.emails[0], frozenset(row.emails)))
            if before == after:
                unchanged += 1
            else:
                updated += 1
        owners[row.row] = member
    session.flush()

    absent = set(members) - set(matched.values())
    keep = referenced_ids(session, Staff, absent, ignore={"staff_email"})
    warnings = list(sheet.warnings)
    for staff_id in sorted(keep):
        member = members[staff_id]
        primary = held[staff_id][0] or "no address"
        if member.status != StaffStatus.LEFT.value:
            member.status = StaffStatus.LEFT.value
            warnings.append(f"{member.name} ({primary}) is not in the file but findings or "
                            "intended access refer to them: kept and marked left")
        else:
            warnings.append(f"{member.name} ({primary}) is not in the file but findings or "
                            "intended access refer to them: kept as left")

    wanted: dict[str, tuple[int, bool]] = {
        email: (_id(owners[row.row]), position == 0)
        for row in rows
        for position, email in enumerate(row.emails)
    }
    present: set[str] = set()
    for address in addresses:
        want = wanted.get(address.email)
        if want is None and address.staff_id in keep:
            present.add(address.email)
        elif want is None or want[0] != address.staff_id:
            session.delete(address)
        else:
            address.is_primary = want[1]
            present.add(address.email)
    session.flush()
    for email, (staff_id, is_primary) in wanted.items():
        if email not in present:
            session.add(StaffEmail(staff_id=staff_id, email=email, is_primary=is_primary))
    gone = absent - keep
    for staff_id in gone:
        session.delete(members[staff_id])
    session.flush()
    return ImportResult(
        kind=ImportKind.STAFF, file=sheet.file, rows=len(rows), created=created,
        updated=updated, unchanged=unchanged, removed=len(gone), retained=len(keep),
        warnings=tuple(warnings), sha256=sheet.sha256,
    )


def _id(member: Staff) -> int:
    if member.id is None:
        raise RuntimeError("staff member has no id after flush")
    return member.id
