"""Scans: queued, running and finished re-scans with live progress, crawl history, and
each portal login's last sign-in (a login that cannot sign in reads nothing, so a
practice admin must see it here even when it never listed an org).

The page draws everything on the server; ``static/scans.js`` then polls
``/dashboard/scans/live.json`` (same session cookie, same scope) every few seconds
and updates the progress of requests still queued or running, so a person who
pressed Re-scan watches it happen without reloading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session, col, select

from agent.crawl.scan_queue import ACTIVE
from agent.security.logins import list_logins
from agent.services.signins import LoginSignIn, latest_sign_ins
from agent.storage.models import Org, PortalLogin, ScanRequest
from server.dashboard.web import ViewerDep, render
from server.deps import SessionDep
from server.queries import failures_by_crawl, list_crawls, recent_requests

router = APIRouter()

REQUESTS_SHOWN = 30
CRAWLS_SHOWN = 30


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    status: str
    target: str
    portal: str | None
    portal_org_id: str | None
    requested_by: str
    source: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    done: int
    failed: int
    total: int | None
    detail: str

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _rows(session: Session, requests: list[ScanRequest]) -> list[RequestRow]:
    org_names = {
        (o.portal, o.portal_org_id): o.name
        for o in session.exec(
            select(Org).where(
                col(Org.portal_org_id).in_([r.portal_org_id for r in requests if r.portal_org_id])
            )
        )
    }
    login_ids = [r.login_id for r in requests if r.login_id is not None]
    logins = (
        {
            row.id: f"{row.portal} login {row.email}"
            for row in session.exec(select(PortalLogin).where(col(PortalLogin.id).in_(login_ids)))
        }
        if login_ids
        else {}
    )
    rows = []
    for r in requests:
        assert r.id is not None
        if r.portal and r.portal_org_id:
            target = org_names.get((r.portal, r.portal_org_id), r.portal_org_id)
        elif r.login_id is not None:
            target = logins.get(r.login_id, f"login #{r.login_id}")
        else:
            target = "every login"
        rows.append(
            RequestRow(
                id=r.id,
                status=r.status,
                target=target,
                portal=r.portal,
                portal_org_id=r.portal_org_id,
                requested_by=r.requested_by,
                source=r.source,
                requested_at=r.requested_at,
                started_at=r.started_at,
                finished_at=r.finished_at,
                done=r.done,
                failed=r.failed,
                total=r.total,
                detail=r.detail,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class LoginRow:
    id: int
    portal: str
    email: str
    label: str
    last: LoginSignIn | None
    #: an interactive login whose stored sign-in is missing or refused: since when
    needs_sign_in_since: datetime | None = None


def _login_rows(session: Session) -> list[LoginRow]:
    """Every login with its latest sign-in; those needing a person, then failing ones, first."""
    last = latest_sign_ins(session)
    rows = [
        LoginRow(s.id, s.portal, s.email, s.label, last.get(s.id), s.needs_sign_in_since)
        for s in list_logins(session)
    ]
    return sorted(
        rows,
        key=lambda r: (
            r.needs_sign_in_since is None,
            r.last is None or r.last.ok,
            r.portal,
            r.email,
        ),
    )


@router.get("/scans")
def scans_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    requests = _rows(session, recent_requests(session, viewer.scope, limit=REQUESTS_SHOWN))
    crawls, total = list_crawls(session, viewer.scope, limit=CRAWLS_SHOWN, offset=0)
    reasons = failures_by_crawl(session, viewer.scope, [c.id for c in crawls])
    # logins serve every client: shown to those who see the whole practice
    logins = _login_rows(session) if viewer.scope.everything else []
    return render(
        request,
        "scans.html",
        viewer,
        requests=requests,
        crawls=crawls,
        crawls_total=total,
        reasons=reasons,
        logins=logins,
        active=sum(1 for r in requests if r.active),
    )


@router.get("/scans/live.json")
def scans_live(session: SessionDep, viewer: ViewerDep) -> JSONResponse:
    """Progress of the requests the scans page shows: what the page's script polls."""
    rows = _rows(session, recent_requests(session, viewer.scope, limit=REQUESTS_SHOWN))
    return JSONResponse(
        {
            "active": sum(1 for r in rows if r.active),
            "requests": [
                {
                    "id": r.id,
                    "status": r.status,
                    "done": r.done,
                    "failed": r.failed,
                    "total": r.total,
                    "detail": r.detail,
                }
                for r in rows
            ],
        }
    )
