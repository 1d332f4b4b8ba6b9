"""The scan queue's two engines behind one small interface, chosen by the database.

A practice on one machine (SQLite, ``accessrecon serve``) needs no queue server: the
in-process queue (``agent.crawl.scan_queue.InProcessQueue``) claims requests from the
database file. A deployment on PostgreSQL may run any number of ``accessrecon worker``
processes on any number of machines, and that takes what a home-made queue does not
have: locks that hold across machines, a job taken up again when its worker dies,
workers woken by the database. So on PostgreSQL every scan request is a procrastinate
job (``jobs.JobQueue``): its lock is the login it crawls, its queueing lock the
request itself.

Either way the ``ScanRequest`` row is the product's record of the request, and the
crawl, its progress and its settling are the worker's (``agent.crawl.worker``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, Engine
from sqlmodel import Session

if TYPE_CHECKING:
    from agent.crawl.worker import Worker
    from agent.storage.models import ScanRequest


class ScanQueue(Protocol):
    def enqueue(
        self,
        session: Session,
        *,
        requested_by: str,
        source: str,
        login_id: int | None = None,
        portal: str | None = None,
        portal_org_id: str | None = None,
    ) -> ScanRequest:
        """Queue a scan in the session's transaction, or return the identical one
        already queued or running."""
        ...

    async def run_pending(self, worker: Worker) -> int:
        """Run what can be run now (scans, then removal runs); returns how many ran."""
        ...

    async def run_forever(self, worker: Worker, stop: asyncio.Event) -> None:
        """Run work as it comes until ``stop`` is set."""
        ...


def on_postgresql(bind: Session | Engine | Connection) -> bool:
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "postgresql"
    return bind.dialect.name == "postgresql"


def queue_for(bind: Session | Engine | Connection) -> ScanQueue:
    """The queue of the database ``bind`` reaches."""
    if on_postgresql(bind):
        from agent.crawl.queue.jobs import JobQueue

        return JobQueue()
    from agent.crawl.scan_queue import InProcessQueue

    return InProcessQueue()


__all__ = ["ScanQueue", "on_postgresql", "queue_for"]
