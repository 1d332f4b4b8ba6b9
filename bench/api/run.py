"""Badge lookups against a bare endpoint of the same server, and a soak beside a crawl writer.

One run, loopback only, every loop bounded by a duration:

1. seed a practice (clients, orgs, staff, scans, findings) in a fresh data directory;
2. start the real server (uvicorn, ``bench.api.server``) on 127.0.0.1;
3. **throughput**: closed-loop load on the bare sync endpoint and on the badge route
   (``GET /orgs/{portal}/{org}/status`` with a manager's token), alternating, and
   report requests/s and latency percentiles side by side;
4. **latency**: the badge at a fixed 200 requests/s (open loop: latency counted from
   the moment each request was due, so a stall is not hidden);
5. **soak**: the badge at 500 requests/s for 60 s while a crawl-like writer process
   records scans and reconciles their orgs; every non-200 or failed request counts
   as an error.

The load generator is separate processes of asyncio speaking keep-alive HTTP/1.1 by
hand over a fixed set of connections (a request waits for a free connection, and
its latency includes that wait).

Usage::

    .venv/bin/python -m bench.api.run [--orgs 600] [--soak-seconds 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.portals import free_port

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "harbourco.example"
MANAGERS = ("Mia Manager", "Max Manager", "Kiri Evans", "Ben Chen")


# -- the practice ----------------------------------------------------------------------


def seed(data_dir: Path, database_url: str | None, orgs: int) -> dict[str, object]:
    """Clients, orgs with 8 users each, findings; an admin and a manager with tokens."""
    from agent.capture import OrgRef, OrgUsers, PortalUser
    from agent.clock import utcnow
    from agent.domain import AccessStatus, Portal
    from agent.runtime import Runtime
    from agent.security.pairing import exchange_pairing_code, issue_pairing_code
    from agent.security.users import add_user
    from agent.services.findings import reconcile
    from agent.services.scans import record_ok_scan, upsert_org
    from agent.settings import Settings
    from agent.storage.db import session_scope
    from agent.storage.models import Client, ClientOrgLink, Staff, StaffEmail

    rng = random.Random(7)
    runtime = Runtime(Settings(data_dir=data_dir, database_url_setting=database_url))
    with session_scope(runtime.engine) as session:
        staff = []
        for i in range(60):
            row = Staff(name=f"Staff {i:02d}", status="left" if i % 10 == 0 else "active")
            session.add(row)
            session.flush()
            session.add(StaffEmail(staff_id=row.id, email=f"s{i:02d}@{DOMAIN}", is_primary=True))
            staff.append(f"s{i:02d}@{DOMAIN}")
        org_ids = []
        for i in range(orgs):
            org_id = f"!b{i:04d}"
            client = Client(
                external_id=f"C{i:04d}",
                name=f"Client {i:04d} Ltd",
                client_manager=MANAGERS[i % len(MANAGERS)],
            )
            session.add(client)
            session.flush()
            session.add(ClientOrgLink(client_id=client.id, portal="xero", portal_org_id=org_id))
            ref = OrgRef(Portal.XERO, org_id, f"Client {i:04d} Ltd")
            org = upsert_org(session, ref, login_id=None)
            users = [
                PortalUser(
                    email=e, name=e.split("@")[0], role="STANDARD", status=AccessStatus.ACTIVE
                )
                for e in rng.sample(staff, 5)
            ]
            users += [
                PortalUser(
                    email=f"owner{j}@client{i}.example",
                    name=f"Owner {j}",
                    role="STANDARD",
                    status=AccessStatus.ACTIVE,
                )
                for j in range(3)
            ]
            record_ok_scan(
                session,
                org_id=org.id,
                started_at=utcnow(),
                result=OrgUsers(ref, tuple(users), len(users), "seed"),
            )
            org_ids.append(org_id)
        reconcile(session, configured_domains=[DOMAIN])
        admin = add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="bench"
        )
        manager = add_user(
            session, name=MANAGERS[0], role="manager", scope="managed", actor="bench"
        )
    tokens = {}
    for name, user in (("admin", admin), ("manager", manager)):
        with session_scope(runtime.engine) as session:
            code = issue_pairing_code(session, user_id=user.id, actor="bench").code
        with session_scope(runtime.engine) as session:
            issued = exchange_pairing_code(session, code, label="bench")
            assert issued is not None
            tokens[name] = issued.token
    runtime.engine.dispose()
    managed = [o for i, o in enumerate(org_ids) if i % len(MANAGERS) == 0]
    return {"tokens": tokens, "orgs": org_ids, "managed_orgs": managed}


# -- load ------------------------------------------------------------------------------


@dataclass
class Load:
    base_url: str
    token: str | None
    paths: list[str]
    seconds: float
    concurrency: int = 8
    rate: float | None = None  # requests/s for open loop; None = closed loop


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand.

    httpx costs the generator more CPU per request than the server spends on a bare
    route; on a small machine that would measure the generator. This costs little.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {host}:{port}\r\n{extra}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\n{self.head}".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    async def reset(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _drive(load: Load, seed_value: int) -> Outcome:
    rng = random.Random(seed_value)
    url = httpx.URL(load.base_url)
    headers = {"Authorization": f"Bearer {load.token}"} if load.token else {}
    outcome = Outcome()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(load.concurrency):
        idle.put_nowait(Connection(url.host, url.port or 80, headers))

    async def one(due: float) -> None:
        connection = await idle.get()
        try:
            status = await asyncio.wait_for(connection.get(rng.choice(load.paths)), 10.0)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
            await connection.reset()
        idle.put_nowait(connection)
        outcome.latencies_ms.append((time.perf_counter() - due) * 1000)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status != 200:
            outcome.errors += 1

    start = time.perf_counter()
    end = start + load.seconds
    if load.rate is None:

        async def loop() -> None:
            while time.perf_counter() < end:
                await one(time.perf_counter())

        await asyncio.gather(*(loop() for _ in range(load.concurrency)))
    else:
        in_flight: set[asyncio.Task[None]] = set()
        total = int(load.rate * load.seconds)
        for i in range(total):
            due = start + i / load.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)
    outcome.elapsed = time.perf_counter() - start
    while not idle.empty():
        await idle.get_nowait().reset()
    return outcome


def _worker(args: tuple[Load, int]) -> Outcome:
    load, seed_value = args
    return asyncio.run(_drive(load, seed_value))


def run_load(load: Load, processes: int) -> Outcome:
    """The same load split over ``processes`` generator processes, merged."""
    share = Load(
        load.base_url,
        load.token,
        load.paths,
        load.seconds,
        max(1, load.concurrency // processes),
        load.rate / processes if load.rate else None,
    )
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_worker, [(share, i) for i in range(processes)])
    merged = Outcome(elapsed=max(p.elapsed for p in parts))
    for part in parts:
        merged.latencies_ms += part.latencies_ms
        merged.errors += part.errors
        for status, n in part.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


def cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time (Linux), to cost requests on a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(load: Load, processes: int, server_pid: int) -> dict[str, float]:
    """Run a load and summarise it, with the server's CPU milliseconds per request."""
    before = cpu_seconds(server_pid)
    result = summary(run_load(load, processes))
    after = cpu_seconds(server_pid)
    if before is not None and after is not None and result["requests"]:
        result["server_cpu_ms_per_request"] = round((after - before) * 1000 / result["requests"], 3)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def summary(outcome: Outcome) -> dict[str, float]:
    """Requests, achieved rate and latency percentiles (from when each request was due)."""
    n = len(outcome.latencies_ms)
    return {
        "requests": n,
        "rps": round(n / outcome.elapsed, 1) if outcome.elapsed else 0.0,
        "p50_ms": round(percentile(outcome.latencies_ms, 50), 2),
        "p99_ms": round(percentile(outcome.latencies_ms, 99), 2),
        "max_ms": round(max(outcome.latencies_ms, default=float("nan")), 2),
        "mean_ms": round(statistics.fmean(outcome.latencies_ms), 2) if n else float("nan"),
        "errors": outcome.errors,
        "load_average": round(os.getloadavg()[0], 2),
    }


