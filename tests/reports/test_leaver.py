"""The leaver report: a summary, then each client manager's own clients to call."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import NO_MANAGER, UNLINKED_CLIENT, CellKind, Column, ReportFormat
from agent.reports.leaver import COLUMNS, PersonNotFound, write_leaver_report
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import ANA, BEN, FORMULA_NAME, LEAVER_EMAIL, SUM_MANAGER, State

SUMMARY_TITLES = [
    "Client manager",
    "Orgs",
    "Practice can remove",
    "Only the client can remove",
    "Pending invitations",
    "Possible matches to confirm",
    "Sheet",
]


def _write(engine: Engine, who: str, path: Path, **kwargs) -> int:
    with Session(engine) as session:
        _, count = write_leaver_report(session, who, path, as_of=AS_OF, **kwargs)
    return count


def test_a_sheet_per_manager_with_the_clients_to_call(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "leaver.xlsx"
    assert _write(engine, LEAVER_EMAIL, out) == 3
    book = open_book(out)
    assert book.sheetnames == ["Summary", SUM_MANAGER, ANA, NO_MANAGER]

    summary = book["Summary"]
    assert summary["A1"].value == f"Leaver report: {FORMULA_NAME} (left, left on 2026-03-03)"
    assert summary["A2"].value == "As of 2026-11-24 09:30 UTC"
    assert summary["A3"].value == "Scope: all clients and orgs linked to no client"
    columns = [
        Column(t, w, CellKind.TEXT if i in (0, 6) else CellKind.INT)
        for i, (t, w) in enumerate(zip(SUMMARY_TITLES, (28, 8, 12, 14, 12, 14, 28), strict=True))
    ]
    body = framed(summary, columns)
    assert body == [
        [SUM_MANAGER, 1, 0, 1, 0, 0, SUM_MANAGER],
        [ANA, 1, 1, 0, 0, 0, ANA],
        [NO_MANAGER, 1, 0, 1, 0, 0, NO_MANAGER],
    ]
    assert summary["G5"].hyperlink.location == f"'{SUM_MANAGER}'!A1"
    total = [c.value for c in summary[8]][:6]
    assert total == ["Total", 3, 1, 2, 0, 0]
    assert summary["A8"].font.b

    ana = framed(book[ANA], COLUMNS)
    assert ana == [
        [
            "+1 Bakery",
            "Plus One Bakery Ltd",
            "xero",
            "!AAA01",
            LEAVER_EMAIL,
            "Adviser",
            "Manage users",
            "active",
            "leaver_access",
            "practice",
            None,  # no reason: the practice can
            ana[0][11],
            "=cmd|' /C calc'!A0",
        ]
    ]
    assert isinstance(ana[0][11], datetime)
    assert book[ANA]["I5"].fill.fgColor.rgb == "FFFFC7CE"  # the class, in red
    assert book[ANA]["A1"].value == f"{FORMULA_NAME}: access on {ANA}'s clients"

    dairy = framed(book[SUM_MANAGER], COLUMNS)
    assert [r[:4] + r[5:11] for r in dairy] == [
        [
            "-2 Dairy",
            "Minus Two Dairy",
            "xero",
            "!BBB02",
            "Read only",
            None,
            "active",
            "leaver_access",
            "client",
            "agent's login not in this org",
        ]
    ]
    unlinked = framed(book[NO_MANAGER], COLUMNS)
    assert [(r[0], r[3], r[9], r[10]) for r in unlinked] == [
        (UNLINKED_CLIENT, "!EEE05", "client", "agent's login not in this org")
    ]


def test_possible_matches_and_pending_invitations_are_listed(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ana.xlsx"
    assert _write(engine, ANA, out) == 4
    book = open_book(out)
    assert book.sheetnames == ["Summary", ANA, BEN]
    rows = framed(book[ANA], COLUMNS)
    assert sorted((r[3], r[7], r[8]) for r in rows) == [
        ("!AAA01", "active", "managed"),
        ("4620816365", "pending", "invited_direct"),
    ]
    assert rows[[r[3] for r in rows].index("4620816365")][5:7] == ["Company admin", "Manage users"]
    ben = framed(book[BEN], COLUMNS)
    assert sorted((r[4], r[8]) for r in ben) == [
        ("ana.r@home.example", "probable_match"),
        ("ana.ruiz@harbourco.example", "invited_direct"),
    ]
    summary = [[c.value for c in row] for row in book["Summary"].iter_rows(min_row=5, max_row=6)]
    assert [r[:6] for r in summary] == [[ANA, 2, 1, 1, 1, 0], [BEN, 2, 0, 2, 0, 1]]


def test_cut_to_a_scope_only_shows_its_clients(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "cut.xlsx"
    count = _write(
        engine,
        LEAVER_EMAIL,
        out,
        scope=state.clients_of(ANA),
        scope_label=f"clients managed by {ANA}",
    )
    assert count == 1
    book = open_book(out)
    assert book.sheetnames == ["Summary", ANA]
    assert book[ANA]["A3"].value == f"Scope: clients managed by {ANA} (3 clients)"
    assert [r[3] for r in framed(book[ANA], COLUMNS)] == ["!AAA01"]


def test_someone_on_no_org_gets_a_report_that_says_so(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "none.xlsx"
    assert _write(engine, LEAVER_EMAIL, out, scope=set()) == 0
    book = open_book(out)
    assert book.sheetnames == ["Summary"]
    notes = [c.value for c in book["Summary"]["A"] if c.value]
    assert "This person can reach no org in this scope." in notes


def test_the_csv_is_one_table_with_the_manager_first(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "leaver.csv"
    assert _write(engine, LEAVER_EMAIL, out, fmt=ReportFormat.CSV) == 3
    rows = read_csv(out)
    assert rows[0] == ["Client manager", *(c.title for c in COLUMNS)]
    assert [r[0] for r in rows[1:]] == ["'" + SUM_MANAGER, ANA, NO_MANAGER]
    ana = rows[2]
    assert ana[1] == "'+1 Bakery"
    assert ana[-1] == "'=cmd|' /C calc'!A0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", ana[-2])  # a date Excel reads


def test_an_unknown_or_ambiguous_person_is_refused(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    with pytest.raises(PersonNotFound, match="no staff member"):
        _write(engine, "nobody@harbourco.example", tmp_path / "x.xlsx")
    with pytest.raises(PersonNotFound, match="several staff"):
        _write(engine, "n", tmp_path / "x.xlsx")  # Ana Ruiz, Ben Ono
    assert not (tmp_path / "x.xlsx").exists()
