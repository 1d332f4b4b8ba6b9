"""A worker's own metrics port: ``GET /metrics`` with this process's figures.

``accessrecon worker --metrics-port N`` (or ``ACCESSRECON_WORKER_METRICS_PORT``)
serves ``process.REGISTRY`` from a thread beside the worker's event loop, so a scrape
never waits for a crawl. It listens on ``ACCESSRECON_WORKER_METRICS_HOST``
(127.0.0.1 by default); another address is refused unless
``ACCESSRECON_METRICS_ALLOW`` names who may scrape it, and every caller is checked
against loopback and that list (403 for anyone else), as the server's ``/metrics``
is. The database's figures are not here: the server counts them once for everyone.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app

from agent.metrics import process
from agent.metrics.access import (
    REFUSED_DETAIL,
    IPNetwork,
    allowed_networks,
    is_loopback,
    may_scrape,
)

log = logging.getLogger(__name__)

PATH = "/metrics"
LOOPBACK_NAMES = {"localhost": "127.0.0.1"}

StartResponse = Callable[[str, list[tuple[str, str]]], object]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class UnsafeMetricsBind(ValueError):
    """The worker's metrics were asked for on another address with no one allowed to scrape."""


class _QuietHandler(WSGIRequestHandler):
    """No line per scrape on the worker's stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def guarded_app(allowed: Sequence[IPNetwork], metrics: WsgiApp | None = None) -> WsgiApp:
    """The WSGI app of the port: 403 for a caller not allowed, 404 off ``/metrics``."""
    serve = metrics or make_wsgi_app(process.REGISTRY)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not may_scrape(environ.get("REMOTE_ADDR"), allowed):
            return _plain(start_response, "403 Forbidden", REFUSED_DETAIL)
        if environ.get("PATH_INFO") != PATH:
            return _plain(start_response, "404 Not Found", f"metrics are at {PATH}")
        return serve(environ, start_response)

    return app


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def resolve_metrics_bind(host: str, allow: Sequence[str]) -> str:
    """The address to listen on: loopback, or another only when someone may scrape it."""
    bind = LOOPBACK_NAMES.get(host.strip().lower(), host.strip()).strip("[]")
    if not is_loopback(bind) and not allow:
        raise UnsafeMetricsBind(
            f"refusing to serve the worker's metrics on {host}: they are for this computer "
            "only; use 127.0.0.1, or list who may scrape them in ACCESSRECON_METRICS_ALLOW"
        )
    return bind


class MetricsPort:
    """The worker's metrics server, running in a daemon thread until ``close``."""

    def __init__(self, host: str, port: int, allow: Sequence[str]) -> None:
        bind = resolve_metrics_bind(host, allow)
        networks = allowed_networks(allow)

        class Server(ThreadingWSGIServer):
            address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET

        try:
            self._server = make_server(
                bind, port, guarded_app(networks), Server, handler_class=_QuietHandler
            )
        except OSError as exc:
            raise ValueError(
                f"cannot serve the worker's metrics on {bind}:{port}: {exc.strerror or exc}"
            ) from None
        self.host = bind
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-port", daemon=True
        )
        self._thread.start()
        if not is_loopback(bind):
            log.warning(
                "serving the worker's metrics on %s:%s, not loopback, to %s",
                bind,
                self.port,
                ", ".join(allow),
            )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PATH}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsPort:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
