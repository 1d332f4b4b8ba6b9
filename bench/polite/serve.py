"""``python -m bench.polite.serve``: one sandbox portal with a tally of what it was sent.

The arguments are ``python -m sandbox serve``'s. The portal app is wrapped in a
``sandbox.tally.RequestTally`` (outside its rate limit, so the requests it refused
are counted too), which answers ``GET /_tally``; ``tallied_portals`` starts one
such process per portal, as ``bench.portals.served_portals`` does for plain ones.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx

from bench.portals import free_port
from sandbox.__main__ import build_parser, settings_from
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer
from sandbox.tally import TALLY_PATH, RequestTally
from sandbox.world import World


@contextmanager
def tallied_portals(
    world_file: Path, portals: Sequence[str], extra_args: Sequence[str] = ()
) -> Iterator[dict[str, str]]:
    """``{portal: base_url}``, each served by a process of its own; stopped afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for portal in portals:
            port = free_port()
            args = ["--world", str(world_file), "--portal", portal, "--port", str(port)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.polite.serve", "serve", *args, *extra_args],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls[portal] = f"http://127.0.0.1:{port}"
        for url in urls.values():
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}{TALLY_PATH}", timeout=2).raise_for_status()
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


def tally_of(base_url: str) -> dict[str, float]:
    """What the portal at ``base_url`` has been sent so far (``RequestTally.summary``)."""
    answer = httpx.get(f"{base_url}{TALLY_PATH}", timeout=10)
    answer.raise_for_status()
    summary: dict[str, float] = answer.json()
    return summary


def main() -> None:
    args = build_parser().parse_args()
    app = RequestTally(create_portal_app(args.portal, World.load(args.world), settings_from(args)))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = PortalServer(app, args.host, args.port).start()
    try:
        stop.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
