"""The server's page of metrics: the database's figures, then this process's.

The server's ``/metrics`` route renders it; the worker's port serves
``process.REGISTRY`` alone (``port``). One ``ServerMetrics`` lives as long as the
server's app, because the database's scan totals are kept between scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine

from agent.clock import utcnow
from agent.metrics import process
from agent.metrics.database import DatabaseCollector


class ServerMetrics:
    """A prometheus-client collector: ``DatabaseCollector`` and ``process.REGISTRY``."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = DatabaseCollector(engine, clock=clock)

    def collect(self) -> Iterator[Metric]:
        yield from self.database.collect()
        yield from process.REGISTRY.collect()

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The page in the format the ``Accept`` header asks for, and its content type.

        Prometheus's text format unless the caller asks for OpenMetrics.
        """
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self), content_type
