"""The audit log as a CSV download: one row per event, its detail as sorted JSON.

The detail stays one JSON cell rather than spread over columns: every action records
different keys, and a reviewer filters by action first anyway. Actors and details
hold text other people chose (names, filenames), so the formula guard applies here
as to any client data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from agent.reports.csvsafe import csv_bytes
from agent.reports.download import CSV_MEDIA_TYPE, Download
from agent.storage.models import AuditEvent

FIELDS = ("id", "at", "actor", "action", "detail")


def audit_download(events: Sequence[AuditEvent], *, as_of: datetime) -> Download:
    """The events, in the order given, with a byte order mark for Excel."""
    rows = [
        [
            e.id,
            e.at.isoformat(),
            e.actor,
            e.action,
            json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        ]
        for e in events
    ]
    return Download(
        csv_bytes(FIELDS, rows, bom=True),
        f"accessrecon-audit-{as_of:%Y%m%d-%H%M}.csv",
        CSV_MEDIA_TYPE,
        len(rows),
    )
