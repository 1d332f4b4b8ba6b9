"""One crawl of ``--orgs`` xero orgs in this process, printing its peak memory as JSON.

Run by ``python -m bench.crawl`` in a fresh process per size, so each peak is its own.
The process's own peak comes from ``getrusage``; the whole tree's (with Chromium) is
sampled from /proc every quarter second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

from agent.crawler import Crawler
from agent.logins import add_login
from agent.runtime import Runtime
from agent.settings import Settings
from agent.storage.db import session_scope
from bench.portals import served_portals
from sandbox.generate import generate_world


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, required=True)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        world = generate_world(2, staff=40, orgs_per_portal=args.orgs,
                               users_per_org=args.users, portals=("xero",))
        world.save(directory / "world.json")
        del world
        from sandbox.world import World

        login = World.load(directory / "world.json").logins[0]
        runtime = Runtime(Settings(data_dir=directory / "data", secret_key=None))
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss_kb(os.getpid()))
                time.sleep(0.25)

        with served_portals(directory / "world.json", ["xero"]) as urls:
            with session_scope(runtime.engine) as session:
                add_login(session, runtime.box, portal="xero", email=login.email,
                          password=login.password, totp_secret=login.totp_secret,
                          base_url=urls["xero"])
            sampler = threading.Thread(target=sample, daemon=True)
            crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings,
                              concurrency=args.concurrency)
            started = time.perf_counter()
            # The portal process is a child too; sample only from the crawl's start.
            portal_kb = tree_rss_kb(os.getpid()) - _self_rss_kb()
            sampler.start()
            report = asyncio.run(crawler.run())
            elapsed = time.perf_counter() - started
            stop.set()
            sampler.join()
        process_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "orgs": report.ok, "seconds": elapsed, "orgs_per_s": report.ok / elapsed,
            "process_peak_mb": process_peak_mb,
            "tree_peak_mb": (peak - portal_kb) / 1024,
        }))


def _self_rss_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
