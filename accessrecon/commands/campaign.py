"""``accessrecon campaign …``: access reviews by client manager.

* ``campaign start NAME --due DATE --as ADMIN`` snapshots every practice person's
  access from the latest ok scans into each reviewer's list;
* ``campaign status [ID]`` lists campaigns, or one campaign's progress by reviewer;
* ``campaign list ID --as USER [--everyone]`` prints a reviewer's items;
* ``campaign decide ID --as USER DECISION (--item N… | --person P | --client C)
  [--reason TEXT] [--to NAME]`` records keep / remove / not-my-client / already-gone;
* ``campaign export ID --as USER -o FILE.xlsx`` writes the reviewer's list.

Every command exits 0 on success; a refused action prints one line on stderr and
exits 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from accessrecon.console import refuse, say
from agent.domain import CampaignDecision
from agent.reports.words import day
from agent.runtime import Runtime
from agent.security.audit import file_sha256, record
from agent.security.principal import AuthError
from agent.security.users import principal_of
from agent.services.campaigns.decisions import Decision, decide, select_items
from agent.services.campaigns.progress import campaign_progress, list_campaigns
from agent.services.campaigns.start import CampaignError, start_campaign
from agent.services.campaigns.views import review_list
from agent.storage.db import session_scope

campaign_app = typer.Typer(
    help="Access reviews: each client manager decides on their clients' access.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help="the API user acting (name or id), for roles and the audit log"),
]
CampaignId = Annotated[int, typer.Argument(help="the campaign's id, as 'campaign status' lists it")]


def _due(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2027-03-31") from None


@campaign_app.command("start")
def campaign_start(
    name: Annotated[str, typer.Argument(help="the period under review, such as 'Q1 2027'")],
    due: Annotated[str, typer.Option(help="the date by which every item is decided (YYYY-MM-DD)")],
    as_user: As,
) -> None:
    """Start a campaign: snapshot who can reach each client's books, by reviewer."""
    runtime = Runtime()
    due_on = _due(due)
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            started = start_campaign(session, principal, name, due_on=due_on)
            campaign_id = started.campaign.id
    except (CampaignError, AuthError) as exc:
        refuse(str(exc))
    say(
        f"campaign {campaign_id} {name!r}: {started.items} items for {started.reviewers} "
        f"reviewer(s), due {day(due_on)}"
    )
    if started.orgs_never_read:
        say(
            f"{started.orgs_never_read} org(s) have never been read ok and are not in the "
            "review: scan them, they are a gap in the evidence"
        )


@campaign_app.command("status")
def campaign_status(
    campaign_id: Annotated[int | None, typer.Argument(help="one campaign's progress")] = None,
) -> None:
    """Every campaign with its progress, or one campaign's progress by reviewer."""
    runtime = Runtime()
    today = date.today()
    with session_scope(runtime.engine) as session:
        if campaign_id is None:
            campaigns = list_campaigns(session)
            if not campaigns:
                say("no access reviews yet: start one with 'accessrecon campaign start'")
                return
            for p in campaigns:
                c = p.campaign
                state = (
                    f"closed {day(c.closed_at)}"
                    if c.closed_at
                    else ("OVERDUE" if p.overdue(today) else "open")
                )
                say(
                    f"campaign {c.id}  {c.name}  due {day(c.due_on)}  {state}  "
                    f"{p.decided}/{p.items} decided, {p.settled} settled"
                )
            return
        try:
            progress = campaign_progress(session, campaign_id)
        except KeyError:
            refuse(f"no campaign with id {campaign_id}")
    c = progress.campaign
    say(
        f"campaign {c.id} {c.name!r}, due {day(c.due_on)}"
        + (f", closed {day(c.closed_at)}" if c.closed_at else "")
        + f": {progress.decided}/{progress.items} decided, {progress.settled} settled"
    )
    for r in progress.reviewers:
        decisions = ", ".join(f"{n} {d.replace('_', ' ')}" for d, n in sorted(r.decisions.items()))
        say(
            f"  {r.reviewer or 'practice admins':30} {r.decided:>4}/{r.items:<4} decided  "
            f"{r.settled:>4} settled  {r.escalated:>3} escalated"
            + (f"  [{decisions}]" if decisions else "")
        )


