"""The evidence pack's summary for people: a workbook, and a page printed to PDF.

Both show ``agent.services.evidence.summary.EvidenceSummary``: coverage, leaver
access closed, open exceptions and campaign results by manager, and what the pack
holds. The workbook lists every org's coverage; the page lists only the orgs not
read in the period (the rest are counted), so it stays a few pages long. The page is
one self-contained HTML document (the stylesheet inline, nothing fetched) that
Chromium prints (``agent.crawl.pdf``); names come from portals and client files, so
the template autoescapes everything. An empty period says so on both.

Both say what the records store in words (``agent.reports.words``): "QuickBooks
Online", "Leaver access", "Timeout", dates as "5 Dec 2026"; the pack's records keep
the codes.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from agent.reports.common import UNLINKED_CLIENT, CellKind, Column, ReportScope, naive_utc
from agent.reports.table_sheet import NOTE
from agent.reports.words import day, label, moment, plural
from agent.reports.xlsx import XlsxReport
from agent.services.evidence.summary import COVERAGE_STATES, READ_OK, EvidenceSummary

__all__ = ["summary_html", "write_summary_xlsx"]

TEMPLATES = Path(__file__).parent / "templates"
SUMMARY_CSS = (TEMPLATES / "evidence_summary.css").read_text(encoding="utf-8")
EMPTY = "No records in this period."

COVERAGE_COLUMNS = (
    Column("Portal", 7),
    Column("Org", 30),
    Column("Org id", 16),
    Column("Client", 28),
    Column("State", 11),
    Column("Last read ok (UTC)", 17, CellKind.DATETIME),
    Column("Ok scans in period", 10, CellKind.INT),
    Column("Failed scans in period", 10, CellKind.INT),
    Column("Last failure", 16),
)
LEAVER_COLUMNS = (
    Column("Person", 24),
    Column("Email", 30),
    Column("Portal", 7),
    Column("Org", 28),
    Column("Org id", 14),
    Column("Client", 26),
    Column("First seen (UTC)", 17, CellKind.DATETIME),
    Column("Removal asked (UTC)", 17, CellKind.DATETIME),
    Column("Removed (UTC)", 17, CellKind.DATETIME),
    Column("Seen gone (UTC)", 17, CellKind.DATETIME),
    Column("How", 34),
)
EXCEPTION_COLUMNS = (
    Column("Person", 24),
    Column("Email", 30),
    Column("Class", 20),
    Column("Portal", 7),
    Column("Org", 28),
    Column("Org id", 14),
    Column("Client", 26),
    Column("Accepted by", 20),
    Column("Accepted (UTC)", 17, CellKind.DATETIME),
    Column("Reason", 40),
    Column("Expires", 11, CellKind.DATE),
)
CAMPAIGN_COLUMNS = (
    Column("Campaign", 24),
    Column("Reviewer", 24),
    Column("Items", 8, CellKind.INT),
    Column("Decided", 8, CellKind.INT),
    Column("Keep", 8, CellKind.INT),
    Column("Remove", 8, CellKind.INT),
    Column("Not my client", 9, CellKind.INT),
    Column("Already gone", 9, CellKind.INT),
)
OVERVIEW_COLUMNS = (Column("What", 44), Column("Count", 12, CellKind.INT))


def records_words(kind: str) -> str:
    """A kind of record in the pack, as a person names it: "Finding review records"."""
    return f"{label(kind)} records"


def write_summary_xlsx(summary: EvidenceSummary, path: Path) -> None:
    """The summary as a workbook: an overview, then one sheet per table."""
    scope = ReportScope.of(None)
    period = f"{day(summary.period.first_day)} to {day(summary.period.last_day)}"
    with XlsxReport(
        path, title=f"Evidence {period}", as_of=summary.generated_at, scope=scope
    ) as book:
        overview = book.sheet("Overview", title=f"Evidence: {period}", columns=OVERVIEW_COLUMNS)
        for kind, count in summary.records.items():
            overview.append((records_words(kind), count))
        for state in COVERAGE_STATES:
            overview.append((f"Orgs {state}", summary.coverage_counts.get(state, 0)))
        overview.append(("Leaver access closed", len(summary.leavers_closed)))
        overview.append(("Open exceptions (accepted risks)", len(summary.exceptions)))
        if summary.empty:
            overview.after([EMPTY], NOTE)

        sheet = book.sheet("Coverage", title="Coverage", columns=COVERAGE_COLUMNS)
        for c in summary.coverage:
            sheet.append(
                (
                    label(c.portal),
                    c.org,
                    c.portal_org_id,
                    c.client or UNLINKED_CLIENT,
                    c.state,
                    c.last_ok_at,
                    c.ok_scans,
                    c.failed_scans,
                    label(c.last_failure) if c.last_failure else "",
                )
            )
        if not sheet.rows:
            sheet.after(["No org known by the end of the period."], NOTE)

        sheet = book.sheet("Leavers closed", title="Leaver access closed", columns=LEAVER_COLUMNS)
        for r in summary.leavers_closed:
            sheet.append(
                (
                    r.person,
                    r.email,
                    label(r.portal),
                    r.org,
                    r.portal_org_id,
                    r.client or UNLINKED_CLIENT,
                    r.first_seen,
                    r.removal_requested,
                    r.removed,
                    r.verified_gone,
                    r.how,
                )
            )
        if not sheet.rows:
            sheet.after(["No leaver's access was closed in the period."], NOTE)

        sheet = book.sheet("Exceptions", title="Open exceptions", columns=EXCEPTION_COLUMNS)
        for e in summary.exceptions:
            sheet.append(
                (
                    e.person,
                    e.email,
                    label(e.finding_class),
                    label(e.portal),
                    e.org,
                    e.portal_org_id,
                    e.client or UNLINKED_CLIENT,
                    e.accepted_by,
                    e.accepted_at,
                    e.reason,
                    e.expires_on,
                )
            )
        if not sheet.rows:
            sheet.after(["No accepted risk is open."], NOTE)

        sheet = book.sheet("Campaigns", title="Campaign results", columns=CAMPAIGN_COLUMNS)
        for m in summary.campaigns:
            sheet.append(
                (
                    m.campaign,
                    m.reviewer,
                    m.items,
                    m.decided,
                    m.keep,
                    m.remove,
                    m.not_my_client,
                    m.already_gone,
                )
            )
        if not sheet.rows:
            sheet.after(["No review campaign ran in the period."], NOTE)


def _when(value: datetime | None) -> str:
    return moment(naive_utc(value)) if value is not None else "—"


def _day(value: date | datetime | None) -> str:
    return day(naive_utc(value) if isinstance(value, datetime) else value)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when,
        day=_day,
        label=label,
        plural=plural,
    )
    return env


def summary_html(summary: EvidenceSummary) -> str:
    """The summary as one printable HTML page."""
    return (
        _environment()
        .get_template("evidence_summary.html")
        .render(
            s=summary,
            css=Markup(SUMMARY_CSS),  # noqa: S704 - this package's own constant, not data
            states=COVERAGE_STATES,
            unread=[c for c in summary.coverage if c.state != READ_OK],
        )
    )
