"""The imports: good files load, bad files are refused whole with every problem named."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.domain import Portal
from agent.imports import (
    COLUMNS,
    ImportKind,
    ImportRejected,
    ImportResult,
    RowError,
    column_help,
    import_access,
    import_clients,
    import_staff,
    normalise_org_id,
    run_import,
)
from agent.imports.fields import parse_date, parse_money
from agent.storage.db import session_scope
from agent.storage.models import (
    AuditEvent,
    Client,
    ClientOrgLink,
    Finding,
    IntendedAccess,
    Org,
    Staff,
    StaffEmail,
)
from tests.imports import helpers
from tests.imports.helpers import write_csv

DOMAINS = ["practice.example"]
MYOB_ID = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f"

STAFF_HEADER = ["name", "emails", "status", "left_on", "practice_role"]
STAFF_ROWS = [
    [
        "Anna Smith",
        "Anna+Xero@Practice.example; anna.smith@gmail.example",
        "active",
        "",
        "Practice Admin",
    ],
    ["Ben Chen", "ben@practice.example", "On Leave", "", "manager"],
    ["Cara Lee", "cara@practice.example", "left", "03/03/2025", "employee"],
    ["Dev Patel", "dev@practice.example", "on_leave", "", ""],
]
CLIENT_HEADER = [
    "client_id",
    "name",
    "client_manager",
    "job_manager",
    "partner",
    "annual_fee",
    "archived",
    "contact_email",
    "linked_orgs",
]
CLIENT_ROWS = [
    [
        "C001",
        "Kowhai Joinery",
        "Ben Chen",
        "Ben Chen",
        "Anna Smith",
        "$1,200.50",
        "no",
        "accounts@kowhai.example",
        "xero:!x7Kp2; qbo:1234567890",
    ],
    [
        "C002",
        "Summit Dental",
        "Ben Chen",
        "",
        "Anna Smith",
        "13900",
        "yes",
        "",
        f"myob:{MYOB_ID.upper()}",
    ],
    ["C003", "Harbour Cafe", "", "", "", "", "", "", ""],
]
ACCESS_HEADER = ["staff_email", "portal", "org_id", "role", "extra_permissions"]
ACCESS_ROWS = [
    ["anna@practice.example", "xero", "!x7Kp2", "Adviser", "Manage users; Payroll admin"],
    ["ANNA.SMITH@gmail.example", "qbo", "1234567890", "FINANCIALADVISER", ""],
    ["ben+tag@practice.example", "myob", MYOB_ID, "Administrator", ""],
]


# -- helpers -----------------------------------------------------------------------


def write_xlsx(path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Path:
    return helpers.write_xlsx(path, header, rows, notes_sheet=True)


def staff_csv(
    tmp_path: Path,
    rows: Sequence[Sequence[Any]] = STAFF_ROWS,
    name: str = "staff.csv",
    header: Sequence[str] = STAFF_HEADER,
) -> Path:
    return write_csv(tmp_path / name, header, rows)


def load_staff(engine: Engine, path: Path, actor: str = "cli") -> ImportResult:
    with session_scope(engine) as session:
        return import_staff(session, path, practice_domains=DOMAINS, actor=actor)


def load_clients(engine: Engine, path: Path) -> ImportResult:
    with session_scope(engine) as session:
        return import_clients(session, path)


def load_access(engine: Engine, path: Path) -> ImportResult:
    with session_scope(engine) as session:
        return import_access(session, path, practice_domains=DOMAINS)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table an import touches, to prove a rejection changed nothing."""
    with session_scope(engine) as session:
        return {
            "staff": sorted(
                (s.id, s.name, s.status, s.left_on, s.practice_role)
                for s in session.exec(select(Staff))
            ),
            "emails": sorted(
                (e.staff_id, e.email, e.is_primary) for e in session.exec(select(StaffEmail))
            ),
            "clients": sorted(
                (c.id, c.external_id, c.name, c.annual_fee, c.archived)
                for c in session.exec(select(Client))
            ),
            "links": sorted(
                (k.client_id, k.portal, k.portal_org_id)
                for k in session.exec(select(ClientOrgLink))
            ),
            "access": sorted(
                (a.staff_id, a.portal, a.portal_org_id, a.role)
                for a in session.exec(select(IntendedAccess))
            ),
            "audit": sorted((a.id, a.action) for a in session.exec(select(AuditEvent))),
        }


