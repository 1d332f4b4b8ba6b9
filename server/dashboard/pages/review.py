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

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from agent.clock import utcnow
from agent.domain import CampaignDecision
from agent.reports.review_list import review_list_download
from agent.security.audit import record, sha256_hex
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.progress import campaign_progress, list_campaigns
from agent.services.campaigns.start import CampaignError
from agent.services.campaigns.views import ReviewList, review_list
from agent.storage.models import CampaignItem
from server.dashboard.web import (
    PREFIX,
    DashboardError,
    FormReviewerDep,
    Viewer,
    ViewerDep,
    redirect,
    render,
)
from server.deps import SessionDep
from server.exports import Export, download
from server.schemas import MAX_ID

router = APIRouter()

DECISIONS = {d.value: d for d in CampaignDecision}


def _campaign_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise DashboardError(404, "There is no such access review.")
    return value


def _review(session: Session, viewer: Viewer, campaign_id: int, everyone: bool) -> ReviewList:
    try:
        return review_list(session, viewer.principal, _campaign_id(campaign_id), everyone=everyone)
    except KeyError:
        raise DashboardError(404, "There is no such access review.") from None


def _done_message(
    session: Session, campaign_id: int, done: str, count: int, plan: int, item: int
) -> str:
    """What the last form did. The address carries only the decision and numbers (a
    name is read from the item), so a crafted link cannot put words on the page."""
    chosen = DECISIONS.get(done)
    if chosen is None or count < 1:
        return ""
    said = f"{count} item{'' if count == 1 else 's'} decided: {chosen.value.replace('_', ' ')}"
    if chosen is CampaignDecision.REMOVE and plan:
        return f"{said}; removal plan {plan} waits for approval by a practice admin or partner."
    if chosen is CampaignDecision.ALREADY_GONE:
        return f"{said}; the next scan of each org checks."
    if chosen is CampaignDecision.NOT_MY_CLIENT:
        handed = session.get(CampaignItem, item) if 1 <= item <= MAX_ID else None
        if handed is None or handed.campaign_id != campaign_id:
            return f"{said}; handed on."
        return f"{said}; handed to {handed.reviewer or 'the practice admins'}."
    return f"{said}."


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
    n: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    plan: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    item: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    everyone_wanted = everyone == "1" and viewer.principal.is_admin
    review = _review(session, viewer, campaign_id, everyone_wanted)
    groups = [
        (client, list(rows))
        for client, rows in groupby(review.rows, key=lambda r: r.client or "(no client)")
    ]
    own = _review(session, viewer, campaign_id, False) if everyone_wanted else review
    people = sorted({(r.name or r.email, r.email or r.name) for r in own.rows if r.email or r.name})
    return render(
        request,
        "review.html",
        viewer,
        review=review,
        groups=groups,
        mine={r.item_id for r in own.rows},
        people=people,
        everyone=everyone_wanted,
        progress=campaign_progress(session, campaign_id) if everyone_wanted else None,
        done=_done_message(session, campaign_id, done, n, plan, item),
        decisions=CampaignDecision,
    )


@router.post("/review/{campaign_id}/decide")
def decide_items(
    campaign_id: int,
    session: SessionDep,
    viewer: FormReviewerDep,
    decision: Annotated[str, Form(max_length=32)],
    item_id: Annotated[str, Form(max_length=12)] = "",
    client: Annotated[str, Form(max_length=500)] = "",
    person: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    to: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """One item (``item_id``), or every item of the viewer's list for a client or a person."""
    chosen = DECISIONS.get(decision)
    if chosen is None:
        raise DashboardError(400, f"{decision[:40]!r} is not a review decision.")
    if to.strip() and chosen is not CampaignDecision.NOT_MY_CLIENT:
        raise DashboardError(400, '"Hand to" goes only with "Not my client": nothing was decided.')
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
            person=person.replace("\x00", "") or None,
            client=client.replace("\x00", "") or None,
        )
        done = decide(
            session,
            viewer.principal,
            campaign_id,
            items,
            Decision(chosen, reason.replace("\x00", ""), to.replace("\x00", "").strip() or None),
        )
    except CampaignError as exc:
        session.rollback()
        message = str(exc)
        raise DashboardError(409, message[:1].upper() + message[1:] + ".") from None
    session.commit()
    query = f"done={chosen.value}&n={len(done.items)}"
    if done.plan_id is not None:
        query += f"&plan={done.plan_id}"
    if done.items:
        query += f"&item={done.items[0]}"
    return redirect(f"{PREFIX}/review/{campaign_id}?{query}")


@router.get("/review/{campaign_id}/list.xlsx")
def review_workbook(
    campaign_id: int, session: SessionDep, viewer: ViewerDep, everyone: str = ""
) -> Response:
    """The viewer's list as a workbook (everyone's, with progress, for an admin who asks)."""
    everyone_wanted = everyone == "1" and viewer.principal.is_admin
    review = _review(session, viewer, campaign_id, everyone_wanted)
    progress = campaign_progress(session, campaign_id) if everyone_wanted else None
    report = review_list_download(review, progress=progress, as_of=utcnow())
    digest = sha256_hex(report.content)
    record(
        session,
        actor=viewer.principal.actor,
        action="export.review_list",
        detail={
            "campaign_id": campaign_id,
            "everyone": everyone_wanted,
            "rows": report.rows,
            "sha256": digest,
            "filename": report.filename,
            "via": "dashboard",
        },
    )
    session.commit()
    return download(Export(report.content, report.filename, report.media_type, report.rows, digest))
