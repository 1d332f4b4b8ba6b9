"""The access import: what access the practice itself granted, to whom, on which org.

Intended access is what reconcile compares captured users with: observed access with
no intended row is a direct invite, an intended row never observed is missing. The
file replaces all intended access; a file with a header and no rows is valid and
means the practice granted nothing (every intended access is removed, with a
warning).

Each row names a staff member by any of their addresses (primary or alias), matched
after normalisation against the roster already imported, so the roster goes first.
The same staff member on the same org twice is an error naming both rows, even when
the two rows use different addresses of that person. Roles are kept as written; the
cross-portal role taxonomy is reconcile's business, not the import's.

MYOB access is a user type (``File user``, ``Online admin``) and a set of Roles
(``Administrator``, ``Payroll``, or any text). A MYOB row may name either or both, in
the role cell (``Online admin; Administrator, Payroll``, ``;`` or ``,`` separated) and
in extra_permissions; the user type is stored as the role (``""`` when not named) and
the Roles as the extra permissions, each as written, so reconcile compares only what
the practice recorded. Telling a user type from a role uses reconcile's taxonomy.

A row may end on a date (``until``, the last day it is intended): after that day
reconcile judges the access as never granted, and the client manager is reminded
before it (``agent.services.access_ends``). A date already past is kept as written,
with a warning naming its rows, so a file exported late still says what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from os import PathLike

from sqlmodel import Session, select

from agent.clock import utcnow
from agent.domain import Portal, StaffStatus
from agent.imports.columns import ACCESS_COLUMNS, ImportKind
from agent.imports.common import ImportResult, record_audit, reject_if, row_numbers
from agent.imports.errors import FieldError, Problems, RowError
from agent.imports.fields import (
    parse_date,
    parse_email,
    parse_permissions,
    show,
    split_list,
    to_text,
)
from agent.imports.org_ids import parse_org_id, parse_portal
from agent.imports.reading import read_sheet
from agent.imports.row_check import RowCheck
from agent.imports.row_limit import DEFAULT_MAX_ROWS
from agent.imports.sheet import Cell, Sheet
from agent.reconcile.identity import normalise_email
from agent.reconcile.roles import is_myob_user_type, myob_role_keys, role_of
from agent.storage.models import IntendedAccess, Staff, StaffEmail
from agent.storage.widths import width

_ROLE_MAX = width(IntendedAccess.role)


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One valid row: the staff member it names, resolved to their id."""

    row: int
    staff_id: int
    email: str
    portal: Portal
    org_id: str
    role: str
    extra_permissions: tuple[str, ...]
    until: date | None = None


def validate_access(
    session: Session, sheet: Sheet, *, practice_domains: Iterable[str]
) -> list[AccessRow]:
    """Every row checked against the roster in ``session``; ``ImportRejected`` if any is bad."""
    domains = tuple(practice_domains)
    errors = Problems(sheet.errors)
    # Normalised again: an address stored under an older rule (a plus-tag kept) must
    # still name its owner.
    owner = {
        normalise_email(e.email, domains): e.staff_id
        for e in session.exec(select(StaffEmail)).all()
    }
    if not owner and sheet.rows:
        errors.append(_no_roster(sheet))

    def staff_of(cell: Cell) -> tuple[str, int]:
        email = parse_email(cell, domains)
        staff_id = owner.get(email)
        if staff_id is None:
            raise FieldError(
                f"{show(email)} is not an address of anyone in the staff roster; "
                "import the roster first, or add the address there as an alias"
            )
        return email, staff_id

    first_row: dict[tuple[int, Portal, str], int] = {}
    parsed: list[AccessRow] = []
    for row in sheet.rows:
        check = RowCheck(row, sheet.file, errors)
        staff = check.value("staff_email", staff_of, required=True) if owner else None
        portal = check.value("portal", parse_portal, required=True)
        org_id = None
        if portal is not None:
            org_id = check.value("org_id", lambda c, p=portal: parse_org_id(p, c), required=True)
        elif not row.has("org_id"):
            check.fail("org_id", "a value is required")
        if portal is Portal.MYOB:
            role, extras = _myob_access(check)
        else:
            role = check.text("role", required=True, max_length=_ROLE_MAX)
            extras = check.value("extra_permissions", parse_permissions) or []
        until = check.value("until", parse_date)
        if staff is not None and portal is not None and org_id is not None:
            key = (staff[1], portal, org_id)
            first = first_row.setdefault(key, row.number)
            if first != row.number:
                check.fail(
                    None,
                    f"the same staff member and org ({portal}:{org_id}) are "
                    f"also on row {first}; give each grant once",
                )
        if check.ok and staff and portal and org_id and role is not None:
            parsed.append(
                AccessRow(
                    row=row.number,
                    staff_id=staff[1],
                    email=staff[0],
                    portal=portal,
                    org_id=org_id,
                    role=role,
                    extra_permissions=tuple(extras),
                    until=until,
                )
            )
    reject_if(errors)
    return parsed


def _myob_items(cell: Cell) -> list[str]:
    return split_list(to_text(cell) or "")


