"""The findings export: one table of findings, the same columns from the API and the CLI.

The API's download (``POST /exports/findings.csv``) and ``accessrecon findings
--format csv|json`` both write through here, so a file from either reads the same
way and re-imports the same way. Values are written as the API writes JSON (times in
ISO 8601, enums as their value, extra permissions joined by ", " in CSV), and every
CSV cell passes the formula guard of ``agent.reports.csvsafe``.

The CSV keeps the stored codes in ``FIELDS``, in their order, for the scripts that
read it, and adds after them a column of words for each coded field
(``finding_class_label``: "Leaver access"; ``portal_label``: "QuickBooks Online";
``removable_by_label``: "Client"). The JSON is for programs and keeps the codes only.

Who can remove an access is said as every report says it
(``agent.reports.labels.who_can_remove``): the scan's fact, except that a direct
invite is the client's to remove, never the practice's.

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
from agent.reports.labels import status_text, who_can_remove
from agent.reports.words import label
from agent.services.finding_lists import FindingRow, open_findings

__all__ = [
    "FIELDS",
    "LABELLED",
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
#: The fields that hold a stored code: the CSV adds ``{field}_label`` after ``FIELDS``.
LABELLED: tuple[str, ...] = (
    "portal",
    "finding_class",
    "severity",
    "access_status",
    "removable_by",
    "review_state",
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


def _record(line: FindingRow) -> dict[str, object]:
    """The export's fields of one finding, who can remove it as every report says it."""
    record = {name: to_jsonable_python(getattr(line, name)) for name in FIELDS}
    who = who_can_remove(line.finding_class, line.removable_by, line.removable_reason)
    record.update(removable_by=who.by, removable_reason=who.reason)
    return record


def _labels(record: dict[str, object]) -> list[str]:
    """The words for ``LABELLED``, in its order: a missing grant's status is "Not in org"."""
    words = {name: label(record[name]) for name in LABELLED}
    words["access_status"] = label(
        status_text(str(record["finding_class"]), str(record["access_status"]))
    )
    return [words[name] for name in LABELLED]


def findings_csv(lines: Iterable[FindingRow], *, bom: bool) -> bytes:
    """The findings as CSV, header first, then the label columns; ``bom`` for a file
    meant for Excel."""
    rows = (
        [*(_cell(record[name]) for name in FIELDS), *_labels(record)]
        for record in map(_record, lines)
    )
    return csv_bytes([*FIELDS, *(f"{name}_label" for name in LABELLED)], rows, bom=bom)


def findings_json(lines: Iterable[FindingRow]) -> bytes:
    """The findings as a JSON list of objects keyed by ``FIELDS``."""
    records = [_record(line) for line in lines]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def findings_download(lines: Sequence[FindingRow], *, as_of: datetime) -> Download:
    """The API's download: CSV with a byte order mark, named by the minute it was cut."""
    return Download(
        findings_csv(lines, bom=True),
        f"accessrecon-findings-{as_of:%Y%m%d-%H%M}.csv",
        CSV_MEDIA_TYPE,
        len(lines),
    )
