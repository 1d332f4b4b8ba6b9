"""``python -m bench.polite.serve``: one sandbox portal with a tally of what it was sent.

The arguments are ``python -m sandbox serve``'s. The portal app is wrapped in a
``sandbox.tally.RequestTally`` (outside its rate limit, so the requests it refused
are counted too), which answers ``GET /_tally``; ``tallied_portals`` starts one
such process per portal, as ``bench.portals.served_portals`` does for plain ones.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType

import httpx

from bench.portals import served_portals
from sandbox.__main__ import build_parser, settings_from
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer
from sandbox.tally import TALLY_PATH, RequestTally
from sandbox.world import World


def tallied_portals(
    world_file: Path, portals: Sequence[str], extra_args: Sequence[str] = ()
) -> AbstractContextManager[dict[str, str]]:
    """``{portal: base_url}``, each served by a process of its own; stopped afterwards."""
    return served_portals(
        world_file,
        portals,
        extra_args,
        serve=("-m", "bench.polite.serve", "serve"),
        ready_path=TALLY_PATH,
    )


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
