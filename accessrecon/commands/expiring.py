"""``accessrecon expiring [--days N]``: what stops being allowed soon, on screen.

Intended access that ends (the access file's ``until``) and accepted risks that
expire, in one list, soonest first, over every client (``agent.services.expiring``);
items already past stay listed while the access is still there. A horizon out of
range prints one line on stderr and exits 1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from accessrecon.console import console, err_console
from agent.clock import utcnow
from agent.reports.words import day
from agent.runtime import Runtime
from agent.security.principal import ClientScope
from agent.security.scope import Scope
from agent.services.expiring import (
    DEFAULT_HORIZON_DAYS,
    MAX_HORIZON_DAYS,
    ExpiringItem,
    ExpiringKind,
    expiring,
)
from agent.storage.db import session_scope

WHAT = {ExpiringKind.ACCESS_END: "access ends", ExpiringKind.ACCEPTED_RISK: "accepted risk"}


def _when(item: ExpiringItem) -> str:
    if item.days_left < 0:
        return f"ended {-item.days_left}d ago"
    return "today" if item.days_left == 0 else f"in {item.days_left}d"


def expiring_command(
    days: Annotated[
        int, typer.Option("--days", help="how many days ahead to look (0 to 3650)")
    ] = DEFAULT_HORIZON_DAYS,
) -> None:
    """Intended access that ends and accepted risks that expire within --days, soonest first."""
    if not 0 <= days <= MAX_HORIZON_DAYS:
        err_console.print(
            f"accessrecon: --days {days}: use a whole number of days from 0 to {MAX_HORIZON_DAYS}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    runtime = Runtime()
    today = utcnow().date()
    with session_scope(runtime.engine) as session:
        items = expiring(session, Scope(ClientScope.ALL, None), days=days, today=today)
    if not items:
        console.print(
            f"nothing ends within {days} days, and nothing that has ended is still there",
            markup=False,
            highlight=False,
        )
        return
    table = Table(title=f"Ending by {day(today + timedelta(days=days))}")
    for column in ("last day", "when", "what", "client", "org", "person", "role", "by", "reason"):
        table.add_column(column)
    for i in items:
        org = (
            f"{i.portal} {i.org_name} ({i.portal_org_id})"
            if i.org_name
            else f"{i.portal} {i.portal_org_id}"
        )
        cells = (
            day(i.ends_on),
            _when(i),
            WHAT[i.kind],
            i.client or "(no client)",
            org,
            f"{i.name} <{i.email}>" if i.email else i.name,
            i.role,
            i.by,
            i.reason,
        )
        # Names come from portals and files: shown as text, never read as markup.
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    ended = sum(1 for i in items if i.expired)
    console.print(
        f"{len(items)} ending" + (f", {ended} already ended" if ended else ""),
        markup=False,
        highlight=False,
    )
