"""Reviews: the access review campaigns, progress by reviewer, and "My review".

``/review`` lists the campaigns with each reviewer's progress (what a practice admin
follows); ``/review/{id}`` is the signed-in person's own list, grouped by client, with
the four decisions per item and the same decisions for every item of one client or
one person at once. The page decides nothing itself: every form goes through
``agent.services.campaigns`` exactly as the command line does, so a manager can only
decide their own items and a closed campaign refuses every decision. Admins may look
at everyone's list (read-only for items that are not theirs).
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from agent.clock import utcnow
from agent.domain import CampaignDecision
from agent.reports.download import XLSX_MEDIA_TYPE, written
from agent.reports.review_list import write_review_list
from agent.security.audit import record, sha256_hex
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.progress import campaign_progress, list_campaigns
from agent.services.campaigns.start import CampaignError
from agent.services.campaigns.views import review_list
from server.dashboard.web import (
    PREFIX,
    DashboardError,
    FormReviewerDep,
    ViewerDep,
    redirect,
    render,
)
from server.deps import SessionDep
from server.exports import content_disposition
from server.schemas import MAX_ID

router = APIRouter()

DECISIONS = {d.value: d for d in CampaignDecision}


def _campaign_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise DashboardError(404, "There is no such access review.")
    return value


@router.get("/review")
def reviews_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return render(
        request,
        "reviews.html",
        viewer,
        campaigns=list_campaigns(session),
        today=utcnow().date(),
    )


@router.get("/review/{campaign_id}")
def my_review(
    request: Request,
    campaign_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    everyone: str = "",
    done: str = "",
) -> Response:
    everyone_wanted = everyone == "1" and viewer.principal.is_admin
    try:
        review = review_list(
            session, viewer.principal, _campaign_id(campaign_id), everyone=everyone_wanted
        )
    except KeyError:
        raise DashboardError(404, "There is no such access review.") from None
    groups = [
        (client, list(rows))
        for client, rows in groupby(review.rows, key=lambda r: r.client or "(no client)")
    ]
    mine = (
        {r.item_id for r in review_list(session, viewer.principal, campaign_id).rows}
        if everyone_wanted
        else {r.item_id for r in review.rows}
    )
    return render(
        request,
        "review.html",
        viewer,
        review=review,
        groups=groups,
        mine=mine,
        everyone=everyone_wanted,
        progress=campaign_progress(session, campaign_id) if everyone_wanted else None,
        done=done[:200],
        decisions=CampaignDecision,
    )


@router.post("/review/{campaign_id}/decide")
def decide_items(
    campaign_id: int,
    session: SessionDep,
    viewer: FormReviewerDep,
    decision: Annotated[str, Form(max_length=32)],
    item_id: Annotated[str, Form(max_length=12)] = "",
    client: Annotated[str, Form(max_length=200)] = "",
    person: Annotated[str, Form(max_length=320)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    to: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """One item (``item_id``), or every item of the viewer's list for a client or a person."""
    chosen = DECISIONS.get(decision)
    if chosen is None:
        raise DashboardError(400, f"{decision[:40]!r} is not a review decision.")
    ids: tuple[int, ...] = ()
    if item_id:
        if not item_id.strip().isdigit():
            raise DashboardError(400, f"{item_id[:40]!r} is not an item id.")
        ids = (int(item_id),)
    try:
        items = select_items(
            session,
            viewer.principal,
            _campaign_id(campaign_id),
            item_ids=ids,
            person=person or None,
            client=client or None,
        )
        done = decide(
            session,
            viewer.principal,
            campaign_id,
            items,
            Decision(chosen, reason.replace("\x00", ""), to.strip() or None),
        )
    except CampaignError as exc:
        session.rollback()
        message = str(exc)
        raise DashboardError(409, message[:1].upper() + message[1:] + ".") from None
    session.commit()
    said = f"{len(done.items)} decided: {chosen.value.replace('_', ' ')}"
    if done.plan_id is not None:
        said += f"; removal plan {done.plan_id} waits for approval"
    if done.reassigned_to is not None:
        said += f"; handed to {done.reassigned_to}"
    return redirect(f"{PREFIX}/review/{campaign_id}?done={said}")


@router.get("/review/{campaign_id}/list.xlsx")
def review_workbook(
    campaign_id: int, session: SessionDep, viewer: ViewerDep, everyone: str = ""
) -> Response:
    """The viewer's list as a workbook (everyone's, with progress, for an admin who asks)."""
    everyone_wanted = everyone == "1" and viewer.principal.is_admin
    try:
        review = review_list(
            session, viewer.principal, _campaign_id(campaign_id), everyone=everyone_wanted
        )
    except KeyError:
        raise DashboardError(404, "There is no such access review.") from None
    progress = campaign_progress(session, campaign_id) if everyone_wanted else None
    content, rows = written(
        lambda path: write_review_list(review, path, progress=progress), "review.xlsx"
    )
    record(
        session,
        actor=viewer.principal.actor,
        action="export.review_list",
        detail={"campaign_id": campaign_id, "rows": rows, "sha256": sha256_hex(content)},
    )
    session.commit()
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"access-review-{campaign_id}.xlsx")},
    )
