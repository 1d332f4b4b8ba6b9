"""Access review campaigns: progress by reviewer, the caller's own list, their decisions.

A campaign's items are each one reviewer's to decide (``agent.services.campaigns``):
the list answered here is the caller's, whoever they are, because the campaign made
them its reviewer (their client's manager, the partner an item was escalated to, the
person it was handed to); an admin may ask for everyone's. Every decision goes
through the same service as the command line and the dashboard, so a reviewer can
decide only their own items and a closed campaign takes no decision. A refused
decision answers 409 with the service's sentence; a request that does not say what
to decide is 422; a campaign that does not exist is 404.

The workbook is a GET, like the client statement, because it is linked to from the
review page; it is still recorded in the audit log like every export of client data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from sqlmodel import Session

from agent.clock import utcnow
from agent.domain import CampaignDecision
from agent.reports.review_list import review_list_download
from agent.security.audit import record, sha256_hex
from agent.security.principal import Principal
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.progress import (
    CampaignProgress,
    campaign_progress,
    list_campaigns,
)
from agent.services.campaigns.start import CampaignError
from agent.services.campaigns.views import ReviewList, review_list
from agent.storage.models import Campaign, Client
from agent.storage.widths import width
from server.deps import CurrentUser, ReviewerUser, SessionDep
from server.exports import Export, download
from server.schemas import IdField, IdPath, LongText, Problem, StaffRef, _no_nul

router = APIRouter(tags=["campaigns"])

#: a client as the practice names it: its client id or its name
ClientRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=width(Client.name), strip_whitespace=True),
    AfterValidator(_no_nul),
]

NOT_FOUND = {"model": Problem, "description": "no access review with this id"}
EVERYONE = Query(description="every reviewer's items, not only yours (practice admins)")


class ReviewerProgressOut(BaseModel):
    reviewer: str = Field(description='the reviewer\'s name; "" for the practice admins')
    items: int
    decided: int
    open: int = Field(description="items not yet decided")
    settled: int = Field(description="decided items with nothing more owed on them")
    escalated: int = Field(description="items handed up after the due date")
    decisions: dict[str, int] = Field(description="decided items by decision")


class CampaignOut(BaseModel):
    id: int
    name: str
    due_on: date
    started_at: datetime
    started_by: str
    closed_at: datetime | None = Field(description="when the last item settled; then final")
    overdue: bool = Field(description="still open after its due date")
    items: int
    decided: int
    settled: int
    reviewers: list[ReviewerProgressOut]


class ReviewItemOut(BaseModel):
    """One access in a reviewer's list: where, who, why, and what was decided."""

    item_id: int
    client: str
    client_external_id: str
    portal: str
    portal_org_id: str
    org: str
    email: str
    name: str
    role: str
    finding_class: str
    reason_required: bool = Field(description="keeping this access needs a reason")
    reviewer: str
    reviewer_basis: str
    escalated_from: str
    decision: str = Field(description='keep, remove, already_gone, or "" while open')
    reason: str
    decided_by: str
    decided_at: datetime | None
    state: str = Field(description="open, settled, awaiting scan or awaiting removal")
    removal_item_id: int | None
    confirmed_gone_at: datetime | None


class ReviewListOut(BaseModel):
    campaign_id: int
    name: str
    due_on: date
    closed_at: datetime | None
    reviewer: str = Field(description='whose list this is; "everyone" for an admin\'s view')
    open: int = Field(description="items still to decide")
    items: list[ReviewItemOut]


class DecisionIn(BaseModel):
    """Which items (exactly one of ``item_ids``, ``person``, ``client``) and the decision."""

    model_config = ConfigDict(extra="forbid")

    item_ids: list[IdField] = Field(default_factory=list, max_length=1000)
    person: StaffRef | None = Field(
        default=None, description="every item of your list for this person (name or email)"
    )
    client: ClientRef | None = Field(
        default=None, description="every item of your list for this client (client id or name)"
    )
    decision: CampaignDecision
    reason: LongText = Field(
        default="",
        description="why; required to keep a direct invite, an unknown practice user or a leaver",
    )
    reassign_to: StaffRef | None = Field(
        default=None,
        description="with not_my_client: who reviews instead (else the client's partner, "
        "then the practice admins)",
    )

    @model_validator(mode="after")
    def _says_what(self) -> Self:
        if sum([bool(self.item_ids), self.person is not None, self.client is not None]) != 1:
            raise ValueError("name exactly one of item_ids, person or client")
        if self.reassign_to is not None and self.decision is not CampaignDecision.NOT_MY_CLIENT:
            raise ValueError("reassign_to goes only with the decision not_my_client")
        return self


class DecidedOut(BaseModel):
    campaign_id: int
    decision: CampaignDecision
    items: list[int] = Field(description="the items decided")
    plan_id: int | None = Field(
        description="with remove: the removal plan proposed, waiting for a second person's approval"
    )
    reassigned_to: str | None = Field(description="with not_my_client: who reviews them now")


