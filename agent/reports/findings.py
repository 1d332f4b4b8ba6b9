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
from dataclasses import dataclass, fields
from datetime import datetime

from pydantic_core import to_jsonable_python
from sqlmodel import Session, col, select

from agent.domain import FindingClass
from agent.reports.common import ReportScope
from agent.reports.csvsafe import csv_bytes
from agent.reports.download import CSV_MEDIA_TYPE, Download
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, Org

__all__ = [
    "FIELDS",
    "FindingLine",
    "finding_lines",
    "findings_csv",
    "findings_download",
    "findings_json",
]


@dataclass(frozen=True, slots=True)
class FindingLine:
    """One finding with its org and client, in the export's column order."""

    portal: str
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    email: str
    name: str
    finding_class: str
    severity: str
    role: str
    intended_role: str | None
    extra_permissions: Sequence[str]
    access_status: str
    removable_by: str
    review_state: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    detail: str
    id: int

    @classmethod
    def of(cls, finding: Finding, org: Org, client: Client | None) -> FindingLine:
        assert finding.id is not None
        return cls(
            portal=org.portal,
            portal_org_id=org.portal_org_id,
            org_name=org.name,
            client=client.name if client else None,
            client_manager=client.client_manager if client else None,
            email=finding.email,
            name=finding.name,
            finding_class=finding.finding_class,
            severity=finding.severity,
            role=finding.role,
            intended_role=finding.intended_role,
            extra_permissions=tuple(finding.extra_permissions),
            access_status=finding.access_status,
            removable_by=finding.removable_by,
            review_state=finding.review_state,
            first_seen_at=finding.first_seen_at,
            last_seen_at=finding.last_seen_at,
            resolved_at=finding.resolved_at,
            detail=finding.detail,
            id=finding.id,
        )


#: The export's columns, in order: ``FindingLine``'s fields.
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FindingLine))

_CLASS_ORDER = {c.value: i for i, c in enumerate(FindingClass)}


def finding_lines(
    session: Session,
    *,
    scope: ReportScope,
    classes: Sequence[str] = (),
    portal: str | None = None,
    problems_only: bool = False,
) -> list[FindingLine]:
    """Open findings in scope, by class precedence, then portal, org and email.

    ``classes`` wins over ``problems_only`` (the classes that need action).
    """
    query = scope.restrict(
        join_client(
            select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id))
        ).where(col(Finding.resolved_at).is_(None))
    )
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif problems_only:
        query = query.where(
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem])
        )
    if portal:
        query = query.where(Org.portal == portal)
    lines = [FindingLine.of(f, o, c) for f, o, c in session.exec(query)]
    lines.sort(key=lambda r: (_CLASS_ORDER.get(r.finding_class, 99), r.portal, r.org_name, r.email))
    return lines


def _cell(value: object) -> object:
    """A value as the CSV shows it: the JSON form, a list joined, nothing as empty."""
    plain = to_jsonable_python(value)
    if plain is None:
        return ""
    if isinstance(plain, list):
        return ", ".join(str(v) for v in plain)
    return plain


def findings_csv(lines: Iterable[FindingLine], *, bom: bool) -> bytes:
    """The findings as CSV, header first; ``bom`` for a file meant for Excel."""
    return csv_bytes(
        FIELDS, ([_cell(getattr(line, name)) for name in FIELDS] for line in lines), bom=bom
    )


def findings_json(lines: Iterable[FindingLine]) -> bytes:
    """The findings as a JSON list of objects keyed by ``FIELDS``."""
    records = [{name: to_jsonable_python(getattr(line, name)) for name in FIELDS} for line in lines]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def findings_download(lines: Sequence[FindingLine], *, as_of: datetime) -> Download:
    """The API's download: CSV with a byte order mark, named by the minute it was cut."""
    return Download(
        findings_csv(lines, bom=True),
        f"accessrecon-findings-{as_of:%Y%m%d-%H%M}.csv",
        CSV_MEDIA_TYPE,
        len(lines),
    )
