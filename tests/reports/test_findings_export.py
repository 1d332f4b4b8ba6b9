"""The findings export and the downloads: one writer for the API and the command line;
the reviewer's workbook and the client statement in words."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import UNLINKED_CLIENT, ReportScope
from agent.reports.findings import (
    FIELDS,
    LABELLED,
    finding_lines,
    findings_csv,
    findings_download,
    findings_json,
)
from agent.reports.leaver import leaver_download, leaver_report
from agent.reports.review_list import review_list_download
from agent.reports.statement import statement_html
from agent.services.campaigns.views import ReviewList, ReviewRow
from agent.services.removals.statements import ClientStatement, OrgStatement, Origin, PersonLine
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
    # The existing columns first, in their order; the words after them.
    assert tuple(header[: len(FIELDS)]) == FIELDS
    assert header[len(FIELDS) :] == [f"{name}_label" for name in LABELLED]
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


def test_the_reviewers_workbook_says_codes_in_words() -> None:
    row = ReviewRow(
        item_id=7,
        client="",
        client_external_id="",
        portal="qbo",
        portal_org_id="4620816365",
        org="Plus One QBO",
        email="ana@x.example",
        name=ANA,
        role="COMPANY_ADMIN",
        finding_class="leaver_access",
        reviewer="",
        reviewer_basis="practice_admin",
        escalated_from="",
        decision="not_my_client",
        reason="",
        decided_by="Mia",
        decided_at=AS_OF,
        state="awaiting removal",
        removal_item_id=None,
        confirmed_gone_at=None,
    )
    review = ReviewList(7, "Q4 2026", date(2026, 12, 20), None, "everyone", [row])
    download = review_list_download(review, as_of=AS_OF)
    book = load_workbook(io.BytesIO(download.content))
    sheet = book["Review"]
    assert sheet["A1"].value.endswith("everyone, due 20 Dec 2026 (open); 0 of 1 still to decide")
    cells = next(sheet.iter_rows(min_row=5, values_only=True))
    assert cells[1] == UNLINKED_CLIENT
    assert (cells[3], cells[8], cells[9], cells[11], cells[15]) == (
        "QuickBooks Online",
        "Company admin",
        "Leaver access",
        "Not my client",
        "Awaiting removal",
    )


def test_the_client_statement_says_dates_statuses_and_reasons_in_words() -> None:
    person = PersonLine(
        "Ana Ruiz", "ana@x.example", "COMPANY_ADMIN", "pending", AS_OF, Origin.CLIENT_INVITE, False
    )
    statement = ClientStatement(
        client_id=1,
        external_id="C-001",
        name="+1 Bakery",
        contact_email="owner@plusone.example",
        as_of=AS_OF,
        orgs=[
            OrgStatement("qbo", "4620816365", "Plus One QBO", AS_OF, people=[person]),
            OrgStatement("xero", "!AAA01", "Plus One", None, AS_OF, "mfa_failed"),
            OrgStatement("myob", "0b6f", "", None, AS_OF, "no_permission"),
        ],
    )
    page = statement_html(statement)
    for words in (
        "as of 24 Nov 2026 09:30 UTC",
        "As read on 24 Nov 2026 09:30 UTC.",
        "Invite pending: the invitation is not yet accepted",
        "Company admin",
        "failed: MFA failed",
        "failed: no permission",
        "QuickBooks Online",
    ):
        assert words in page, words
    assert "24 Nov 2026</td>" in page  # since
    for code in ("mfa_failed", "no_permission", "2026-11-24", "COMPANY_ADMIN"):
        assert code not in page, code
