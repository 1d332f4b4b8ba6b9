"""Removal benchmark: planned, approved, run and verified, beside a bare HTTP client.

    python -m bench.remove [--orgs 100] [--per-org 2] [--concurrency 4] [--runs 3]

Each run builds one world twice (a leaver and ``per-org - 1`` unknown practice
addresses in each of ``--orgs`` orgs over the three portals, every one removable by
the practice: 200 removals at the defaults), serves each copy's portals in processes
of their own, and crawls both (not timed). Then, side by side:

* **ours**: ``plan_removals`` (by finding ids), ``approve_plan`` by a second person,
  ``RemovalRun.run``, which reads each org before removing, removes through the
  portal's pages with their CSRF tokens, reads each org again and settles: verified;
* **bare**: an HTTP client holding a signed-in session removes the same users with
  the session's cookies and CSRF tokens, and checks nothing.

Target: ours >= 0.5x the bare client's removals per second, verification included.
The worst of the runs is the figure; the spread is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright
from sqlmodel import col, select

from agent.crawl.browser import launch_browser
from agent.crawl.pipeline import crawl_and_settle
from agent.crawl.removal import RemovalRun
from agent.domain import RemovalState
from agent.imports import ImportKind, run_import
from agent.reconcile.identity import normalise_with
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.users import add_user, principal_of
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Finding, PortalLogin, RemovalItem
from bench.crawl.measure import session_cookies
from bench.portals import served_portals
from bench.remove.bare import Rate, remove_bare, targets_of
from sandbox.generate import WorldFiles, write_world
from sandbox.scenarios import leaver_scenario
from sandbox.world import World

PORTALS = ["xero", "qbo", "myob"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--per-org", type=int, default=2, help="removals in each org")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="each portal answer's delay (0: the sandbox as fast as it goes)",
    )
    args = parser.parse_args()
    print(
        f"# removal benchmark: {args.orgs * args.per_org} removals across {args.orgs} orgs "
        f"(xero, qbo, myob), concurrency {args.concurrency}, portal latency "
        f"{args.latency_ms:g} ms, {args.runs} runs",
        flush=True,
    )
    ratios: list[float] = []
    for run in range(args.runs):
        ours, bare = _one_run(run, args.orgs, args.per_org, args.concurrency, args.latency_ms)
        ratio = ours.per_second / bare.per_second
        ratios.append(ratio)
        print(
            f"run {run + 1}: ours {ours.per_second:6.1f} removals/s ({ours.removals} verified "
            f"in {ours.seconds:.1f} s: plan, approve, run, re-read) | bare HTTP "
            f"{bare.per_second:6.1f} removals/s ({bare.removals} in {bare.seconds:.1f} s) | "
            f"ours/bare {ratio:.2f}",
            flush=True,
        )
    spread = f", spread {min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""
    median = statistics.median(ratios)
    print(
        f"ours/bare worst {min(ratios):.2f} (median {median:.2f}{spread}; target >= 0.5)",
        flush=True,
    )


def _one_run(
    run: int, orgs: int, per_org: int, concurrency: int, latency_ms: float
) -> tuple[Rate, Rate]:
    scenario = leaver_scenario(
        300 + run,
        orgs=orgs,
        practice_removable=orgs,
        extra_per_org=per_org - 1,
        staff=12,
        users_per_org=6,
    )
    world = scenario.world
    targets = {scenario.leaver.emails[0].lower()} | {
        u.email.lower() for o in world.orgs for u in o.users if u.user_id.startswith("extra-")
    }
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = write_world(world, directory / "a")
        (directory / "b").mkdir()
        world.save(directory / "b" / "world.json")
        ours_rt = Runtime(Settings(data_dir=directory / "ours", crawl_concurrency=concurrency))
        bare_rt = Runtime(Settings(data_dir=directory / "bare", crawl_concurrency=concurrency))
        latency = ["--latency-ms", str(latency_ms)]
        with (
            served_portals(files.world, PORTALS, latency) as ours_urls,
            served_portals(directory / "b" / "world.json", PORTALS, latency) as bare_urls,
        ):
            _prepare(ours_rt, world, ours_urls, files)
            _prepare(bare_rt, world, bare_urls, None)
            first_bare = run % 2 == 1  # alternate, so neither side always runs first
            if first_bare:
                bare = asyncio.run(_bare(bare_rt, world, bare_urls, targets, concurrency))
            ours = asyncio.run(_ours(ours_rt, targets, concurrency))
            if not first_bare:
                bare = asyncio.run(_bare(bare_rt, world, bare_urls, targets, concurrency))
    expected = sum(len(v) for v in targets_of(world.orgs, targets).values())
    if ours.removals != expected or bare.removals != expected:
        raise SystemExit(
            f"expected {expected} removals; ours verified {ours.removals}, "
            f"bare made {bare.removals}"
        )
    return ours, bare


def _prepare(
    runtime: Runtime, world: World, urls: dict[str, str], files: WorldFiles | None
) -> None:
    """Logins, the practice's files and a first crawl: what a practice has before it acts."""
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
    if files is not None:
        for kind, path in (
            (ImportKind.STAFF, files.staff),
            (ImportKind.CLIENTS, files.clients),
            (ImportKind.ACCESS, files.access),
        ):
            run_import(runtime.engine, kind, path, practice_domains=world.practice_domains)
        with session_scope(runtime.engine) as session:
            add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="bench")
            add_user(session, name="Pat Partner", role="partner", scope="all", actor="bench")

    async def crawl() -> None:
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, runtime.settings)
            try:
                await crawl_and_settle(runtime, browser=browser)
            finally:
                await browser.close()

    asyncio.run(crawl())


