"""A million records as the gathering queries hand them over: row tuples in key order.

The mix is a practice's: for every scan about ten observed users, a few findings and
audit events. Each kind's row is a template with the values of one real-looking
record (times as aware datetimes), and only the id, the address and the name change
per row (names and addresses come round again after ``DISTINCT`` rows). The rows are
made a column at a time (``zip``, no Python code per row), so making them costs little
beside writing them; ``measure.py rows`` times it alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import cycle, islice, repeat

from agent.services.evidence.kinds import RecordKind
from agent.services.evidence.records import AUDIT, FINDINGS, OBSERVATIONS, SCANS

WHEN = datetime(2026, 11, 24, 6, 0, 12, 345678, tzinfo=UTC)

#: (kind, records out of every 100)
MIX: tuple[tuple[RecordKind, int], ...] = (
    (SCANS, 8),
    (OBSERVATIONS, 80),
    (FINDINGS, 7),
    (AUDIT, 5),
)

TEMPLATES: dict[str, dict[str, object]] = {
    "scan": {
        "id": 1, "org_id": 17, "portal": "xero", "portal_org_id": "!Kw4hB", "org_name":
        "Kōwhai Bakery Ltd", "client": "C00042", "crawl_id": 311, "login_id": 2, "source":
        "agent", "outcome": "ok", "reason": None, "detail": "", "evidence": "JSON total 11",
        "portal_stated_count": 11, "rows_read": 11, "started_at": WHEN, "finished_at": WHEN,
        "product_version": "0.1.0", "recipe": "xero@2026.12.1",
    },
    "observation": {
        "id": 1, "scan_id": 1, "email": "person1@client.example", "name": "Person One",
        "role": "STANDARD", "extra_permissions": ["payroll_admin"], "status": "active",
        "kind": None, "last_login": WHEN, "portal_user_id": "5f0c2a9e-1b7d", "subscriber": False,
        "firm": None, "added_by_owner": None,
    },
    "finding": {
        "id": 1, "org_id": 17, "portal": "xero", "portal_org_id": "!Kw4hB", "identity":
        "person1@harbourco.example", "staff_id": 12, "class": "leaver_access", "severity":
        "critical", "email": "person1@harbourco.example", "name": "Person One", "role":
        "STANDARD", "extra_permissions": [], "access_status": "active", "intended_role": None,
        "removable_by": "practice", "removable_reason": "", "detail":
        "Person One left and still has Standard access", "first_seen_at": WHEN,
        "last_seen_at": WHEN, "first_scan_id": 1, "last_scan_id": 1, "resolved_at": None,
        "review_state": "open", "capture_missing_at": None,
    },
    "audit_event": {
        "id": 1, "at": WHEN, "actor": "Pat Partner (user #3)", "action": "removal.approved",
        "detail": {"plan_id": 7, "items": 3, "approved": [11, 12, 13], "self_approved": False},
    },
}  # fmt: skip
_VARYING = ("id", "email", "name", "identity")
#: names and addresses repeat after this many rows (ids never do)
DISTINCT = 10_000


def _column(name: str, value: object, start: int, count: int) -> Iterable[object]:
    if name not in _VARYING:
        return repeat(value, count)
    if name == "id":
        return range(start, start + count)
    spelled = "Person %d" if name == "name" else "p%d@x.example"
    return islice(cycle([spelled % i for i in range(start, start + min(count, DISTINCT))]), count)


def _rows(kind: RecordKind, count: int, start: int) -> Iterator[Sequence[object]]:
    """``count`` rows of ``kind``, made a column at a time (``zip`` and ``map``, no Python
    code per row): what is timed is the pack, not the making of its rows."""
    template = TEMPLATES[kind.name]
    columns = [_column(name, template[name], start, count) for name in kind.shape.names]
    return zip(*columns, strict=True)


def kinds_and_rows(records: int) -> Iterator[tuple[RecordKind, Iterator[Sequence[object]]]]:
    """Each kind of the mix with its share of ``records`` rows (scans take the rest)."""
    shares = {kind.name: records * part // 100 for kind, part in MIX}
    shares["scan"] += records - sum(shares.values())
    for kind, _ in MIX:
        yield kind, _rows(kind, shares[kind.name], 1)
