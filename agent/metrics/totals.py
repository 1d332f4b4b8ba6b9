"""Totals of an append-only table, counted once and then a new id range at a time.

Scans and sign-in attempts are never updated or deleted, so their counts by label
only grow: they are Prometheus counters, read from the database. Counting the whole
table at every scrape would read millions of rows a minute on a practice with a few
years of daily crawls; instead the rows up to a *settled* id are counted once and
kept, and each scrape counts only the rows above it, a range of the primary key.

An id is settled only some time after it was first seen as the table's largest:
on PostgreSQL ids come from a sequence, so a transaction may hold an id below one
already committed and commit after it. Such a row must still be counted, so the
mark moves up only to a largest id seen at least ``grace`` ago; a scan is recorded
in a transaction of its own lasting milliseconds, and a row committed later than
that would be missed by this process's totals (never counted twice). Should the
table's largest id fall below the mark (a restore into a new database), the totals
are counted afresh.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection

Labels = tuple[str, ...]
#: the labelled counts of the rows with ``low < id <= high`` (``high`` None: no bound)
CountRange = Callable[[Connection, int, int | None], Counter[Labels]]
#: the table's largest id, or ``None`` when it is empty
LargestId = Callable[[Connection], int | None]

DEFAULT_GRACE = timedelta(minutes=2)


class AppendOnlyTotals:
    """The labelled row counts of one append-only table, kept between scrapes."""

    def __init__(
        self, count_range: CountRange, largest_id: LargestId, *, grace: timedelta = DEFAULT_GRACE
    ) -> None:
        self._count_range = count_range
        self._largest_id = largest_id
        self._grace = grace
        self._lock = threading.Lock()
        self._settled: Counter[Labels] = Counter()
        self._mark = 0
        self._seen: deque[tuple[datetime, int]] = deque()

    @property
    def settled_through(self) -> int:
        """The id up to which rows are counted once and kept."""
        return self._mark

    def read(self, connection: Connection, *, now: datetime) -> Counter[Labels]:
        """Every row's count by label, as of this read."""
        with self._lock:
            largest = self._largest_id(connection) or 0
            if largest < self._mark:
                self._settled, self._mark = Counter(), 0
                self._seen.clear()
            self._seen.append((now, largest))
            target = self._mark
            while self._seen and self._seen[0][0] <= now - self._grace:
                target = max(target, self._seen.popleft()[1])
            if target > self._mark:
                self._settled.update(self._count_range(connection, self._mark, target))
                self._mark = target
            totals = Counter(self._settled)
            totals.update(self._count_range(connection, self._mark, None))
            return totals
