"""The findings export and the downloads: one writer for the API and the command line."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportScope
from agent.reports.findings import (
    FIELDS,
    finding_lines,
    findings_csv,
    findings_download,
    findings_json,
)
from agent.reports.leaver import leaver_download, leaver_report
from tests.reports.conftest import AS_OF
from tests.reports.states import (
    ANA,
    HOSTILE,
    LEAVER_EMAIL,
    SUM_MANAGER,
    UNLINKED_ORG,
    State,
    open_classes,
)

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_every_open_finding_once_in_the_exports_columns(engine: Engine, state: State) -> None:
    with Session(engine) as session:
        lines = finding_lines(session, scope=ReportScope.of(None))
    assert {(line.portal_org_id, line.email) for line in lines} == set(open_classes(engine))
    content = findings_csv(lines, bom=False)
    assert content.startswith(b"portal,portal_org_id,")  # no byte order mark unless asked
    header, *body = _rows(content)
    assert tuple(header) == FIELDS
    assert len(body) == len(lines)
    records = json.loads(findings_json(lines))
    assert [list(r) for r in records] == [list(FIELDS)] * len(lines)
    assert {r["id"] for r in records} == {line.id for line in lines}


def test_csv_cells_never_start_a_formula(engine: Engine, state: State) -> None:
    with Session(engine) as session:
        lines = finding_lines(session, scope=ReportScope.of(None))
    cells = {cell for row in _rows(findings_csv(lines, bom=False)) for cell in row}
    assert not [c for c in cells if c.startswith(TRIGGERS)]
    assert "'" + LEAVER_EMAIL not in cells  # plain text is left alone
    assert {"'" + h for h in HOSTILE} & cells  # hostile names are there, neutralised


def test_the_download_is_the_same_table_with_a_byte_order_mark(
    engine: Engine, state: State
) -> None:
    with Session(engine) as session:
        lines = finding_lines(
            session, scope=ReportScope.of(state.clients_of(ANA)), problems_only=True
        )
    download = findings_download(lines, as_of=AS_OF)
    assert download.content == b"\xef\xbb\xbf" + findings_csv(lines, bom=False)
    assert download.filename == "accessrecon-findings-20261124-0930.csv"
    assert download.rows == len(lines) > 0
    seen = {line.portal_org_id for line in lines}
    assert seen <= state.names_of(ANA)
    assert UNLINKED_ORG[1] not in seen


def test_the_leaver_download_is_the_reports_workbook_cut_to_the_scope(
    engine: Engine,
    state: State,
) -> None:
    scope = ReportScope.of(state.clients_of(ANA), "managed clients")
    with Session(engine) as session:
        staff, download = leaver_download(session, LEAVER_EMAIL, scope=scope, as_of=AS_OF)
        expected = leaver_report(session, staff, scope=scope.client_ids).rows
    assert download.rows == len(expected) > 0
    # Named after the person, with anything but letters and digits made a dash.
    assert download.filename == "leaver-HYPERLINK--http---x---y-20261124.xlsx"
    with zipfile.ZipFile(io.BytesIO(download.content)) as book:
        xml = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    assert "Scope: managed clients (3 clients)" in xml
    assert "!AAA01" in xml
    # The leaver can also reach a client of another manager, and an org linked to no client.
    assert not [name for name in state.names_of(SUM_MANAGER) if name in xml]
    assert UNLINKED_ORG[1] not in xml