def staff_by_email(engine: Engine) -> dict[str, Staff]:
    with session_scope(engine) as session:
        members = {s.id: s for s in session.exec(select(Staff))}
        return {e.email: members[e.staff_id] for e in session.exec(select(StaffEmail))}


def rejected(call: Any, *args: Any, **kwargs: Any) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        call(*args, **kwargs)
    return caught.value


def where(error: ImportRejected) -> list[tuple[str, int | None, str | None]]:
    return [(e.file, e.row, e.column) for e in error.errors]


def only_error(error: ImportRejected) -> RowError:
    assert len(error.errors) == 1, error.report()
    return error.errors[0]


# -- staff -------------------------------------------------------------------------


def test_staff_csv_imports_roster_with_normalised_emails(engine: Engine, tmp_path: Path) -> None:
    path = staff_csv(tmp_path)
    result = load_staff(engine, path, actor="alice")

    assert (result.kind, result.file, result.rows) == (ImportKind.STAFF, "staff.csv", 4)
    assert (result.created, result.updated, result.removed) == (4, 0, 0)
    people = staff_by_email(engine)
    anna = people["anna@practice.example"]
    assert people["anna.smith@gmail.example"].id == anna.id
    assert (anna.name, anna.status, anna.practice_role) == (
        "Anna Smith",
        "active",
        "practice_admin",
    )
    assert people["ben@practice.example"].status == "on_leave"
    assert people["dev@practice.example"].status == "on_leave"
    assert people["dev@practice.example"].practice_role == ""
    cara = people["cara@practice.example"]
    assert (cara.status, cara.left_on) == ("left", date(2025, 3, 3))
    with session_scope(engine) as session:
        primaries = {e.email for e in session.exec(select(StaffEmail)) if e.is_primary}
        audit = session.exec(select(AuditEvent)).one()
    assert primaries == {
        "anna@practice.example",
        "ben@practice.example",
        "cara@practice.example",
        "dev@practice.example",
    }
    assert (audit.actor, audit.action) == ("alice", "import.staff")
    assert audit.detail["file"] == "staff.csv"
    assert audit.detail["rows"] == 4
    assert audit.detail["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_staff_xlsx_with_real_date_cells_and_loose_headers(engine: Engine, tmp_path: Path) -> None:
    header = [" Name ", "EMAILS", "Status", "Left On", "practice role"]
    rows = [
        ["Anna Smith", "anna@practice.example", "Active", None, "partner"],
        [
            "Cara Lee",
            "cara@practice.example\ncara@home.example",
            "LEFT",
            datetime(2025, 3, 3),
            "employee",
        ],
        [None, None, None, None, None],
        ["Eve Ng", "eve@practice.example", "left", date(2024, 12, 31), None],
    ]
    path = write_xlsx(tmp_path / "roster.xlsx", header, rows)

    result = load_staff(engine, path)

    assert (result.rows, result.created) == (3, 3)
    people = staff_by_email(engine)
    assert people["cara@practice.example"].left_on == date(2025, 3, 3)
    assert people["cara@home.example"].id == people["cara@practice.example"].id
    assert people["eve@practice.example"].left_on == date(2024, 12, 31)


def test_staff_csv_with_bom_and_semicolons(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "staff.csv",
        STAFF_HEADER,
        [
            ["Anna Smith", "anna@practice.example, anna@home.example", "active", "", ""],
            ["Cara Lee", "cara@practice.example", "left", "2025-03-03", ""],
        ],
        delimiter=";",
        bom=True,
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbfname;emails")

    result = load_staff(engine, path)

    assert result.created == 2
    assert result.warnings == ()
    people = staff_by_email(engine)
    assert people["anna@home.example"].name == "Anna Smith"
    assert people["cara@practice.example"].left_on == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["", "x@practice.example", "active", "", ""], "name", "a value is required"),
        (["Xi", "", "active", "", ""], "emails", "a value is required"),
        (["Xi", "x@practice.example", "", "", ""], "status", "a value is required"),
        (
            ["Xi", "x@practice.example", "retired", "", ""],
            "status",
            "'retired' is not a staff status",
        ),
        (["Xi", "x@practice.example", "left", "", ""], "left_on", "required when status is left"),
        (
            ["Xi", "x@practice.example", "active", "2025-03-03", ""],
            "left_on",
            "must be empty unless status is left",
        ),
        (["Xi", "x@practice.example", "left", "31/02/2025", ""], "left_on", "not a real date"),
        (["Xi", "x@practice.example", "left", "3 March", ""], "left_on", "is not a date"),
        (["Xi", "x@practice.example", "left", "03/03/25", ""], "left_on", "is not a date"),
        (["Xi", "x@practice", "active", "", ""], "emails", "'x@practice' is not an email"),
        (
            ["Xi", "x@practice.example; not an email", "active", "", ""],
            "emails",
            "'not an email' is not an email address",
        ),
    ],
)
def test_staff_bad_row_is_named(
    engine: Engine, tmp_path: Path, row: list[str], column: str, reason: str
) -> None:
    path = staff_csv(tmp_path, [*STAFF_ROWS, row])
    error = only_error(rejected(load_staff, engine, path))
    assert (error.file, error.row, error.column) == ("staff.csv", 6, column)
    assert reason in error.reason


