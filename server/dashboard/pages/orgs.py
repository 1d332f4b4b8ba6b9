"""Orgs: the list with each org's coverage, one org's page, and its re-scan button.

The list puts the orgs with open problems first, worst first (then the orgs whose
coverage proves nothing), so the page answers "where are the problems" before
"which orgs exist". An org is named with its portal ("Ōtautahi Café & Co (QuickBooks
Online)"), because a client often has an org in more than one portal under one name.

An org outside the viewer's scope answers 404 like one the agent never listed, as
the API's status route does: the page does not reveal that it exists.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from agent.domain import Portal, ScanStatus
from agent.reports.labels import who_can_remove
from agent.reports.words import evidence_sentence, label
from agent.security.scope import client_in_scope
from agent.services.scans import find_org
from agent.services.status import org_status
from agent.storage.links import client_of
from agent.storage.models import Org, Scan
from agent.storage.widths import width
from server.actions import request_scan
from server.dashboard.coverage import COVERAGE_LABELS, Coverage, org_coverage, problems_first
from server.dashboard.filters import one, text
from server.dashboard.rendering import path_part
from server.dashboard.web import PREFIX, DashboardError, FormViewerDep, ViewerDep, redirect, render
from server.deps import RuntimeDep, SessionDep
from server.queries import org_findings

router = APIRouter()

SCAN_HISTORY = 15
NOT_FOUND = "This org is not known: never listed by the agent, or outside your client scope."


@router.get("/orgs")
def orgs_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    state: str = "",
    portal: str = "",
    q: str = "",
) -> Response:
    rows = problems_first(
        org_coverage(
            session, viewer.scope, stale_after=timedelta(hours=runtime.settings.stale_after_hours)
        )
    )
    which, kind, search = one(Coverage, state), one(Portal, portal), text(q)
    if which:
        rows = [r for r in rows if r.state is which]
    if kind:
        rows = [r for r in rows if r.portal == kind]
    if search:
        needle = search.casefold()
        rows = [
            r
            for r in rows
            if needle in r.name.casefold()
            or needle in r.portal_org_id.casefold()
            or needle in (r.client or "").casefold()
        ]
    return render(
        request,
        "orgs.html",
        viewer,
        rows=rows,
        states=COVERAGE_LABELS,
        portals=list(Portal),
        params={
            "state": which.value if which else "",
            "portal": kind.value if kind else "",
            "q": search,
        },
    )


def org_heading(org: Org) -> str:
    """An org as its page names it: "Ōtautahi Café & Co (QuickBooks Online)"."""
    return f"{org.name} ({label(org.portal)})"


def scan_evidence(scan: Scan) -> str:
    """What an ok scan proved, in words; why a failed one proved nothing."""
    if scan.status == ScanStatus.OK:
        return evidence_sentence(scan.reported_total, scan.user_count)
    return scan.detail


def _visible_org(session: SessionDep, viewer: ViewerDep, portal: str, org_id: str) -> Org:
    kind = one(Portal, portal)
    if kind is None or not org_id or len(org_id) > width(Org.portal_org_id):
        raise DashboardError(404, NOT_FOUND)
    org = find_org(session, kind, org_id)
    if org is None or not client_in_scope(
        session, viewer.principal, client_of(session, kind, org_id)
    ):
        raise DashboardError(404, NOT_FOUND)
    return org


@router.get("/orgs/{portal}/{portal_org_id}")
def org_page(
    request: Request,
    portal: str,
    portal_org_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    queued: int = 0,
) -> Response:
    org = _visible_org(session, viewer, portal, portal_org_id)
    assert org.id is not None
    status = org_status(
        session,
        org.portal,
        org.portal_org_id,
        stale_after=timedelta(hours=runtime.settings.stale_after_hours),
    )
    assert status is not None
    scans = list(
        session.exec(
            select(Scan)
            .where(Scan.org_id == org.id)
            .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
            .limit(SCAN_HISTORY)
        )
    )
    findings = org_findings(session, viewer.scope, org.id)
    return render(
        request,
        "org.html",
        viewer,
        org=org,
        heading=org_heading(org),
        status=status,
        scans=[(scan, scan_evidence(scan)) for scan in scans],
        findings=findings,
        queued=queued,
        removal={
            f.id: who_can_remove(f.finding_class, f.removable_by, f.removable_reason)
            for f in findings
        },
        present=[f for f in findings if f.finding_class != "missing_expected"],
        missing=[f for f in findings if f.finding_class == "missing_expected"],
        client=client_of(session, org.portal, org.portal_org_id),
    )


@router.post("/orgs/{portal}/{portal_org_id}/scan")
def rescan(portal: str, portal_org_id: str, session: SessionDep, viewer: FormViewerDep) -> Response:
    org = _visible_org(session, viewer, portal, portal_org_id)
    request = request_scan(
        session,
        principal=viewer.principal,
        portal=Portal(org.portal),
        portal_org_id=org.portal_org_id,
        source="dashboard",
    )
    session.commit()
    return redirect(
        f"{PREFIX}/orgs/{org.portal}/{path_part(org.portal_org_id)}?queued={request.id}"
    )
