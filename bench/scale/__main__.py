"""Scale benchmark: orgs a second with 1, 2 and 4 workers, and a worker's peak memory.

    python -m bench.scale [--logins 40] [--orgs-per-login 100] [--workers 1,2,4]
                          [--latency-ms 300] [--runs 1] [--database URL]
    python -m bench.scale --memory [--sizes 1000,10000] [--latency-ms 0]

Scale (the default): one xero portal answering each request after ``--latency-ms``
(a real portal's pace), ``--logins`` logins of ``--orgs-per-login`` orgs each, and
rounds of 1, 2 and 4 ``accessrecon worker`` processes on PostgreSQL, each round on a
fresh database and a freshly started portal (``bench/scale/run.py``). Each run
alternates the order of its rounds, so the machine's load weighs on all of them.
Prints orgs per second, the ratio of 4 workers to 1 (target >= 3.2), each worker's
peak memory (every process it starts, counted as a container holds it:
``bench/scale/memory.py``), and over ``--runs`` the worst ratio and the spread.

Memory (``--memory``): one worker crawls one login of ``--sizes`` orgs, a fresh
worker per size; prints each peak and their ratio (targets: <= 800 MB at 10,000
orgs, <= 1.1x the 1,000-org peak).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.scale.run import Round, run_round
from bench.scale.world import one_login_world, split_world

DEFAULT_PG = os.environ.get(
    "ACCESSRECON_BENCH_PG_URL",
    "postgresql+psycopg://accessrecon:accessrecon@127.0.0.1:5432/accessrecon_test",
)
#: the memory targets of a worker (issue: "a worker that fits a small container")
PEAK_TARGET_MB = 800
GROWTH_TARGET = 1.1
SPEEDUP_TARGET = 3.2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memory", action="store_true", help="the memory mode (see above)")
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--orgs-per-login", type=int, default=100)
    parser.add_argument("--users", type=int, default=12, help="users per org")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, one round each")
    parser.add_argument("--sizes", default="1000,10000", help="org counts of the memory mode")
    parser.add_argument("--latency-ms", type=float, default=None, help="300; memory mode: 0")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="each crawl's requests in flight"
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_PG,
        help="a PostgreSQL URL (each round gets a schema of its own), or 'sqlite'",
    )
    parser.add_argument(
        "--files-every",
        type=float,
        default=None,
        help="seconds between reads of a worker's file pages (scale 60, memory 5; "
        "each read costs a few tenths of a second of CPU)",
    )
    args = parser.parse_args()
    for name in ("logins", "orgs_per_login", "users", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory:
            memory_mode(args, Path(tmp))
        else:
            scale_mode(args, Path(tmp))


def _counts(text: str, what: str) -> list[int]:
    try:
        counts = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        raise SystemExit(f"{what} must be numbers separated by commas, not {text!r}") from None
    if not counts or min(counts) < 1:
        raise SystemExit(f"{what} must be at least 1 each: {text!r}")
    return counts


def scale_mode(args: argparse.Namespace, directory: Path) -> None:
    counts = _counts(args.workers, "--workers")
    latency = 300.0 if args.latency_ms is None else args.latency_ms
    files_every = 60.0 if args.files_every is None else args.files_every
    world = split_world(
        11, logins=args.logins, orgs_per_login=args.orgs_per_login, users=args.users
    )
    world_file = directory / "world.json"
    world.save(world_file)
    print(
        f"# scale benchmark: {args.logins} logins x {args.orgs_per_login} orgs "
        f"(~{args.users} users an org), portal latency {latency:.0f} ms a request, "
        f"workers {counts}, {_database_name(args.database)}, load {_load()}",
        flush=True,
    )
    ratios: list[float] = []
    peaks: list[float] = []
    for run in range(1, args.runs + 1):
        order = counts if run % 2 else list(reversed(counts))
        rounds: dict[int, Round] = {}
        for workers in order:
            result = run_round(
                world,
                world_file,
                directory,
                workers=workers,
                database=args.database,
                latency_ms=latency,
                concurrency=args.concurrency,
                interval_s=1.0,
                files_every_s=files_every,
            )
            rounds[workers] = result
            peaks.append(result.peak_mb)
            print(
                f"run {run}: {workers} worker{'s' if workers > 1 else ''}: "
                f"{result.orgs_per_s:6.1f} orgs/s ({result.orgs} in {result.seconds:.1f} s; "
                f"{result.mean_request_s:.1f} s a login, {result.most_at_once} at once); "
                f"peak per worker {', '.join(f'{m.container_mb:.0f}' for m in result.memory)} MB"
                f" (load {_load()})",
                flush=True,
            )
            for n, sample in enumerate(result.memory, 1):
                print(f"    worker {n}: {sample.describe()}", flush=True)
        low, high = min(counts), max(counts)
        if low != high:
            ratio = rounds[high].orgs_per_s / rounds[low].orgs_per_s
            ratios.append(ratio)
            print(
                f"run {run}: {high} workers / {low} worker: {ratio:.2f}x "
                f"(target >= {SPEEDUP_TARGET} for 4 / 1)",
                flush=True,
            )
    if ratios:
        print(
            f"worst ratio {min(ratios):.2f}x over {len(ratios)} run(s); spread "
            f"{min(ratios):.2f}-{max(ratios):.2f}"
        )
    print(
        f"worst worker peak {max(peaks):.0f} MB (target <= {PEAK_TARGET_MB}); spread "
        f"{min(peaks):.0f}-{max(peaks):.0f} MB"
    )


def memory_mode(args: argparse.Namespace, directory: Path) -> None:
    sizes = _counts(args.sizes, "--sizes")
    latency = 0.0 if args.latency_ms is None else args.latency_ms
    files_every = 5.0 if args.files_every is None else args.files_every
    print(
        f"# worker memory: one login of {', '.join(f'{n:,}' for n in sizes)} xero orgs "
        f"(~{args.users} users an org), a fresh worker each, portal latency {latency:.0f} ms, "
        f"{_database_name(args.database)}, load {_load()}",
        flush=True,
    )
    peaks: dict[int, list[float]] = {n: [] for n in sizes}
    for run in range(1, args.runs + 1):
        for size in sizes:
            world = one_login_world(2, orgs=size, users=args.users)
            world_file = directory / f"world-{size}.json"
            world.save(world_file)
            result = run_round(
                world,
                world_file,
                directory,
                workers=1,
                database=args.database,
                latency_ms=latency,
                concurrency=args.concurrency,
                interval_s=0.5,
                files_every_s=files_every,
            )
            (sample,) = result.memory
            peaks[size].append(sample.container_mb)
            print(
                f"run {run}: {size:>6,} orgs: worker peak {sample.describe()}; "
                f"{result.orgs_per_s:.1f} orgs/s (load {_load()})",
                flush=True,
            )
        if len(sizes) >= 2:
            small, large = sizes[0], sizes[-1]
            print(
                f"run {run}: peak at {large:,} / at {small:,} orgs: "
                f"{peaks[large][-1] / peaks[small][-1]:.2f} (target <= {GROWTH_TARGET})",
                flush=True,
            )
    largest = sizes[-1]
    print(
        f"worst peak at {largest:,} orgs: {max(peaks[largest]):.0f} MB "
        f"(target <= {PEAK_TARGET_MB}); spread {min(peaks[largest]):.0f}-"
        f"{max(peaks[largest]):.0f} MB"
    )
    if len(sizes) >= 2:
        ratios = [b / a for a, b in zip(peaks[sizes[0]], peaks[largest], strict=True)]
        print(f"worst ratio {max(ratios):.2f}; spread {min(ratios):.2f}-{max(ratios):.2f}")


def _database_name(database: str) -> str:
    return "SQLite" if database == "sqlite" else "PostgreSQL"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
