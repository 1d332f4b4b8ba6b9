"""``accessrecon review …`` and ``accessrecon diff``: deciding about findings, seeing change.

Review commands change a finding's review state (``agent.services.review``) or record who an
address is (``agent.services.identities``); each records who acted (``--actor``, by default
``cli:<login name>``) in the audit log. After an identity decision the orgs that show
the address are reconciled at once, so the finding's new class is visible straight
away. ``diff`` compares two crawls (``agent.services.crawl_diff``).

Every command exits 0 on success; a refused action prints one line on stderr and
exits 1.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import typer

from accessrecon.console import refuse, say
from agent.reports.words import day, moment
from agent.runtime import Runtime
from agent.services.crawl_diff import CrawlNotFound, diff_crawls
from agent.services.finding_lists import stale_orgs
from agent.services.findings import reconcile
from agent.services.identities import (
    DecisionError,
    DecisionResult,
    candidates_of,
    confirm_match,
    reject_match,
)
from agent.services.reconcile_inputs import practice_domains
from agent.services.review import (
    ReviewError,
    accept_risk,
    acknowledge,
    history,
    reopen,
    request_removal,
    review_queue,
)
from agent.storage.db import session_scope

review_app = typer.Typer(
    help="Review findings: acknowledge, accept a risk, request removal, confirm who an address is.",
    no_args_is_help=True,
)

_REFUSED = (ReviewError, DecisionError, CrawlNotFound)


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


Actor = Annotated[
    str, typer.Option(help="who is acting, for the audit log", default_factory=_default_actor)
]
FindingId = Annotated[int, typer.Argument(help="the finding's id, as 'review list' shows it")]
Reason = Annotated[str, typer.Option(help="why, for the record")]


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn a refused action into one line on stderr and exit code 1."""
    try:
        yield
    except _REFUSED as exc:
        refuse(str(exc))


@review_app.command("list")
def review_list(
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="only findings in this review state, such as open (repeatable)"
        ),
    ] = None,
    finding_class: Annotated[
        list[str] | None,
        typer.Option(
            "--class", help="only findings of this class, such as leaver_access (repeatable)"
        ),
    ] = None,
    include_ok: Annotated[bool, typer.Option("--all", help="managed and client users too")] = False,
) -> None:
    """Unresolved findings with their ids and review state, worst first."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        items = review_queue(
            session, states=state or (), classes=finding_class or (), include_ok=include_ok
        )
        for item in items:
            expiry = f" until {day(item.risk_expires_on)}" if item.risk_expires_on else ""
            say(
                f"{item.finding_id:>6} {item.severity:8} {item.finding_class:22} "
                f"{item.review_state}{expiry:<18} {item.portal:5} {item.portal_org_id:20} "
                f"{item.email}  {item.detail}"
            )
            if item.finding_class == "probable_match":
                for candidate in candidates_of(session, item.finding_id):
                    say(
                        f"{'':>6} candidate staff #{candidate.staff_id} "
                        f"{candidate.staff_name} (score {candidate.score:g})"
                    )
    say(f"{len(items)} findings")


def _act(action: Callable[..., None], finding_id: int, **kwargs: object) -> None:
    runtime = Runtime()
    with _refusals(), session_scope(runtime.engine) as session:
        action(session, finding_id, **kwargs)


@review_app.command("ack")
def review_ack(finding_id: FindingId, actor: Actor, reason: Reason = "") -> None:
    """Acknowledge a finding: someone has seen it and follows it up."""
    _act(acknowledge, finding_id, actor=actor, reason=reason)
    say(f"finding {finding_id} acknowledged")


@review_app.command("accept-risk")
def review_accept_risk(
    finding_id: FindingId,
    reason: Annotated[str, typer.Option(help="why the access may stay (required)")],
    until: Annotated[str, typer.Option(help="expiry date, YYYY-MM-DD; it reopens after it")],
    actor: Actor,
) -> None:
    """Accept the risk until a date, for a reason; the finding reopens after that date."""
    try:
        expires_on = date.fromisoformat(until)
    except ValueError:
        refuse(f"--until {until!r} is not a date (YYYY-MM-DD)")
    _act(accept_risk, finding_id, actor=actor, reason=reason, expires_on=expires_on)
    say(f"finding {finding_id}: risk accepted until {day(expires_on)}")


@review_app.command("request-removal")
def review_request_removal(finding_id: FindingId, actor: Actor, reason: Reason = "") -> None:
    """Record that removal was asked for; a later ok scan without the access verifies it."""
    _act(request_removal, finding_id, actor=actor, reason=reason)
    say(f"finding {finding_id}: removal requested")


@review_app.command("reopen")
def review_reopen(finding_id: FindingId, actor: Actor, reason: Reason = "") -> None:
    """Undo a review decision."""
    _act(reopen, finding_id, actor=actor, reason=reason)
    say(f"finding {finding_id} reopened")


@review_app.command("history")
def review_history(finding_id: FindingId) -> None:
    """Every review change of a finding: when, who, from, to, why."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        events = history(session, finding_id)
    for event in events:
        expiry = f" until {day(event.expires_on)}" if event.expires_on else ""
        say(
            f"{moment(event.at)} {event.actor}: {event.from_state} -> "
            f"{event.to_state}{expiry} {event.reason}"
        )
    say(f"{len(events)} changes")