async def _ours(runtime: Runtime, targets: set[str], concurrency: int) -> Rate:
    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, runtime.settings)
        try:
            started = time.perf_counter()
            with session_scope(runtime.engine) as session:
                ids = [
                    f.id
                    for f in session.exec(select(Finding).where(col(Finding.resolved_at).is_(None)))
                    if f.id is not None and normalise_with(f.email) in targets
                ]
                plan = plan_removals(
                    session, principal_of(session, "Ada Admin"), PlanRequest(finding_ids=ids)
                )
                plan_id = plan.id
                assert plan_id is not None
            with session_scope(runtime.engine) as session:
                approve_plan(
                    session,
                    principal_of(session, "Pat Partner"),
                    plan_id,
                    settings=runtime.settings,
                )
            run = RemovalRun(
                runtime.engine, runtime.box, settings=runtime.settings, concurrency=concurrency
            )
            await run.run(plan_id, browser=browser)
            elapsed = time.perf_counter() - started
        finally:
            await browser.close()
    with session_scope(runtime.engine) as session:
        verified = session.exec(
            select(RemovalItem).where(
                RemovalItem.plan_id == plan_id, RemovalItem.state == RemovalState.VERIFIED
            )
        ).all()
    return Rate(len(verified), elapsed)


async def _bare(
    runtime: Runtime, world: World, urls: dict[str, str], targets: set[str], concurrency: int
) -> Rate:
    slots = asyncio.Semaphore(concurrency)
    with session_scope(runtime.engine) as session:
        logins = {row.portal: row for row in session.exec(select(PortalLogin))}
        for row in logins.values():
            session.expunge(row)
    started = time.perf_counter()
    rates = await asyncio.gather(
        *(
            remove_bare(
                portal,
                urls[portal],
                session_cookies(runtime, logins[portal]),
                targets_of(world.orgs_of(portal), targets),
                slots,
            )
            for portal in PORTALS
        )
    )
    elapsed = time.perf_counter() - started
    return Rate(sum(r.removals for r in rates), elapsed)


if __name__ == "__main__":
    main()
