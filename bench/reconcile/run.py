"""Benchmark reconcile against an SQLite join; print the figures as a Markdown table.

    python -m bench.reconcile [--observations 1000000] [--staff 2000] [--scale 10]
                              [--repeats 3] [--data DIR] [--results FILE]

1. Generates the data sets (``data.py``): ``observations`` user rows against
   ``staff`` staff, and ``scale`` times as many rows for the scaling check. Files
   are kept in ``--data`` and reused by a later run with the same sizes.
2. Times each engine (``engines.py``) in a fresh process per measurement
   (``measure.py``), ``repeats`` times at the base size, keeping the fastest, and
   once at the larger size (ours only). Each process reports its own peak RSS.
3. Checks that both engines found the same findings (per-class counts and a digest
   of every (org, identity, class)), then prints the figures and the targets:
   time ratio ours/SQL <= 1.0, peak RSS <= 300 MB, ``scale`` x data in <= 1.1 x
   ``scale`` x the time.

Not part of the test suite: it takes minutes, and its figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.reconcile.data import generate

RSS_TARGET_MB = 300.0


def measure(engine: str, path: Path) -> dict[str, Any]:
    """Run one engine over one data set in a process of its own."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.reconcile.measure", engine, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    ).stdout
    return json.loads(out)


def data_set(directory: Path, observations: int, staff: int) -> Path:
    path = directory / f"reconcile-{observations}-{staff}.sqlite"
    if not path.exists():
        started = time.perf_counter()
        sizes = generate(path.with_suffix(".tmp"), observations=observations, staff=staff)
        path.with_suffix(".tmp").rename(path)
        print(
            f"generated {path.name}: {sizes} in {time.perf_counter() - started:.0f} s", flush=True
        )
    return path


def best(engine: str, path: Path, repeats: int) -> dict[str, Any]:
    runs = [measure(engine, path) for _ in range(repeats)]
    for run in runs:
        print(
            f"  {engine}: {run['seconds']:.2f} s wall, {run['cpu_seconds']:.2f} s CPU, "
            f"{run['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    fastest = min(runs, key=lambda r: r["cpu_seconds"])
    fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=2_000)
    parser.add_argument("--scale", type=int, default=10, help="0 skips the scaling check")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "accessrecon-bench"
    )
    parser.add_argument("--results", type=Path, help="also write the Markdown table here")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)

    base = data_set(args.data, args.observations, args.staff)
    print(f"{args.observations:,} observations x {args.staff:,} staff", flush=True)
    sql = best("sql", base, args.repeats)
    ours = best("ours", base, args.repeats)
    if (ours["by_class"], ours["digest"]) != (sql["by_class"], sql["digest"]):
        raise SystemExit(
            f"the engines disagree:\n ours {ours['by_class']}\n sql  {sql['by_class']}"
        )
    rows = [
        ("findings (identical in both engines)", f"{ours['findings']:,}", ""),
        ("ours: wall / CPU seconds", f"{ours['seconds']:.2f} / {ours['cpu_seconds']:.2f}", ""),
        ("SQLite join: wall / CPU seconds", f"{sql['seconds']:.2f} / {sql['cpu_seconds']:.2f}", ""),
        (
            "time ratio ours / SQL (CPU)",
            f"{ours['cpu_seconds'] / sql['cpu_seconds']:.2f}",
            "<= 1.0",
        ),
        ("time ratio ours / SQL (wall)", f"{ours['seconds'] / sql['seconds']:.2f}", "<= 1.0"),
        (
            "peak RSS ours / SQL (MB)",
            f"{ours['peak_rss_mb']:.0f} / {sql['peak_rss_mb']:.0f}",
            f"<= {RSS_TARGET_MB:.0f}",
        ),
    ]
    if args.scale:
        big = data_set(args.data, args.observations * args.scale, args.staff)
        print(f"{args.observations * args.scale:,} observations x {args.staff:,} staff", flush=True)
        large = best("ours", big, 1)
        ratio = large["cpu_seconds"] / ours["cpu_seconds"]
        rows += [
            (
                f"ours at {args.scale}x: wall / CPU seconds",
                f"{large['seconds']:.2f} / {large['cpu_seconds']:.2f}",
                "",
            ),
            (
                f"ours at {args.scale}x: time / base time (CPU)",
                f"{ratio:.2f}",
                f"<= {args.scale * 1.1:.0f}",
            ),
            (
                f"ours at {args.scale}x: peak RSS (MB)",
                f"{large['peak_rss_mb']:.0f}",
                f"<= {RSS_TARGET_MB:.0f}",
            ),
        ]
    table = "\n".join(
        ["| measure | figure | target |", "|---|---:|---|"]
        + [f"| {name} | {value} | {target} |" for name, value, target in rows]
    )
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"\n{table}\n\n{machine}")
    if args.results:
        args.results.write_text(f"{table}\n\n{machine}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
