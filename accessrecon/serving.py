"""Running the API server: on 127.0.0.1 unless an explicit override is given, and said out loud.

The API hands out client data to anyone holding a token, and the pairing exchange
answers anyone, so the server listens on loopback only. Binding elsewhere needs the
``allow_non_loopback`` override (``accessrecon serve --allow-non-loopback``); a
non-loopback ``ACCESSRECON_HOST`` alone is refused, so a stray environment variable
cannot expose it. An override is logged as a warning at every start.

uvicorn's access log prints every request's address, query string included; its
log handlers carry ``server.security.RedactTokens``, so a token someone put in a URL
(which the server revokes) is written to the log as ``[REDACTED]``, never in clear.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from agent.runtime import Runtime
from server.app import create_app
from server.config import ServerSettings

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost": "127.0.0.1"}


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with every handler passing through ``RedactTokens``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "server.security.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config


class UnsafeBind(ValueError):
    """A non-loopback address was asked for without the explicit override."""


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_bind(host: str, *, allow_non_loopback: bool = False) -> str:
    """The address to listen on: loopback, or anything else only with the override."""
    bind = LOOPBACK_NAMES.get(host.strip().lower(), host.strip())
    if is_loopback(bind):
        return bind.strip("[]")
    if not allow_non_loopback:
        raise UnsafeBind(
            f"refusing to serve on {host}: the API is for this computer only. Use "
            "127.0.0.1, or pass --allow-non-loopback if you really mean to expose it "
            "(and list the host name in ACCESSRECON_EXTRA_HOSTS)"
        )
    log.warning(
        "serving on %s, not loopback, by explicit override: anyone who can reach this "
        "address can try the API and the pairing exchange",
        bind,
    )
    return bind


def serve_forever(
    runtime: Runtime,
    *,
    host: str | None = None,
    port: int | None = None,
    docs: bool = False,
    allow_non_loopback: bool = False,
) -> None:
    bind = resolve_bind(host or runtime.settings.host, allow_non_loopback=allow_non_loopback)
    listen_port = port or runtime.settings.port
    server_settings = ServerSettings()
    if not is_loopback(bind):
        try:
            unspecified = ipaddress.ip_address(bind).is_unspecified
        except ValueError:
            unspecified = False
        if not unspecified:
            host_name = f"[{bind}]" if ":" in bind else bind
            server_settings.extra_hosts = [*server_settings.extra_hosts, host_name]
    # Building the app migrates the database and proves the secret key (the canary):
    # a wrong key stops here, before the port is opened.
    app = create_app(
        runtime, enable_docs=docs or None, server_settings=server_settings, port=listen_port
    )
    log.info("serving the API on http://%s:%s/api/v1", bind, listen_port)
    uvicorn.run(
        app,
        host=bind,
        port=listen_port,
        log_level="info",
        server_header=False,
        proxy_headers=False,
        log_config=log_config(),
    )
