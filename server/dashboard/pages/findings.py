"""Findings: a filtered list, one finding with its history, and review decisions on it.

Review decisions go through ``server.actions.decide_review`` (and so through
``agent.services.review``), which writes the finding's history and the ``finding.reviewed``
audit event in the same transaction, exactly as the API's review route does.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, Severity
from agent.services.review import ReviewError, history, risk_expiry
from server.actions import decide_review
from server.dashboard.filters import PAGE_SIZE, enums, one, page_number, text
from server.dashboard.web import (
    PREFIX,
    DashboardError,
    FormReviewerDep,
    ViewerDep,
    redirect,
    render,
)
from server.deps import SessionDep
from server.queries import get_finding, list_findings, managers_in_scope
from server.schemas import MAX_ID, FindingFilter

router = APIRouter()

Many = Annotated[list[str], Query()]

#: What a person may choose on the review form (``verified_removed`` is set by scans).
DECISIONS = (
    ReviewState.ACKNOWLEDGED,
    ReviewState.ACCEPTED_RISK,
    ReviewState.REMOVAL_REQUESTED,
    ReviewState.OPEN,
)


def choices(current: ReviewState) -> list[ReviewState]:
    """The decisions the form offers: every move but to where it is (a risk may be extended)."""
    return [d for d in DECISIONS if d != current or d is ReviewState.ACCEPTED_RISK]


@router.get("/findings")
def findings_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    finding_class: Annotated[list[str], Query(alias="class")] = [],  # noqa: B006
    severity: Many = [],  # noqa: B006
    review: Many = [],  # noqa: B006
    access: Many = [],  # noqa: B006
    portal: str = "",
    manager: str = "",
    q: str = "",
    page: str = "1",
    resolved: str = "",
) -> Response:
    classes = enums(FindingClass, finding_class)
    flt = FindingFilter(
        finding_class=classes,
        severity=enums(Severity, severity),
        review_state=enums(ReviewState, review),
        access_status=enums(AccessStatus, access),
        portal=one(Portal, portal),
        client_manager=text(manager),
        text=text(q),
        problems_only=not classes,
        include_resolved=resolved == "yes",
    )
    number = page_number(page)
    items, total = list_findings(
        session, viewer.scope, flt, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    params = {
        "class": [c.value for c in flt.finding_class],
        "severity": [s.value for s in flt.severity],
        "review": [r.value for r in flt.review_state],
        "access": [a.value for a in flt.access_status],
        "portal": flt.portal.value if flt.portal else "",
        "manager": flt.client_manager,
        "q": flt.text,
        "resolved": "yes" if flt.include_resolved else "",
    }
    return render(
        request,
        "findings.html",
        viewer,
        items=items,
        total=total,
        page=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        params=params,
        managers=managers_in_scope(session, viewer.scope),
        classes=list(FindingClass),
        severities=list(Severity),
        review_states=list(ReviewState),
        portals=list(Portal),
    )


def _finding_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise DashboardError(404, "There is no such finding in your scope.")
    return value


@router.get("/findings/{finding_id}")
def finding_page(
    request: Request, finding_id: int, session: SessionDep, viewer: ViewerDep, done: str = ""
) -> Response:
    finding = get_finding(session, viewer.scope, _finding_id(finding_id))
    if finding is None:
        raise DashboardError(404, "There is no such finding in your scope.")
    reviewable = (
        finding.finding_class.is_problem
        and finding.resolved_at is None
        and viewer.principal.can_review
    )
    return render(
        request,
        "finding.html",
        viewer,
        finding=finding,
        history=history(session, finding.id),
        reviewable=reviewable,
        decisions=choices(finding.review_state),
        expiry=risk_expiry(session, finding.id)
        if finding.review_state == ReviewState.ACCEPTED_RISK
        else None,
        done=one(ReviewState, done),
        error="",
        form={},
    )


@router.post("/findings/{finding_id}/review")
def review(
    request: Request,
    finding_id: int,
    session: SessionDep,
    viewer: FormReviewerDep,
    decision: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    until: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    finding = get_finding(session, viewer.scope, _finding_id(finding_id))
    if finding is None:
        raise DashboardError(404, "There is no such finding in your scope.")
    chosen = one(ReviewState, decision)
    error = ""
    expires: date | None = None
    if until:
        try:
            expires = date.fromisoformat(until)
        except ValueError:
            error = f"{until!r} is not a date (use the date picker, or YYYY-MM-DD)."
    if chosen is None or chosen not in DECISIONS:
        error = "Choose a decision."
    if not error:
        assert chosen is not None
        try:
            decide_review(
                session,
                finding_id=finding.id,
                decision=chosen,
                principal=viewer.principal,
                reason=reason.replace("\x00", ""),
                until=expires,
            )
        except ReviewError as exc:
            session.rollback()
            error = str(exc).capitalize()
    if error:
        return render(
            request,
            "finding.html",
            viewer,
            status_code=409,
            finding=finding,
            history=history(session, finding.id),
            reviewable=True,
            decisions=choices(finding.review_state),
            expiry=None,
            done=None,
            error=error,
            form={"decision": decision, "reason": reason, "until": until},
        )
    session.commit()
    return redirect(f"{PREFIX}/findings/{finding.id}?done={chosen}")
