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
normalised (case, spaces and a plus-tag on any domain dropped; see
``agent.reconcile.identity``).
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
    row_numbers,
)
from agent.imports.errors import Problems
from agent.imports.fields import parse_date, parse_emails, parse_staff_status, show
from agent.imports.job_titles import parse_job_title
from agent.imports.reading import read_sheet
from agent.imports.row_check import RowCheck
from agent.imports.row_limit import DEFAULT_MAX_ROWS
from agent.imports.sheet import Sheet
from agent.storage.models import Staff, StaffEmail
from agent.storage.widths import width

_NAME_MAX = width(Staff.name)
_EMAIL_MAX = width(StaffEmail.email)
_TITLE_MAX = width(Staff.job_title)
_TITLES_NAMED = 20


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One valid roster row; ``emails`` are normalised, the primary first."""

    row: int
    name: str
    emails: tuple[str, ...]
    status: StaffStatus
    left_on: date | None
    practice_role: str
    job_title: str = ""


def validate_staff(
    sheet: Sheet, *, practice_domains: Iterable[str], warnings: list[str] | None = None
) -> list[StaffRow]:
    """Every row checked; ``ImportRejected`` names every problem if any row is bad.

    Job titles the role table does not know are named in ``warnings`` (when given).
    """
    domains = tuple(practice_domains)
    errors = Problems(sheet.errors)
    require_rows(sheet, "staff", errors)
    first_row_of: dict[str, int] = {}
    unknown_titles: dict[str, list[int]] = {}
    parsed: list[StaffRow] = []
    for row in sheet.rows:
        check = RowCheck(row, sheet.file, errors)
        name = check.text("name", required=True, max_length=_NAME_MAX)
        primary = check.value("emails", lambda c: parse_emails(c, domains), required=True)
        aliases = check.value("aliases", lambda c: parse_emails(c, domains)) or []
        emails = None if primary is None else list(dict.fromkeys([*primary, *aliases]))
        status = check.value("status", parse_staff_status, required=True)
        left_on = None
        if status is None or status is StaffStatus.LEFT:
            left_on = check.value("left_on", parse_date)
        titled = check.value("practice_role", lambda c: parse_job_title(c, max_length=_TITLE_MAX))
        if titled is not None and not titled[2]:
            unknown_titles.setdefault(titled[0], []).append(row.number)
        if status is StaffStatus.LEFT and not row.has("left_on"):
            missing = "" if "left_on" in sheet.columns else "; the file has no left_on column"
            check.fail(
                "left_on", f"the date the person left is required when status is left{missing}"
            )
        elif status is not None and status is not StaffStatus.LEFT and row.has("left_on"):
            check.fail(
                "left_on",
                f"must be empty unless status is left (status is "
                f"{status.replace('_', ' ')}, left_on is "
                f"{show(row.get('left_on'))})",
            )
        for email in emails or ():
            column = "emails" if email in (primary or ()) else "aliases"
            if len(email) > _EMAIL_MAX:
                check.fail(column, f"{show(email)} is longer than {_EMAIL_MAX} characters")
            elif first_row_of.setdefault(email, row.number) != row.number:
                check.fail(
                    column,
                    f"{email} is also on row {first_row_of[email]}; "
                    "an address belongs to one person",
                )
        if check.ok and name and emails and status:
            parsed.append(
                StaffRow(
                    row=row.number,
                    name=name,
                    emails=tuple(emails),
                    status=status,
                    left_on=left_on,
                    practice_role=titled[1].value if titled else "",
                    job_title=titled[0] if titled else "",
                )
            )
    reject_if(errors)
    if warnings is not None and unknown_titles:
        warnings.append(_unknown_titles_warning(sheet, unknown_titles))
    return parsed


def _unknown_titles_warning(sheet: Sheet, titles: dict[str, list[int]]) -> str:
    named = [
        f"{show(title)} ({row_numbers(numbers)})"
        for title, numbers in list(titles.items())[:_TITLES_NAMED]
    ]
    more = len(titles) - len(named)
    tail = f" and {more} more" if more > 0 else ""
    return (
        f"{sheet.title('practice_role')}: {', '.join(named)}{tail} "
        f"{'is' if len(titles) == 1 else 'are'} not in the table of job titles, so read "
        "as employee; see the README (Import formats) for the titles known"
    )


def import_staff(
    session: Session,
    path: str | PathLike[str],
    *,
    practice_domains: Iterable[str],
    actor: str = "cli",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ImportResult:
    """Replace the roster with the file's, in ``session``'s transaction (not committed).

    Args:
        session: the transaction to write in; the caller commits (``run_import`` does).
        path: a CSV or XLSX file with the columns of ``COLUMNS[ImportKind.STAFF]``.
        practice_domains: the practice's email domains, for address normalisation.
        actor: who imported, for the audit log.
        max_rows: the most data rows the file may hold (``ACCESSRECON_IMPORT_MAX_ROWS``).

    Raises ``ImportRejected`` naming every bad row; then nothing was written.
    """
    sheet = read_sheet(path, STAFF_COLUMNS, max_rows=max_rows)
    notes: list[str] = []
    rows = validate_staff(sheet, practice_domains=practice_domains, warnings=notes)
    result = _write_staff(session, sheet, rows, notes)
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


def _write_staff(
    session: Session, sheet: Sheet, rows: list[StaffRow], notes: list[str]
) -> ImportResult:
    members = {s.id: s for s in session.exec(select(Staff)).all() if s.id is not None}
    addresses = list(session.exec(select(StaffEmail)).all())
    primary_of: dict[int, str] = {}
    all_of: dict[int, set[str]] = {}
    for address in addresses:
        all_of.setdefault(address.staff_id, set()).add(address.email)
        if address.is_primary:
            primary_of[address.staff_id] = address.email
    held = {
        staff_id: (primary_of.get(staff_id), frozenset(all_of.get(staff_id, ())))
        for staff_id in members
    }

    matched = _match(rows, addresses)
    created = updated = unchanged = 0
    owners: dict[int, Staff] = {}
    for row in rows:
        staff_id = matched.get(row.row)
        if staff_id is None:
            member = Staff(
                name=row.name,
                status=row.status.value,
                left_on=row.left_on,
                practice_role=row.practice_role,
                job_title=row.job_title,
            )
            session.add(member)
            created += 1
        else:
            member = members[staff_id]
            before = (
                member.name,
                member.status,
                member.left_on,
                member.practice_role,
                member.job_title,
                held[staff_id],
            )
            member.name, member.status = row.name, row.status.value
            member.left_on, member.practice_role = row.left_on, row.practice_role
            member.job_title = row.job_title
            after = (
                row.name,
                row.status.value,
                row.left_on,
                row.practice_role,
                row.job_title,
                (row.emails[0], frozenset(row.emails)),
            )
            if before == after:
                unchanged += 1
            else:
                updated += 1
        owners[row.row] = member
    session.flush()

    absent = set(members) - set(matched.values())
    keep = referenced_ids(session, Staff, absent, ignore={"staff_email"})
    warnings = [*sheet.warnings, *notes]
    for staff_id in sorted(keep):
        member = members[staff_id]
        primary = held[staff_id][0] or "no address"
        kept = "kept as left"
        if member.status != StaffStatus.LEFT.value:
            member.status = StaffStatus.LEFT.value
            kept = "kept and marked left"
        warnings.append(
            f"{member.name} ({primary}) is not in the file but findings or "
            f"intended access refer to them: {kept}"
        )

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
        kind=ImportKind.STAFF,
        file=sheet.file,
        rows=len(rows),
        created=created,
        updated=updated,
        unchanged=unchanged,
        removed=len(gone),
        retained=len(keep),
        warnings=tuple(warnings),
        sha256=sheet.sha256,
    )


def _id(member: Staff) -> int:
    if member.id is None:
        raise RuntimeError("staff member has no id after flush")
    return member.id
