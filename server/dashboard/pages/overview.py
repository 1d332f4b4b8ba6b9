"""The overview: who should not be where, what is open by severity and class, how well
orgs are covered, the trend, and how long leaver access stays open
(``agent.services.time_to_close``).

It opens with people, not counts (``server.dashboard.urgent_people``): the ones with
open critical and high findings, most urgent first, each a link to where they are
dealt with. The severity tiles follow, the problems large and managed access and
client users (OK, Info) small, since those are listed for completeness only. The
problems' totals are ``agent.reports.totals``'s, the counts the workload and exceptions
reports state for the same scope, so the overview and the workbooks never disagree.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agent.clock import utcnow
from agent.domain import FindingClass, Severity
from agent.reports.common import ReportScope
from agent.reports.totals import open_totals
from agent.services.time_to_close import CLOSED_WINDOW, time_to_close
from server.dashboard.charts import CrawlPoint, trend
from server.dashboard.coverage import COVERAGE_LABELS, Coverage, org_coverage
from server.dashboard.urgent_people import URGENT, urgent_people
from server.dashboard.web import ViewerDep, render
from server.deps import RuntimeDep, SessionDep
from server.queries import count_findings, list_crawls, open_problems_at
from server.schemas import FindingFilter

router = APIRouter()

TREND_CRAWLS = 50
URGENT_SHOWN = 10


def _severity_link(severity: Severity) -> dict[str, object]:
    """A tile's findings: ok and info are no problem, so their classes are named."""
    return {
        "severity": severity.value,
        "class": [c.value for c in FindingClass if c.severity is severity and not c.is_problem],
    }


@router.get("")
def overview(
    request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep
) -> HTMLResponse:
    now = utcnow()
    counts = count_findings(session, viewer.scope, FindingFilter())
    by_class: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    for (cls, severity), n in counts.items():
        by_class[cls] += n
        by_severity[severity] += n
    classes = [(c, by_class.get(c.value, 0)) for c in FindingClass]
    totals = open_totals(session, scope=ReportScope.of(viewer.scope.client_ids))
    problem_severities = {c.severity for c in FindingClass if c.is_problem}
    severities = [
        (
            s,
            totals.findings.by_severity.get(s.value, 0)
            if s in problem_severities
            else by_severity.get(s.value, 0),
            _severity_link(s),
        )
        for s in Severity
    ]
    coverage = org_coverage(
        session,
        viewer.scope,
        stale_after=timedelta(hours=runtime.settings.stale_after_hours),
        now=now,
    )
    states = Counter(o.state for o in coverage)
    crawls, _total = list_crawls(session, viewer.scope, limit=TREND_CRAWLS, offset=0)
    points = [
        CrawlPoint(
            at=c.started_at,  # type: ignore[arg-type]
            scans_ok=c.scans_ok,
            scans_failed=c.scans_failed,
            open_problems=open_problems_at(session, viewer.scope, c.finished_at or c.started_at),
        )
        for c in reversed(crawls)
    ]
    people = urgent_people(session, viewer.scope)
    leavers = time_to_close(session, viewer.scope)
    return render(
        request,
        "overview.html",
        viewer,
        now=now,
        people=people[:URGENT_SHOWN],
        people_total=len(people),
        urgent_link={"severity": [s.value for s in URGENT]},
        problem_tiles=[t for t in severities if t[0] in problem_severities],
        quiet_tiles=[t for t in severities if t[0] not in problem_severities],
        classes=classes,
        totals=totals,
        coverage=[(state, COVERAGE_LABELS[state], states.get(state, 0)) for state in Coverage],
        orgs_total=len(coverage),
        trend=trend(points),
        points=points,
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
