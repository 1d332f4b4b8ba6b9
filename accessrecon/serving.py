"""Running the API server: on 127.0.0.1 unless an override is given, and said out loud."""

from __future__ import annotations

import logging

import uvicorn

from agent.runtime import Runtime
from server.app import create_app

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def serve_forever(runtime: Runtime, *, host: str | None = None, port: int | None = None,
                  docs: bool = False) -> None:
    bind = host or runtime.settings.host
    if bind not in LOOPBACK:
        log.warning(
            "serving on %s, not loopback: anyone who can reach this address can try the API",
            bind,
        )
    runtime.engine  # noqa: B018  (migrate and open the database before accepting requests)
    app = create_app(runtime, enable_docs=docs)
    uvicorn.run(app, host=bind, port=port or runtime.settings.port, log_level="info")
