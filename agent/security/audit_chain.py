"""The audit log's hash chain: each event carries the hash of the one before it.

The append-only triggers stop an UPDATE or DELETE of ``audit_event``, but not
someone who drops them first. The chain catches what they let through: every event
is hashed (``canonical.chain_hash``) over the previous event's hash and its own
canonical JSON, ``{seq, at, actor, action, detail}``, so an edited, deleted, added
or reordered row no longer fits, and ``audit_chain_head`` holds the newest ``seq``
and ``hash`` so that the newest events deleted are caught as well.
``verify_chain`` walks it; ``accessrecon audit verify`` prints what it found.

An event joins the chain as its row is inserted (``link``, called by the model's
``before_insert`` hook, so every way of adding an event chains it). Two
transactions must never chain onto the same event: ``link`` first moves the head
(``UPDATE ... SET seq = seq + 1 RETURNING``), which locks its row on PostgreSQL
and takes the write lock on SQLite before anything is read, and only then hashes
and writes. Others wait for that transaction to end. The head row is made by the
first chained event (so a backup restores into a migrated database without one in
the way); once events are chained, a missing head stops every new event until the
database is restored.

The hash is of what the database hands back: the time in UTC to the microsecond
(both databases keep exactly that), the detail as the JSON it is stored as.
Rows from before the chain began (``seq`` empty) are not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Connection, Insert, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from agent.security.canonical import GENESIS, canonical_json, chain_hash, jsonable
from agent.storage.models import AuditChainHead, AuditEvent

__all__ = [
    "AuditChainError",
    "BreakReason",
    "ChainBreak",
    "ChainReport",
    "event_hash",
    "link",
    "verify_chain",
]

HEAD_ID = 1
EVENTS: Table = AuditEvent.__table__  # type: ignore[attr-defined]
HEAD: Table = AuditChainHead.__table__  # type: ignore[attr-defined]
BATCH = 1000


class AuditChainError(RuntimeError):
    """An event cannot join the chain; the message says why and what to run."""


class BreakReason(StrEnum):
    CONTENT_EDITED = "content edited"
    ROW_MISSING = "row missing"
    ORDER_BROKEN = "order broken"
    HEAD_MISMATCH = "head mismatch"
    NOT_CHAINED = "not chained"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place the chain does not hold: which event (if one is to blame) and why."""

    reason: BreakReason
    event_id: int | None
    seq: int | None
    explanation: str

    def line(self) -> str:
        if self.event_id is None:
            where = "the audit chain"
        elif self.seq is None:
            where = f"audit event {self.event_id}"
        else:
            where = f"audit event {self.event_id} (seq {self.seq})"
        return f"{where}: {self.reason.value}: {self.explanation}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int  # chained events that were checked
    unchained: int  # events from before the chain began
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


class _Row(NamedTuple):
    id: int
    seq: int
    prev_hash: str
    hash: str
    at: datetime
    actor: str
    action: str
    detail: Any


class _Head(NamedTuple):
    seq: int
    hash: str


