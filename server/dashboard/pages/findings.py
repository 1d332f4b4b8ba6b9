"""Findings: a filtered list grouped by person or client, one finding, review decisions.

The list is grouped (``?group=person``, the default, or ``?group=client``): a person
group says who once and lists where they can get in; a client group says the client
and its manager once and lists who can get in. Groups are made from the page of
findings the filters give, worst first, so the worst group comes first.

Review decisions, on one finding or on the findings ticked on the list, go through
``server.actions.decide_review`` (and so through ``agent.services.review``), which
writes the finding's history and the ``finding.reviewed`` audit event in the same
transaction, exactly as the API's review route does. A decision on several findings
is all or nothing: one refused finding leaves every other as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, Severity
from agent.reports.words import label, plural
from agent.services.review import ReviewError, history, risk_expiry
from server.actions import decide_review
from server.dashboard.filters import PAGE_SIZE, enums, one, page_number, text
from server.dashboard.rendering import query as address
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
from server.queries import get_finding, list_findings, managers_in_scope
from server.schemas import MAX_ID, FindingFilter, FindingOut

router = APIRouter()

#: What a person may choose on the review form (``verified_removed`` is set by scans).
DECISIONS = (
    ReviewState.ACKNOWLEDGED,
    ReviewState.ACCEPTED_RISK,
    ReviewState.REMOVAL_REQUESTED,
    ReviewState.OPEN,
)
#: What the list's bulk bar offers for the ticked findings.
BULK_DECISIONS = (
    ReviewState.ACKNOWLEDGED,
    ReviewState.ACCEPTED_RISK,
    ReviewState.REMOVAL_REQUESTED,
)
#: How the list is grouped: the first is the default.
GROUPINGS = ("person", "client")
#: The most findings one bulk decision takes: a page's worth, and some.
MAX_TICKED = 1000
#: The longest query string a form may carry back to the list.
MAX_BACK = 4000


def choices(current: ReviewState) -> list[ReviewState]:
    """The decisions the form offers: every move but to where it is (a risk may be extended)."""
    return [d for d in DECISIONS if d != current or d is ReviewState.ACCEPTED_RISK]


# -- the list's address -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingsQuery:
    """What the list's address asks for: the filter, the grouping and the page."""

    flt: FindingFilter
    group: str
    page: int

    @property
    def params(self) -> dict[str, Any]:
        """The address's choices, for links that keep them (the pager, the toggle, downloads)."""
        flt = self.flt
        return {
            "class": [c.value for c in flt.finding_class],
            "severity": [s.value for s in flt.severity],
            "review": [r.value for r in flt.review_state],
            "access": [a.value for a in flt.access_status],
            "portal": flt.portal.value if flt.portal else "",
            "manager": flt.client_manager,
            "q": flt.text,
            "resolved": "yes" if flt.include_resolved else "",
            "group": "" if self.group == GROUPINGS[0] else self.group,
        }

    @property
    def filter_params(self) -> dict[str, Any]:
        """The choices that pick findings: what a download of this list takes."""
        return {k: v for k, v in self.params.items() if k != "group"}


def read_findings_query(values: Mapping[str, Sequence[str]]) -> FindingsQuery:
    """The list's choices from an address's values, forgivingly (``server.dashboard.filters``)."""

    def first(name: str) -> str:
        found = values.get(name) or [""]
        return found[0]

    classes = enums(FindingClass, values.get("class", ()))
    flt = FindingFilter(
        finding_class=classes,
        severity=enums(Severity, values.get("severity", ())),
        review_state=enums(ReviewState, values.get("review", ())),
        access_status=enums(AccessStatus, values.get("access", ())),
        portal=one(Portal, first("portal")),
        client_manager=text(first("manager")),
        text=text(first("q")),
        problems_only=not classes,
        include_resolved=first("resolved") == "yes",
    )
    group = first("group") if first("group") in GROUPINGS else GROUPINGS[0]
    return FindingsQuery(flt, group, page_number(first("page")))


def findings_query(request: Request) -> FindingsQuery:
    """The list's choices from this request's address (a dependency of the list and downloads)."""
    params = request.query_params
    return read_findings_query({key: params.getlist(key) for key in params})


# -- groups -----------------------------------------------------------------------------


@dataclass(slots=True)
class Group:
    """Findings about one person, or on one client's orgs, with what they share said once."""

    key: str
    title: str
    sub: str
    link: str
    items: list[FindingOut] = field(default_factory=list)


