"""``accessrecon findings``: open findings on screen, or exported as CSV or JSON.

On screen, one finding a line under a header, each with the id every ``review``
command takes, so acting on a finding is one step: read its id here, then
``accessrecon review ack ID``. Classes, severities, portals and dates are written in
the words the dashboard and the reports use (``agent.reports.words``).

A CSV or JSON export (``agent.reports.findings``, the writer behind the API's
download), to a file or to stdout, keeps the stored codes for the programs that read
it; it is client data leaving the product, so it is audited
(``export.findings_csv`` / ``export.findings_json``) with its row count and the
SHA-256 of exactly those bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from accessrecon.console import cli_actor, say
from agent.filemodes import open_private
from agent.reports.common import ReportScope
from agent.reports.findings import finding_lines, findings_csv, findings_json
from agent.reports.words import label, plural, spelt_dates
from agent.runtime import Runtime
from agent.security.audit import record, sha256_hex
from agent.services.finding_lists import FindingRow
from agent.storage.db import session_scope


class FindingsFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


#: the on-screen list's columns; each is as wide as its widest cell, but the last
HEADINGS = ("id", "severity", "class", "portal", "org", "email", "detail")


def _aligned(table: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells in columns: the id right-aligned, the rest left, the last unpadded."""
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADINGS) - 1)]
    lines = []
    for row in table:
        cells = [row[0].rjust(widths[0])]
        cells += [cell.ljust(width) for cell, width in zip(row[1:-1], widths[1:], strict=True)]
        lines.append(" ".join([*cells, row[-1]]).rstrip())
    return lines


def findings_table_lines(rows: Sequence[FindingRow]) -> list[str]:
    """The on-screen list: a header, a line per finding, and what to do next."""
    if not rows:
        return ["no open findings match"]
    table = [list(HEADINGS)]
    table.extend(
        [
            str(r.id),
            label(r.severity),
            label(r.finding_class),
            label(r.portal),
            r.portal_org_id,
            r.email,
            spelt_dates(r.detail),
        ]
        for r in rows
    )
    return [
        *_aligned(table),
        f"{plural(len(rows), 'finding')}; act on one by its id: "
        "accessrecon review ack ID (or accept-risk, request-removal)",
    ]


def findings_command(
    finding_class: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            help="only findings of this class, such as leaver_access; repeat for several",
        ),
    ] = None,
    portal: Annotated[
        str | None, typer.Option(help="only findings in this portal: xero, qbo or myob")
    ] = None,
    problems: Annotated[
        bool,
        typer.Option(help="only the classes that need action (not managed access or client users)"),
    ] = False,
    output_format: Annotated[
        FindingsFormat | None,
        typer.Option(
            "--format",
            help="table, csv or json (default: table; with -o, from its suffix, else csv)",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", dir_okay=False, help="write the export to this file (mode 0600)"
        ),
    ] = None,
) -> None:
    """List open findings with their ids, or export them as CSV or JSON.

    Every CSV or JSON export, to a file or to stdout, is client data leaving the
    product, so it is audited (``export.findings_csv`` / ``export.findings_json``)
    with its row count and the SHA-256 of exactly what was written.
    """
    if output_format is None:
        if output is None:
            output_format = FindingsFormat.TABLE
        else:
            output_format = (
                FindingsFormat.JSON if output.suffix.lower() == ".json" else FindingsFormat.CSV
            )
    if output_format is FindingsFormat.TABLE and output is not None:
        raise typer.BadParameter("a table is for the screen: use --format csv or json with -o")
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        lines = finding_lines(
            session,
            scope=ReportScope.of(None),
            classes=finding_class or (),
            portal=portal,
            problems_only=problems,
        )
    if output_format is FindingsFormat.TABLE:
        for line in findings_table_lines(lines):
            say(line)
        return
    # No byte order mark: this output is piped, diffed and re-read by programs.
    content = (
        findings_json(lines)
        if output_format is FindingsFormat.JSON
        else findings_csv(lines, bom=False)
    )
    if output is not None:
        with open_private(output, "wb") as handle:
            handle.write(content)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    with session_scope(runtime.engine) as session:
        record(
            session,
            actor=cli_actor(),
            action=f"export.findings_{output_format.value}",
            detail={
                "format": output_format.value,
                "rows": len(lines),
                "sha256": sha256_hex(content),
                "destination": str(output.name) if output is not None else "stdout",
                "filter": {
                    "classes": list(finding_class or ()),
                    "portal": portal,
                    "problems_only": problems,
                },
            },
        )
