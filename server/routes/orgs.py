"""Org status: what the extension's badge, banner and popup show for the org in a tab.

An org outside the caller's client scope answers 404, exactly like an org the agent
has never listed: the answer does not reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from agent.domain import Portal
from agent.runtime import Runtime
from agent.services.status import OrgStatus
from server.badge import NotVisible, Unauthenticated, cached_badge
from server.deps import UNAUTHENTICATED, bearer
from server.schemas import OrgId, OrgStatusOut, Problem, status_out

#: Badge lookups run in at most this many threads at once. Each holds the
#: interpreter lock between short queries, and with the thread pool's forty threads
#: switching among them a burst cost a third more CPU per answer than queued in a
#: few (bench/api: 1.8 against 1.4 ms a request, and a p99 of 200 ms against 34 ms
#: at 500 requests/s beside a crawl writer).
BADGE_THREADS = 4

router = APIRouter(tags=["orgs"])


@router.get(
    "/orgs/{portal}/{portal_org_id}/status",
    response_model=OrgStatusOut,
    responses={
        401: {"model": Problem},
        404: {"model": Problem, "description": "never listed by the agent, or outside your scope"},
    },
)
async def get_org_status(
    portal: Portal,
    portal_org_id: OrgId,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    include_people: bool = True,
) -> Response:
    """The badge and popup data for one org: counts, people, stale and failed flags, and
    the agent's own logins in it (to label "keep", so nobody removes one by mistake).

    The extension's hottest call: token, scope and status are read in one trip to the
    thread pool, and the status may come from a cache of a few seconds
    (``server.badge``); the token and the scope are checked on every call.
    """
    runtime: Runtime = request.app.state.runtime
    try:
        principal, body = await anyio.to_thread.run_sync(
            partial(
                cached_badge,
                runtime.engine,
                request.app.state.badge_cache,
                credentials.credentials if credentials else None,
                portal.value,
                portal_org_id,
                include_people=include_people,
                render=render_status,
                stale_after=timedelta(hours=runtime.settings.stale_after_hours),
            ),
            limiter=_badge_limiter(request),
        )
    except Unauthenticated:
        raise UNAUTHENTICATED from None
    except NotVisible:
        raise HTTPException(
            404, "org not known: never listed, or outside your client scope"
        ) from None
    request.state.actor = principal.actor
    return Response(body, media_type="application/json")


def _badge_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's own bound on badge threads, made in its event loop on first use."""
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "badge_limiter", None)
    if limiter is None:
        limiter = request.app.state.badge_limiter = anyio.CapacityLimiter(BADGE_THREADS)
    return limiter


def render_status(status: OrgStatus, agent_logins: Sequence[str], include_people: bool) -> bytes:
    out = status_out(status, include_people=include_people, agent_logins=agent_logins)
    return out.model_dump_json().encode()
