"""Every column of every workbook: its longest value fits or wraps, and every sheet prints.

The practice of ``tests.reports.states`` is given the values that used to be cut: a
client name of a paragraph's length, a qbo user type, MYOB GUID org ids, an e-mail
longer than any column and one with a hyphen, a client contact of name and address,
a leaver whose name is long. Every workbook the reports write is then read back with
openpyxl and held to one rule (``tests.reports.readback.misfits``): each value fits
its column's width or its cell wraps, on a row tall enough, without breaking a word
that fits whole. The same rule holds on the practice ``accessrecon demo`` shows
(``tests.reports.demo_practice``): the names a practice admin meets first. The rule is
applied once, in the shared sheet writer, so a report added later is held to it by
adding it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal
from agent.reports.column_widths import PADDING, ColumnFit
from agent.reports.common import Column, ReportFormat, ReportScope
from agent.reports.evidence import write_evidence_report
from agent.reports.evidence_summary import write_summary_xlsx
from agent.reports.exceptions import write_exceptions_report
from agent.reports.findings import finding_lines
from agent.reports.findings_workbook import write_findings_xlsx
from agent.reports.leaver import write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.review_list import write_review_list
from agent.reports.workload import write_workload_report
from agent.runtime import Runtime
from agent.security.users import add_user, principal_of
from agent.services.campaigns.progress import campaign_progress
from agent.services.campaigns.start import start_campaign
from agent.services.campaigns.views import review_list
from agent.services.evidence.kinds import rows_of
from agent.services.evidence.period import Period
from agent.services.evidence.records import KINDS
from agent.services.evidence.summary import summarise
from agent.services.findings import reconcile
from agent.services.scans import record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Client, ClientOrgLink
from tests.factories import DOMAIN, add_staff, grant
from tests.reports.conftest import AS_OF
from tests.reports.demo_practice import build_demo_practice
from tests.reports.readback import all_text, header_row, misfits, open_book
from tests.reports.states import State

LONG_MANAGER = "Anneliese Konstantinopoulou-Vanderbilt"
LONG_CLIENT = (
    "The Kōwhai and Harbourside Family Trust for Agricultural and Horticultural "
    "Holdings (Aotearoa) Limited Partnership"
)
LONG_ORG = "Kōwhai and Harbourside Agricultural Holdings — Consolidated Group Ledger"
LEAVER = "Bartholomew Alexander Fitzwilliam-Worthington"
#: longer than any column may grow, but broken at its hyphen it fits
LEAVER_EMAIL = f"bartholomew.alexander.fitzwilliam-worthington@{DOMAIN}"
#: longer than any column may grow, with nowhere to break: it must wrap mid-word
CONTACT_EMAIL = "accounts.payable.and.receivable.department@averylongclientdomainname.example"
CONTACT_NAME = "Dr Aroha Wikitoria Ngata-Whitcombe"
QBO_TYPE = "Standard limited customers and vendors"
QBO_ORG = "9130352157364426"
MYOB_ORG = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f"
LONG_VALUES = (LONG_CLIENT, LONG_ORG, LEAVER_EMAIL, MYOB_ORG)
ADMIN = "Ada Admin"
WORKBOOKS = (
    "leaver",
    "matrix",
    "workload",
    "exceptions",
    "evidence",
    "findings",
    "evidence-summary",
    "review-list",
)


def add_long_values(engine: Engine) -> None:
    """A client, two orgs and a leaver whose every value is as long as a practice's get."""
    last_login = datetime(2026, 9, 30, 23, 59, tzinfo=UTC)
    with session_scope(engine) as session:
        add_staff(session, LEAVER, LEAVER_EMAIL, status="left", left_on=date(2026, 6, 30))
        manager = add_staff(session, LONG_MANAGER, f"anneliese.kv@{DOMAIN}")
        client = Client(
            external_id="C-LONG-0001",
            name=LONG_CLIENT,
            client_manager=LONG_MANAGER,
            job_manager=LONG_MANAGER,
            annual_fee=1_234_567.89,
            contact_email=CONTACT_EMAIL,
            contact_name=CONTACT_NAME,
        )
        session.add(client)
        session.flush()
        assert client.id is not None
        grant(session, manager, "qbo", QBO_ORG, "Company admin")
        for portal, org_id in (("qbo", QBO_ORG), ("myob", MYOB_ORG)):
            session.add(ClientOrgLink(client_id=client.id, portal=portal, portal_org_id=org_id))
            ref = OrgRef(Portal(portal), org_id, f"{LONG_ORG} ({portal})")
            org = upsert_org(session, ref, login_id=None)
            role, extras = (
                (QBO_TYPE, ())
                if portal == "qbo"
                else ("File user", ("Payroll", "Banking", "Invoicing", "Purchasing"))
            )
            users = (
                PortalUser(
                    LEAVER_EMAIL, LEAVER, role, AccessStatus.ACTIVE, extras, last_login=last_login
                ),
                PortalUser(
                    f"anneliese.kv@{DOMAIN}", LONG_MANAGER, "Company admin", AccessStatus.PENDING
                ),
                PortalUser(CONTACT_EMAIL, CONTACT_NAME, role, AccessStatus.ACTIVE),
            )
            record_ok_scan(
                session,
                org_id=org.id,
                started_at=utcnow(),
                result=OrgUsers(ref, users, len(users), f"{len(users)} users"),
            )
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN])


