"""One refused import in a process of its own: ``python -m bench.imports.measure FILE DB``.

Prints one JSON line: wall-clock and CPU seconds of ``run_import`` (from the file's
path to the refusal), the process's peak resident memory in MB and its resident memory
just before the import, and what the refusal said.

The peak is the kernel's high-water mark of this process image (``VmHWM`` in
``/proc/self/status``), not ``ru_maxrss``: Linux carries ``ru_maxrss`` over
``execve``, so a child started by a large parent would report the parent's size.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from agent.imports import DEFAULT_MAX_ROWS, ImportRejected, run_import
from agent.storage.db import make_engine, upgrade_to_head


def _status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    path, database = Path(sys.argv[1]), Path(sys.argv[2])
    engine = make_engine(f"sqlite:///{database}")
    upgrade_to_head(engine)
    before = _status_mb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        run_import(engine, "staff", path, practice_domains=["practice.example"])
        problems, first, at_cap = 0, "imported", False
    except ImportRejected as exc:
        problems, first = exc.total, exc.errors[0].reason
        at_cap = exc.total == 1 and f"more than {DEFAULT_MAX_ROWS:,} rows" in first
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = _status_mb("VmHWM")
    engine.dispose()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "peak_rss_mb": round(peak, 1),
                "rss_before_mb": round(before, 1),
                "problems": problems,
                "first": first,
                "refused_at_cap": at_cap,
            }
        )
    )


if __name__ == "__main__":
    main()