def _utc(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ValueError("an audit event's time must carry its time zone")
    return at.astimezone(UTC)


def event_hash(
    prev_hash: str, *, seq: int, at: datetime, actor: str, action: str, detail: object
) -> str:
    """The hash of one event: its canonical JSON, chained to ``prev_hash``."""
    content = {
        "seq": seq,
        "at": _utc(at).isoformat(),
        "actor": actor,
        "action": action,
        "detail": jsonable(detail),
    }
    return chain_hash(prev_hash, canonical_json(content))


def _move_head(connection: Connection) -> _Head | None:
    statement = (
        update(HEAD)
        .where(HEAD.c.id == HEAD_ID)
        .values(seq=HEAD.c.seq + 1)
        .returning(HEAD.c.seq, HEAD.c.hash)
    )
    row = connection.execute(statement).first()
    return _Head(row.seq, row.hash) if row is not None else None


def _start_head(connection: Connection) -> None:
    """Make the head row for the first chained event; a missing head after that is refused.

    The row is inserted first (if another transaction makes it meanwhile, that one
    wins and this one waits for it), and only a row made here is checked against
    the chained events: events chained with no head row means the head was deleted.
    """
    values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS}
    dialect = connection.dialect.name
    make: Insert
    if dialect == "postgresql":
        make = postgresql.insert(HEAD).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        make = sqlite.insert(HEAD).values(values).on_conflict_do_nothing()
    else:
        raise AuditChainError(f"the audit chain does not support {dialect} databases")
    if connection.execute(make.returning(HEAD.c.id)).first() is None:
        return  # another transaction made it
    chained = connection.execute(
        select(func.count()).select_from(EVENTS).where(EVENTS.c.seq.is_not(None))
    ).scalar_one()
    if chained:
        raise AuditChainError(
            f"the audit chain's head row is missing while {chained} events are chained, so "
            "no event can be recorded: run 'accessrecon audit verify' and restore the "
            "database from a backup"
        )


def link(connection: Connection, event: AuditEvent) -> None:
    """Chain ``event`` onto the newest event, in the transaction that inserts it.

    Sets ``at`` (in UTC), ``detail`` (as stored), ``seq``, ``prev_hash`` and ``hash``
    on the event and moves the head; the head's row stays locked until the
    transaction ends, so the next event waits for this one.
    """
    if event.seq is not None or event.prev_hash or event.hash:
        raise AuditChainError("an audit event joins the chain once, as it is recorded")
    at = _utc(event.at)
    detail = jsonable(event.detail if event.detail is not None else {})
    if not isinstance(detail, dict):
        raise ValueError("an audit event's detail must be a JSON object")
    canonical_json(detail)  # refuses what JSON cannot hold (NaN) before the head moves
    head = _move_head(connection)
    if head is None:
        _start_head(connection)
        head = _move_head(connection)
        if head is None:
            raise AuditChainError("the audit chain's head row could not be made")
    prev_hash = head.hash
    digest = event_hash(
        prev_hash, seq=head.seq, at=at, actor=event.actor, action=event.action, detail=detail
    )
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(hash=digest))
    event.at = at
    event.detail = detail
    event.seq = head.seq
    event.prev_hash = prev_hash
    event.hash = digest


def _read_head(connection: Connection) -> _Head | None:
    row = connection.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)).first()
    return _Head(row.seq, row.hash) if row is not None else None


@dataclass(slots=True)
class _Walk:
    """Walks the chained rows in ``seq`` order, stopping at the first that does not fit."""

    watch: int  # the seq whose hash the head held before the walk
    count: int = 0
    first_id: int | None = None
    last: _Row | None = None
    watched_hash: str | None = None
    broken: ChainBreak | None = None

    def run(self, rows: Iterable[_Row]) -> None:
        for row in rows:
            self.broken = self._check(row)
            if self.broken is not None:
                return
            if self.first_id is None:
                self.first_id = row.id
            if row.seq == self.watch:
                self.watched_hash = row.hash
            self.last = row
            self.count += 1

    def _check(self, row: _Row) -> ChainBreak | None:
        last = self.last
        before = f"event {last.id} (seq {last.seq})" if last else "the start of the chain"
        expected_seq = last.seq + 1 if last else 1
        if last is not None and row.seq == last.seq:
            return _break(BreakReason.ORDER_BROKEN, row, f"event {last.id} holds the same seq")
        if row.seq != expected_seq:
            missing = _seqs(expected_seq, row.seq - 1)
            return _break(BreakReason.ROW_MISSING, row, f"{missing} missing after {before}")
        if last is not None and row.id <= last.id:
            return _break(
                BreakReason.ORDER_BROKEN, row, f"it is stored before {before}, which it follows"
            )
        if row.prev_hash != (last.hash if last else GENESIS):
            return _break(
                BreakReason.ORDER_BROKEN, row, f"its previous hash is not the hash of {before}"
            )
        recomputed = event_hash(
            row.prev_hash,
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            detail=row.detail,
        )
        if recomputed != row.hash:
            return _break(
                BreakReason.CONTENT_EDITED,
                row,
                "its time, actor, action or detail no longer match its hash",
            )
        return None