@campaign_app.command("list")
def campaign_list(
    campaign_id: CampaignId,
    as_user: As,
    everyone: Annotated[bool, typer.Option(help="every reviewer's items (admins)")] = False,
) -> None:
    """A reviewer's items: client, org, person, role, class, decision and state."""
    runtime = Runtime()
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            review = review_list(session, principal, campaign_id, everyone=everyone)
    except KeyError:
        refuse(f"no campaign with id {campaign_id}")
    except (PermissionError, AuthError) as exc:
        refuse(str(exc))
    if not review.rows:
        say(f"nothing for {review.reviewer} to review in campaign {campaign_id}")
        return
    for r in review.rows:
        decision = r.decision.replace("_", " ") or "-"
        say(
            f"item {r.item_id:>5}  {r.client or '(no client)'} · {r.portal} {r.org}  "
            f"{r.email}  {r.role}  {r.finding_class.replace('_', ' ')}  {decision}  "
            f"[{r.state}]" + (f"  reviewer {r.reviewer or 'admins'}" if everyone else "")
        )
    say(f"{review.open} of {len(review.rows)} still to decide")


@campaign_app.command("decide")
def campaign_decide(
    campaign_id: CampaignId,
    decision: Annotated[CampaignDecision, typer.Argument(help="what to do with the access")],
    as_user: As,
    item: Annotated[list[int] | None, typer.Option("--item", help="an item id; repeatable")] = None,
    person: Annotated[
        str | None, typer.Option(help="every item in your list for this person (name or email)")
    ] = None,
    client: Annotated[
        str | None, typer.Option(help="every item in your list for this client (id or name)")
    ] = None,
    reason: Annotated[str, typer.Option(help="why (required to keep some access)")] = "",
    to: Annotated[
        str | None, typer.Option("--to", help="with not_my_client: who should review instead")
    ] = None,
) -> None:
    """Decide items of your list: keep, remove, not_my_client or already_gone."""
    runtime = Runtime()
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            items = select_items(
                session,
                principal,
                campaign_id,
                item_ids=tuple(item or ()),
                person=person,
                client=client,
            )
            done = decide(session, principal, campaign_id, items, Decision(decision, reason, to))
    except (CampaignError, AuthError) as exc:
        refuse(str(exc))
    words = decision.value.replace("_", " ")
    say(f"{len(done.items)} item(s) decided: {words}")
    if done.reassigned_to is not None:
        say(f"handed to {done.reassigned_to}")
    if done.plan_id is not None:
        say(
            f"removal plan {done.plan_id} proposed: a practice admin or partner other than "
            f"{as_user} approves it with 'accessrecon remove approve {done.plan_id} --as NAME'"
        )


@campaign_app.command("export")
def campaign_export(
    campaign_id: CampaignId,
    as_user: As,
    output: Annotated[Path, typer.Option("-o", "--output", help="the .xlsx file to write")],
    everyone: Annotated[bool, typer.Option(help="every reviewer's items (admins)")] = False,
) -> None:
    """Write a reviewer's list as an Excel workbook."""
    from agent.reports.review_list import write_review_list

    runtime = Runtime()
    try:
        with session_scope(runtime.engine) as session:
            principal = principal_of(session, as_user)
            review = review_list(session, principal, campaign_id, everyone=everyone)
            progress = campaign_progress(session, campaign_id) if everyone else None
            write_review_list(review, output, progress=progress)
            record(
                session,
                actor=principal.actor,
                action="export.review_list",
                detail={
                    "campaign_id": campaign_id,
                    "rows": len(review.rows),
                    "sha256": file_sha256(output),
                },
            )
    except KeyError:
        refuse(f"no campaign with id {campaign_id}")
    except (PermissionError, AuthError) as exc:
        refuse(str(exc))
    say(f"wrote {len(review.rows)} item(s) to {output}")
