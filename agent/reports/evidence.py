"""The evidence report: every scan's outcome, newest first.

What a finding rests on is a scan, and what "no finding" rests on is an ok scan
that positively read the whole list: this sheet shows, for each attempt, whether
it was read (``ok``), could not be (``failed``, with the reason) or was held back
as a sudden drop to no one (``suspect``), and how many users were captured against
the count the portal's page showed, said as a sentence ("the portal said 7 users; 7
read") rather than the scraper's note. A failed scan captured nobody, so its user
count is left empty rather than printed as a misleading zero.

The workbook says portal, source, status and reason in words; the CSV keeps their
codes and adds a "… label" column of words for each after the existing columns.

A login that could not sign in (or list its orgs) read nothing at all, and on its
first crawl had no org to fail a scan on: each such failure is a row of its own,
in time order with the scans (Org ``sign-in of {login}``, no scan id), so the gap
in the evidence says why it is there. Logins belong to no client, so these rows
are in the report of the whole practice only, not in one cut to some clients.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, select

from agent.domain import ScanStatus
from agent.reports.common import (
    UNLINKED_CLIENT,
    CellKind,
    Column,
    ReportFormat,
    ReportResult,
    ReportScope,
    write_in_format,
)
from agent.reports.csvsafe import labelled, write_csv
from agent.reports.table_sheet import NOTE, Style
from agent.reports.words import day, evidence_sentence, label, spelt_dates
from agent.reports.xlsx import XlsxReport
from agent.services.signins import sign_in_failures
from agent.storage.links import join_client
from agent.storage.models import Client, Org, Scan

BATCH = 2_000

COLUMNS = (
    Column("Finished (UTC)", 17, CellKind.DATETIME),
    Column("Started (UTC)", 17, CellKind.DATETIME),
    Column("Portal", 7),
    Column("Org", 28),
    Column("Org id", 14),
    Column("Client", 26),
    Column("Source", 10),
    Column("Status", 8),
    Column("Reason", 15),
    Column("Users captured", 10, CellKind.INT),
    Column("Count the page showed", 11, CellKind.INT),
    Column("Counts agree", 8),
    Column("Detail", 50),
    Column("Scan id", 8, CellKind.INT),
    Column("Crawl id", 8, CellKind.INT),
)
STATUS_STYLES: dict[str, Style] = {
    ScanStatus.OK: Style(fill="#C6EFCE", color="#006100", center=True),
    ScanStatus.FAILED: Style(fill="#FFC7CE", color="#9C0006", bold=True, center=True),
    ScanStatus.SUSPECT: Style(fill="#FFEB9C", color="#9C5700", bold=True, center=True),
}
_STATUS_COLUMN = 7
#: The columns that hold a stored code: the CSV adds a "… label" column for each.
CODED = ("Portal", "Source", "Status", "Reason")


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    finished: datetime
    started: datetime
    portal: str
    org: str
    org_id: str
    client: str
    source: str
    status: str
    reason: str
    users_captured: int | None
    page_count: int | None
    counts_agree: str
    detail: str
    scan_id: int | None
    crawl_id: int | None

    def cells(self) -> tuple[object, ...]:
        return (
            self.finished,
            self.started,
            self.portal,
            self.org,
            self.org_id,
            self.client,
            self.source,
            self.status,
            self.reason,
            self.users_captured,
            self.page_count,
            self.counts_agree,
            self.detail,
            self.scan_id,
            self.crawl_id,
        )

    def words(self) -> tuple[object, ...]:
        """The row as the workbook shows it: portal, source, status and reason in words."""
        return (
            self.finished,
            self.started,
            label(self.portal),
            self.org,
            self.org_id,
            self.client,
            label(self.source),
            label(self.status),
            label(self.reason) if self.reason else "",
            self.users_captured,
            self.page_count,
            self.counts_agree,
            spelt_dates(self.detail),
            self.scan_id,
            self.crawl_id,
        )


def evidence_rows(
    session: Session, *, scope: ReportScope, since: datetime | None = None
) -> Iterator[EvidenceRow]:
    """Scans of orgs in scope (finished at or after ``since``), newest first, streamed;
    for the whole practice, with the logins' failed sign-ins among them."""
    scans = _scan_rows(session, scope=scope, since=since)
    if not scope.everything:
        return scans
    failures = list(_sign_in_rows(session, since=since))
    if not failures:
        return scans
    return heapq.merge(scans, failures, key=lambda r: r.finished, reverse=True)


