"""The clients import: the practice's client list and each client's ledger orgs.

The file replaces the client list and every client-to-org link. Clients are matched
to those already held by ``client_id`` (the practice's own id) and updated in place,
so their database ids stay stable for anything that refers to them. An org links to
at most one client: the same ``portal:org_id`` on two rows is an error naming both.

A client the file no longer lists is removed with its links, unless some other table
points at it; then it is kept, marked archived (so staff access to its orgs is still
reported), keeps those of its links the file gives to no other client, and is named in
a warning.

Practice exports differ in form, and a form the import misreads must not pass as an
import that linked nothing: orgs come from one ``linked_orgs`` column of
``portal:org_id`` pairs or from one column per portal (``xero_org``, ``qbo_org``,
``myob_org`` and their aliases), and a file that links no org at all while orgs are
known (captured by a scan, or linked by an earlier import) is refused, naming the
column. Managers and partners may be given by name or by any of their addresses in
the roster; an address is stored as the person's name, and one the roster does not
hold is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from os import PathLike

from sqlalchemy import func
from sqlmodel import Session, select

from agent.domain import Portal
from agent.imports.columns import CLIENT_COLUMNS, ORG_COLUMNS, ImportKind
from agent.imports.common import (
    ImportResult,
    record_audit,
    referenced_ids,
    reject_if,
    require_rows,
)
from agent.imports.errors import FieldError, Problems, RowError
from agent.imports.fields import (
    check_email,
    parse_bool,
    parse_email,
    parse_money,
    parse_text,
    show,
)
from agent.imports.org_ids import parse_org_refs, parse_portal_org_ids
from agent.imports.reading import read_sheet
from agent.imports.row_check import RowCheck
from agent.imports.row_limit import DEFAULT_MAX_ROWS
from agent.imports.sheet import Cell, Sheet
from agent.reconcile.identity import looks_like_email, normalise_email
from agent.storage.models import Client, ClientOrgLink, Org, Staff, StaffEmail
from agent.storage.widths import width

_PEOPLE_COLUMNS = ("client_manager", "job_manager", "partner")

_ID_MAX = width(Client.external_id)
_NAME_MAX = width(Client.name)
_PERSON_MAX = width(Client.client_manager)
_EMAIL_MAX = width(Client.contact_email)
_CONTACT_MAX = width(Client.contact_name)


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One valid client row."""

    row: int
    client_id: str
    name: str
    client_manager: str
    job_manager: str
    partner: str
    annual_fee: float | None
    archived: bool
    contact_email: str
    linked_orgs: tuple[tuple[Portal, str], ...]
    contact_name: str = ""


def _contact_email(cell: Cell) -> str:
    return check_email(parse_text(cell, max_length=_EMAIL_MAX))


def _org_parser(column: str) -> Callable[[Cell], list[tuple[Portal, str]]]:
    """The parser of an org column: ``portal:org_id`` pairs, or one portal's bare ids."""
    portal = ORG_COLUMNS[column]
    if portal is None:
        return parse_org_refs
    return lambda cell: parse_portal_org_ids(Portal(portal), cell)


