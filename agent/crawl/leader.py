"""One server of a deployment at a time does a duty: the leader, by a PostgreSQL lock.

Every ``accessrecon serve`` of a deployment reads the same schedules; were each to
run them, two servers would crawl every login twice at each fire time. So the servers
elect one. Whichever holds a session-level advisory lock, taken on a database
connection of its own, runs the duty (the scheduler); the others try for the lock
every few seconds. The lock lives exactly as long as that connection: a leader that
stops, crashes or is killed drops it (the kernel closes a dead process's socket at
once), PostgreSQL releases the lock, and a standby takes over at its next try. A lost
machine closes nothing, so both ends of the connection send TCP keepalives: the
database drops a silent leader within about half a minute, and a leader that can no
longer reach the database stops its duty when its check of the connection fails.

The lock's key is derived from the database and schema, so practices sharing one
PostgreSQL server, each in a schema of its own, elect a leader each. The connection
must be a session of its own: a pooler in transaction mode would hand the lock to
whoever used the connection next.

On SQLite a deployment is one process, and that process leads.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: How often a standby tries for the lock, and the leader checks its connection.
CHECK_EVERY_S = 2.0
#: Checks a leader that lost its connection (or could not start its duty) sits out
#: before trying again, so that a standby in better health takes over instead.
STAND_ASIDE_CHECKS = 5

#: libpq's keepalives on the lock's connection: a dead database is noticed in ~25 s.
_CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}
#: The same on the database's side, for this session only: a lost leader is let go.
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)

Duty = Callable[[], AbstractContextManager[object]]


def lock_key(database: str, schema: str, name: str) -> int:
    """The advisory lock's key (a signed 64-bit integer) for ``name`` in one schema."""
    digest = hashlib.blake2b(f"accessrecon {name} {database} {schema}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class _AdvisoryLock:
    """A session-level advisory lock on a connection opened for it alone (no pool)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = create_engine(
            engine.url, poolclass=NullPool, connect_args=_CLIENT_KEEPALIVES
        )
        self._name = name
        self._connection: Connection | None = None
        self._key = 0

    def try_take(self) -> bool:
        """Take the lock if no other session holds it; ``False`` if one does or on error."""
        try:
            if self._connection is None:
                self._connection = self._open()
            taken = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        except SQLAlchemyError as exc:
            log.warning("could not try for the %s lock: %s", self._name, exc)
            self.drop()
            return False
        return bool(taken)

    def still_held(self) -> bool:
        """Whether the connection holding the lock is alive (the lock goes with it)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("the connection holding the %s lock failed: %s", self._name, exc)
            self.drop()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            # closing the connection below releases the lock should this fail
            with suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
        self.drop()
        self._engine.dispose()

    def drop(self) -> None:
        """Close the connection, and with it the lock if it was held."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(SQLAlchemyError):  # a broken connection is gone either way
                connection.close()

    def _open(self) -> Connection:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        for statement in _SERVER_KEEPALIVES:
            connection.execute(text(statement))
        database, schema = connection.execute(
            text("SELECT current_database(), current_schema()")
        ).one()
        self._key = lock_key(str(database), str(schema), self._name)
        return connection


class Leadership:
    """Whether this process leads ``name``: true while its duty runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._leading = threading.Event()

    @property
    def leading(self) -> bool:
        return self._leading.is_set()


class _Election:
    """The thread that tries for the lock, runs the duty while held, and stops it when lost."""

    def __init__(self, engine: Engine, name: str, duty: Duty, check_every_s: float) -> None:
        self.leadership = Leadership(name)
        self._lock = _AdvisoryLock(engine, name)
        self._duty = duty
        self._check_every_s = check_every_s
        self._running: ExitStack | None = None
        self._stop = threading.Event()
        self.first_try_done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{name}-leader", daemon=True)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._running is None:
                    if self._lock.try_take() and not self._start_duty():
                        self._stand_aside()
                elif not self._lock.still_held():
                    log.warning(
                        "this process no longer leads %s; stopping it", self.leadership.name
                    )
                    self._stop_duty()
                    self._stand_aside()
                self.first_try_done.set()
                self._stop.wait(self._check_every_s)
        finally:
            self._stop_duty()
            self._lock.release()
            self.first_try_done.set()

    def _stand_aside(self) -> None:
        """Sit out a few tries, leaving the lock to a process that has not just failed."""
        self._stop.wait(self._check_every_s * (STAND_ASIDE_CHECKS - 1))

    def _start_duty(self) -> bool:
        stack = ExitStack()
        try:
            stack.enter_context(self._duty())
        except Exception:
            log.exception("%s could not start; letting another process lead", self.leadership.name)
            stack.close()
            self._lock.drop()
            return False
        self._running = stack
        self.leadership._leading.set()
        log.info("this process now leads %s", self.leadership.name)
        return True

    def _stop_duty(self) -> None:
        running, self._running = self._running, None
        self.leadership._leading.clear()
        if running is not None:
            try:
                running.close()
            except Exception:
                log.exception("%s did not stop cleanly", self.leadership.name)


@contextmanager
def leading(
    engine: Engine, name: str, duty: Duty, *, check_every_s: float = CHECK_EVERY_S
) -> Iterator[Leadership]:
    """Run ``duty`` in this process whenever it leads ``name``, for as long as the block lasts.

    The first try for the lock is made before the block starts, so a lone server runs
    its duty from the moment it serves.
    """
    if engine.dialect.name != "postgresql":
        with duty():
            leadership = Leadership(name)
            leadership._leading.set()
            yield leadership
        return
    election = _Election(engine, name, duty, check_every_s)
    election.thread.start()
    election.first_try_done.wait()
    if not election.leadership.leading:
        log.info("another process leads %s; this one stands by", name)
    try:
        yield election.leadership
    finally:
        election.stop()
        election.thread.join(timeout=30)
        if election.thread.is_alive():
            log.warning("%s's leader thread did not stop within 30 s", name)
