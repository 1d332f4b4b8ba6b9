"""``GET /metrics``: the practice's figures for Prometheus, to this computer only.

Prometheus cannot pair, so the page takes no token; what guards it is the caller's
address (``agent.metrics.access``): loopback, or a network the practice lists in
``ACCESSRECON_METRICS_ALLOW``, read from the connection itself (the server runs
without proxy headers). Anyone else gets 403 and nothing more. The page holds
counts by portal, status, reason, state and login id: no names, no addresses, no
client data. It lives outside ``/api/v1`` and the OpenAPI schema: it is Prometheus's,
not the extension's. What it holds is ``agent.metrics.exposition``'s.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response, status

from agent.metrics.access import REFUSED_DETAIL, allowed_networks, may_scrape
from agent.metrics.exposition import ServerMetrics
from server.deps import RuntimeDep

PATH = "/metrics"

router = APIRouter(tags=["metrics"])

_made = threading.Lock()


def _server_metrics(app: FastAPI, runtime: RuntimeDep) -> ServerMetrics:
    """The app's one ``ServerMetrics``: its scan totals are kept from scrape to scrape."""
    with _made:
        metrics: ServerMetrics | None = getattr(app.state, "metrics", None)
        if metrics is None:
            metrics = app.state.metrics = ServerMetrics(runtime.engine)
        return metrics


@router.get(PATH, include_in_schema=False)
def metrics(request: Request, runtime: RuntimeDep) -> Response:
    peer = request.client.host if request.client else None
    if not may_scrape(peer, allowed_networks(runtime.settings.metrics_allow)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED_DETAIL)
    body, content_type = _server_metrics(request.app, runtime).render(request.headers.get("accept"))
    return Response(body, media_type=content_type)