def validate_clients(
    sheet: Sheet,
    *,
    people: Mapping[str, str] | None = None,
    practice_domains: Iterable[str] = (),
    orgs_known: int = 0,
) -> list[ClientRow]:
    """Every row checked; ``ImportRejected`` names every problem if any row is bad.

    Args:
        sheet: the file as read.
        people: the roster's addresses (normalised) to their owner's name, to read a
            manager or partner given by address.
        practice_domains: the practice's email domains, for address normalisation.
        orgs_known: orgs captured or linked already; a file that links none of any
            while some are known is refused.
    """
    roster = people or {}
    domains = tuple(practice_domains)
    errors = Problems(sheet.errors)
    require_rows(sheet, "clients", errors)
    id_row: dict[str, int] = {}
    org_row: dict[tuple[Portal, str], tuple[int, str]] = {}
    org_columns = [column for column in ORG_COLUMNS if column in sheet.columns]

    def person(cell: Cell) -> str:
        text = parse_text(cell, max_length=_PERSON_MAX)
        if not looks_like_email(text):
            return text
        name = roster.get(parse_email(text, domains))
        if name is None:
            raise FieldError(
                f"{show(text)} is not an address of anyone in the staff roster; "
                "write the person's name, or import the roster with this address"
            )
        return name

    parsed: list[ClientRow] = []
    any_org = False
    for row in sheet.rows:
        check = RowCheck(row, sheet.file, errors)
        client_id = check.text("client_id", required=True, max_length=_ID_MAX)
        name = check.text("name", required=True, max_length=_NAME_MAX)
        chosen = {column: check.value(column, person) or "" for column in _PEOPLE_COLUMNS}
        fee = check.value("annual_fee", parse_money)
        archived = check.value("archived", parse_bool)
        contact = check.value("contact_email", _contact_email)
        contact_name = check.text("contact_name", max_length=_CONTACT_MAX)
        orgs: list[tuple[Portal, str]] = []
        source: dict[tuple[Portal, str], str] = {}
        for column in org_columns:
            any_org = any_org or row.has(column)
            for ref in check.value(column, _org_parser(column)) or []:
                if ref not in source:
                    source[ref] = column
                    orgs.append(ref)
        if client_id is not None:
            first = id_row.setdefault(client_id, row.number)
            if first != row.number:
                check.fail(
                    "client_id", f"{client_id} is also on row {first}; client ids must be unique"
                )
        for ref in orgs:
            owner = org_row.setdefault(ref, (row.number, client_id or ""))
            if owner[0] != row.number:
                check.fail(
                    source[ref],
                    f"{ref[0]}:{ref[1]} is also linked on row {owner[0]} "
                    f"(client {owner[1]}); an org links to at most "
                    "one client",
                )
        if check.ok and client_id and name:
            parsed.append(
                ClientRow(
                    row=row.number,
                    client_id=client_id,
                    name=name,
                    client_manager=chosen["client_manager"],
                    job_manager=chosen["job_manager"],
                    partner=chosen["partner"],
                    annual_fee=fee,
                    archived=bool(archived),
                    contact_email=contact or "",
                    linked_orgs=tuple(orgs),
                    contact_name=contact_name or "",
                )
            )
    if orgs_known and sheet.rows and not any_org:
        errors.extend(_links_nothing(sheet, org_columns, orgs_known))
    reject_if(errors)
    return parsed


def _links_nothing(sheet: Sheet, org_columns: list[str], known: int) -> list[RowError]:
    """The refusal of a client list that would unlink every org the product knows."""
    consequence = (
        f"{known} orgs are known (captured or linked before), and importing it "
        "would leave every one of them linked to no client"
    )
    if not org_columns:
        return [
            RowError(
                sheet.file,
                1,
                "linked_orgs",
                f"the file has no column linking orgs (linked_orgs, or xero_org, qbo_org, "
                f"myob_org); {consequence}. Add the column; the README's Import formats lists "
                "the names it may have",
            )
        ]
    return [
        RowError(
            sheet.file,
            1,
            sheet.title(column),
            f"no row of this column links an org; {consequence}. Fill it in from the practice "
            "manager's export",
        )
        for column in org_columns
    ]


def _roster_names(session: Session, practice_domains: Iterable[str]) -> dict[str, str]:
    """Every roster address to its owner's name.

    Addresses are normalised again, as the access import does: one stored under an
    older rule (a plus-tag kept) must still name its owner.
    """
    domains = tuple(practice_domains)
    names = {s.id: s.name for s in session.exec(select(Staff)).all()}
    return {
        normalise_email(e.email, domains): names[e.staff_id]
        for e in session.exec(select(StaffEmail)).all()
        if e.staff_id in names
    }


def _orgs_known(session: Session) -> int:
    orgs = session.exec(select(func.count()).select_from(Org)).one()
    links = session.exec(select(func.count()).select_from(ClientOrgLink)).one()
    return max(int(orgs), int(links))