def test_staff_duplicate_email_across_rows_names_both_rows(engine: Engine, tmp_path: Path) -> None:
    path = staff_csv(
        tmp_path,
        [
            *STAFF_ROWS,
            ["Anna Two", "ANNA@practice.example", "active", "", ""],
        ],
    )
    error = only_error(rejected(load_staff, engine, path))
    assert (error.row, error.column) == (6, "emails")
    assert "anna@practice.example is also on row 2" in error.reason


def test_staff_every_bad_row_is_reported_and_nothing_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    path = staff_csv(
        tmp_path,
        [
            STAFF_ROWS[0],
            ["", "b@practice.example", "active", "", ""],
            STAFF_ROWS[1],
            ["Cy", "c@practice.example", "gone", "", ""],
            ["Di", "bad-address", "left", "", ""],
        ],
    )
    error = rejected(load_staff, engine, path)
    assert where(error) == [
        ("staff.csv", 3, "name"),
        ("staff.csv", 5, "status"),
        ("staff.csv", 6, "emails"),
        ("staff.csv", 6, "left_on"),
    ]
    assert snapshot(engine)["staff"] == []
    text = str(error)
    assert text.splitlines()[0] == "staff.csv was not imported: 4 problems; nothing was changed."
    assert "  row 5, column status: 'gone' is not a staff status" in text


def test_one_bad_row_among_good_rows_leaves_the_database_unchanged(
    engine: Engine, tmp_path: Path
) -> None:
    load_staff(engine, staff_csv(tmp_path))
    before = snapshot(engine)
    changed = [
        ["Anna Smyth", *STAFF_ROWS[0][1:]],
        *STAFF_ROWS[1:],
        ["New Person", "new@practice.example", "active", "", ""],
        ["Bad Person", "bad@practice.example", "left", "", ""],
    ]

    error = rejected(load_staff, engine, staff_csv(tmp_path, changed, name="new.csv"))

    assert where(error) == [("new.csv", 7, "left_on")]
    assert snapshot(engine) == before


def test_staff_missing_column_is_one_error(engine: Engine, tmp_path: Path) -> None:
    path = staff_csv(tmp_path, [["Anna", "active"]], header=["name", "status"])
    error = only_error(rejected(load_staff, engine, path))
    assert (error.row, error.column) == (1, "emails")
    assert "required column is missing" in error.reason


def test_staff_left_without_left_on_column_says_so(engine: Engine, tmp_path: Path) -> None:
    path = staff_csv(
        tmp_path, [["Anna", "a@practice.example", "left"]], header=["name", "emails", "status"]
    )
    error = only_error(rejected(load_staff, engine, path))
    assert (error.row, error.column) == (2, "left_on")
    assert "the file has no left_on column" in error.reason


def test_empty_staff_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    load_staff(engine, staff_csv(tmp_path))
    before = snapshot(engine)
    error = only_error(rejected(load_staff, engine, staff_csv(tmp_path, [], name="empty.csv")))
    assert (error.file, error.row, error.column) == ("empty.csv", None, None)
    assert "would remove every staff" in error.reason
    assert snapshot(engine) == before


def test_zero_byte_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "nothing.csv"
    path.write_bytes(b"")
    error = only_error(rejected(load_staff, engine, path))
    assert "the file is empty" in error.reason