def _decide(
    decide: Callable[..., DecisionResult],
    finding_id: int,
    staff: int | None,
    actor: str,
    note: str,
) -> DecisionResult:
    runtime = Runtime()
    with _refusals(), session_scope(runtime.engine) as session:
        domains = sorted(practice_domains(session, runtime.settings.practice_domains))
        result = decide(
            session,
            finding_id=finding_id,
            staff_id=staff,
            actor=actor,
            practice_domains=domains,
            note=note,
        )
        reconcile(
            session, configured_domains=runtime.settings.practice_domains, org_ids=result.org_ids
        )
    return result


Staff = Annotated[int | None, typer.Option("--staff", help="the staff member's id")]
Note = Annotated[str, typer.Option(help="a note for the record")]


@review_app.command("confirm-match")
def review_confirm_match(
    finding_id: FindingId, actor: Actor, staff: Staff = None, note: Note = ""
) -> None:
    """Confirm a probable match: the address becomes the staff member's alias."""
    result = _decide(confirm_match, finding_id, staff, actor, note)
    say(
        f"{result.identity} is now {result.staff_name}'s (staff #{result.staff_id}); "
        f"{len(result.org_ids)} orgs reconciled"
    )


@review_app.command("reject-match")
def review_reject_match(
    finding_id: FindingId, actor: Actor, staff: Staff = None, note: Note = ""
) -> None:
    """Reject a probable match: that staff member is not proposed for the address again."""
    result = _decide(reject_match, finding_id, staff, actor, note)
    say(
        f"{result.identity} is not {result.staff_name}'s (staff #{result.staff_id}); "
        f"{len(result.org_ids)} orgs reconciled"
    )


@review_app.command("stale")
def review_stale() -> None:
    """Orgs whose newest ok scan is older than the stale_after_hours setting."""
    runtime = Runtime()
    hours = runtime.settings.stale_after_hours
    with session_scope(runtime.engine) as session:
        rows = stale_orgs(session, stale_after_hours=hours)
    for row in rows:
        say(f"{row.portal:5} {row.portal_org_id:20} stale since {day(row.stale_since)}  {row.name}")
    say(f"{len(rows)} orgs not read ok in the last {hours} hours")


def diff_command(
    crawl_a: Annotated[int, typer.Argument(help="the earlier crawl's id")],
    crawl_b: Annotated[int, typer.Argument(help="the later crawl's id")],
) -> None:
    """What changed between two crawls: access new, gone, with another role or status."""
    runtime = Runtime()
    with _refusals(), session_scope(runtime.engine) as session:
        result = diff_crawls(
            session, crawl_a, crawl_b, configured_domains=runtime.settings.practice_domains
        )
    for change in result.changes:
        if change.kind == "new":
            what = f"{change.role_after} ({change.status_after})"
        elif change.kind == "gone":
            what = f"was {change.role_before} ({change.status_before})"
        else:
            what = (
                f"{change.role_before} ({change.status_before}) -> {change.role_after} "
                f"({change.status_after})"
            )
        say(f"{change.kind:14} {change.portal:5} {change.portal_org_id:20} {change.email}  {what}")
    for skipped in result.not_compared:
        say(f"{'not compared':14} {skipped.portal:5} {skipped.portal_org_id:20} {skipped.reason}")
    say(
        f"{result.orgs_compared} orgs compared, {len(result.changes)} changes, "
        f"{len(result.not_compared)} orgs not compared"
    )


__all__ = ["diff_command", "review_app"]