def every_workbook(
    engine: Engine,
    directory: Path,
    *,
    leaver_email: str,
    admin: str,
    now: datetime | None = None,
) -> dict[str, Path]:
    """Every workbook a report writes, by name, from the practice as it stands: the
    leaver report of ``leaver_email``, and an access review ``admin`` (a practice admin)
    starts at ``now``, before the evidence summary is taken, so both show it."""
    paths = {name: directory / f"{name}.xlsx" for name in WORKBOOKS}
    scope = ReportScope.of(None)
    now = now or utcnow()
    today = now.date()
    period = Period(today - timedelta(days=30), today)
    with session_scope(engine) as session:
        xlsx = ReportFormat.XLSX
        write_leaver_report(session, leaver_email, paths["leaver"], fmt=xlsx, as_of=AS_OF)
        write_matrix_report(session, paths["matrix"], fmt=xlsx, as_of=AS_OF)
        write_workload_report(session, paths["workload"], fmt=xlsx, as_of=AS_OF)
        write_exceptions_report(session, paths["exceptions"], fmt=xlsx, as_of=AS_OF)
        write_evidence_report(session, paths["evidence"], fmt=xlsx, as_of=AS_OF)
        lines = finding_lines(session, scope=scope)
        write_findings_xlsx(lines, paths["findings"], scope=scope, as_of=AS_OF)
        reviewer = principal_of(session, admin)
        due_on = today + timedelta(days=30)
        started = start_campaign(session, reviewer, "Q4 2026", due_on=due_on, now=now)
        campaign_id = started.campaign.id
        assert campaign_id is not None
        counts = {kind.name: sum(1 for _ in rows_of(session, kind, period)) for kind in KINDS}
        summary = summarise(session, period, records=counts, now=AS_OF)
        write_summary_xlsx(summary, paths["evidence-summary"])
        write_review_list(
            review_list(session, reviewer, campaign_id, everyone=True),
            paths["review-list"],
            progress=campaign_progress(session, campaign_id),
            as_of=AS_OF,
        )
    return paths


@pytest.fixture
def books(engine: Engine, state: State, tmp_path: Path) -> dict[str, Path]:
    add_long_values(engine)
    with session_scope(engine) as session:
        add_user(session, name=ADMIN, role="practice_admin", scope="all", actor="test")
    return every_workbook(engine, tmp_path, leaver_email=LEAVER_EMAIL, admin=ADMIN)


def _sheets(books: dict[str, Path]) -> Iterator[tuple[str, Worksheet]]:
    for name, path in books.items():
        for ws in open_book(path).worksheets:
            yield name, ws


def test_every_value_of_every_report_fits_its_column_or_wraps(books: dict[str, Path]) -> None:
    problems = [p for _, ws in _sheets(books) for p in misfits(ws)]
    assert problems == []
    # The long values are there to be measured, and some of them had to wrap.
    seen = set().union(*(all_text(path) for path in books.values()))
    for value in LONG_VALUES:
        assert any(value in text for text in seen), value
    leaver = open_book(books["leaver"])[LONG_MANAGER[:31]]
    wrapped = [
        c.value
        for row in leaver.iter_rows(min_row=header_row(leaver) + 1)
        for c in row
        if c.alignment.wrap_text and isinstance(c.value, str)
    ]
    assert LONG_CLIENT in wrapped
    assert QBO_TYPE in wrapped
    assert f"{CONTACT_NAME}\n{CONTACT_EMAIL}" in wrapped


