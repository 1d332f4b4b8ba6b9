"""The overview: what is open by class and severity, how well orgs are covered, the trend,
and how long leaver access stays open (``agent.services.time_to_close``)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agent.domain import FindingClass, Severity
from agent.services.time_to_close import CLOSED_WINDOW, time_to_close
from server.dashboard.charts import CrawlPoint, trend_chart
from server.dashboard.coverage import COVERAGE_LABELS, Coverage, org_coverage
from server.dashboard.web import ViewerDep, render
from server.deps import RuntimeDep, SessionDep
from server.queries import count_findings, list_crawls, open_problems_at
from server.schemas import FindingFilter

router = APIRouter()

TREND_CRAWLS = 20


@router.get("")
def overview(
    request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep
) -> HTMLResponse:
    counts = count_findings(session, viewer.scope, FindingFilter())
    by_class: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    for (cls, severity), n in counts.items():
        by_class[cls] += n
        by_severity[severity] += n
    classes = [(c, by_class.get(c.value, 0)) for c in FindingClass]
    # A tile links to its findings; ok and info are no problem, so name their classes.
    severities = [
        (
            s,
            by_severity.get(s.value, 0),
            {
                "severity": s.value,
                "class": [c.value for c in FindingClass if c.severity is s and not c.is_problem],
            },
        )
        for s in Severity
    ]
    coverage = org_coverage(
        session, viewer.scope, stale_after=timedelta(hours=runtime.settings.stale_after_hours)
    )
    states = Counter(o.state for o in coverage)
    crawls, _total = list_crawls(session, viewer.scope, limit=TREND_CRAWLS, offset=0)
    points = [
        CrawlPoint(
            label=f"{c.started_at:%d %b}",
            scans_ok=c.scans_ok,
            scans_failed=c.scans_failed,
            open_problems=open_problems_at(session, viewer.scope, c.finished_at or c.started_at),
        )
        for c in reversed(crawls)
    ]
    leavers = time_to_close(session, viewer.scope)
    return render(
        request,
        "overview.html",
        viewer,
        classes=classes,
        severities=severities,
        problems=sum(n for c, n in classes if c.is_problem),
        coverage=[(state, COVERAGE_LABELS[state], states.get(state, 0)) for state in Coverage],
        orgs_total=len(coverage),
        chart=trend_chart(points),
        crawls=len(points),
        stale_hours=runtime.settings.stale_after_hours,
        leavers=leavers,
        median_to_close=duration_words(leavers.median),
        closed_window_days=CLOSED_WINDOW.days,
    )


def duration_words(span: timedelta | None) -> str:
    """A time to close as a person reads it: ``3.5 days``, ``5 hours``, ``under an hour``."""
    if span is None:
        return ""
    hours = span.total_seconds() / 3600
    if hours >= 24:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        whole = round(hours)
        return f"{whole} hour{'s' if whole != 1 else ''}"
    return "under an hour"