def _campaign_out(progress: CampaignProgress, today: date) -> CampaignOut:
    c = progress.campaign
    assert c.id is not None
    return CampaignOut(
        id=c.id,
        name=c.name,
        due_on=c.due_on,
        started_at=c.started_at,
        started_by=c.started_by,
        closed_at=c.closed_at,
        overdue=progress.overdue(today),
        items=progress.items,
        decided=progress.decided,
        settled=progress.settled,
        reviewers=[
            ReviewerProgressOut(
                reviewer=r.reviewer,
                items=r.items,
                decided=r.decided,
                open=r.open,
                settled=r.settled,
                escalated=r.escalated,
                decisions=dict(r.decisions),
            )
            for r in progress.reviewers
        ],
    )


def _no_campaign(campaign_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no access review with id {campaign_id}")


def _list(session: Session, principal: Principal, campaign_id: int, everyone: bool) -> ReviewList:
    try:
        return review_list(session, principal, campaign_id, everyone=everyone)
    except KeyError:
        raise _no_campaign(campaign_id) from None
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


@router.get("/campaigns")
def get_campaigns(session: SessionDep, _user: CurrentUser) -> list[CampaignOut]:
    """Every access review, newest first, with its progress by reviewer."""
    today = utcnow().date()
    return [_campaign_out(p, today) for p in list_campaigns(session)]


@router.get("/campaigns/{campaign_id}", responses={404: NOT_FOUND})
def get_campaign(campaign_id: IdPath, session: SessionDep, _user: CurrentUser) -> CampaignOut:
    """One access review: due date, whether it is overdue or closed, progress by reviewer."""
    try:
        progress = campaign_progress(session, campaign_id)
    except KeyError:
        raise _no_campaign(campaign_id) from None
    return _campaign_out(progress, utcnow().date())


@router.get(
    "/campaigns/{campaign_id}/items",
    responses={403: {"model": Problem}, 404: NOT_FOUND},
)
def get_items(
    campaign_id: IdPath,
    session: SessionDep,
    principal: CurrentUser,
    everyone: Annotated[bool, EVERYONE] = False,
) -> ReviewListOut:
    """Your list: the items you decide, by client, org and person, with their states."""
    review = _list(session, principal, campaign_id, everyone)
    return ReviewListOut(
        campaign_id=review.campaign_id,
        name=review.name,
        due_on=review.due_on,
        closed_at=review.closed_at,
        reviewer=review.reviewer,
        open=review.open,
        items=[ReviewItemOut.model_validate(r, from_attributes=True) for r in review.rows],
    )


@router.post(
    "/campaigns/{campaign_id}/decisions",
    responses={
        403: {"model": Problem, "description": "your role records no review decisions"},
        404: NOT_FOUND,
        409: {
            "model": Problem,
            "description": "refused: not your item, the campaign is closed, a reason is "
            "missing, …; the message says why",
        },
    },
)
def post_decision(
    campaign_id: IdPath, body: DecisionIn, session: SessionDep, principal: ReviewerUser
) -> DecidedOut:
    """Decide items of your list: keep, remove (a removal plan for a second person to
    approve), not my client (handed on), or already gone (the next scan checks)."""
    if session.get(Campaign, campaign_id) is None:
        raise _no_campaign(campaign_id)
    try:
        items = select_items(
            session,
            principal,
            campaign_id,
            item_ids=tuple(body.item_ids),
            person=body.person,
            client=body.client,
        )
        done = decide(
            session,
            principal,
            campaign_id,
            items,
            Decision(body.decision, body.reason, body.reassign_to),
        )
    except CampaignError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return DecidedOut(
        campaign_id=campaign_id,
        decision=body.decision,
        items=done.items,
        plan_id=done.plan_id,
        reassigned_to=done.reassigned_to,
    )


@router.get(
    "/campaigns/{campaign_id}/items.xlsx",
    responses={
        200: {
            "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            "description": "the workbook",
        },
        403: {"model": Problem},
        404: NOT_FOUND,
    },
)
def get_items_xlsx(
    campaign_id: IdPath,
    session: SessionDep,
    principal: CurrentUser,
    everyone: Annotated[bool, EVERYONE] = False,
) -> Response:
    """Your list as a workbook (everyone's, with progress by reviewer, for an admin)."""
    review = _list(session, principal, campaign_id, everyone)
    progress = campaign_progress(session, campaign_id) if everyone else None
    report = review_list_download(review, progress=progress, as_of=utcnow())
    digest = sha256_hex(report.content)
    record(
        session,
        actor=principal.actor,
        action="export.review_list",
        detail={
            "campaign_id": campaign_id,
            "everyone": everyone,
            "rows": report.rows,
            "sha256": digest,
            "filename": report.filename,
            "via": "api",
        },
    )
    session.commit()
    return download(Export(report.content, report.filename, report.media_type, report.rows, digest))
