"""API shapes shared by several routes; table models never double as these.

Every string a client sends is bounded by the column it lands in (its width read
from the model, ``agent.storage.widths``) and may not hold NUL (PostgreSQL refuses
it): a value the database would reject is a 422 here, not a 500 there. Ids are
bounded to the database's 32-bit integers for the same reason. An org id must be one
of the portals' and is taken in its stored form (``agent.orgid``), so a MYOB UUID in
capitals finds the org the agent stores in lower case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
)

from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, Severity
from agent.imports import PracticeRole
from agent.orgid import parse_any_org_id
from agent.reports.labels import reason_words
from agent.security.principal import ClientScope, Principal
from agent.services.expiring import ExpiringKind
from agent.services.removals.approval import Approval
from agent.services.removals.views import PlanView
from agent.services.status import OrgStatus
from agent.storage.models import AppUser, Finding, FindingReview, Org, RemovalPlan
from agent.storage.widths import width

MAX_ID = 2**31 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


def _org_id(value: str) -> str:
    """The id in its stored form: its format alone names its portal."""
    return parse_any_org_id(value)[1]


def _text(longest: int, *, shortest: int = 0, strip: bool = False) -> StringConstraints:
    """Text a column of ``longest`` characters holds, without NUL."""
    return StringConstraints(min_length=shortest, max_length=longest, strip_whitespace=strip)


#: a label, a user name, an actor: as wide as an API user's name
Name = Annotated[str, _text(width(AppUser.name)), AfterValidator(_no_nul)]
LongText = Annotated[str, _text(width(FindingReview.reason)), AfterValidator(_no_nul)]
OrgId = Annotated[
    str,
    _text(width(Org.portal_org_id), shortest=1),
    AfterValidator(_no_nul),
    AfterValidator(_org_id),
]
Email = Annotated[str, _text(width(Finding.email), shortest=3, strip=True), AfterValidator(_no_nul)]
OrgName = Annotated[str, _text(width(Org.name), shortest=1, strip=True), AfterValidator(_no_nul)]
PersonName = Annotated[str, _text(width(Finding.name)), AfterValidator(_no_nul)]
Role = Annotated[str, _text(width(Finding.role)), AfterValidator(_no_nul)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]


class Problem(BaseModel):
    detail: str


class FindingOut(BaseModel):
    id: int
    portal: Portal
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    staff_id: int | None
    email: str
    name: str
    finding_class: FindingClass
    severity: Severity
    role: str
    intended_role: str | None
    extra_permissions: list[str]
    access_status: AccessStatus
    removable_by: str = Field(description='"practice" or "client"')
    removable_reason: str = Field(
        default="", description='why only the client can remove it; "" for the practice'
    )
    review_state: ReviewState
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    detail: str
    capture_missing_at: datetime | None = Field(
        default=None,
        description="when a passive capture last did not show this open finding; "
        "only an agent scan may resolve it, and one is queued",
    )
    capture_note: str | None = Field(
        default=None, description='"not seen in a capture on DATE, awaiting a scan", or null'
    )


class FindingPage(BaseModel):
    items: list[FindingOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class FindingFilter(BaseModel):
    """What the findings list, the person view and the CSV export filter by."""

    finding_class: list[FindingClass] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    review_state: list[ReviewState] = Field(default_factory=list)
    access_status: list[AccessStatus] = Field(default_factory=list)
    portal: Portal | None = None
    staff_id: IdField | None = None
    person: Name | None = Field(
        default=None, description="an email (exact) or part of a person's name"
    )
    client_manager: Name | None = Field(
        default=None, description="the client manager's name; case does not matter"
    )
    text: Name | None = Field(
        default=None, description="part of an email, a name, an org or a client"
    )
    problems_only: bool = False
    include_resolved: bool = False


#: an API user, as ``/me`` and the pairing exchange name them
class UserOut(BaseModel):
    id: int
    name: str
    role: PracticeRole
    scope: ClientScope
    staff_name: str | None = None


def user_out_from_principal(principal: Principal) -> UserOut:
    return UserOut(
        id=principal.user_id,
        name=principal.name,
        role=principal.role,
        scope=principal.scope,
        staff_name=principal.staff_name,
    )


class PersonOut(BaseModel):
    email: str
    name: str
    finding_class: str
    severity: str
    review_state: str
    access_status: str
    role: str
    removable_by: str
    detail: str
    removable_reason: str = Field(
        default="", description='why only the client can remove it; "" for the practice'
    )
    finding_id: int = Field(description="the finding's id: a removal plan names findings")

    @computed_field(  # type: ignore[prop-decorator]
        description="the reason as every report says it to a person"
    )
    @property
    def removable_reason_words(self) -> str:
        return reason_words(self.removable_reason)


#: one org's status: the badge's answer, and the org a capture settled
class OrgStatusOut(BaseModel):
    portal: Portal
    portal_org_id: str
    name: str
    client: str | None
    client_manager: str | None
    client_archived: bool
    last_ok_scan_at: datetime | None
    last_scan_at: datetime | None
    last_scan_status: str | None
    last_scan_reason: str | None
    stale: bool = Field(description="the last ok scan is older than the stale threshold")
    never_scanned: bool = Field(description="no ok scan yet: nothing is known about its users")
    last_scan_failed: bool = Field(description="the most recent scan failed (see reason)")
    worst_severity: str | None
    open_problems: int
    unreviewed_problems: int = Field(description="problems nobody has acted on yet (open)")
    people_count: int
    pending_count: int = Field(description="invitations not yet accepted")
    counts_by_class: dict[str, int]
    counts_by_severity: dict[str, int]
    counts_by_review_state: dict[str, int]
    people: list[PersonOut]
    client_requests: list[ClientRequestOut] = Field(
        default_factory=list,
        description="people the practice asked the client to remove, not yet seen gone",
    )
    agent_logins: list[str] = Field(
        default_factory=list,
        description="the agent's own logins in this org, by email: keep them (removing one "
        "stops the org being read); never classified, so not among people",
    )


def status_out(
    status: OrgStatus, *, include_people: bool = True, agent_logins: Sequence[str] = ()
) -> OrgStatusOut:
    """The API's shape of the status; without people, the counts still cover them all
    (and the agent's logins are left out with the people)."""
    if not include_people:
        status = replace(status, people=[], client_requests=[])
    out = OrgStatusOut.model_validate(status, from_attributes=True)
    if include_people:
        out.agent_logins = list(agent_logins)
    return out


# -- removals: plans, approval, runs, and what the client was asked ---------------------


class ClientRequestOut(BaseModel):
    """Someone the practice asked the client to remove: the banner says since when."""

    email: str
    name: str
    requested_at: datetime


OrgStatusOut.model_rebuild()

PlanNote = Annotated[str, _text(width(RemovalPlan.note)), AfterValidator(_no_nul)]
#: a staff member as people name them: their name or one of their emails
StaffRef = Annotated[
    str, _text(width(Finding.name), shortest=1, strip=True), AfterValidator(_no_nul)
]


class RemovalPlanIn(BaseModel):
    """What to plan: exactly one of ``person``, ``finding_ids`` or ``finding_class``."""

    model_config = ConfigDict(extra="forbid")

    person: StaffRef | None = Field(
        default=None, description="a staff member's name or email (a leaver, say)"
    )
    finding_ids: list[IdField] = Field(
        default_factory=list, max_length=1000, description="open findings to plan, by id"
    )
    finding_class: FindingClass | None = Field(
        default=None, description="every open finding of this class in your scope"
    )
    manager: Name | None = Field(
        default=None, description="with finding_class: only this client manager's clients"
    )
    note: PlanNote = Field(default="", description="why, for the approver")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[IdField] = Field(
        default_factory=list,
        max_length=1000,
        description="approve only these items; none: every planned item you can see",
    )


class RemovalItemOut(BaseModel):
    """One (org, user) of a plan, as the command line, the API and the dashboard show it."""

    id: int
    plan_id: int
    finding_id: int | None
    portal: Portal
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    email: str
    name: str
    role: str
    finding_class: str
    removable_by: str = Field(description='"practice" or "client"')
    removable_reason: str = Field(description='why only the client can remove it; "" if not')
    action: str = Field(description="the proposal: remove, ask_client, or none")
    barrier: str = Field(description='what stands in the way ("" when nothing does)')
    state: str = Field(
        description="planned, blocked, skipped, approved, running, removed, verified, "
        "failed, or requested (asked of the client)"
    )
    detail: str
    attempts: int
    approved_by: str
    approved_at: datetime | None
    removed_at: datetime | None
    verified_at: datetime | None = Field(description="when a later ok scan no longer showed it")
    verified_scan_id: int | None


class RemovalPlanOut(BaseModel):
    id: int
    created_at: datetime
    proposed_by: str
    scope: str = Field(description="how the plan was asked for")
    note: str
    counts: dict[str, int] = Field(description="the items you can see, by state")
    total: int
    status: str = Field(
        description=(
            "awaiting approval, approved, to run, running, awaiting verification, "
            "waiting on clients, done"
        )
    )


class RemovalPlanViewOut(BaseModel):
    plan: RemovalPlanOut
    items: list[RemovalItemOut]


class UnchangedItemOut(BaseModel):
    item_id: int
    why: str


class ApprovalOut(BaseModel):
    plan_id: int
    approved: list[int] = Field(description="items approved for the agent to remove")
    requested_from_client: list[int] = Field(description="items the client is now asked to remove")
    unchanged: list[UnchangedItemOut]
    self_approved: bool = Field(
        description="approved by its proposer as the practice's only admin (audited)"
    )
    plan: RemovalPlanViewOut


class RunRequestOut(BaseModel):
    plan_id: int
    run_requested_at: datetime
    run_requested_by: str
    detail: str


def plan_view_out(view: PlanView) -> RemovalPlanViewOut:
    return RemovalPlanViewOut.model_validate(view, from_attributes=True)


def approval_out(approval: Approval, view: PlanView) -> ApprovalOut:
    return ApprovalOut(
        plan_id=approval.plan_id,
        approved=approval.approved,
        requested_from_client=approval.requested,
        unchanged=[UnchangedItemOut(item_id=i, why=why) for i, why in approval.unchanged],
        self_approved=approval.self_approved,
        plan=plan_view_out(view),
    )


# -- what is about to stop being allowed -----------------------------------------------


class ExpiringItemOut(BaseModel):
    """An intended access that ends, or an accepted risk that expires."""

    kind: ExpiringKind = Field(description="access_end or accepted_risk")
    ends_on: date = Field(description="the last day it is allowed")
    days_left: int = Field(description="days from today to ends_on; negative once passed")
    expired: bool = Field(description="ends_on has passed and the access is still there")
    client: str | None
    client_manager: str | None
    portal: Portal
    portal_org_id: str
    org_name: str | None
    name: str
    email: str
    role: str
    by: str = Field(description="who imported the access file, or who accepted the risk")
    reason: str = Field(description="why the risk was accepted; empty for an access end")
    finding_id: int | None


class ExpiringOut(BaseModel):
    today: date
    days: int = Field(description="the horizon: what ends up to this many days from today")
    items: list[ExpiringItemOut]