def test_staff_reimport_updates_in_place_with_stable_ids(engine: Engine, tmp_path: Path) -> None:
    load_staff(engine, staff_csv(tmp_path))
    first = {email: s.id for email, s in staff_by_email(engine).items()}

    again = load_staff(engine, staff_csv(tmp_path, name="again.csv"))
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 4, 0)

    rows = [
        # Anna's primary changes; her old primary is kept as an alias.
        ["Anna Smith", "anna.s@practice.example; anna@practice.example", "active", "", "partner"],
        ["Ben Chen", "ben@practice.example", "left", "2025-06-30", "manager"],
        ["Cara Lee", "cara@practice.example", "left", "03/03/2025", "employee"],
        ["Fay Wu", "fay@practice.example", "active", "", "employee"],
    ]
    result = load_staff(engine, staff_csv(tmp_path, rows, name="changed.csv"))

    assert (result.created, result.updated, result.unchanged, result.removed) == (1, 2, 1, 1)
    people = staff_by_email(engine)
    assert people["anna.s@practice.example"].id == first["anna@practice.example"]
    assert people["anna@practice.example"].id == first["anna@practice.example"]
    assert "anna.smith@gmail.example" not in people
    assert people["ben@practice.example"].id == first["ben@practice.example"]
    assert people["ben@practice.example"].status == "left"
    assert people["cara@practice.example"].id == first["cara@practice.example"]
    assert "dev@practice.example" not in people
    with session_scope(engine) as session:
        primary = {e.email for e in session.exec(select(StaffEmail)) if e.is_primary}
        assert len(session.exec(select(Staff)).all()) == 4
    assert "anna.s@practice.example" in primary
    assert "anna@practice.example" not in primary


def test_staff_missing_from_file_but_referenced_are_kept_as_left(
    engine: Engine, tmp_path: Path
) -> None:
    load_staff(engine, staff_csv(tmp_path))
    dev_id = staff_by_email(engine)["dev@practice.example"].id
    with session_scope(engine) as session:
        session.add(
            IntendedAccess(staff_id=dev_id, portal="xero", portal_org_id="!x7Kp2", role="Adviser")
        )

    result = load_staff(engine, staff_csv(tmp_path, STAFF_ROWS[:3], name="fewer.csv"))

    assert (result.removed, result.retained) == (0, 1)
    assert any("Dev Patel" in w and "marked left" in w for w in result.warnings)
    dev = staff_by_email(engine)["dev@practice.example"]
    assert (dev.id, dev.status) == (dev_id, "left")


def test_staff_referenced_by_a_finding_is_not_deleted(engine: Engine, tmp_path: Path) -> None:
    load_staff(engine, staff_csv(tmp_path))
    ben_id = staff_by_email(engine)["ben@practice.example"].id
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        org = Org(portal="xero", portal_org_id="!x7Kp2", name="Kowhai")
        session.add(org)
        session.flush()
        assert org.id is not None
        session.add(
            Finding(
                org_id=org.id,
                identity="ben@practice.example",
                staff_id=ben_id,
                finding_class="managed",
                severity="ok",
                first_seen_at=now,
                last_seen_at=now,
            )
        )

    rows = [r for r in STAFF_ROWS if r[0] != "Ben Chen"]
    result = load_staff(engine, staff_csv(tmp_path, rows, name="no-ben.csv"))

    assert result.retained == 1
    assert staff_by_email(engine)["ben@practice.example"].status == "left"


# -- clients -----------------------------------------------------------------------


def clients_csv(
    tmp_path: Path, rows: Sequence[Sequence[Any]] = CLIENT_ROWS, name: str = "clients.csv"
) -> Path:
    return write_csv(tmp_path / name, CLIENT_HEADER, rows)


def client_state(engine: Engine) -> dict[str, tuple[Client, set[tuple[str, str]]]]:
    with session_scope(engine) as session:
        links: dict[int, set[tuple[str, str]]] = {}
        for link in session.exec(select(ClientOrgLink)):
            links.setdefault(link.client_id, set()).add((link.portal, link.portal_org_id))
        return {
            c.external_id: (c, links.get(c.id or 0, set())) for c in session.exec(select(Client))
        }


def test_clients_csv_imports_clients_and_links(engine: Engine, tmp_path: Path) -> None:
    result = load_clients(engine, clients_csv(tmp_path))

    assert (result.kind, result.rows, result.created) == (ImportKind.CLIENTS, 3, 3)
    state = client_state(engine)
    kowhai, kowhai_links = state["C001"]
    assert (kowhai.annual_fee, kowhai.archived, kowhai.client_manager) == (
        1200.5,
        False,
        "Ben Chen",
    )
    assert kowhai.contact_email == "accounts@kowhai.example"
    assert kowhai_links == {("xero", "!x7Kp2"), ("qbo", "1234567890")}
    summit, summit_links = state["C002"]
    assert (summit.annual_fee, summit.archived) == (13900.0, True)
    assert summit_links == {("myob", MYOB_ID)}
    cafe, cafe_links = state["C003"]
    assert (cafe.annual_fee, cafe.archived, cafe_links) == (None, False, set())
    with session_scope(engine) as session:
        assert session.exec(select(AuditEvent)).one().action == "import.clients"


