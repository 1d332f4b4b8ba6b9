"""Expiring: intended access that ends and accepted risks that expire, in one list.

The API's ``/expiring`` on a page (``agent.services.expiring``), cut to the viewer's
client scope. The horizon comes from the address (``?days=60``) and is read
forgivingly, like every dashboard filter: a value that is not a whole number shows
the default horizon, one out of range the nearest allowed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agent.clock import utcnow
from agent.services.expiring import (
    DEFAULT_HORIZON_DAYS,
    MAX_HORIZON_DAYS,
    ExpiringKind,
    expiring,
)
from server.dashboard.web import ViewerDep, render
from server.deps import SessionDep

router = APIRouter()

HORIZONS = (7, 14, 30, 60, 90, 180, 365)


def horizon_days(value: str | None) -> int:
    try:
        days = int(value or DEFAULT_HORIZON_DAYS)
    except ValueError:
        return DEFAULT_HORIZON_DAYS
    return min(max(days, 0), MAX_HORIZON_DAYS)


@router.get("/expiring")
def expiring_page(
    request: Request, session: SessionDep, viewer: ViewerDep, days: str = ""
) -> HTMLResponse:
    horizon = horizon_days(days)
    today = utcnow().date()
    items = expiring(session, viewer.scope, days=horizon, today=today)
    return render(
        request,
        "expiring.html",
        viewer,
        items=items,
        days=horizon,
        horizons=sorted({*HORIZONS, horizon}),
        today=today,
        access_end=ExpiringKind.ACCESS_END,
        expired=sum(1 for i in items if i.expired),
    )
