"""The access matrix: staff × clients, short codes, colours by class, unlinked orgs apart,
printed a block of clients at a time with the managers' band on every page."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from openpyxl.utils import get_column_letter
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import Column, ReportFormat, ReportScope
from agent.reports.matrix import (
    CELL_WIDTH,
    FIXED_COLUMNS,
    UNLINKED_COUNT_COLUMN,
    UNLINKED_GROUP,
    AccessMatrix,
    MatrixCell,
    MatrixColumn,
    MatrixRow,
    access_matrix,
    write_matrix_report,
    write_matrix_xlsx,
)
from agent.reports.printing import MATRIX_SCALE
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
    "@Unlinked Org (Xero !EEE05)",
]
FIXED = [*FIXED_COLUMNS, UNLINKED_COUNT_COLUMN]
#: What each person's row holds, by column: (code, fill colour of the class).
EXPECTED = {
    FORMULA_NAME: {
        "-2 Dairy": ("RO", "FFFFC7CE"),
        "+1 Bakery": ("ADM+MU", "FFFFC7CE"),
        "@Unlinked Org (Xero !EEE05)": ("FULL", "FFFFC7CE"),
    },
    ANA: {"+1 Bakery": ("ADM+MU / ADM+MU?", "FFF8CBAD"), XML_NAME: ("FULL", "FFF8CBAD")},
    BEN: {
        "Old Mill": ("FULL", "FFE4DFEC"),
        "\rCR Motors": ("FULL+PA", "FFF8CBAD"),
        "Kōwhai Bakery": ("RO", "FFFFEB9C"),
        "@Unlinked Org (Xero !EEE05)": ("FULL", "FFE4DFEC"),
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
    columns = [*FIXED, *(Column(t, CELL_WIDTH) for t in CLIENT_COLUMNS)]
    body = framed(ws, columns, header_row=5, freeze="F6")
    group = [ws.cell(row=4, column=i).value for i in range(1, len(columns) + 1)]
    assert group[0] == "Client manager"
    assert group[5:] == [SUM_MANAGER, ANA, None, BEN, None, None, UNLINKED_GROUP]
    assert {str(r.coord) for r in ws.merged_cells.ranges} >= {"G4:H4", "I4:K4"}
    assert ws.cell(row=5, column=6).alignment.textRotation == 90

    rows = {r[0]: r for r in body}
    assert set(rows) == set(EXPECTED)
    assert rows[FORMULA_NAME][1:5] == ["leaver@harbourco.example", "Left", 2, 1]
    assert rows[BEN][1:5] == ["ben.ono@harbourco.example", "Active", 3, 1]
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
        for r in framed(book["Legend"], [Column("Cell shows", 26), Column("Meaning", 95)])
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
        "Leaver access",
        "Invited direct",
        "Managed",
        UNLINKED_GROUP,
    } <= set(legend)
    assert "leaver_access" not in legend  # words, not codes
    colours = {c.value: c.fill.fgColor.rgb for c in book["Legend"]["A"] if c.value}
    assert colours["Leaver access"] == "FFFFC7CE"
    assert colours["Managed"] == "FFC6EFCE"


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
        [*FIXED_COLUMNS, *(Column(t, CELL_WIDTH) for t in titles[4:])],
        header_row=5,
        freeze="E6",
    )
    assert ws.col_breaks.brk == []  # no unlinked block to set apart


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
    assert rows[0][:6] == ["Staff", "Email", "Status", "Status label", "Clients", "Unlinked orgs"]
    assert rows[0][6:] == [
        "'-2 Dairy",
        "'+1 Bakery",
        "Old Mill",
        "'\rCR Motors",
        XML_NAME,
        "Kōwhai Bakery",
        "Unlinked org: @Unlinked Org (Xero !EEE05)",
    ]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["'" + FORMULA_NAME][2:4] == ["left", "Left"]  # the code, then its words
    assert by_name["'" + FORMULA_NAME][6:] == ["RO", "ADM+MU", "", "", "", "", "FULL"]
    assert by_name[ANA][7] == "ADM+MU / ADM+MU?"


def test_no_access_in_scope_is_said_plainly(engine: Engine, state: State, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    with Session(engine) as session:
        assert write_matrix_report(session, out, scope=set(), as_of=AS_OF).rows == 0
    ws = open_book(out)["Matrix"]
    assert ws["A3"].value == "Scope: 0 clients"
    assert ws["A6"].value == "No staff member has access in this scope."
    assert get_column_letter(4) == ws.auto_filter.ref.split(":")[1][0]


def test_printed_the_band_repeats_and_unlinked_orgs_start_a_page(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "matrix.xlsx"
    with Session(engine) as session:
        write_matrix_report(session, out, as_of=AS_OF)
    ws = open_book(out)["Matrix"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$4:$5"  # the managers' band and the header
    assert ws.print_title_cols == "$A:$E"  # the staff columns
    # The unlinked org is the 7th client column: column 12, so a break after column 11.
    assert [b.id for b in ws.col_breaks.brk] == [11]
    assert ws.cell(row=4, column=12).value == UNLINKED_GROUP
    assert 40 <= ws.page_setup.scale <= MATRIX_SCALE


def test_a_manager_cut_by_a_page_break_is_named_again_on_the_next_page(tmp_path: Path) -> None:
    columns = (
        *(MatrixColumn(f"Client {i:02d}", ANA, client_id=i) for i in range(1, 31)),
        *(MatrixColumn(f"Client {i:02d}", BEN, client_id=i) for i in range(31, 36)),
        MatrixColumn("Loose Org (Xero !LOOSE)", UNLINKED_GROUP, org_id=1),
    )
    row = MatrixRow(
        1,
        "Kiri Evans",
        "kiri@harbourco.example",
        "active",
        {0: MatrixCell("FULL", "managed")},
        1,
        0,
    )
    out = tmp_path / "wide.xlsx"
    matrix = AccessMatrix(columns, iter([row]))
    assert write_matrix_xlsx(matrix, out, scope=ReportScope.of(None), as_of=AS_OF) == 1
    ws = open_book(out)["Matrix"]
    breaks = [b.id for b in ws.col_breaks.brk]
    first_client, unlinked = 6, 6 + 35  # one-based sheet columns
    assert len(breaks) >= 3
    assert breaks[-1] == unlinked - 1  # the unlinked org starts a page of its own
    starts = [first_client, *(b + 1 for b in breaks)]
    for start in starts:
        name = ws.cell(row=4, column=start).value
        title = str(ws.cell(row=5, column=start).value)
        expected = UNLINKED_GROUP if start == unlinked else (ANA if title <= "Client 30" else BEN)
        assert name == expected, (start, name)
    # The blocks between breaks are about equally wide: no page left with one client.
    blocks = [b - a for a, b in pairwise([first_client - 1, *breaks])]
    assert max(blocks) - min(blocks) <= 1, blocks
    # A band run never crosses a break.
    for merged in ws.merged_cells.ranges:
        if merged.min_row == 4:
            assert not any(merged.min_col <= b < merged.max_col for b in breaks), merged.coord
