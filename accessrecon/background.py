"""What runs beside the API server: the crawl scheduler and, unless told not to, a worker.

``accessrecon serve`` on one machine does everything: answers the extension, fires
scheduled crawls and runs queued scans. A deployment that runs ``accessrecon worker``
separately (docker-compose.yml) starts the server with ``--no-worker``; the queue
hands each request to one worker either way. Several servers on one PostgreSQL
database each stand ready to fire the schedules, and one of them does at a time
(``agent.crawl.leader``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from agent.crawl.scheduling import running_scheduler
from agent.crawl.worker import Worker
from agent.runtime import Runtime

log = logging.getLogger(__name__)


@contextmanager
def background_worker(runtime: Runtime, *, poll_s: float = 2.0) -> Iterator[None]:
    """A scan worker on an event loop of its own thread, stopped when the block ends."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    worker = Worker(runtime, poll_s=poll_s)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(worker.run_forever(stop))

    thread = threading.Thread(target=run, name="scan-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        if thread.is_alive():
            log.warning("the scan worker did not stop within a minute")
        else:
            loop.close()


@contextmanager
def background_services(runtime: Runtime, *, worker: bool = True) -> Iterator[None]:
    with ExitStack() as stack:
        stack.enter_context(running_scheduler(runtime))
        if worker:
            stack.enter_context(background_worker(runtime))
        yield
