"""The access matrix: staff down, clients across, each cell the access a person has.

Practices used to review "which staff has which level of access to which client"
on one screen; this is that screen as a workbook. A cell is a short code for the
access (``ADM``, ``FULL``, ``LTD``, ``RO`` from the cross-portal tier, ``+MU`` if
the person can manage users, ``+PA`` payroll admin, ``+BA`` bank admin, ``?`` if
the invitation is still pending), coloured by the finding class so a leaver's
access is red and a direct invite orange wherever it sits. A client with several
orgs gets one column: its cell lists the distinct codes, strongest first
(``ADM / RO``), coloured by the worst class among them. Orgs linked to no client
have a block of columns of their own after the clients (only in an unscoped
report: nobody's client list holds them). Clients are ordered by client manager,
whose name heads each run of columns.

Printed, the matrix runs across pages a block of clients at a time: every page
repeats the staff columns and the band of managers' names over the header (a
manager's run cut by a page break is named again on the next page), and orgs
linked to no client start a page of their own, so they are never read as the last
manager's clients. A staff member's status and the legend's classes are written in
words; the cells keep their short codes, which the legend explains.

Only access a person has is shown: intended access that is not in the org is an
exception (see the exceptions report), not a cell. The rows are streamed person by
person from one ordered query; the columns are known up front from a small
aggregate query. A practice with more clients than a sheet has columns gets the
rest on further matrix sheets with the same rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path

from sqlmodel import Session, col, select

from agent.domain import AccessStatus, FindingClass
from agent.reports.common import (
    CellKind,
    Column,
    ReportFormat,
    ReportResult,
    ReportScope,
    write_in_format,
)
from agent.reports.csvsafe import write_csv
from agent.reports.labels import (
    CLASS_MEANINGS,
    CLASS_STYLES,
    access_code,
    class_rank,
    code_legend,
    code_rank,
)
from agent.reports.table_sheet import BOLD, NOTE
from agent.reports.words import label, portal_name
from agent.reports.xlsx import MAX_COLUMNS, XlsxReport
from agent.storage.links import join_client
from agent.storage.models import Client, ClientOrgLink, Finding, Org, Staff, StaffEmail

BATCH = 2_000
UNLINKED_GROUP = "Orgs linked to no client"
FIXED_COLUMNS = (
    Column("Staff", 24),
    Column("Email", 30),
    Column("Status", 9),
    Column("Clients", 8, CellKind.INT),
)
UNLINKED_COUNT_COLUMN = Column("Unlinked orgs", 9, CellKind.INT)
CELL_WIDTH = 12
#: The classes a matrix cell can have: a staff member's access that is there.
CELL_CLASSES = (
    FindingClass.LEAVER_ACCESS,
    FindingClass.INVITED_DIRECT,
    FindingClass.ROLE_DRIFT,
    FindingClass.ARCHIVED_CLIENT_ACCESS,
    FindingClass.UNLINKED_ORG,
    FindingClass.MANAGED,
)


@dataclass(frozen=True, slots=True)
class MatrixColumn:
    """A client (``client_id``), or an org linked to no client (``org_id``)."""

    title: str
    group: str
    client_id: int | None = None
    org_id: int | None = None


@dataclass(frozen=True, slots=True)
class MatrixCell:
    text: str
    finding_class: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    staff_id: int
    name: str
    email: str
    status: str
    cells: dict[int, MatrixCell]  # by column index
    clients: int
    unlinked: int


@dataclass(frozen=True, slots=True)
class AccessMatrix:
    columns: tuple[MatrixColumn, ...]
    rows: Iterator[MatrixRow]

    @property
    def has_unlinked(self) -> bool:
        return any(c.org_id is not None for c in self.columns)


def _access_filter() -> tuple[object, ...]:
    return (
        col(Finding.resolved_at).is_(None),
        col(Finding.staff_id).is_not(None),
        Finding.finding_class != FindingClass.MISSING_EXPECTED,
        col(Finding.access_status).in_([AccessStatus.ACTIVE, AccessStatus.PENDING]),
    )


def matrix_columns(session: Session, scope: ReportScope) -> tuple[MatrixColumn, ...]:
    """Every client in scope some staff member can reach, then every such unlinked org."""
    clients = session.exec(
        scope.restrict(
            join_client(
                select(Client.id, Client.name, Client.client_manager, Client.external_id)
                .select_from(Finding)
                .join(Org, col(Org.id) == col(Finding.org_id))
            )
            .where(col(Client.id).is_not(None), *_access_filter())
            .distinct()
        )
    ).all()
    names = [name.casefold() for _, name, _, _ in clients]
    columns = [
        MatrixColumn(
            title=name if names.count(name.casefold()) == 1 else f"{name} ({external_id})",
            group=manager.strip() or "No client manager",
            client_id=client_id,
        )
        for client_id, name, manager, external_id in sorted(
            clients, key=lambda c: (not c[2].strip(), c[2].casefold(), c[1].casefold(), c[0])
        )
    ]
    if scope.everything:
        orgs = session.exec(
            join_client(
                select(Org.id, Org.name, Org.portal, Org.portal_org_id)
                .select_from(Finding)
                .join(Org, col(Org.id) == col(Finding.org_id))
            )
            .where(col(ClientOrgLink.id).is_(None), *_access_filter())
            .distinct()
        ).all()
        columns += [
            MatrixColumn(
                title=f"{name} ({portal_name(portal)} {portal_org_id})",
                group=UNLINKED_GROUP,
                org_id=org_id,
            )
            for org_id, name, portal, portal_org_id in sorted(
                orgs, key=lambda o: (o[1].casefold(), o[2], o[3])
            )
        ]
    return tuple(columns)


def matrix_rows(
    session: Session, scope: ReportScope, columns: tuple[MatrixColumn, ...]
) -> Iterator[MatrixRow]:
    """One row per staff member with access in scope, by name, streamed."""
    by_client = {c.client_id: i for i, c in enumerate(columns) if c.client_id is not None}
    by_org = {c.org_id: i for i, c in enumerate(columns) if c.org_id is not None}
    query = (
        join_client(
            select(
                Finding.staff_id,
                Staff.name,
                Staff.status,
                Org.id,
                Org.portal,
                ClientOrgLink.client_id,
                Finding.role,
                Finding.extra_permissions,
                Finding.access_status,
                Finding.finding_class,
            )
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
        )
        .join(Staff, col(Staff.id) == col(Finding.staff_id))
        .where(*_access_filter())
        .order_by(col(Staff.name), col(Staff.id))
    )
    # A primary address per person, read whole: staff are few beside their access.
    primary = {
        staff_id: email
        for staff_id, email in session.exec(
            select(StaffEmail.staff_id, StaffEmail.email)
            .where(col(StaffEmail.is_primary))
            .order_by(col(StaffEmail.id).desc())
        )
    }
    result = session.exec(scope.restrict(query).execution_options(yield_per=BATCH))
    for (staff_id, name, status), items in groupby(result, key=lambda r: (r[0], r[1], r[2])):
        found: dict[int, tuple[set[str], str]] = {}
        for _, _, _, org_id, portal, client_id, role, extras, access_status, finding_class in items:
            index = by_client.get(client_id) if client_id is not None else by_org.get(org_id)
            if index is None:
                continue
            codes, worst = found.get(index, (set(), finding_class))
            codes.add(access_code(portal, role, extras, access_status))
            if class_rank(finding_class) < class_rank(worst):
                worst = finding_class
            found[index] = (codes, worst)
        cells = {
            i: MatrixCell(" / ".join(sorted(codes, key=code_rank)), worst)
            for i, (codes, worst) in sorted(found.items())
        }
        unlinked = sum(1 for i in cells if columns[i].org_id is not None)
        yield MatrixRow(
            staff_id=staff_id,
            name=name,
            email=primary.get(staff_id, ""),
            status=status,
            cells=cells,
            clients=len(cells) - unlinked,
            unlinked=unlinked,
        )


def access_matrix(session: Session, *, scope: ReportScope) -> AccessMatrix:
    columns = matrix_columns(session, scope)
    return AccessMatrix(columns, matrix_rows(session, scope, columns))


def _fixed(matrix: AccessMatrix) -> tuple[Column, ...]:
    return (*FIXED_COLUMNS, UNLINKED_COUNT_COLUMN) if matrix.has_unlinked else FIXED_COLUMNS


def _fixed_values(matrix: AccessMatrix, row: MatrixRow) -> tuple[object, ...]:
    """The staff columns of the workbook: the status in words."""
    values: tuple[object, ...] = (row.name, row.email, label(row.status), row.clients)
    return (*values, row.unlinked) if matrix.has_unlinked else values


def _csv_fixed_values(matrix: AccessMatrix, row: MatrixRow) -> tuple[object, ...]:
    """The staff columns of the CSV: the status code, then its words."""
    values: tuple[object, ...] = (row.name, row.email, row.status, label(row.status), row.clients)
    return (*values, row.unlinked) if matrix.has_unlinked else values


def legend_rows() -> list[tuple[str, str, str | None]]:
    """(key, meaning, class for the key's colour) for the legend sheet."""
    rows: list[tuple[str, str, str | None]] = [(k, m, None) for k, m in code_legend()]
    rows += [(label(cls), CLASS_MEANINGS[cls], cls.value) for cls in CELL_CLASSES]
    rows.append(
        (
            UNLINKED_GROUP,
            "The last columns (and, printed, pages of their own): orgs the client list "
            "links to no client, so no client manager's run of columns holds them",
            None,
        )
    )
    return rows


def _unlinked_start(chunk: tuple[MatrixColumn, ...], offset: int) -> tuple[int, ...]:
    """The sheet column where the orgs linked to no client begin (none if not on it)."""
    for i, column in enumerate(chunk):
        if column.org_id is not None:
            return (offset + i,) if i else ()
    return ()


def write_matrix_xlsx(
    matrix: AccessMatrix,
    path: Path,
    *,
    scope: ReportScope,
    as_of: datetime,
    columns_per_sheet: int | None = None,
) -> int:
    """The matrix sheet(s) and a legend; returns the number of staff rows."""
    fixed = _fixed(matrix)
    per_sheet = columns_per_sheet or MAX_COLUMNS - len(fixed)
    chunks = [
        matrix.columns[i : i + per_sheet] for i in range(0, len(matrix.columns), per_sheet)
    ] or [()]
    with XlsxReport(path, title="Access matrix", as_of=as_of, scope=scope) as book:
        sheets = []
        for n, chunk in enumerate(chunks, start=1):
            part = f" (part {n} of {len(chunks)})" if len(chunks) > 1 else ""
            sheets.append(
                book.sheet(
                    "Matrix" if n == 1 else f"Matrix {n}",
                    title=f"Access matrix: staff × clients{part}",
                    columns=(*fixed, *(Column(c.title, CELL_WIDTH) for c in chunk)),
                    group=(
                        *(["Client manager"] + [None] * (len(fixed) - 1)),
                        *(c.group for c in chunk),
                    ),
                    freeze_columns=len(fixed),
                    rotate_from=len(fixed),
                    across_pages=True,
                    new_page_at=_unlinked_start(chunk, len(fixed)),
                )
            )
        styles = {cls: CLASS_STYLES[cls] for cls in CLASS_STYLES}
        count = 0
        for row in matrix.rows:
            head = _fixed_values(matrix, row)
            for n, sheet in enumerate(sheets):
                first = n * per_sheet
                sheet.append_sparse(
                    [
                        *((i, v, None) for i, v in enumerate(head)),
                        *(
                            (len(fixed) + i - first, cell.text, styles.get(cell.finding_class))
                            for i, cell in row.cells.items()
                            if first <= i < first + per_sheet
                        ),
                    ]
                )
            count += 1
        if not count:
            sheets[0].after(["No staff member has access in this scope."], NOTE)
        legend = book.sheet(
            "Legend",
            title="Access matrix: legend",
            columns=(Column("Cell shows", 26), Column("Meaning", 95)),
        )
        for key, meaning, cls in legend_rows():
            legend.append((key, meaning), (styles[cls] if cls else BOLD, None))
    return count


def write_matrix_csv(matrix: AccessMatrix, path: Path) -> int:
    """The same grid as plain codes (no colours); unlinked orgs are labelled as such.

    The staff member's status is given as its code and, beside it, in words.
    """
    fixed = [c.title for c in _fixed(matrix)]
    fixed.insert(fixed.index("Status") + 1, "Status label")
    header = fixed + [
        c.title if c.client_id is not None else f"Unlinked org: {c.title}" for c in matrix.columns
    ]
    width = len(matrix.columns)

    def lines() -> Iterator[list[object]]:
        for row in matrix.rows:
            cells: list[object] = [""] * width
            for i, cell in row.cells.items():
                cells[i] = cell.text
            yield [*_csv_fixed_values(matrix, row), *cells]

    return write_csv(path, header, lines())


def write_matrix_report(
    session: Session,
    path: Path,
    *,
    fmt: ReportFormat = ReportFormat.XLSX,
    scope: Collection[int] | None = None,
    scope_label: str | None = None,
    as_of: datetime | None = None,
) -> ReportResult:
    """Write the access matrix to ``path``; returns it with its number of staff rows."""
    cut = ReportScope.of(scope, scope_label)
    return write_in_format(
        access_matrix(session, scope=cut),
        path,
        fmt,
        scope=cut,
        as_of=as_of,
        csv=write_matrix_csv,
        xlsx=write_matrix_xlsx,
    )
