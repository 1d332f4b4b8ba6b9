"""Export benchmark: a 100k-row exceptions report beside bare XlsxWriter, and its memory.

    python -m bench.export [--rows 100000] [--rounds 3] [--openpyxl-rounds 1]
                           [--database-url URL]

Seeds a database (SQLite in a temporary directory unless ``--database-url`` names
an empty one) with ``--rows`` open findings, then writes the exceptions report
with each writer in its own fresh process (``bench/export/run.py``), so each
process's peak RSS (``getrusage``) is its own:

* rows read by the report's streamed query (``db``), and generated in memory
  (``memory``) to time the writers alone;
* ours, bare XlsxWriter constant_memory on the same rows, openpyxl write-only;
* the access matrix from the same 100k findings, for its time and memory.

This process imports nothing heavy and seeds in a child of its own: Linux carries a
parent's peak RSS into a child's ``ru_maxrss``, so a large parent would inflate
every figure. Each run also reports ``VmHWM`` from /proc, the peak of its own
address space, as a cross-check.

Rounds alternate the writers' order; each round's ours/baseline ratio comes from
two runs made back to back, so load from other processes weighs on both alike.
Targets: ours ≥ 0.9× XlsxWriter's rows per second, peak RSS ≤ 100 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEED_TARGET = 0.9
RSS_TARGET_MB = 100.0


def measure(writer: str, source: str, out: Path, db: str, rows: int) -> dict[str, float]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.export.run",
            writer,
            source,
            str(out),
            "--db",
            db,
            "--rows",
            str(rows),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--openpyxl-rounds",
        type=int,
        default=1,
        help="rounds that also run openpyxl (about 3x slower)",
    )
    parser.add_argument("--database-url", default="", help="an empty database to seed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        db = args.database_url or f"sqlite:///{directory / 'bench.db'}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.export.seed", db, str(args.rows)], check=True)
        print(
            f"# export benchmark: {args.rows} findings, seeded in "
            f"{time.perf_counter() - started:.1f} s ({db.split(':')[0]})",
            flush=True,
        )
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        ratios: dict[str, list[float]] = {"db": [], "memory": []}
        for n in range(args.rounds):
            writers = ["xlsxwriter", "ours"] if n % 2 == 0 else ["ours", "xlsxwriter"]
            if n < args.openpyxl_rounds:
                writers.append("openpyxl")
            for source in ("db", "memory"):
                got = {}
                for writer in writers:
                    got[writer] = measure(
                        writer, source, directory / f"{writer}.xlsx", db, args.rows
                    )
                    results.setdefault((source, writer), []).append(got[writer])
                    print(
                        f"round {n + 1} {source:6} {writer:10} "
                        f"{got[writer]['rows_per_s']:8.0f} rows/s "
                        f"{got[writer]['peak_rss_mb']:6.1f} MB "
                        f"(VmHWM {got[writer]['vm_hwm_mb']:.1f})",
                        flush=True,
                    )
                ratios[source].append(got["ours"]["rows_per_s"] / got["xlsxwriter"]["rows_per_s"])
        matrix = measure("matrix", "db", directory / "matrix.xlsx", db, args.rows)
    print()
    print(
        "| rows from | writer | rows/s (median) | seconds (median) | peak RSS MB (max) "
        "| VmHWM MB (max) |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for (source, writer), runs in results.items():
        print(
            f"| {source} | {writer} | {statistics.median(r['rows_per_s'] for r in runs):.0f} "
            f"| {statistics.median(r['seconds'] for r in runs):.1f} "
            f"| {max(r['peak_rss_mb'] for r in runs):.1f} "
            f"| {max(r['vm_hwm_mb'] for r in runs):.1f} |"
        )
    print(
        f"| db | access matrix ({matrix['rows']:.0f} staff rows from {args.rows} findings) "
        f"| {args.rows / matrix['seconds']:.0f} findings/s | {matrix['seconds']:.1f} "
        f"| {matrix['peak_rss_mb']:.1f} | {matrix['vm_hwm_mb']:.1f} |"
    )
    print()
    ours_rss = max(
        r["peak_rss_mb"] for (s, w), runs in results.items() if w == "ours" for r in runs
    )
    for source, values in ratios.items():
        ratio = statistics.median(values)
        print(
            f"ours / xlsxwriter ({source}): median {ratio:.2f}x "
            f"(rounds: {', '.join(f'{v:.2f}' for v in values)}) "
            f"{'meets' if ratio >= SPEED_TARGET else 'MISSES'} the {SPEED_TARGET}x target"
        )
    worst = max(ours_rss, matrix["peak_rss_mb"])
    print(
        f"peak RSS (ours, matrix): {worst:.1f} MB "
        f"{'meets' if worst <= RSS_TARGET_MB else 'MISSES'} the {RSS_TARGET_MB:.0f} MB target"
    )


if __name__ == "__main__":
    main()