# -- the crawl-like writer --------------------------------------------------------------


def writer(
    data_dir: str,
    database_url: str | None,
    org_ids: list[str],
    seconds: float,
    per_second: float,
    result: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    """Record scans of random orgs (users shuffled) and reconcile each, as a crawl does."""
    from agent.capture import OrgRef, OrgUsers, PortalUser
    from agent.clock import utcnow
    from agent.domain import AccessStatus, Portal
    from agent.runtime import Runtime
    from agent.services.findings import reconcile
    from agent.services.scans import find_org, record_ok_scan
    from agent.settings import Settings
    from agent.storage.db import session_scope

    rng = random.Random(11)
    runtime = Runtime(Settings(data_dir=Path(data_dir), database_url_setting=database_url))
    written = failures = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        due = start + written / per_second
        if (delay := due - time.perf_counter()) > 0:
            time.sleep(delay)
        org_id = rng.choice(org_ids)
        try:
            with session_scope(runtime.engine) as session:
                org = find_org(session, "xero", org_id)
                assert org is not None
                users = [
                    PortalUser(
                        email=f"s{rng.randrange(60):02d}@{DOMAIN}",
                        name="x",
                        role="STANDARD",
                        status=AccessStatus.ACTIVE,
                    )
                    for _ in range(5)
                ]
                users = list({u.email: u for u in users}.values())
                ref = OrgRef(Portal.XERO, org_id, org.name)
                record_ok_scan(
                    session,
                    org_id=org.id,
                    started_at=utcnow(),
                    result=OrgUsers(ref, tuple(users), len(users), "bench"),
                )
                reconcile(session, configured_domains=[DOMAIN], org_ids=[org.id])
            written += 1
        except Exception as exc:  # a benchmark counts failures, it does not stop
            failures += 1
            print(f"writer: {type(exc).__name__}: {exc}", file=sys.stderr)
            written += 1
    result.put({"scans_written": written - failures, "writer_failures": failures})


# -- the run ---------------------------------------------------------------------------


def wait_until_up(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=600)
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="bare/badge alternations")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--soak-rps", type=float, default=500.0)
    parser.add_argument("--writer-scans-per-second", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="accessrecon-bench-") as tmp:
        data_dir = Path(tmp)
        os.environ["ACCESSRECON_DATA_DIR"] = str(data_dir)
        t0 = time.perf_counter()
        world = seed(data_dir, args.database_url, args.orgs)
        print(f"seeded {args.orgs} orgs in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "bench.api.server",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ]
        if args.database_url:
            command += ["--database-url", args.database_url]
        server = subprocess.Popen(command, cwd=ROOT)
        try:
            wait_until_up(base_url)
            tokens: dict[str, str] = world["tokens"]  # type: ignore[assignment]
            managed: list[str] = world["managed_orgs"]  # type: ignore[assignment]
            badge_paths = [f"/api/v1/orgs/xero/{o}/status" for o in managed]
            bare = Load(
                base_url, None, ["/api/v1/bench/bare"], args.throughput_seconds, args.concurrency
            )
            badge = Load(
                base_url, tokens["manager"], badge_paths, args.throughput_seconds, args.concurrency
            )
            # Warm up both paths (connections, thread pool, caches).
            run_load(Load(base_url, tokens["manager"], badge_paths, 2.0, 4), 1)
            results: dict[str, object] = {
                "orgs": args.orgs,
                "database": ("postgresql" if args.database_url else "sqlite"),
                "cpus": os.cpu_count(),
            }
            rounds = []
            for i in range(args.rounds):
                rounds.append(
                    {
                        "bare": measured(bare, args.processes, server.pid),
                        "badge": measured(badge, args.processes, server.pid),
                    }
                )
                print(f"round {i + 1}: {json.dumps(rounds[-1])}")
            bare_rps = statistics.fmean(r["bare"]["rps"] for r in rounds)
            badge_rps = statistics.fmean(r["badge"]["rps"] for r in rounds)
            cpu = {
                kind: statistics.fmean(
                    r[kind].get("server_cpu_ms_per_request", 0.0) for r in rounds
                )
                for kind in ("bare", "badge")
            }
            results["throughput"] = {
                "rounds": rounds,
                "bare_rps": round(bare_rps, 1),
                "badge_rps": round(badge_rps, 1),
                "ratio": round(badge_rps / bare_rps, 3),
                "cpu_ratio": round(cpu["bare"] / cpu["badge"], 3) if cpu["badge"] else None,
            }
            async_bare = measured(
                Load(
                    base_url,
                    None,
                    ["/api/v1/bench/bare-async"],
                    args.throughput_seconds,
                    args.concurrency,
                ),
                args.processes,
                server.pid,
            )
            results["throughput"]["bare_async"] = async_bare  # type: ignore[index]
            print(f"throughput: {json.dumps(results['throughput'])}")

            at_200 = measured(
                Load(
                    base_url, tokens["manager"], badge_paths, args.latency_seconds, 64, rate=200.0
                ),
                args.processes,
                server.pid,
            )
            results["badge_at_200_rps"] = at_200
            print(f"badge at 200 rps: {json.dumps(at_200)}")

            queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
            writer_process = multiprocessing.get_context("spawn").Process(
                target=writer,
                args=(
                    str(data_dir),
                    args.database_url,
                    world["orgs"],
                    args.soak_seconds,
                    args.writer_scans_per_second,
                    queue,
                ),
            )
            writer_process.start()
            soak = measured(
                Load(
                    base_url,
                    tokens["manager"],
                    badge_paths,
                    args.soak_seconds,
                    128,
                    rate=args.soak_rps,
                ),
                args.processes,
                server.pid,
            )
            writer_process.join(timeout=args.soak_seconds + 60)
            soak.update(queue.get(timeout=10))
            results["soak"] = {"rps_target": args.soak_rps, "seconds": args.soak_seconds, **soak}
            print(f"soak: {json.dumps(results['soak'])}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    verdict = {
        "ratio >= 0.6": results["throughput"]["ratio"] >= 0.6,  # type: ignore[index]
        "p99 at 200 rps <= 10 ms": at_200["p99_ms"] <= 10.0,
        "soak errors == 0": soak["errors"] == 0 and soak["writer_failures"] == 0,
    }
    results["verdict"] = verdict
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
