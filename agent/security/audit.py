"""The audit log: who did what to the practice's data, and when.

Every sign-in and pairing, export of client data, re-scan, credential change,
import and review decision adds one ``AuditEvent`` in the same transaction as the
change it records, so the two are committed or lost together. The table is
append-only by the database's own rule (triggers made by migration 0004 reject
UPDATE and DELETE), so a record cannot be rewritten after the fact, by this code or
by anyone with a SQL prompt short of dropping the trigger. And each event joins a
hash chain as it is inserted (``agent.security.audit_chain``): an event edited,
deleted or reordered with the triggers dropped is still found by
``accessrecon audit verify``.

Events never hold secrets: a detail names a login by id and email, a token by id,
an export by its row count and the SHA-256 of the file handed out.

Actions (``action`` column), by area::

    auth.pairing_code_issued   auth.signed_in         auth.pairing_failed
    auth.token_revoked         auth.user_added        auth.user_removed
    export.findings_csv        export.leaver_xlsx     export.audit_csv
    export.report_<kind>       (accessrecon report …: leaver, matrix, workload, …)
    export.findings_json       (accessrecon findings --format json; csv is findings_csv)
    export.backup              (accessrecon backup)
    scan.requested             scan.captured          finding.reviewed
    identity.confirmed / identity.rejected            (agent.services.identities)
    login.add / login.update / login.remove           (agent.security.logins)
    login.connect              (agent.services.connections: a person signed a login in)
    fixture.saved              (agent.services.fixtures: a page saved for support)
    import.staff / import.clients / import.access     (agent.imports)
    schedule.set / schedule.remove                    (agent.crawl.scheduling)
    retention.purge                                   (agent.services.retention)
    alert.sign_in_failure      (agent.services.alerts: a failing login alerted)
    secrets.key_rotated
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from agent.storage.models import AuditEvent
from agent.storage.widths import fit

#: How much free text (a note, a reason) an event's detail keeps when no column of its
#: own holds that text: the detail is JSON, with no width to cut it.
DETAIL_TEXT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    total: int


def record(
    session: Session, *, actor: str, action: str, detail: Mapping[str, object] | None = None
) -> AuditEvent:
    """Add one event to the caller's transaction.

    The event is chained when the transaction flushes it, and from then until the
    transaction ends other transactions wait to record theirs: record, then commit.
    """
    event = AuditEvent(
        actor=fit(actor, AuditEvent.actor),
        action=fit(action, AuditEvent.action),
        detail=dict(detail or {}),
    )
    session.add(event)
    return event


def sha256_hex(content: bytes) -> str:
    """The digest an export is recorded by, so a file found later can be matched to its event."""
    return hashlib.sha256(content).hexdigest()


def file_sha256(path: Path) -> str:
    """``sha256_hex`` of a file written to disk, read in blocks (a backup may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> AuditPage:
    """Events newest first, optionally filtered; ``limit=None`` returns all of them."""
    query = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    conditions: list[ColumnElement[bool]] = []
    if action:
        # "export" matches every export.* action; a full name matches itself.
        prefix = col(AuditEvent.action).startswith(action + ".", autoescape=True)
        conditions.append(prefix | (col(AuditEvent.action) == action))
    if actor:
        conditions.append(col(AuditEvent.actor) == actor)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) < until)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return AuditPage(events=list(session.exec(query)), total=session.exec(count).one())
