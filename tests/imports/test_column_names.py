"""Files in a practice export's own column names import right, or are refused: never half-read.

The failure these guard against: a client list whose org column the import did not
know was imported "successfully", every client linked to no org, and every captured
org then reported as unlinked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.imports.columns import COLUMNS
from agent.imports.header import column_key
from agent.storage.db import session_scope
from agent.storage.models import ClientOrgLink, IntendedAccess, Org
from tests.imports.helpers import (
    MYOB_ID,
    MYOB_ID_2,
    clients_of,
    everything,
    links_of,
    load,
    rejected,
    roster,
    staff_of,
    where,
    write_csv,
    write_xlsx,
)


def test_no_two_columns_of_a_kind_share_a_name() -> None:
    for specs in COLUMNS.values():
        keys = [column_key(name) for spec in specs for name in spec.names]
        assert len(keys) == len(set(keys))


# -- clients: org columns -----------------------------------------------------------


@pytest.mark.parametrize(
    ("xero", "qbo", "myob"),
    [
        ("xero_org", "qbo_org", "myob_org"),
        ("xero_org_id", "qbo_realm_id", "myob_business_id"),
        ("Xero", "QuickBooks Org", "MYOB Org ID"),
        ("xero orgs", "quickbooks_org", "myob"),
    ],
)
def test_one_org_column_per_portal(
    engine: Engine, tmp_path: Path, xero: str, qbo: str, myob: str
) -> None:
    header = ["client_id", "name", xero, qbo, myob]
    rows = [
        ["C1", "Kowhai", "!x7Kp2; !Ab123", "1234567890", MYOB_ID.upper()],
        ["C2", "Summit", "", "9130352157364426\n1234567891", ""],
        ["C3", "Harbour", "", "", f"{{{MYOB_ID_2}}}"],
    ]
    result = load(engine, "clients", write_csv(tmp_path / "clients.csv", header, rows))

    assert result.created == 3
    assert links_of(engine) == {
        "C1": {("xero", "!x7Kp2"), ("xero", "!Ab123"), ("qbo", "1234567890"), ("myob", MYOB_ID)},
        "C2": {("qbo", "9130352157364426"), ("qbo", "1234567891")},
        "C3": {("myob", MYOB_ID_2)},
    }


def test_per_portal_columns_in_xlsx_with_number_cells(engine: Engine, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "clients.xlsx",
        ["Client ID", "Client Name", "QBO", "Xero"],
        [["C1", "Kowhai", 1234567890, "!x7Kp2"]],
    )
    load(engine, "clients", path)
    assert links_of(engine) == {"C1": {("qbo", "1234567890"), ("xero", "!x7Kp2")}}


@pytest.mark.parametrize("column", ["linked_orgs", "orgs", "org_links", "Linked Orgs"])
def test_one_links_column_under_its_names(engine: Engine, tmp_path: Path, column: str) -> None:
    path = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", column],
        [["C1", "Kowhai", "xero:!x7Kp2; qbo:1234567890"]],
    )
    load(engine, "clients", path)
    assert links_of(engine) == {"C1": {("xero", "!x7Kp2"), ("qbo", "1234567890")}}


def test_a_bad_id_in_a_portal_column_names_row_and_column(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", "xero_org", "QBO Realm ID"],
        [
            ["C1", "Kowhai", "!x7Kp2", "1234567890"],
            ["C2", "Summit", "x7Kp3", "qbo:12"],
            ["C3", "Harbour", "myob:" + MYOB_ID, ""],
        ],
    )
    error = rejected(engine, "clients", path)
    assert where(error) == [
        ("clients.csv", 3, "xero_org"),
        ("clients.csv", 3, "QBO Realm ID"),
        ("clients.csv", 4, "xero_org"),
    ]
    assert "did you mean !x7Kp3" in error.errors[0].reason
    assert "names another portal" in error.errors[2].reason
    assert links_of(engine) == {}


def test_an_org_in_two_columns_of_two_rows_names_the_second(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", "linked_orgs", "xero"],
        [["C1", "Kowhai", "xero:!x7Kp2", ""], ["C2", "Summit", "", "!x7Kp2"]],
    )
    error = rejected(engine, "clients", path)
    assert where(error) == [("clients.csv", 3, "xero")]
    assert "also linked on row 2" in error.errors[0].reason


@pytest.mark.parametrize(
    "column", ["xero_tenant", "Org Code", "Realm", "MYOB file", "QuickBooks company", "Business ID"]
)
def test_an_unknown_column_that_looks_like_org_links_is_an_error(
    engine: Engine, tmp_path: Path, column: str
) -> None:
    path = write_csv(
        tmp_path / "clients.csv", ["client_id", "name", column], [["C1", "Kowhai", "!x7Kp2"]]
    )
    error = rejected(engine, "clients", path)
    assert where(error) == [("clients.csv", 1, column)]
    assert "linked_orgs, xero_org, qbo_org or myob_org" in error.errors[0].reason
    assert clients_of(engine) == {}


def test_an_unknown_column_that_means_nothing_is_only_a_warning(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", "xero_org", "Phone"],
        [["C1", "Kowhai", "!x7Kp2", "021 555"]],
    )
    result = load(engine, "clients", path)
    assert result.created == 1
    assert [w for w in result.warnings if "'Phone' is not used" in w]


def _an_org_is_known(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            Org(
                portal="xero",
                portal_org_id="!x7Kp2",
                name="Kowhai",
                first_seen_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )


def test_a_file_linking_no_org_while_orgs_are_known_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    _an_org_is_known(engine)
    path = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", "client_manager"],
        [["C1", "Kowhai", "Ben Chen"], ["C2", "Summit", ""]],
    )
    error = rejected(engine, "clients", path)
    assert where(error) == [("clients.csv", 1, "linked_orgs")]
    assert "1 orgs are known" in error.errors[0].reason
    assert clients_of(engine) == {}


def test_an_org_column_left_empty_while_orgs_are_linked_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    header = ["client_id", "name", "Xero Org ID"]
    load(engine, "clients", write_csv(tmp_path / "a.csv", header, [["C1", "Kowhai", "!x7Kp2"]]))
    before = everything(engine)
    error = rejected(
        engine, "clients", write_csv(tmp_path / "b.csv", header, [["C1", "Kowhai", ""]])
    )
    assert where(error) == [("b.csv", 1, "Xero Org ID")]
    assert "no row of this column links an org" in error.errors[0].reason
    assert everything(engine) == before


def test_a_first_client_list_may_link_no_org(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clients.csv", ["client_id", "name"], [["C1", "Kowhai"]])
    assert load(engine, "clients", path).created == 1
    with session_scope(engine) as session:
        assert session.exec(select(ClientOrgLink)).all() == []


# -- clients: managers and partners by address --------------------------------------


def test_managers_and_partners_by_name_or_any_address(engine: Engine, tmp_path: Path) -> None:
    roster(engine, tmp_path)
    header = [
        "client_id",
        "name",
        "Client Manager Email",
        "job_manager",
        "Partner Email",
        "xero_org",
    ]
    rows = [
        ["C1", "Kowhai", "BEN@practice.example", "Ben Chen", "anna.smith@gmail.example", "!x7Kp2"],
        ["C2", "Summit", "ben+xero@practice.example", "cara@practice.example", "Anna Smith", ""],
    ]
    load(engine, "clients", write_csv(tmp_path / "clients.csv", header, rows))
    clients = clients_of(engine)
    assert (clients["C1"].client_manager, clients["C1"].job_manager, clients["C1"].partner) == (
        "Ben Chen",
        "Ben Chen",
        "Anna Smith",
    )
    assert (clients["C2"].client_manager, clients["C2"].job_manager, clients["C2"].partner) == (
        "Ben Chen",
        "Cara Lee",
        "Anna Smith",
    )


def test_an_address_not_in_the_roster_is_an_error(engine: Engine, tmp_path: Path) -> None:
    roster(engine, tmp_path)
    header = ["client_id", "name", "manager", "partner", "linked_orgs"]
    rows = [
        ["C1", "Kowhai", "ben@practice.example", "Anna Smith", "xero:!x7Kp2"],
        ["C2", "Summit", "zed@practice.example", "nobody@elsewhere.example", ""],
    ]
    before = everything(engine)
    error = rejected(engine, "clients", write_csv(tmp_path / "clients.csv", header, rows))
    assert where(error) == [("clients.csv", 3, "manager"), ("clients.csv", 3, "partner")]
    assert "'zed@practice.example' is not an address of anyone in the staff roster" in (
        error.errors[0].reason
    )
    assert everything(engine) == before


# -- staff and access ---------------------------------------------------------------


def test_staff_primary_email_plus_aliases(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        ["Full Name", "Primary Email", "Aliases", "Status"],
        [
            ["Ann", "ann@practice.example", "ann@home.example; a.n@gmail.example", "active"],
            ["Bob", "bob@practice.example", "", "active"],
        ],
    )
    load(engine, "staff", path)
    people = staff_of(engine)
    assert {e for e, s in people.items() if s.name == "Ann"} == {
        "ann@practice.example",
        "ann@home.example",
        "a.n@gmail.example",
    }
    assert people["bob@practice.example"].name == "Bob"


def test_staff_one_email_column(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        ["name", "email", "status"],
        [["Ann", "ann@practice.example", "active"]],
    )
    assert load(engine, "staff", path).created == 1


def test_staff_bad_alias_names_the_aliases_column(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        ["name", "primary_email", "other emails", "status"],
        [["Ann", "ann@practice.example", "not-an-address", "active"]],
    )
    error = rejected(engine, "staff", path)
    assert where(error) == [("roster.csv", 2, "other emails")]


@pytest.mark.parametrize("column", ["Email 2", "Personal e-mail address", "Alias list"])
def test_staff_unknown_address_column_is_an_error(
    engine: Engine, tmp_path: Path, column: str
) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        ["name", "emails", "status", column],
        [["Ann", "ann@practice.example", "active", "ann@home.example"]],
    )
    error = rejected(engine, "staff", path)
    assert where(error) == [("roster.csv", 1, column)]
    assert "emails or aliases" in error.errors[0].reason


def test_access_in_other_column_names(engine: Engine, tmp_path: Path) -> None:
    roster(engine, tmp_path)
    path = write_csv(
        tmp_path / "access.csv",
        ["Email", "Portal", "Portal Org ID", "Role", "Permissions"],
        [["anna@practice.example", "xero", "!x7Kp2", "Adviser", "Manage users"]],
    )
    assert load(engine, "access", path).created == 1
    with session_scope(engine) as session:
        grant = session.exec(select(IntendedAccess)).one()
        assert (grant.portal_org_id, grant.extra_permissions) == ("!x7Kp2", ["Manage users"])


def test_access_unknown_permissions_column_is_an_error(engine: Engine, tmp_path: Path) -> None:
    roster(engine, tmp_path)
    path = write_csv(
        tmp_path / "access.csv",
        ["staff_email", "portal", "org_id", "role", "Granted permission set"],
        [["anna@practice.example", "xero", "!x7Kp2", "Adviser", "Manage users"]],
    )
    error = rejected(engine, "access", path)
    assert where(error) == [("access.csv", 1, "Granted permission set")]