def test_every_value_of_the_demo_practice_fits_its_column_or_wraps(
    runtime: Runtime, tmp_path: Path
) -> None:
    practice = build_demo_practice(runtime, tmp_path / "world")
    books = every_workbook(
        runtime.engine,
        tmp_path,
        leaver_email=practice.leaver_email,
        admin=practice.admin,
        now=AS_OF,
    )
    problems = [p for _, ws in _sheets(books) for p in misfits(ws)]
    assert problems == []
    # Every workbook has rows of the demo's own to measure.
    measured = {name for name, ws in _sheets(books) if ws.max_row > header_row(ws)}
    assert measured == set(WORKBOOKS)
    seen = set().union(*(all_text(path) for path in books.values()))
    assert {org.name for org in practice.world.orgs} <= seen


def test_every_sheet_prints_landscape_its_header_on_every_page(books: dict[str, Path]) -> None:
    for name, ws in _sheets(books):
        where = f"{name}: {ws.title}"
        setup = ws.page_setup
        assert setup.orientation == "landscape", where
        assert setup.paperSize == 9, where
        header = header_row(ws)
        repeated = ws.print_title_rows
        assert repeated is not None, where
        assert repeated.endswith(f"${header}"), (where, repeated)
        if ws.col_breaks.brk:
            # A matrix: a block of columns a page, at a scale that keeps it readable.
            assert 40 <= setup.scale <= 100, where
        else:
            # A table: one page wide, as tall as it takes.
            assert ws.sheet_properties.pageSetUpPr.fitToPage, where
            assert setup.fitToWidth in (None, 1), where
            assert setup.fitToHeight == 0, where


def test_a_column_is_as_wide_as_its_longest_value_up_to_its_limit() -> None:
    fit = ColumnFit(Column("Portal", 11))
    start = fit.width
    assert not fit.text("Xero")
    assert fit.width == start  # the header's floor holds a short value
    assert not fit.text("QuickBooks")
    assert fit.width == pytest.approx(len("QuickBooks") + PADDING, abs=1)
    assert fit.text("QuickBooks Online")  # longer than the limit: it wraps
    assert fit.width <= 11 + PADDING
    email = ColumnFit(Column("Email", 20))
    assert not email.text("hana.chen@harbourco.example")  # one word: the column widens
    assert email.width >= len("hana.chen@harbourco.example")
    guid = ColumnFit(Column("Org id", 14))
    assert guid.text(MYOB_ORG)  # it wraps at its hyphens instead
    assert guid.width <= 14 + PADDING


def _sheet_with(
    directory: Path, value: str, *, width: float, wrap: bool, height: float | None = None
) -> Worksheet:
    """A one-cell table saved and read back, as the reports' workbooks are."""
    book = Workbook()
    ws = book.active
    assert isinstance(ws, Worksheet)
    ws["A4"] = "Header"
    ws["A4"].fill = PatternFill("solid", fgColor="FF305496")
    ws["A5"] = value
    ws["A5"].alignment = Alignment(wrap_text=wrap)
    ws.column_dimensions["A"].width = width
    if height is not None:
        ws.row_dimensions[5].height = height
    path = directory / f"{len(list(directory.iterdir()))}.xlsx"
    book.save(path)
    return open_book(path).worksheets[0]


def test_the_check_finds_a_value_cut_short(tmp_path: Path) -> None:
    """The rule this file holds every report to reports each way a value can be cut."""
    fits = _sheet_with(tmp_path, "Xero", width=10, wrap=False)
    assert misfits(fits) == []
    cut = _sheet_with(tmp_path, QBO_TYPE, width=12, wrap=False)
    assert "neither fits nor wraps" in misfits(cut)[0]
    short_row = _sheet_with(tmp_path, QBO_TYPE, width=12, wrap=True)
    assert "lines" in misfits(short_row)[0]
    broken = _sheet_with(tmp_path, "hana.chen@harbourco.example", width=12, wrap=True, height=45)
    assert "breaks the word" in misfits(broken)[0]
    tall = _sheet_with(tmp_path, QBO_TYPE, width=12, wrap=True, height=60)
    assert misfits(tall) == []
