"""``accessrecon audit verify``: does the audit log's hash chain still hold?

The database's triggers keep audit events from being changed or deleted; someone
who drops them first is caught here. The command walks the chain
(``agent.security.audit_chain``) and prints one line: ``OK`` with the number of
chained events and the start of the head's hash (worth writing down: a later run
showing the same prefix for the same count proves nothing was rewritten since),
or the first broken event and why, on stderr, with exit code 1. It only reads.
"""

from __future__ import annotations

import typer

from accessrecon.console import console, err_console
from agent.runtime import Runtime
from agent.security.audit_chain import ChainReport, verify_chain

HASH_PREFIX = 16

audit_app = typer.Typer(
    help="The audit log: who did what, hash-chained so that no event changes unseen.",
    no_args_is_help=True,
)


def ok_line(report: ChainReport) -> str:
    earlier = f"; {report.unchained} earlier events predate the chain" if report.unchained else ""
    return (
        f"OK: {report.events} audit events chained, head {report.head_hash[:HASH_PREFIX]}{earlier}"
    )


@audit_app.command("verify")
def verify() -> None:
    """Check every chained audit event; exit 1 naming the first that was tampered with."""
    engine = Runtime().engine
    with engine.connect() as connection:
        report = verify_chain(connection)
    if report.broken is not None:
        err_console.print(
            f"accessrecon: {report.broken.line()}", markup=False, highlight=False, soft_wrap=True
        )
        raise typer.Exit(1)
    console.print(ok_line(report), markup=False, highlight=False, soft_wrap=True)
