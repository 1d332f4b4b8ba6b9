"""Control characters in imported text are refused with file, row and column.

A NUL in a name breaks PostgreSQL's text columns and hides text from people who read
it; an escape sequence can repaint a terminal. Tab and line breaks are allowed only
where a cell holds a list (they separate its values).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.imports.helpers import everything, load, rejected, roster, staff_of, write_csv

STAFF_HEADER = ["name", "emails", "status"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ann\x00Smith", "NUL (U+0000)"),
        ("Ann\tSmith", "a tab (U+0009)"),
        ("Ann\nSmith", "a line break (U+000A)"),
        ("Ann\x1b[2JSmith", "U+001B"),
        ("Ann\x7fSmith", "U+007F"),
        ("Ann\x85Smith", "U+0085"),
    ],
)
def test_a_control_character_in_a_name_is_refused(
    engine: Engine, tmp_path: Path, name: str, shown: str
) -> None:
    path = write_csv(
        tmp_path / "staff.csv",
        STAFF_HEADER,
        [["Bob", "bob@practice.example", "active"], [name, "ann@practice.example", "active"]],
    )
    error = rejected(engine, "staff", path)
    assert [(e.file, e.row, e.column) for e in error.errors] == [("staff.csv", 3, "name")]
    assert shown in error.errors[0].reason
    assert "at character 4" in error.errors[0].reason
    assert staff_of(engine) == {}


def test_tab_and_line_breaks_separate_a_list_cell(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "staff.csv",
        STAFF_HEADER,
        [["Ann", "ann@practice.example\tann@home.example\r\na@b.example", "active"]],
    )
    load(engine, "staff", path)
    assert {e for e, s in staff_of(engine).items() if s.name == "Ann"} == {
        "ann@practice.example",
        "ann@home.example",
        "a@b.example",
    }


def test_nul_in_a_list_cell_is_still_refused_once(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "staff.csv",
        STAFF_HEADER,
        [["Ann", "ann@practice.example;\x00ann@home.example", "active"]],
    )
    error = rejected(engine, "staff", path)
    assert [(e.row, e.column) for e in error.errors] == [(2, "emails")]
    assert "NUL" in error.errors[0].reason


def test_control_characters_in_clients_and_access(engine: Engine, tmp_path: Path) -> None:
    roster(engine, tmp_path)
    before = everything(engine)
    clients = write_csv(
        tmp_path / "clients.csv",
        ["client_id", "name", "client_manager", "linked_orgs"],
        [["C1", "Kowhai\x00Joinery", "Ben\x07Chen", "xero:!x7Kp2"]],
    )
    error = rejected(engine, "clients", clients)
    assert [(e.file, e.row, e.column) for e in error.errors] == [
        ("clients.csv", 2, "name"),
        ("clients.csv", 2, "client_manager"),
    ]

    access = write_csv(
        tmp_path / "access.csv",
        ["staff_email", "portal", "org_id", "role"],
        [["anna@practice.example", "xero", "!x7Kp2", "Adv\x00iser"]],
    )
    error = rejected(engine, "access", access)
    assert [(e.file, e.row, e.column) for e in error.errors] == [("access.csv", 2, "role")]
    assert everything(engine) == before


def test_a_nul_in_a_column_the_import_ignores_does_not_matter(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "staff.csv",
        [*STAFF_HEADER, "Notes"],
        [["Ann", "ann@practice.example", "active", "x\x00y"]],
    )
    assert load(engine, "staff", path).created == 1


def test_a_control_character_on_every_row_is_counted_whole(engine: Engine, tmp_path: Path) -> None:
    rows = [[f"P\x00{i}", f"p{i}@practice.example", "active"] for i in range(250)]
    error = rejected(engine, "staff", write_csv(tmp_path / "staff.csv", STAFF_HEADER, rows))
    assert (error.total, len(error.errors)) == (250, 100)
    assert {e.column for e in error.errors} == {"name"}