def test_clients_xlsx_with_numbers_in_cells(engine: Engine, tmp_path: Path) -> None:
    rows = [
        [1001, "Kowhai Joinery", "Ben", None, None, 1200.5, False, None, "xero:!x7Kp2"],
        [1002, "Summit Dental", None, None, None, 13900, "YES", None, None],
    ]
    path = write_xlsx(tmp_path / "clients.xlsx", CLIENT_HEADER, rows)

    result = load_clients(engine, path)

    assert result.created == 2
    state = client_state(engine)
    assert state["1001"][0].annual_fee == 1200.5
    assert state["1001"][1] == {("xero", "!x7Kp2")}
    assert state["1002"][0].archived is True


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["", "Nameless", "", "", "", "", "", "", ""], "client_id", "a value is required"),
        (["C009", "", "", "", "", "", "", "", ""], "name", "a value is required"),
        (["C001", "Again", "", "", "", "", "", "", ""], "client_id", "C001 is also on row 2"),
        (
            ["C009", "X", "", "", "", "about 1k", "", "", ""],
            "annual_fee",
            "'about 1k' is not an amount",
        ),
        (["C009", "X", "", "", "", "1.200,50", "", "", ""], "annual_fee", "is not an amount"),
        (["C009", "X", "", "", "", "", "maybe", "", ""], "archived", "'maybe' is not yes or no"),
        (
            ["C009", "X", "", "", "", "", "", "accounts at x", ""],
            "contact_email",
            "is not an email address",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "sage:123"],
            "linked_orgs",
            "'sage' is not a portal",
        ),
        (["C009", "X", "", "", "", "", "", "", "!x7Kp3"], "linked_orgs", "is not portal:org_id"),
        (
            ["C009", "X", "", "", "", "", "", "", "xero:x7Kp3"],
            "linked_orgs",
            "did you mean !x7Kp3?",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "xero:!x7Kp23"],
            "linked_orgs",
            "is not a Xero org id",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "qbo:123456789"],
            "linked_orgs",
            "is not a QuickBooks org id",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "qbo:12345678901234567890"],
            "linked_orgs",
            "is not a QuickBooks org id",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "myob:3f2b8c1e-5d4a-4c6b-9e2f"],
            "linked_orgs",
            "is not a MYOB org id",
        ),
        (
            ["C009", "X", "", "", "", "", "", "", "qbo:1234567890"],
            "linked_orgs",
            "qbo:1234567890 is also linked on row 2 (client C001)",
        ),
    ],
)
def test_clients_bad_row_is_named(
    engine: Engine, tmp_path: Path, row: list[str], column: str, reason: str
) -> None:
    path = clients_csv(tmp_path, [*CLIENT_ROWS, row])
    error = only_error(rejected(load_clients, engine, path))
    assert (error.file, error.row, error.column) == ("clients.csv", 5, column)
    assert reason in error.reason


def test_clients_xero_ids_differ_by_case(engine: Engine, tmp_path: Path) -> None:
    rows = [
        ["C1", "One", "", "", "", "", "", "", "xero:!qKTbB"],
        ["C2", "Two", "", "", "", "", "", "", "xero:!QktBb"],
    ]
    load_clients(engine, clients_csv(tmp_path, rows))
    assert client_state(engine)["C2"][1] == {("xero", "!QktBb")}


def test_clients_rounded_excel_number_is_refused(engine: Engine, tmp_path: Path) -> None:
    rows = [["C1", "One", "", "", "", "", "", "", "xero:!x7Kp2"]]
    path = write_xlsx(tmp_path / "clients.xlsx", CLIENT_HEADER, rows)
    write_xlsx(
        tmp_path / "access.xlsx",
        ACCESS_HEADER,
        [["anna@practice.example", "qbo", 9130352157364426789.0, "Adviser", None]],
    )
    load_staff(engine, staff_csv(tmp_path))
    load_clients(engine, path)
    error = only_error(rejected(load_access, engine, tmp_path / "access.xlsx"))
    assert (error.row, error.column) == (2, "org_id")
    assert "format the column as Text" in error.reason


def test_empty_clients_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    error = only_error(rejected(load_clients, engine, clients_csv(tmp_path, [])))
    assert "would remove every client" in error.reason


