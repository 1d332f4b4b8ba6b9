"""``python -m sandbox serve``: one imitation portal from a saved world, by hand.

The tests start portals in-process; a person trying the scrapers, the extension or
the demo wants one running in a terminal instead, with the chaos knobs on the
command line::

    python -m sandbox serve --world world.json --portal xero --port 8101 --error-rate 0.1
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from sandbox.portals import APP_FACTORIES, create_portal_app
from sandbox.portals.common import PortalSettings
from sandbox.serve import PortalServer
from sandbox.world import World


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Imitation ledger portals for demos and tests."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve one portal of a saved world")
    serve.add_argument("--world", type=Path, required=True, help="a world saved as JSON")
    serve.add_argument("--portal", choices=sorted(APP_FACTORIES), required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--session-lifetime-s", type=float, default=1800)
    serve.add_argument("--latency-ms", type=float, default=0)
    serve.add_argument("--jitter-ms", type=float, default=0)
    serve.add_argument("--error-rate", type=_fraction, default=0.0)
    serve.add_argument("--timeout-rate", type=_fraction, default=0.0)
    serve.add_argument("--session-expiry-requests", type=int, default=None)
    serve.add_argument("--rate-limit-per-s", type=float, default=None)
    serve.add_argument("--layout-version", type=int, choices=(1, 2), default=1)
    serve.add_argument(
        "--markup-variant",
        action="store_true",
        help="render what SPEC leaves open otherwise (titles, headings, column "
        "order, unknown JSON keys); the remove controls are there either way",
    )
    serve.add_argument("--lockout-after", type=int, default=5)
    serve.add_argument("--lockout-s", type=float, default=900)
    serve.add_argument("--seed", type=int, default=None, help="seed of the fault dice")
    return parser


def settings_from(args: argparse.Namespace) -> PortalSettings:
    return PortalSettings(
        session_lifetime_s=args.session_lifetime_s,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        timeout_rate=args.timeout_rate,
        session_expiry_requests=args.session_expiry_requests,
        rate_limit_per_s=args.rate_limit_per_s,
        layout_version=args.layout_version,
        markup_variant=args.markup_variant,
        lockout_after=args.lockout_after,
        lockout_s=args.lockout_s,
        seed=args.seed,
    )


def serve(args: argparse.Namespace) -> int:
    try:
        world = World.load(args.world)
        settings = settings_from(args)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 2
    app = create_portal_app(args.portal, world, settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = PortalServer(app, args.host, args.port).start()
    except (OSError, RuntimeError) as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
    logins = ", ".join(lg.email for lg in world.logins_of(args.portal)) or "none"
    print(f"{args.portal} portal on {server.base_url}/ (logins: {logins})", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
