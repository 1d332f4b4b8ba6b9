"""``accessrecon remove …``: plan, approve, run and follow removals of access.

* ``remove plan --as USER (--person NAME|EMAIL | --finding ID… | --class CLASS
  [--manager NAME])`` builds a dry-run plan and prints it; nothing is changed.
* ``remove show PLAN`` prints a plan's items; ``remove status`` lists the plans.
* ``remove approve PLAN --as USER [--item ID…]``: a practice admin or partner who
  did not propose the plan approves it.
* ``remove run PLAN`` carries the approved items out through the portals, re-reads
  each touched org and prints what was verified.

``--as`` names the API user acting (``accessrecon users add``): their role and
client scope decide what they may do, and the audit log names them. Every command
exits 0 on success; a refused action prints one line on stderr and exits 1.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from accessrecon.console import refuse, say
from agent.domain import FindingClass
from agent.reports.words import moment
from agent.runtime import Runtime
from agent.security.users import principal_of
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, RemovalError, plan_removals
from agent.services.removals.views import ItemRow, PlanView, list_plans, plan_view
from agent.storage.db import session_scope

remove_app = typer.Typer(
    help="Remove access: plan (a dry run), approve (a second person), run, verify.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help="the API user acting (name or id), for roles and the audit log"),
]
PlanId = Annotated[int, typer.Argument(help="the plan's id, as 'remove status' lists it")]


@remove_app.command("plan")
def remove_plan(
    as_user: As,
    person: Annotated[
        str | None, typer.Option(help="a staff member's name or email (a leaver, say)")
    ] = None,
    finding: Annotated[
        list[int] | None, typer.Option("--finding", help="a finding id; repeatable")
    ] = None,
    finding_class: Annotated[
        FindingClass | None, typer.Option("--class", help="every open finding of this class")
    ] = None,
    manager: Annotated[
        str | None, typer.Option(help="with --class: only this client manager's clients")
    ] = None,
    note: Annotated[str, typer.Option(help="why, for the approver")] = "",
) -> None:
    """Plan removals (a dry run: nothing is changed in any portal)."""
    runtime = Runtime()
    request = PlanRequest(
        person=person,
        finding_ids=tuple(finding or ()),
        finding_class=finding_class,
        manager=manager,
        note=note,
    )
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            plan = plan_removals(session, principal, request)
            plan_id = plan.id
    except RemovalError as exc:
        refuse(str(exc))
    assert plan_id is not None
    _show(plan_id)
    say(
        f"plan {plan_id} is a dry run: a practice admin or partner other than "
        f"{as_user} approves it with 'accessrecon remove approve {plan_id} --as NAME'"
    )


@remove_app.command("show")
def remove_show(plan_id: PlanId) -> None:
    """A plan's items: org, user, role, who can remove it, the proposal and its state."""
    _show(plan_id)


@remove_app.command("status")
def remove_status() -> None:
    """Every plan, newest first, with its items counted by state."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        plans = list_plans(session)
    if not plans:
        say("no removal plans yet: make one with 'accessrecon remove plan'")
        return
    for plan in plans:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(plan.counts.items()))
        say(
            f"plan {plan.id}  {moment(plan.created_at)}  {plan.status:22} "
            f"{plan.scope}  by {plan.proposed_by}  [{counts}]"
        )


@remove_app.command("approve")
def remove_approve(
    plan_id: PlanId,
    as_user: As,
    item: Annotated[
        list[int] | None, typer.Option("--item", help="approve only this item; repeatable")
    ] = None,
) -> None:
    """Approve a plan (or some of its items): four eyes, a practice admin or partner."""
    runtime = Runtime()
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            approval = approve_plan(
                session, principal, plan_id, settings=runtime.settings, item_ids=tuple(item or ())
            )
    except RemovalError as exc:
        refuse(str(exc))
    say(
        f"plan {plan_id}: {len(approval.approved)} items approved for removal, "
        f"{len(approval.requested)} asked of the client, {len(approval.unchanged)} unchanged"
    )
    for item_id, why in approval.unchanged:
        say(f"  item {item_id}: {why}")
    if approval.self_approved:
        say("  approved by its proposer as the practice's only admin (recorded in the audit)")
    if approval.approved:
        say(f"carry it out with 'accessrecon remove run {plan_id}'")


@remove_app.command("run")
def remove_run(
    plan_id: PlanId,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="requests to the portals in flight at once")
    ] = None,
) -> None:
    """Carry out a plan's approved items through the portals, then verify by re-reading."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        if plan_view(session, plan_id) is None:
            refuse(f"no removal plan {plan_id}")
    from agent.crawl.removal import RemovalRun  # loads Playwright

    run = RemovalRun(
        runtime.engine,
        runtime.box,
        settings=runtime.settings,
        concurrency=concurrency or runtime.settings.crawl_concurrency,
        progress=lambda event, item_id, _state: say(f"  item {item_id}: {event}"),
    )
    report = asyncio.run(run.run(plan_id))
    if not report.claimed:
        say(f"plan {plan_id} has no approved item waiting to run")
        return
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.count().items()))
    say(
        f"plan {plan_id}: {report.claimed} items run, {report.requests_sent} removal requests "
        f"sent, {report.orgs_read} org reads: {counts}"
    )
    if any(state == "failed" for state in report.states.values()):
        refuse("some items failed; 'accessrecon remove show' says why, and a new run retries them")


def _show(plan_id: int) -> None:
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        view = plan_view(session, plan_id)
    if view is None:
        refuse(f"no removal plan {plan_id}")
        return
    _print_view(view)


def _print_view(view: PlanView) -> None:
    plan = view.plan
    say(
        f"plan {plan.id} ({plan.status}): {plan.scope}, proposed by {plan.proposed_by} "
        f"on {moment(plan.created_at)}"
    )
    for row in view.items:
        say(_item_line(row))


def _item_line(row: ItemRow) -> str:
    who = row.removable_by + (f" ({row.removable_reason})" if row.removable_reason else "")
    why = row.barrier or row.detail
    return (
        f"{row.id:>6} {row.state:10} {row.action:10} {row.portal:5} {row.org_name} "
        f"[{row.portal_org_id}]  {row.email}  {row.role}  {row.finding_class}  "
        f"removable by {who}" + (f"  - {why}" if why else "")
    )


__all__ = ["RemovalError", "remove_app"]
