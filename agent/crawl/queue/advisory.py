"""PostgreSQL advisory locks held by a worker: the logins it crawls, its turn at upkeep.

procrastinate's lock keeps two jobs of one login from running at once, but it trusts
that a job whose worker stopped beating is dead. A worker that is only stalled (a
machine frozen, a network cut) may still be crawling when its job is taken up again.
So the job also holds each login it crawls as a session advisory lock, on a
connection of its own: the lock lives exactly as long as that worker's connection,
so a job taken up again waits until the stalled worker is truly gone (a killed
process's connection closes at once). A job that crawls several logins (a whole
portal) holds them all, so it never runs beside a job of any one of them.

Keys are two numbers: the schema's name hashed (databases' schemas never wait on each
other) and the login's id; the queue's own upkeep uses negative numbers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: the key of the turn at retrying stalled jobs
STALL_CHECK = -3
#: the database drops a silent worker's connection, and its locks, within ~25 s
KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)

_TRY = text("SELECT pg_try_advisory_lock(hashtext(current_schema()), :key)")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtext(current_schema()), :key)")


def _try_all(connection: Connection, keys: list[int]) -> bool:
    """Every key, or none of them (so two jobs never hold half of each other's)."""
    taken: list[int] = []
    for key in keys:
        if connection.execute(_TRY, {"key": key}).scalar():
            taken.append(key)
            continue
        for held in taken:
            connection.execute(_UNLOCK, {"key": held})
        connection.commit()
        return False
    connection.commit()  # the locks are the session's; no transaction stays open
    return True


@asynccontextmanager
async def holding_logins(
    engine: Engine, login_ids: Iterable[int], *, retry_s: float = 1.0
) -> AsyncIterator[None]:
    """Hold every login in ``login_ids`` for the block, waiting while any is held.

    The locks live on a connection opened for them alone (no pool), whose database end
    sends TCP keepalives: a worker whose machine is lost closes nothing, and without
    them PostgreSQL would hold its logins for hours.
    """
    keys = sorted(set(login_ids))
    own = create_engine(engine.url, poolclass=NullPool)
    connection = own.connect()
    try:
        for setting in KEEPALIVES:
            connection.exec_driver_sql(setting)
        waited = False
        while not _try_all(connection, keys):
            if not waited:
                log.info("waiting for logins %s, crawled by another worker", keys)
                waited = True
            await asyncio.sleep(retry_s)
        yield
    finally:
        connection.close()  # and with it every lock it held
        own.dispose()


@contextmanager
def turn(engine: Engine, key: int) -> Iterator[bool]:
    """``True`` in the block when this process has the turn at ``key``, else ``False``
    (another process has it; nothing waits)."""
    with engine.connect() as connection:
        mine = bool(connection.execute(_TRY, {"key": key}).scalar())
        connection.commit()
        try:
            yield mine
        finally:
            if mine:
                connection.execute(_UNLOCK, {"key": key})
                connection.commit()
