"""Polite crawl benchmark: a crawl held to a portal's rate limit, against the floor.

    python -m bench.polite [--rate 20] [--pace RATE] [--orgs 500] [--users 12] [--runs 3]
                           [--portals xero,qbo,myob]

Each portal of one world (``--orgs`` orgs of about ``--users`` users) is served by a
process of its own with a rate limit of ``--rate`` requests a second and a tally of
every request it was sent (``bench/polite/serve.py``). The product's crawler reads
it with ``ACCESSRECON_PORTAL_PACE`` set to that rate (or to ``--pace``: above it,
the portal's 429s must slow the crawl down), signing in fresh, as ``accessrecon
scan`` would.

The floor is the least time the portal allows for the requests the crawl needed:
the requests the portal answered (sign-in pages, the org list, the users; counted by
the portal, not the crawler) divided by the rate. Targets: crawl time <= 1.1x the
floor, and no more than 1% of the requests answered 429. Each run serves fresh
portals (their rate budget full, no session) and a fresh database; the worst of
the runs is the figure, the spread is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import async_playwright

from agent.crawl.browser import launch_browser
from agent.crawl.crawler import Crawler
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.settings import Settings
from agent.storage.db import session_scope
from bench.polite.serve import tallied_portals, tally_of
from sandbox.generate import generate_world
from sandbox.world import WorldLogin

TARGET_RATIO = 1.1
TARGET_LIMITED = 0.01


@dataclass(frozen=True)
class Figures:
    """One crawl of one portal, as the portal counted it."""

    portal: str
    orgs: int
    requests: int
    rate_limited: int
    seconds: float
    rate: float
    #: from the crawl's start to the portal's first request (the browser's first
    #: page); and from the first request to the last, as the portal saw them
    lead_s: float
    span_s: float

    @property
    def floor(self) -> float:
        return (self.requests - self.rate_limited) / self.rate

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor

    @property
    def limited_share(self) -> float:
        return self.rate_limited / self.requests if self.requests else 0.0

    def line(self) -> str:
        return (
            f"{self.portal:5} {self.requests:5} requests, {self.rate_limited:3} answered 429 "
            f"({self.limited_share:.1%}), {self.orgs} orgs in {self.seconds:6.2f} s; "
            f"floor {self.floor:6.2f} s; ratio {self.ratio:.3f} "
            f"(target <= {TARGET_RATIO}, 429s <= {TARGET_LIMITED:.0%}); first request after "
            f"{self.lead_s:.2f} s, first to last {self.span_s:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=20.0, help="the portals' limit, requests/s")
    parser.add_argument(
        "--pace", type=float, default=None, help="our pace, requests/s (default: --rate)"
    )
    parser.add_argument("--orgs", type=int, default=500, help="orgs per portal")
    parser.add_argument("--users", type=int, default=12, help="users per org")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--portals", default="xero,qbo,myob")
    args = parser.parse_args()
    portals = [p for p in args.portals.split(",") if p]
    pace = args.pace or args.rate
    print(
        f"# polite crawl benchmark: {args.orgs} orgs x ~{args.users} users per portal, "
        f"portals limited to {args.rate:g} requests/s, our pace {pace:g}; {args.runs} runs",
        flush=True,
    )
    results: dict[str, list[Figures]] = {p: [] for p in portals}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        world = generate_world(
            3, staff=40, orgs_per_portal=args.orgs, users_per_org=args.users, portals=tuple(portals)
        )
        world.save(directory / "world.json")
        # the crawler's process keeps only the logins and the org counts, as an agent
        # would: the whole world in memory would weigh on its collector, not the crawl's
        logins = {p: (list(world.logins_of(p)), len(world.orgs_of(p))) for p in portals}
        del world
        gc.collect()
        for run in range(1, args.runs + 1):
            limit = ["--rate-limit-per-s", str(args.rate)]
            with tallied_portals(directory / "world.json", portals, limit) as urls:
                for portal in portals:
                    figures = asyncio.run(
                        crawl_one(
                            logins[portal], urls[portal], args.rate, pace, directory / f"{run}"
                        )
                    )
                    results[portal].append(figures)
                    print(f"run {run}: {figures.line()}", flush=True)
    print("# worst of the runs, per portal (spread of the ratio and of the 429 share)")
    for portal, runs in results.items():
        worst = max(runs, key=lambda f: f.ratio)
        ratios = sorted(f.ratio for f in runs)
        shares = sorted(f.limited_share for f in runs)
        met = worst.ratio <= TARGET_RATIO and shares[-1] <= TARGET_LIMITED
        print(
            f"{portal:5} worst ratio {worst.ratio:.3f} ({worst.seconds:.2f} s against a floor of "
            f"{worst.floor:.2f} s, {worst.requests} requests); ratios "
            f"{', '.join(f'{r:.3f}' for r in ratios)}; 429s {shares[0]:.1%}-{shares[-1]:.1%}; "
            f"{'met' if met else 'NOT MET'}",
            flush=True,
        )


async def crawl_one(
    world: tuple[list[WorldLogin], int], base_url: str, rate: float, pace: float, directory: Path
) -> Figures:
    """Crawl the portal of ``world``'s logins (and its count of orgs), limited to
    ``rate``, with a fresh database, paced at ``pace``; what the portal saw."""
    logins, orgs = world
    portal = logins[0].portal
    runtime = Runtime(Settings(data_dir=directory, secret_key=None, portal_pace={portal: pace}))
    for login in logins:
        with session_scope(runtime.engine) as session:
            add_login(
                session,
                runtime.box,
                portal=portal,
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=base_url,
            )
    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, runtime.settings)
        try:
            crawler = Crawler(
                runtime.engine,
                runtime.box,
                settings=runtime.settings,
                concurrency=runtime.settings.crawl_concurrency,
            )
            before = tally_of(base_url)
            started = time.monotonic()  # the system's clock, as the portal's tally reads it
            report = await crawler.run(portal=portal, browser=browser)
            seconds = time.monotonic() - started
            after = tally_of(base_url)
        finally:
            await browser.close()
    runtime.engine.dispose()
    if report.failed or report.ok != orgs:
        raise RuntimeError(
            f"the {portal} crawl read {report.ok} of {orgs} orgs: {dict(report.failed)}"
        )
    return Figures(
        portal=portal,
        orgs=report.ok,
        requests=int(after["requests"] - before["requests"]),
        rate_limited=int(after["rate_limited"] - before["rate_limited"]),
        seconds=seconds,
        rate=rate,
        lead_s=after["first"] - started if not before["requests"] else float("nan"),
        span_s=after["last"] - after["first"] if not before["requests"] else float("nan"),
    )


if __name__ == "__main__":
    main()