def group_findings(items: Sequence[FindingOut], by: str) -> list[Group]:
    """``items`` in groups, each where its worst (first) finding puts it."""
    groups: dict[str, Group] = {}
    for f in items:
        if by == "client":
            key = f"client:{f.client}\x00{f.client_manager}" if f.client else "client:"
            made = Group(
                key,
                f.client or "Not linked to a client",
                f"managed by {f.client_manager}" if f.client_manager else "no client manager",
                "",
            )
        else:
            key = f"staff:{f.staff_id}" if f.staff_id else f"email:{f.email.casefold()}"
            made = Group(
                key,
                f.name or f.email,
                f.email if f.name else "",
                f"{PREFIX}/people/{f.staff_id}" if f.staff_id else "",
            )
        groups.setdefault(key, made).items.append(f)
    return list(groups.values())


# -- the list ---------------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    query: FindingsQuery,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
    form: dict[str, Any] | None = None,
) -> Response:
    items, total = list_findings(
        session,
        viewer.scope,
        query.flt,
        limit=PAGE_SIZE,
        offset=(query.page - 1) * PAGE_SIZE,
    )
    params = query.params
    return render(
        request,
        "findings.html",
        viewer,
        status_code=status,
        items=items,
        groups=group_findings(items, query.group),
        group=query.group,
        total=total,
        page=query.page,
        pages=max(1, -(-total // PAGE_SIZE)),
        params=params,
        filter_params=query.filter_params,
        managers=managers_in_scope(session, viewer.scope),
        classes=list(FindingClass),
        severities=list(Severity),
        review_states=list(ReviewState),
        portals=list(Portal),
        error=error,
        notice=notice,
        form=form or {},
    )


@router.get("/findings")
def findings_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    done: str = "",
    count: str = "",
) -> Response:
    decided = one(ReviewState, done)
    notice = ""
    if decided in BULK_DECISIONS and count.isascii() and count.isdigit() and len(count) < 6:
        notice = f"{label(decided)}: {plural(int(count), 'finding')}."
    return _list_page(request, session, viewer, findings_query(request), notice=notice)


def _ticked(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values[:MAX_TICKED]:
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
            raise ValueError(f"{value[:40]!r} is not a finding id.")
        if int(value) not in ids:
            ids.append(int(value))
    return ids


def _in_words(message: str) -> str:
    """A review service's refusal with its state codes in words ("accepted risk")."""
    for state in ReviewState:
        message = message.replace(state.value, label(state).lower())
    return message


def _back(value: str) -> FindingsQuery:
    """The list the form was sent from, read from the query string it carried."""
    return read_findings_query(parse_qs(value[:MAX_BACK].lstrip("?")))


@router.post("/findings/review")
def review_ticked(
    request: Request,
    session: SessionDep,
    viewer: FormReviewerDep,
    finding_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    decision: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    until: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=MAX_BACK)] = "",
) -> Response:
    """One decision on every ticked finding, or on none of them."""
    query = _back(back)
    chosen = one(ReviewState, decision)
    form: dict[str, Any] = {"reason": reason, "until": until, "ticked": set()}
    try:
        ids = _ticked(finding_ids)
        form["ticked"] = set(ids)
        if chosen is None or chosen not in BULK_DECISIONS:
            raise ValueError("Choose what to do with the ticked findings.")
        if not ids:
            raise ValueError("Tick the findings to decide on first.")
        expires: date | None = None
        if until:
            try:
                expires = date.fromisoformat(until)
            except ValueError:
                raise ValueError(
                    f"{until!r} is not a date (use the date picker, or YYYY-MM-DD)."
                ) from None
        for finding_id in ids:
            finding = get_finding(session, viewer.scope, finding_id)
            if finding is None:
                raise ValueError(f"Finding {finding_id} is not in your scope; nothing was changed.")
            where = f"{finding.name or finding.email} on {finding.org_name}"
            if not finding.finding_class.is_problem or finding.resolved_at is not None:
                raise ValueError(f"{where} needs no review; nothing was changed.")
            try:
                decide_review(
                    session,
                    finding_id=finding_id,
                    decision=chosen,
                    principal=viewer.principal,
                    reason=reason.replace("\x00", ""),
                    until=expires,
                )
            except ReviewError as exc:
                raise ValueError(f"{where}: {_in_words(str(exc))}; nothing was changed.") from None
    except ValueError as exc:
        session.rollback()
        return _list_page(request, session, viewer, query, status=409, error=str(exc), form=form)
    session.commit()
    assert chosen is not None
    kept = {**query.params, "page": query.page if query.page > 1 else ""}
    return redirect(f"{PREFIX}/findings{address(kept, done=chosen.value, count=len(ids))}")


# -- one finding ------------------------------------------------------------------------


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
