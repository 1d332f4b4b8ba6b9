"""Serve a saved world's portals in their own processes, as a real portal would be.

In-process portals would share the benchmark's interpreter lock and distort its
figures; each portal here is ``python -m sandbox serve`` on a free loopback port.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: how a sandbox portal is served: ``python -m sandbox serve``
SANDBOX_SERVE = ("-m", "sandbox", "serve")


@contextmanager
def served_portals(
    world_file: Path,
    portals: Sequence[str],
    extra_args: Sequence[str] = (),
    *,
    serve: Sequence[str] = SANDBOX_SERVE,
    ready_path: str = "",
) -> Iterator[dict[str, str]]:
    """``{portal: base_url}`` while the portals run; stopped afterwards. ``extra_args``
    go to the serving command (``--latency-ms 50``, say); ``serve`` is that command's
    arguments to Python (a wrapped sandbox, for one), ready when ``ready_path`` answers."""
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for portal in portals:
            port = free_port()
            args = ["--world", str(world_file), "--portal", portal, "--port", str(port)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, *serve, *args, *extra_args],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls[portal] = f"http://127.0.0.1:{port}"
        for url in urls.values():
            deadline = time.monotonic() + 60
            while True:
                try:
                    answer = httpx.get(f"{url}{ready_path}", timeout=2)
                    if ready_path:  # the plain sandbox is up when it answers at all
                        answer.raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the sandbox portal at {url} did not start") from None
                    time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