def import_clients(
    session: Session,
    path: str | PathLike[str],
    *,
    practice_domains: Iterable[str] = (),
    actor: str = "cli",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ImportResult:
    """Replace the client list and org links with the file's, in ``session`` (not committed).

    Args:
        session: the transaction to write in; the caller commits (``run_import`` does).
        path: a CSV or XLSX file with the columns of ``COLUMNS[ImportKind.CLIENTS]``.
        practice_domains: the practice's email domains, to read managers given by address.
        actor: who imported, for the audit log.
        max_rows: the most data rows the file may hold (``ACCESSRECON_IMPORT_MAX_ROWS``).

    Raises ``ImportRejected`` naming every bad row; then nothing was written.
    """
    sheet = read_sheet(path, CLIENT_COLUMNS, max_rows=max_rows)
    rows = validate_clients(
        sheet,
        people=_roster_names(session, practice_domains),
        practice_domains=practice_domains,
        orgs_known=_orgs_known(session),
    )
    result = _write_clients(session, sheet, rows)
    record_audit(session, actor=actor, sheet=sheet, result=result)
    session.flush()
    return result


def _fields(row: ClientRow) -> dict[str, object]:
    return {
        "name": row.name,
        "client_manager": row.client_manager,
        "job_manager": row.job_manager,
        "partner": row.partner,
        "annual_fee": row.annual_fee,
        "archived": row.archived,
        "contact_email": row.contact_email,
        "contact_name": row.contact_name,
    }


def _write_clients(session: Session, sheet: Sheet, rows: list[ClientRow]) -> ImportResult:
    held = {c.external_id: c for c in session.exec(select(Client)).all()}
    links = list(session.exec(select(ClientOrgLink)).all())
    held_links: dict[int | None, set[tuple[str, str]]] = {}
    for link in links:
        held_links.setdefault(link.client_id, set()).add((link.portal, link.portal_org_id))

    created = updated = unchanged = 0
    owners: dict[str, Client] = {}
    for row in rows:
        fields = _fields(row)
        wanted_links = {(str(p), o) for p, o in row.linked_orgs}
        client = held.get(row.client_id)
        if client is None:
            client = Client(external_id=row.client_id, **fields)
            session.add(client)
            created += 1
        else:
            before = {name: getattr(client, name) for name in fields}
            if before == fields and held_links.get(client.id, set()) == wanted_links:
                unchanged += 1
            else:
                updated += 1
            for name, value in fields.items():
                setattr(client, name, value)
        owners[row.client_id] = client
    session.flush()

    absent = {c.id: c for key, c in held.items() if key not in owners and c.id is not None}
    keep = referenced_ids(session, Client, set(absent), ignore={"client_org_link"})
    warnings = list(sheet.warnings)
    for client_id in sorted(keep):
        client = absent[client_id]
        client.archived = True
        warnings.append(
            f"client {client.external_id} ({client.name}) is not in the file but "
            "other records refer to it: kept and marked archived"
        )

    wanted: dict[tuple[str, str], int] = {}
    for row in rows:
        client_pk = owners[row.client_id].id
        if client_pk is None:
            raise RuntimeError("client has no id after flush")
        for portal, org_id in row.linked_orgs:
            wanted[(str(portal), org_id)] = client_pk
    present: set[tuple[str, str]] = set()
    for link in links:
        key = (link.portal, link.portal_org_id)
        owner = wanted.get(key)
        if owner is None:
            if link.client_id in keep:
                present.add(key)
            else:
                session.delete(link)
        else:
            link.client_id = owner
            present.add(key)
    session.flush()
    for (portal, org_id), client_pk in wanted.items():
        if (portal, org_id) not in present:
            session.add(ClientOrgLink(client_id=client_pk, portal=portal, portal_org_id=org_id))
    gone = set(absent) - keep
    for client_id in gone:
        session.delete(absent[client_id])
    session.flush()
    return ImportResult(
        kind=ImportKind.CLIENTS,
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
