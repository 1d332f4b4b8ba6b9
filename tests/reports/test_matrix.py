"""The access matrix: staff × clients, short codes, colours by class, unlinked orgs apart."""

from __future__ import annotations

from pathlib import Path

from openpyxl.utils import get_column_letter
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportFormat, ReportScope
from agent.reports.matrix import (
    FIXED_COLUMNS,
    UNLINKED_COUNT_COLUMN,
    UNLINKED_GROUP,
    access_matrix,
    write_matrix_report,
    write_matrix_xlsx,
)
from agent.reports.xlsx import MAX_COLUMNS
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv, text
from tests.reports.states import ANA, BEN, FORMULA_NAME, SUM_MANAGER, XML_NAME, State

CLIENT_COLUMNS = [
    "-2 Dairy",
    "+1 Bakery",
    "Old Mill",
    "\rCR Motors",
    XML_NAME,
    "Kōwhai Bakery",
    "@Unlinked Org (xero !EEE05)",
]
FIXED = [*FIXED_COLUMNS, UNLINKED_COUNT_COLUMN]
#: What each person's row holds, by column: (code, fill colour of the class).
EXPECTED = {
    FORMULA_NAME: {
        "-2 Dairy": ("RO", "FFFFC7CE"),
        "+1 Bakery": ("ADM+MU", "FFFFC7CE"),
        "@Unlinked Org (xero !EEE05)": ("FULL", "FFFFC7CE"),
    },
    ANA: {"+1 Bakery": ("ADM+MU / ADM+MU?", "FFF8CBAD"), XML_NAME: ("FULL", "FFF8CBAD")},
    BEN: {
        "Old Mill": ("FULL", "FFE4DFEC"),
        "\rCR Motors": ("FULL+PA", "FFF8CBAD"),
        "Kōwhai Bakery": ("RO", "FFFFEB9C"),
        "@Unlinked Org (xero !EEE05)": ("FULL", "FFE4DFEC"),
    },
}


def test_cells_are_codes_coloured_by_class(engine: Engine, state: State, tmp_path: Path) -> None:
    out = tmp_path / "matrix.xlsx"
    with Session(engine) as session:
        result = write_matrix_report(session, out, as_of=AS_OF)
    assert result.rows == 3
    book = open_book(out)
    assert book.sheetnames == ["Matrix", "Legend"]
    ws = book["Matrix"]
    columns = [*FIXED, *(type(FIXED[0])(t, 10) for t in CLIENT_COLUMNS)]
    body = framed(ws, columns, header_row=5, freeze="F6")
    group = [ws.cell(row=4, column=i).value for i in range(1, len(columns) + 1)]
    assert group[0] == "Client manager"
    assert group[5:] == [SUM_MANAGER, ANA, None, BEN, None, None, UNLINKED_GROUP]
    assert {str(r.coord) for r in ws.merged_cells.ranges} >= {"G4:H4", "I4:K4"}
    assert ws.cell(row=5, column=6).alignment.textRotation == 90

    rows = {r[0]: r for r in body}
    assert set(rows) == set(EXPECTED)
    assert rows[FORMULA_NAME][1:5] == ["leaver@harbourco.example", "left", 2, 1]
    assert rows[BEN][1:5] == ["ben.ono@harbourco.example", "active", 3, 1]
    for excel_row in ws.iter_rows(min_row=6, max_row=8):
        name = excel_row[0].value
        got = {}
        for cell, title in zip(excel_row[5:], CLIENT_COLUMNS, strict=False):
            if cell.value is not None:
                assert cell.data_type == "s"
                got[title] = (text(cell.value), cell.fill.fgColor.rgb)
        assert got == EXPECTED[name], name
    # A client whose only staff access is a grant not seen has no column.
    assert "\tTab Cafe" not in CLIENT_COLUMNS

    legend = {
        r[0]: r[1]
        for r in framed(
            book["Legend"], [type(FIXED[0])("Cell shows", 22), type(FIXED[0])("Meaning", 95)]
        )
    }
    assert {
        "ADM",
        "FULL",
        "LTD",
        "RO",
        "+MU",
        "+PA",
        "+BA",
        "?",
        "leaver_access",
        "invited_direct",
        "managed",
    } <= set(legend)
    colours = {c.value: c.fill.fgColor.rgb for c in book["Legend"]["A"] if c.value}
    assert colours["leaver_access"] == "FFFFC7CE"
    assert colours["managed"] == "FFC6EFCE"


def test_scoped_matrix_has_no_unlinked_block_and_only_its_clients(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ben.xlsx"
    with Session(engine) as session:
        result = write_matrix_report(session, out, scope=state.clients_of(BEN), as_of=AS_OF)
    assert result.rows == 2  # Ana (the XML client) and Ben
    ws = open_book(out)["Matrix"]
    titles = [text(c.value) for c in ws[5]]
    assert titles == [
        "Staff",
        "Email",
        "Status",
        "Clients",
        "\rCR Motors",
        XML_NAME,
        "Kōwhai Bakery",
    ]
    framed(
        ws,
        [*FIXED_COLUMNS, *(type(FIXED[0])(t, 10) for t in titles[4:])],
        header_row=5,
        freeze="E6",
    )


def test_more_clients_than_a_sheet_holds_go_on_further_sheets(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "split.xlsx"
    with Session(engine) as session:
        scope = ReportScope.of(None)
        matrix = access_matrix(session, scope=scope)
        assert write_matrix_xlsx(matrix, out, scope=scope, as_of=AS_OF, columns_per_sheet=3) == 3
    book = open_book(out)
    assert book.sheetnames == ["Matrix", "Matrix 2", "Matrix 3", "Legend"]
    seen = []
    for name in book.sheetnames[:3]:
        ws = book[name]
        assert [c.value for c in ws["A"][5:8]] == [c.value for c in book["Matrix"]["A"][5:8]]
        seen += [text(c.value) for c in ws[5]][5:]
        assert ws.freeze_panes == "F6"
    assert seen == CLIENT_COLUMNS
    assert MAX_COLUMNS == 16_384


def test_csv_has_the_same_grid_in_plain_codes(engine: Engine, state: State, tmp_path: Path) -> None:
    out = tmp_path / "matrix.csv"
    with Session(engine) as session:
        assert write_matrix_report(session, out, fmt=ReportFormat.CSV).rows == 3
    rows = read_csv(out)
    assert rows[0][:5] == ["Staff", "Email", "Status", "Clients", "Unlinked orgs"]
    assert rows[0][5:] == [
        "'-2 Dairy",
        "'+1 Bakery",
        "Old Mill",
        "'\rCR Motors",
        XML_NAME,
        "Kōwhai Bakery",
        "Unlinked org: @Unlinked Org (xero !EEE05)",
    ]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["'" + FORMULA_NAME][5:] == ["RO", "ADM+MU", "", "", "", "", "FULL"]
    assert by_name[ANA][6] == "ADM+MU / ADM+MU?"


def test_no_access_in_scope_is_said_plainly(engine: Engine, state: State, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    with Session(engine) as session:
        assert write_matrix_report(session, out, scope=set(), as_of=AS_OF).rows == 0
    ws = open_book(out)["Matrix"]
    assert ws["A3"].value == "Scope: 0 clients"
    assert ws["A6"].value == "No staff member has access in this scope."
    assert get_column_letter(4) == ws.auto_filter.ref.split(":")[1][0]