def test_clients_reimport_updates_in_place_and_moves_links(engine: Engine, tmp_path: Path) -> None:
    load_clients(engine, clients_csv(tmp_path))
    ids = {key: client.id for key, (client, _) in client_state(engine).items()}
    rows = [
        [
            "C001",
            "Kowhai Joinery Ltd",
            "Ben Chen",
            "Ben Chen",
            "Anna Smith",
            "$1,300",
            "no",
            "",
            "xero:!x7Kp2",
        ],
        ["C003", "Harbour Cafe", "", "", "", "", "", "", "qbo:1234567890"],
        ["C004", "New Client", "", "", "", "", "", "", ""],
    ]

    result = load_clients(engine, clients_csv(tmp_path, rows, name="v2.csv"))

    assert (result.created, result.updated, result.unchanged, result.removed) == (1, 2, 0, 1)
    state = client_state(engine)
    assert set(state) == {"C001", "C003", "C004"}
    assert state["C001"][0].id == ids["C001"]
    assert state["C001"][0].annual_fee == 1300.0
    assert state["C001"][1] == {("xero", "!x7Kp2")}
    assert state["C003"][0].id == ids["C003"]
    assert state["C003"][1] == {("qbo", "1234567890")}
    with session_scope(engine) as session:
        assert len(session.exec(select(ClientOrgLink)).all()) == 2


# -- access ------------------------------------------------------------------------


def access_csv(
    tmp_path: Path, rows: Sequence[Sequence[Any]] = ACCESS_ROWS, name: str = "access.csv"
) -> Path:
    return write_csv(tmp_path / name, ACCESS_HEADER, rows)


def access_state(engine: Engine) -> list[tuple[str, str, str, str, list[str]]]:
    with session_scope(engine) as session:
        members = {s.id: s.name for s in session.exec(select(Staff))}
        return sorted(
            (members[a.staff_id], a.portal, a.portal_org_id, a.role, a.extra_permissions)
            for a in session.exec(select(IntendedAccess))
        )


@pytest.fixture
def roster(engine: Engine, tmp_path: Path) -> Engine:
    load_staff(engine, staff_csv(tmp_path))
    return engine


def test_access_csv_resolves_staff_by_any_address(roster: Engine, tmp_path: Path) -> None:
    result = load_access(roster, access_csv(tmp_path))

    assert (result.kind, result.rows, result.created) == (ImportKind.ACCESS, 3, 3)
    assert access_state(roster) == [
        ("Anna Smith", "qbo", "1234567890", "FINANCIALADVISER", []),
        ("Anna Smith", "xero", "!x7Kp2", "Adviser", ["Manage users", "Payroll admin"]),
        # a MYOB role cell naming a Role, not a user type: no user type recorded
        ("Ben Chen", "myob", MYOB_ID, "", ["Administrator"]),
    ]


def test_access_xlsx(roster: Engine, tmp_path: Path) -> None:
    rows = [
        ["anna@practice.example", "Xero", "!x7Kp2", "Adviser", None],
        ["cara@practice.example", "QBO", 1234567890, "Accountant", "Payroll admin"],
    ]
    result = load_access(roster, write_xlsx(tmp_path / "access.xlsx", ACCESS_HEADER, rows))
    assert result.created == 2
    assert ("Cara Lee", "qbo", "1234567890", "Accountant", ["Payroll admin"]) in access_state(
        roster
    )
    assert any("Cara Lee has left the practice" in w for w in result.warnings)


def test_empty_access_file_is_valid_and_removes_all(roster: Engine, tmp_path: Path) -> None:
    load_access(roster, access_csv(tmp_path))
    result = load_access(roster, access_csv(tmp_path, [], name="none.csv"))
    assert (result.rows, result.removed) == (0, 3)
    assert access_state(roster) == []


