"""Crawl benchmark: orgs per second beside a bare HTTP client and a naive DOM crawl.

    python -m bench.crawl [--orgs 1000] [--users 12] [--concurrency 8] [--naive-sample 100]
                          [--rss 1000,10000]

For each portal, one world of ``--orgs`` orgs is served from its own process and read
three ways in one run (see ``bench/crawl/measure.py``); then the crawler's peak
memory is measured on a 1,000-org and a 10,000-org crawl, each in a fresh process.
Targets: ours ≥ 0.5× bare, ≥ 10× naive; 10k-org RSS ≤ 1.2× the 1k-org RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright
from sqlmodel import Session, select

from agent.crawl.browser import launch_browser
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin
from bench.crawl.measure import Rate, bare, naive, ours, session_cookies
from bench.portals import served_portals
from sandbox.generate import generate_world


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=1000, help="orgs per portal")
    parser.add_argument("--users", type=int, default=12, help="users per org")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--naive-sample", type=int, default=100, help="orgs the slow naive crawl reads, per portal"
    )
    parser.add_argument("--portals", default="xero,qbo,myob")
    parser.add_argument(
        "--rss", default="1000,10000", help="org counts for the memory runs; empty to skip"
    )
    args = parser.parse_args()
    portals = [p for p in args.portals.split(",") if p]
    print(
        f"# crawl benchmark: {args.orgs} orgs x ~{args.users} users per portal, "
        f"concurrency {args.concurrency}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        world = generate_world(
            1, staff=40, orgs_per_portal=args.orgs, users_per_org=args.users, portals=tuple(portals)
        )
        world.save(directory / "world.json")
        runtime = Runtime(Settings(data_dir=directory / "data", secret_key=None))
        rows: list[tuple[str, Rate, Rate, Rate]] = []
        with served_portals(directory / "world.json", portals) as urls:
            for login in world.logins:
                with session_scope(runtime.engine) as session:
                    add_login(
                        session,
                        runtime.box,
                        portal=login.portal,
                        email=login.email,
                        password=login.password,
                        totp_secret=login.totp_secret,
                        base_url=urls[login.portal],
                    )
            for portal in portals:
                org_ids = [o.org_id for o in world.orgs_of(portal)]
                ours_rate = asyncio.run(_ours(runtime, portal, args.concurrency))
                with Session(runtime.engine) as session:
                    login_row = session.exec(
                        select(PortalLogin).where(PortalLogin.portal == portal)
                    ).one()
                cookies = session_cookies(runtime, login_row)
                state = {"cookies": cookies, "origins": []}
                bare_rate = asyncio.run(
                    bare(portal, urls[portal], cookies, org_ids, args.concurrency)
                )
                naive_rate = asyncio.run(
                    naive(
                        portal,
                        urls[portal],
                        state,
                        org_ids[: args.naive_sample],
                        args.concurrency,
                        runtime,
                    )
                )
                rows.append((portal, ours_rate, bare_rate, naive_rate))
                print(
                    f"{portal:5} ours {ours_rate.per_second:7.1f} orgs/s "
                    f"({ours_rate.orgs} in {ours_rate.seconds:.1f} s, sign-in included) | "
                    f"bare HTTP {bare_rate.per_second:7.1f} | naive DOM "
                    f"{naive_rate.per_second:6.1f} ({naive_rate.orgs} orgs) | "
                    f"ours/bare {ours_rate.per_second / bare_rate.per_second:.2f} "
                    f"(target >= 0.5) | ours/naive "
                    f"{ours_rate.per_second / naive_rate.per_second:.1f} (target >= 10)",
                    flush=True,
                )
    sizes = [int(n) for n in args.rss.split(",") if n]
    if sizes:
        peaks = {n: _rss_run(n, args.users, args.concurrency) for n in sizes}
        for n, peak in peaks.items():
            print(
                f"memory: {n:6} xero orgs: crawler process peak RSS "
                f"{peak['process_peak_mb']:.0f} MB, with Chromium "
                f"{peak['tree_peak_mb']:.0f} MB, {peak['orgs_per_s']:.1f} orgs/s",
                flush=True,
            )
        if len(sizes) == 2:
            small, large = (peaks[n] for n in sizes)
            print(
                f"memory ratio {sizes[1]} / {sizes[0]} orgs: process "
                f"{large['process_peak_mb'] / small['process_peak_mb']:.2f}, with Chromium "
                f"{large['tree_peak_mb'] / small['tree_peak_mb']:.2f} (target <= 1.2)"
            )


async def _ours(runtime: Runtime, portal: str, concurrency: int) -> Rate:
    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, runtime.settings)
        try:
            return await ours(runtime, portal, concurrency, browser)
        finally:
            await browser.close()


def _rss_run(orgs: int, users: int, concurrency: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.crawl.rss",
            "--orgs",
            str(orgs),
            "--users",
            str(users),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
