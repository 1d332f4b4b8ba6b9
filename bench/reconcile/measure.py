"""One measurement in a process of its own: ``python -m bench.reconcile.measure ENGINE DB``.

ENGINE is ``ours`` or ``sql`` (``engines.py``). Prints one JSON line: wall-clock
seconds and CPU seconds spent after start-up (from an open file to the last finding
counted), the process's peak resident memory in MB (``ru_maxrss``), the findings
per class and their digest. Run with ``PYTHONHASHSEED=0`` so digests compare across
processes (``run.py`` does).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.reconcile.engines import ENGINES


def main() -> None:
    engine, path = sys.argv[1], Path(sys.argv[2])
    started, cpu_started = time.perf_counter(), time.process_time()
    counts, digest = ENGINES[engine](path)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "engine": engine,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "peak_rss_mb": round(peak_mb, 1),
                "findings": sum(counts.values()),
                "by_class": dict(sorted(counts.items())),
                "digest": digest,
            }
        )
    )


if __name__ == "__main__":
    main()
