"""Findings: filtered, paged lists within the caller's scope, and review decisions on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from agent.domain import ReviewState
from agent.services.review import ReviewError, history
from server.actions import decide_review
from server.deps import CurrentUser, ReviewerUser, ScopeDep, SessionDep
from server.queries import get_finding, list_findings
from server.schemas import FindingFilter, FindingOut, FindingPage, IdPath, LongText, Problem

router = APIRouter(tags=["findings"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class ReviewIn(BaseModel):
    decision: ReviewState = Field(
        description="acknowledged, accepted_risk (needs reason and until), "
        "removal_requested, or open (reopen); verified_removed is set by scans only"
    )
    reason: LongText = ""
    until: date | None = Field(
        default=None, description="for accepted_risk: the day the acceptance ends"
    )


class ReviewEventOut(BaseModel):
    at: object
    actor: str
    from_state: str
    to_state: str
    reason: str
    expires_on: date | None


class FindingDetailOut(FindingOut):
    review_history: list[ReviewEventOut]


@router.get("/findings")
def get_findings(
    session: SessionDep,
    scope: ScopeDep,
    _user: CurrentUser,
    flt: Annotated[FindingFilter, Query()],
    limit: Limit = 100,
    offset: Offset = 0,
) -> FindingPage:
    """Open findings in your scope, worst first; filter by class, severity, person, client
    manager, portal, review state or text."""
    items, total = list_findings(session, scope, flt, limit=limit, offset=offset)
    following = offset + len(items)
    return FindingPage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
    )


def _detail(session: SessionDep, finding: FindingOut) -> FindingDetailOut:
    events = [
        ReviewEventOut(
            at=e.at,
            actor=e.actor,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            expires_on=e.expires_on,
        )
        for e in history(session, finding.id)
    ]
    return FindingDetailOut(**finding.model_dump(), review_history=events)


@router.get("/findings/{finding_id}", responses={404: {"model": Problem}})
def get_one_finding(
    finding_id: IdPath, session: SessionDep, scope: ScopeDep, _user: CurrentUser
) -> FindingDetailOut:
    finding = get_finding(session, scope, finding_id)
    if finding is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such finding in your scope")
    return _detail(session, finding)


@router.post(
    "/findings/{finding_id}/review",
    responses={
        404: {"model": Problem},
        409: {"model": Problem, "description": "the state machine refuses it"},
    },
)
def post_review(
    finding_id: IdPath,
    body: ReviewIn,
    session: SessionDep,
    scope: ScopeDep,
    principal: ReviewerUser,
) -> FindingDetailOut:
    """Record a review decision; the audit log and the finding's history both keep it."""
    if get_finding(session, scope, finding_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such finding in your scope")
    try:
        decide_review(
            session,
            finding_id=finding_id,
            decision=body.decision,
            principal=principal,
            reason=body.reason,
            until=body.until,
        )
    except ReviewError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    finding = get_finding(session, scope, finding_id)
    assert finding is not None
    return _detail(session, finding)