def _myob_access(check: RowCheck) -> tuple[str | None, list[str]]:
    """A MYOB row's user type ("" when not named) and Roles, from the role cell and
    extra_permissions; ``None`` as the type when the row is wrong (the failure recorded).

    Roles are kept once each (``Payroll`` and ``payroll`` are one), in the order written.
    """
    items = [
        *(check.value("role", _myob_items) or []),
        *(check.value("extra_permissions", _myob_items) or []),
    ]
    types = [item for item in items if is_myob_user_type(item)]
    by_key: dict[frozenset[str], str] = {}
    for item in items:
        if not is_myob_user_type(item):
            by_key.setdefault(myob_role_keys([item]), item)
    roles = list(by_key.values())
    if len({role_of(Portal.MYOB, t).code for t in types}) > 1:
        check.fail(
            "role",
            f"names more than one MYOB user type ({', '.join(map(show, types))}); "
            "a user has one: File user or Online admin",
        )
        return None, roles
    if not types and not roles:
        check.fail(
            "role",
            "a value is required: for myob a user type (File user or Online "
            "admin), Roles (e.g. Administrator; Payroll), or both",
        )
        return None, roles
    user_type = types[0] if types else ""
    if _ROLE_MAX is not None and len(user_type) > _ROLE_MAX:
        check.fail("role", f"is {len(user_type)} characters long; at most {_ROLE_MAX} fit")
        return None, roles
    return user_type, roles


def _no_roster(sheet: Sheet) -> RowError:
    return RowError(
        sheet.file,
        None,
        None,
        "no staff roster has been imported, so no staff_email can be matched; import staff first",
    )


def import_access(
    session: Session,
    path: str | PathLike[str],
    *,
    practice_domains: Iterable[str],
    actor: str = "cli",
    max_rows: int = DEFAULT_MAX_ROWS,
    today: date | None = None,
) -> ImportResult:
    """Replace all intended access with the file's, in ``session`` (not committed).

    Args:
        session: the transaction to write in; the caller commits (``run_import`` does).
        path: a CSV or XLSX file with the columns of ``COLUMNS[ImportKind.ACCESS]``.
        practice_domains: the practice's email domains, for address normalisation.
        actor: who imported, for the audit log.
        max_rows: the most data rows the file may hold (``ACCESSRECON_IMPORT_MAX_ROWS``).
        today: the day an ``until`` already past is warned about (default: today, UTC).

    Raises ``ImportRejected`` naming every bad row; then nothing was written.
    """
    sheet = read_sheet(path, ACCESS_COLUMNS, max_rows=max_rows)
    rows = validate_access(session, sheet, practice_domains=practice_domains)
    result = _write_access(session, sheet, rows, today or utcnow().date())
    record_audit(session, actor=actor, sheet=sheet, result=result)
    session.flush()
    return result


def _write_access(
    session: Session, sheet: Sheet, rows: list[AccessRow], today: date
) -> ImportResult:
    held = {
        (a.staff_id, a.portal, a.portal_org_id): a
        for a in session.exec(select(IntendedAccess)).all()
    }
    created = updated = unchanged = 0
    seen: set[tuple[int, str, str]] = set()
    for row in rows:
        key = (row.staff_id, str(row.portal), row.org_id)
        seen.add(key)
        extras = list(row.extra_permissions)
        grant = held.get(key)
        if grant is None:
            session.add(
                IntendedAccess(
                    staff_id=row.staff_id,
                    portal=str(row.portal),
                    portal_org_id=row.org_id,
                    role=row.role,
                    extra_permissions=extras,
                    until=row.until,
                )
            )
            created += 1
        elif (
            grant.role == row.role
            and list(grant.extra_permissions or []) == extras
            and grant.until == row.until
        ):
            unchanged += 1
        else:
            grant.role, grant.extra_permissions, grant.until = row.role, extras, row.until
            updated += 1
    removed = 0
    for key, grant in held.items():
        if key not in seen:
            session.delete(grant)
            removed += 1
    session.flush()

    warnings = list(sheet.warnings)
    if not rows and removed:
        warnings.append(f"the file has no rows: all {removed} intended access records were removed")
    leavers = {
        s.id: s
        for s in session.exec(select(Staff).where(Staff.status == StaffStatus.LEFT.value)).all()
    }
    leaver_rows: dict[int, list[int]] = {}
    for row in rows:
        if row.staff_id in leavers:
            leaver_rows.setdefault(row.staff_id, []).append(row.row)
    warnings.extend(
        f"{leavers[staff_id].name} has left the practice but is granted access on "
        f"{row_numbers(numbers)}; recorded as intended, and reported as leaver access if observed"
        for staff_id, numbers in leaver_rows.items()
    )
    ended = [row.row for row in rows if row.until is not None and row.until < today]
    if ended:
        warnings.append(
            f"until has already passed on {row_numbers(ended)}; recorded, and that access "
            "is reported as never granted"
        )
    return ImportResult(
        kind=ImportKind.ACCESS,
        file=sheet.file,
        rows=len(rows),
        created=created,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        warnings=tuple(warnings),
        sha256=sheet.sha256,
    )