def _sign_in_rows(session: Session, *, since: datetime | None) -> Iterator[EvidenceRow]:
    for attempt, login in sign_in_failures(session, since=since):
        yield EvidenceRow(
            finished=attempt.at,
            started=attempt.at,
            portal=login.portal,
            org=f"sign-in of {login.email}",
            org_id="",
            client="",
            source="agent",
            status=ScanStatus.FAILED,
            reason=attempt.reason or "",
            users_captured=None,
            page_count=None,
            counts_agree="",
            detail=f"the login could not sign in or list its orgs, so none of its orgs "
            f"was read: {attempt.detail}",
            scan_id=None,
            crawl_id=attempt.crawl_id,
        )


def _scan_rows(
    session: Session, *, scope: ReportScope, since: datetime | None
) -> Iterator[EvidenceRow]:
    query = join_client(
        select(
            Scan.id,
            Scan.crawl_id,
            Scan.source,
            Scan.status,
            Scan.reason,
            Scan.detail,
            Scan.reported_total,
            Scan.user_count,
            Scan.started_at,
            Scan.finished_at,
            Org.portal,
            Org.name,
            Org.portal_org_id,
            Client.name,
        )
        .select_from(Scan)
        .join(Org, col(Org.id) == col(Scan.org_id))
    ).order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
    if since is not None:
        query = query.where(col(Scan.finished_at) >= since)
    result = session.exec(scope.restrict(query).execution_options(yield_per=BATCH))
    for (
        scan_id,
        crawl_id,
        source,
        status,
        reason,
        detail,
        reported,
        counted,
        started,
        finished,
        portal,
        org,
        org_id,
        client,
    ) in result:
        read = status != ScanStatus.FAILED
        agree = "" if not read or reported is None else "yes" if reported == counted else "no"
        said = evidence_sentence(reported, counted) if read else ""
        yield EvidenceRow(
            finished=finished,
            started=started,
            portal=portal,
            org=org,
            org_id=org_id,
            client=client if client is not None else UNLINKED_CLIENT,
            source=source,
            status=status,
            reason=reason or "",
            users_captured=counted if read else None,
            page_count=reported,
            counts_agree=agree,
            detail="; ".join(t for t in (detail, said) if t),
            scan_id=scan_id,
            crawl_id=crawl_id,
        )


def write_evidence_xlsx(
    rows: Iterator[EvidenceRow],
    path: Path,
    *,
    scope: ReportScope,
    as_of: datetime,
    since: datetime | None = None,
) -> int:
    title = "Evidence: every scan's outcome"
    if since is not None:
        title += f" since {day(since)}"
    with XlsxReport(path, title="Evidence", as_of=as_of, scope=scope) as book:
        sheet = book.sheet("Scans", title=title, columns=COLUMNS, freeze_columns=1)
        styles: list[Style | None] = [None] * len(COLUMNS)
        for row in rows:
            styles[_STATUS_COLUMN] = STATUS_STYLES.get(row.status)
            sheet.append(row.words(), styles)
        if not sheet.rows:
            sheet.after(["No scan in this scope yet."], NOTE)
        return sheet.rows


def write_evidence_csv(rows: Iterator[EvidenceRow], path: Path) -> int:
    """The codes as stored, then a "… label" column of words for each coded column."""
    header, cells = labelled(
        [c.title for c in COLUMNS], (r.cells() for r in rows), CODED, suffix=" label"
    )
    return write_csv(path, header, cells)


def write_evidence_report(
    session: Session,
    path: Path,
    *,
    fmt: ReportFormat = ReportFormat.XLSX,
    scope: Collection[int] | None = None,
    scope_label: str | None = None,
    as_of: datetime | None = None,
    since: datetime | None = None,
) -> ReportResult:
    """Write the evidence report to ``path``; returns it with its row count."""
    cut = ReportScope.of(scope, scope_label)
    return write_in_format(
        evidence_rows(session, scope=cut, since=since),
        path,
        fmt,
        scope=cut,
        as_of=as_of,
        csv=write_evidence_csv,
        xlsx=partial(write_evidence_xlsx, since=since),
    )