def _break(reason: BreakReason, row: _Row, explanation: str) -> ChainBreak:
    return ChainBreak(reason, row.id, row.seq, explanation)


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first} to {last}"


def _chained_rows(connection: Connection) -> Iterator[_Row]:
    columns = [EVENTS.c[name] for name in _Row._fields]
    query = select(*columns).where(EVENTS.c.seq.is_not(None)).order_by(EVENTS.c.seq, EVENTS.c.id)
    with connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        query
    ) as result:
        for row in result:
            yield _Row(*row)


def _against_heads(walk: _Walk, start: _Head | None, end: _Head | None) -> ChainBreak | None:
    """The walked rows against the head read before them (``start``) and after (``end``).

    Every event up to ``start`` was committed before the rows were read, so all of
    them must be there; events committed meanwhile may go past ``start``, never past
    ``end``.
    """
    last = walk.last
    start_seq = start.seq if start else 0
    if last is None:
        if start_seq == 0:
            return None
        return ChainBreak(
            BreakReason.ROW_MISSING,
            None,
            None,
            f"the chain head counts {start_seq} events and none of them is left",
        )
    if last.seq < start_seq:
        missing = _seqs(last.seq + 1, start_seq)
        return _break(
            BreakReason.ROW_MISSING,
            last,
            f"{missing} missing after it: the chain head counts {start_seq} events",
        )
    if end is None:
        return ChainBreak(BreakReason.HEAD_MISMATCH, None, None, "the chain head row is missing")
    if last.seq > end.seq:
        return _break(
            BreakReason.HEAD_MISMATCH,
            last,
            f"it is past the chain head (seq {end.seq}): added without moving the head",
        )
    held = [(start, walk.watched_hash), (end, last.hash if last.seq == end.seq else None)]
    for head, found in held:
        if head is not None and head.seq and found is not None and found != head.hash:
            return ChainBreak(
                BreakReason.HEAD_MISMATCH,
                None,
                head.seq,
                f"the chain head's hash is not the hash of event seq {head.seq}",
            )
    return None


def _unchained(connection: Connection, first_id: int | None) -> tuple[int, ChainBreak | None]:
    """Events from before the chain, and the first event added since without joining it."""
    unchained = EVENTS.c.seq.is_(None)
    count = connection.execute(
        select(func.count()).select_from(EVENTS).where(unchained)
    ).scalar_one()
    if first_id is None or not count:
        return count, None
    late = connection.execute(
        select(func.min(EVENTS.c.id)).where(unchained, EVENTS.c.id > first_id)
    ).scalar_one()
    if late is None:
        return count, None
    return count, ChainBreak(
        BreakReason.NOT_CHAINED,
        late,
        None,
        f"it was added after the chain began (event {first_id}) without joining it",
    )


def verify_chain(connection: Connection) -> ChainReport:
    """Walk the chain from its first event; the report names the first break, if any.

    It only reads, each read a statement of its own, so it may run while events
    are being recorded: the head is read before the rows and again after them.
    """
    start = _read_head(connection)
    walk = _Walk(watch=start.seq if start else 0)
    walk.run(_chained_rows(connection))
    end = _read_head(connection)
    broken = walk.broken or _against_heads(walk, start, end)
    unchained, late = _unchained(connection, walk.first_id)
    head = end or start or _Head(0, GENESIS)
    return ChainReport(
        events=walk.count,
        unchained=unchained,
        head_seq=head.seq,
        head_hash=head.hash,
        broken=broken or late,
    )
