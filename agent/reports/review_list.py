"""A reviewer's list of an access review campaign, as a workbook they can take away.

Decisions are made on the dashboard or with ``accessrecon campaign decide``, never by
editing this file: a workbook carries no signature, so what it says is a copy of the
record, not the record. The first sheet is the list (one row per access, in the
order the dashboard shows it); an admin's "everyone" export adds the progress by
reviewer. It says portal, role, why an access is here, the decision and the item's
state in words ("QuickBooks Online", "Adviser", "Leaver access", "Not my client",
"Awaiting removal"), as the dashboard's review page does.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent.clock import utcnow
from agent.reports.common import UNLINKED_CLIENT, CellKind, Column, ReportScope
from agent.reports.download import XLSX_MEDIA_TYPE, Download, written
from agent.reports.labels import role_label
from agent.reports.words import day, label
from agent.reports.xlsx import XlsxReport
from agent.services.campaigns.progress import CampaignProgress
from agent.services.campaigns.views import ReviewList

__all__ = ["ITEM_COLUMNS", "PROGRESS_COLUMNS", "review_list_download", "write_review_list"]

ITEM_COLUMNS = (
    Column("Item", 7, CellKind.INT),
    Column("Client", 26),
    Column("Client id", 10),
    Column("Portal", 7),
    Column("Org", 26),
    Column("Org id", 14),
    Column("Person", 22),
    Column("Email", 30),
    Column("Role", 14),
    Column("Why it is here", 22),
    Column("Reviewer", 20),
    Column("Decision", 13),
    Column("Reason", 36),
    Column("Decided by", 22),
    Column("Decided (UTC)", 17, CellKind.DATETIME),
    Column("State", 16),
)

PROGRESS_COLUMNS = (
    Column("Reviewer", 26),
    Column("Items", 8, CellKind.INT),
    Column("Decided", 8, CellKind.INT),
    Column("Settled", 8, CellKind.INT),
    Column("Escalated", 9, CellKind.INT),
    Column("Keep", 8, CellKind.INT),
    Column("Remove", 8, CellKind.INT),
    Column("Already gone", 9, CellKind.INT),
)


def _words(code: str) -> str:
    """A stored code in words; nothing stays empty, so a filter on blanks finds it."""
    return label(code) if code else ""


def write_review_list(
    review: ReviewList,
    path: Path,
    *,
    progress: CampaignProgress | None = None,
    as_of: datetime | None = None,
) -> int:
    """Write ``review`` (and, for admins, ``progress``) to ``path``; the item row count."""
    as_of = as_of or utcnow()
    scope = ReportScope.of(None, f"{review.reviewer}'s list")
    title = f"Access review {review.name}"
    with XlsxReport(path, title=title, as_of=as_of, scope=scope) as book:
        state = f"closed {day(review.closed_at)}" if review.closed_at else "open"
        sheet = book.sheet(
            "Review",
            title=(
                f"{title}: {review.reviewer}, due {day(review.due_on)} ({state}); "
                f"{review.open} of {len(review.rows)} still to decide"
            ),
            columns=ITEM_COLUMNS,
            freeze_columns=2,
        )
        for r in review.rows:
            sheet.append(
                (
                    r.item_id,
                    r.client or UNLINKED_CLIENT,
                    r.client_external_id,
                    label(r.portal),
                    r.org,
                    r.portal_org_id,
                    r.name,
                    r.email,
                    role_label(r.portal, r.role) if r.role else "",
                    _words(r.finding_class),
                    r.reviewer or "Practice admins",
                    _words(r.decision),
                    r.reason,
                    r.decided_by,
                    r.decided_at,
                    _words(r.state),
                )
            )
        if progress is not None:
            table = book.sheet(
                "Progress", title=f"{title}: progress by reviewer", columns=PROGRESS_COLUMNS
            )
            for p in progress.reviewers:
                table.append(
                    (
                        p.reviewer or "Practice admins",
                        p.items,
                        p.decided,
                        p.settled,
                        p.escalated,
                        p.decisions.get("keep", 0),
                        p.decisions.get("remove", 0),
                        p.decisions.get("already_gone", 0),
                    )
                )
            table.after(
                (
                    "Total",
                    progress.items,
                    progress.decided,
                    progress.settled,
                    sum(p.escalated for p in progress.reviewers),
                    *(
                        sum(p.decisions.get(d, 0) for p in progress.reviewers)
                        for d in ("keep", "remove", "already_gone")
                    ),
                )
            )
    return len(review.rows)


def review_list_download(
    review: ReviewList, *, progress: CampaignProgress | None = None, as_of: datetime
) -> Download:
    """The workbook as bytes (the API's and the dashboard's download), named by campaign."""
    content, rows = written(
        lambda path: write_review_list(review, path, progress=progress, as_of=as_of),
        "review.xlsx",
    )
    safe = "".join(c if c.isalnum() else "-" for c in review.reviewer).strip("-") or "reviewer"
    return Download(
        content, f"access-review-{review.campaign_id}-{safe}.xlsx", XLSX_MEDIA_TYPE, rows
    )
