"""What is about to stop being allowed: intended access that ends, accepted risks that expire.

One list in date order, cut to the caller's client scope (``agent.services.expiring``);
past items stay on it while the access is still there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agent.clock import utcnow
from agent.services.expiring import DEFAULT_HORIZON_DAYS, MAX_HORIZON_DAYS, expiring
from server.deps import CurrentUser, ScopeDep, SessionDep
from server.schemas import ExpiringItemOut, ExpiringOut

router = APIRouter(tags=["expiring"])


@router.get("/expiring")
def get_expiring(
    session: SessionDep,
    scope: ScopeDep,
    _user: CurrentUser,
    days: Annotated[
        int,
        Query(ge=0, le=MAX_HORIZON_DAYS, description="how many days ahead to look"),
    ] = DEFAULT_HORIZON_DAYS,
) -> ExpiringOut:
    """Access ends and accepted risks on your clients within ``days``, and those past
    whose access remains, oldest end first."""
    today = utcnow().date()
    items = expiring(session, scope, days=days, today=today)
    return ExpiringOut(
        today=today,
        days=days,
        items=[ExpiringItemOut.model_validate(i, from_attributes=True) for i in items],
    )