def test_access_reimport_updates_roles(roster: Engine, tmp_path: Path) -> None:
    load_access(roster, access_csv(tmp_path))
    rows = [ACCESS_ROWS[0], ["anna.smith@gmail.example", "qbo", "1234567890", "Standard", ""]]
    result = load_access(roster, access_csv(tmp_path, rows, name="v2.csv"))
    assert (result.created, result.updated, result.unchanged, result.removed) == (0, 1, 1, 1)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (
            ["zoe@practice.example", "xero", "!x7Kp2", "Adviser", ""],
            "staff_email",
            "'zoe@practice.example' is not an address of anyone in the staff roster",
        ),
        (
            ["zoe at practice", "xero", "!x7Kp2", "Adviser", ""],
            "staff_email",
            "is not an email address",
        ),
        (["", "xero", "!x7Kp2", "Adviser", ""], "staff_email", "a value is required"),
        (
            ["ben@practice.example", "netsuite", "123", "Adviser", ""],
            "portal",
            "'netsuite' is not a portal",
        ),
        (
            ["ben@practice.example", "xero", "x7Kp2", "Adviser", ""],
            "org_id",
            "is not a Xero org id",
        ),
        (
            ["ben@practice.example", "qbo", "12345", "Adviser", ""],
            "org_id",
            "is not a QuickBooks org id",
        ),
        (
            ["ben@practice.example", "myob", "1234567890", "Adviser", ""],
            "org_id",
            "is not a MYOB org id",
        ),
        (["ben@practice.example", "xero", "", "Adviser", ""], "org_id", "a value is required"),
        (["ben@practice.example", "xero", "!x7Kp2", "", ""], "role", "a value is required"),
        (["anna.smith@gmail.example", "xero", "!x7Kp2", "Standard", ""], None, "also on row 2"),
    ],
)
def test_access_bad_row_is_named(
    roster: Engine, tmp_path: Path, row: list[str], column: str | None, reason: str
) -> None:
    before = snapshot(roster)
    error = only_error(rejected(load_access, roster, access_csv(tmp_path, [*ACCESS_ROWS, row])))
    assert (error.file, error.row, error.column) == ("access.csv", 5, column)
    assert reason in error.reason
    assert snapshot(roster) == before


def test_access_before_any_roster_is_refused(engine: Engine, tmp_path: Path) -> None:
    error = rejected(load_access, engine, access_csv(tmp_path))
    assert "import staff first" in error.errors[0].reason


def test_access_missing_columns_each_named(roster: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "access.csv", ["staff_email", "org_id"], [["anna@practice.example", "!x7Kp2"]]
    )
    error = rejected(load_access, roster, path)
    assert where(error) == [("access.csv", 1, "portal"), ("access.csv", 1, "role")]


# -- reading -----------------------------------------------------------------------


def test_unknown_columns_are_ignored_with_a_warning(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "staff.csv", [*STAFF_HEADER, "Phone"], [[*STAFF_ROWS[0], "021 555"]]
    )
    result = load_staff(engine, path)
    assert result.created == 1
    assert len(result.warnings) == 1
    assert "'Phone' is not used" in result.warnings[0]


def test_row_numbers_count_blank_rows_and_multiline_cells(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "name,emails,status\n"
        'Anna,"anna@practice.example\nanna@home.example",active\n'
        "\n"
        "Ben,ben@practice.example,sacked\n",
        encoding="utf-8",
    )
    error = only_error(rejected(load_staff, engine, path))
    assert (error.row, error.column) == (4, "status")


def test_csv_row_with_too_many_values_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "name,emails,status\nSmith, Anna,anna@practice.example,active\n", encoding="utf-8"
    )
    error = rejected(load_staff, engine, path)
    assert (2, None) in [(e.row, e.column) for e in error.errors]
    assert any("must be in double quotes" in e.reason for e in error.errors)


