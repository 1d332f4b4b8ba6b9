"""The findings export: one table of findings, the same columns from the API and the CLI.

The API's download (``POST /exports/findings.csv``) and ``accessrecon findings
--format csv|json`` both write through here, so a file from either reads the same
way and re-imports the same way. Values are written as the API writes JSON (times in
ISO 8601, enums as their value, extra permissions joined by ", " in CSV), and every
CSV cell passes the formula guard of ``agent.reports.csvsafe``.

Which findings go in is the caller's choice: the API filters with its
``FindingFilter`` under the viewer's scope; the command line takes every open
finding (``finding_lines``), optionally by class or portal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic_core import to_jsonable_python
from sqlmodel import Session

from agent.reports.common import ReportScope
from agent.reports.csvsafe import csv_bytes
from agent.reports.download import CSV_MEDIA_TYPE, Download
from agent.services.finding_lists import FindingRow, open_findings

__all__ = [
    "FIELDS",
    "finding_lines",
    "findings_csv",
    "findings_download",
    "findings_json",
]

#: The export's columns, in order, each a ``FindingRow`` field. Named here rather
#: than read off the row, so a field the row gains for the API does not become a
#: column of a file people re-import.
FIELDS: tuple[str, ...] = (
    "portal",
    "portal_org_id",
    "org_name",
    "client",
    "client_manager",
    "email",
    "name",
    "finding_class",
    "severity",
    "role",
    "intended_role",
    "extra_permissions",
    "access_status",
    "removable_by",
    "removable_reason",
    "review_state",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "detail",
    "id",
)


def finding_lines(
    session: Session,
    *,
    scope: ReportScope,
    classes: Sequence[str] = (),
    portal: str | None = None,
    problems_only: bool = False,
) -> list[FindingRow]:
    """Open findings in scope, in ``open_findings``' order: the command line's export."""
    return open_findings(
        session,
        client_ids=scope.client_ids,
        classes=classes,
        portal=portal,
        problems_only=problems_only,
    )


def _cell(value: object) -> object:
    """A value as the CSV shows it: the JSON form, a list joined, nothing as empty."""
    plain = to_jsonable_python(value)
    if plain is None:
        return ""
    if isinstance(plain, list):
        return ", ".join(str(v) for v in plain)
    return plain


def findings_csv(lines: Iterable[FindingRow], *, bom: bool) -> bytes:
    """The findings as CSV, header first; ``bom`` for a file meant for Excel."""
    return csv_bytes(
        FIELDS, ([_cell(getattr(line, name)) for name in FIELDS] for line in lines), bom=bom
    )


def findings_json(lines: Iterable[FindingRow]) -> bytes:
    """The findings as a JSON list of objects keyed by ``FIELDS``."""
    records = [{name: to_jsonable_python(getattr(line, name)) for name in FIELDS} for line in lines]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def findings_download(lines: Sequence[FindingRow], *, as_of: datetime) -> Download:
    """The API's download: CSV with a byte order mark, named by the minute it was cut."""
    return Download(
        findings_csv(lines, bom=True),
        f"accessrecon-findings-{as_of:%Y%m%d-%H%M}.csv",
        CSV_MEDIA_TYPE,
        len(lines),
    )