def test_non_utf8_csv_is_refused_with_advice(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes("name,emails,status\nChloé,c@practice.example,active\n".encode("cp1252"))
    error = only_error(rejected(load_staff, engine, path))
    assert "is not UTF-8" in error.reason
    assert "CSV UTF-8" in error.reason


def test_old_xls_and_broken_xlsx_are_refused(engine: Engine, tmp_path: Path) -> None:
    xls = tmp_path / "staff.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert ".xls" in only_error(rejected(load_staff, engine, xls)).reason
    broken = tmp_path / "staff.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert "not a readable .xlsx" in only_error(rejected(load_staff, engine, broken)).reason


def test_rejection_report_is_readable_and_capped(engine: Engine, tmp_path: Path) -> None:
    rows = [[f"P{i}", f"p{i}@practice.example", "nope", "", ""] for i in range(250)]
    error = rejected(load_staff, engine, staff_csv(tmp_path, rows))
    assert (len(error.errors), error.total, error.more) == (100, 250, 150)
    assert [e.row for e in error.errors] == list(range(2, 102))
    lines = str(error).splitlines()
    assert lines[0] == "staff.csv was not imported: 250 problems; nothing was changed."
    assert lines[1].startswith("  row 2, column status: 'nope' is not a staff status")
    assert lines[-1] == "  ... and 150 more problems not shown."
    assert len(error.report(limit=None).splitlines()) == 102


# -- the public surface ------------------------------------------------------------


def test_run_import_runs_each_kind_in_its_own_transaction(engine: Engine, tmp_path: Path) -> None:
    staff = run_import(
        engine, "staff", staff_csv(tmp_path), practice_domains=DOMAINS, actor="tester"
    )
    clients = run_import(engine, ImportKind.CLIENTS, clients_csv(tmp_path))
    access = run_import(engine, "access", access_csv(tmp_path), practice_domains=DOMAINS)
    assert [r.created for r in (staff, clients, access)] == [4, 3, 3]
    with session_scope(engine) as session:
        actions = [a.action for a in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["import.staff", "import.clients", "import.access"]
    with pytest.raises(ValueError, match="unknown import kind"):
        run_import(engine, "payroll", tmp_path / "x.csv")


def test_sandbox_world_files_import_cleanly(engine: Engine, tmp_path: Path) -> None:
    from sandbox.generate import generate_world, write_world

    world = generate_world(11)
    files = write_world(world, tmp_path / "world")
    results = [
        run_import(engine, kind, path, practice_domains=world.practice_domains)
        for kind, path in (
            ("staff", files.staff),
            ("clients", files.clients),
            ("access", files.access),
        )
    ]
    assert [r.rows for r in results] == [len(world.staff), len(world.clients), len(world.grants)]
    with session_scope(engine) as session:
        links = len(session.exec(select(ClientOrgLink)).all())
    assert links == sum(1 for org in world.orgs if org.client_id)


def test_columns_document_every_kind() -> None:
    assert set(COLUMNS) == set(ImportKind)
    names = {kind: [c.name for c in specs] for kind, specs in COLUMNS.items()}
    assert names[ImportKind.STAFF] == [
        "name",
        "emails",
        "aliases",
        "status",
        "left_on",
        "practice_role",
    ]
    contact = CLIENT_HEADER.index("contact_email") + 1
    assert names[ImportKind.CLIENTS] == [
        *CLIENT_HEADER[:contact],
        "contact_name",
        *CLIENT_HEADER[contact:],
        "xero_org",
        "qbo_org",
        "myob_org",
    ]
    assert names[ImportKind.ACCESS] == [*ACCESS_HEADER, "until"]
    for specs in COLUMNS.values():
        assert all(spec.description and spec.example for spec in specs)
    assert "left_on (optional)" in column_help("staff")


def test_exported_names() -> None:
    import agent.imports

    assert sorted(agent.imports.__all__) == sorted(
        name
        for name in dir(agent.imports)
        if not name.startswith("_") and name in agent.imports.__all__
    )
    for name in agent.imports.__all__:
        assert hasattr(agent.imports, name)


# -- field parsers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-03", date(2025, 3, 3)),
        ("03/03/2025", date(2025, 3, 3)),
        ("4/3/2025", date(2025, 3, 4)),
        ("04.03.2025", date(2025, 3, 4)),
        ("2025-03-04 00:00:00", date(2025, 3, 4)),
        (datetime(2025, 3, 4, 9), date(2025, 3, 4)),
    ],
)
def test_parse_date(text: Any, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,200.50", 1200.5),
        ("1200", 1200.0),
        ("1,234,567", 1234567.0),
        ("-$5", -5.0),
        ("($5.00)", -5.0),
        ("  $ 99 ", 99.0),
        (42, 42.0),
    ],
)
def test_parse_money(text: Any, expected: float) -> None:
    assert parse_money(text) == expected


def test_normalise_org_id() -> None:
    assert normalise_org_id(Portal.MYOB, "{" + MYOB_ID.upper() + "}") == MYOB_ID
    assert normalise_org_id("xero", " !x7Kp2 ") == "!x7Kp2"
    assert normalise_org_id("qbo", "1234567890123456789") == "1234567890123456789"


def test_left_on_given_for_active_staff_is_one_error(engine: Engine, tmp_path: Path) -> None:
    path = staff_csv(tmp_path, [["Xi", "x@practice.example", "active", "not a date", ""]])
    error = only_error(rejected(load_staff, engine, path))
    assert (error.row, error.column) == (2, "left_on")
    assert "must be empty unless status is left" in error.reason


def test_import_rejected_survives_pickling() -> None:
    import pickle

    error = ImportRejected([RowError("f.csv", 2, "name", "a value is required")])
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  (our own object)
    assert copy.errors == error.errors
    assert str(copy) == str(error)
