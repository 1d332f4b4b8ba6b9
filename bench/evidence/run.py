"""A pack of a million records, built and checked beside plain SHA-256 of the same bytes.

    python -m bench.evidence [--records 1000000] [--runs 3] [--keep DIR] [--database]

Each run writes a signed pack of ``--records`` records (the mix of ``rows.py``: scans,
observed users, findings, audit events) with the product's own writer
(``agent.services.evidence.pack.write_pack``), then checks it with ``verify_pack``
and with the stand-alone ``docs/verify_evidence.py``. Beside them, in the same run,
``hashlib`` SHA-256 goes over exactly the records' bytes two ways: streamed in 1 MiB
blocks (the least any check of those bytes costs) and one digest per record line (the
least a per-record chain costs). Every phase runs in a fresh process
(``measure.py``), so each peak memory figure is that phase's own.

``--database`` also seeds a SQLite database with a period of about as many records
(``seed.py``) and times ``build_pack`` reading them from it, end to end, beside the
streamed hash of that pack's records: what ``accessrecon evidence pack`` costs.

Targets: verify ≤ 3× and build ≤ 5× the plain hashing time; peak RSS ≤ 200 MB each,
counting every process of the phase (the product's helpers too) as if all peaked at
once.
Making the rows in memory is timed apart (``rows``): the build figure includes it,
so the ratio is what the pack costs with rows arriving as cheaply as they can; reading
them from a database is not in it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_VERIFY, TARGET_BUILD, TARGET_MB = 3.0, 5.0, 200.0


def measure(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.evidence.measure", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_run(directory: Path, records: int, database: bool) -> dict[str, dict[str, object]]:
    pack = directory / "pack.zip"
    found = {"rows": measure("rows", str(records))}
    found["build"] = measure("build", str(records), str(pack))
    for phase in ("hash", "hash-lines", "verify", "standalone"):
        found[phase] = measure(phase, str(pack))
    pack.unlink()
    if database:
        db, db_pack = directory / "period.sqlite", directory / "db-pack.zip"
        if not db.exists():
            measure("seed", str(records), str(db))
        found["build-db"] = measure("build-db", str(db), str(db_pack))
        found["hash-db"] = measure("hash", str(db_pack))
        db_pack.unlink()
    return found


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def report(run: int, found: dict[str, dict[str, object]]) -> dict[str, float]:
    def s(phase: str) -> float:
        return float(found[phase]["seconds"])  # type: ignore[arg-type]

    def mb(phase: str) -> float:
        return float(found[phase]["peak_rss_mb"])  # type: ignore[arg-type]

    def split(phase: str) -> str:
        own, helpers = found[phase]["own_peak_rss_mb"], found[phase]["children_peak_rss_mb"]
        return f"peak {mb(phase):6.1f} MB ({own} + {found[phase]['children']} helpers {helpers})"

    size = int(found["build"]["bytes"])  # type: ignore[call-overload]
    ratios = {
        "build/stream": s("build") / s("hash"),
        "verify/stream": s("verify") / s("hash"),
        "build/lines": s("build") / s("hash-lines"),
        "verify/lines": s("verify") / s("hash-lines"),
        "standalone/stream": s("standalone") / s("hash"),
    }
    print(f"run {run}: {found['build']['records']:,} records, {size / 1e6:.0f} MB")
    print(f"  rows made in memory     {s('rows'):7.2f} s  (inside build)")
    print(f"  build                   {s('build'):7.2f} s  {split('build')}")
    print(f"  verify                  {s('verify'):7.2f} s  {split('verify')}")
    standalone_mb = found["standalone"]["children_peak_rss_mb"]
    print(f"  stand-alone verifier    {s('standalone'):7.2f} s  peak {standalone_mb} MB")
    print(f"  SHA-256 streamed        {s('hash'):7.2f} s  peak {mb('hash'):6.1f} MB")
    print(f"  SHA-256 per record      {s('hash-lines'):7.2f} s")
    for name, ratio in ratios.items():
        print(f"  {name:<22}  {ratio:5.2f}×")
    if "build-db" in found:
        ratios["db build/stream"] = s("build-db") / s("hash-db")
        print(
            f"  from SQLite: {found['build-db']['records']:,} records read and packed in "
            f"{s('build-db'):.2f} s, {split('build-db')}; their SHA-256 "
            f"{s('hash-db'):.2f} s; {ratios['db build/stream']:.2f}×"
        )
    build_ratio, verify_ratio = ratios["build/stream"], ratios["verify/stream"]
    memory = max(mb(p) for p in ("build", "verify", "build-db") if p in found)
    print(
        f"  targets: verify {verify_ratio:.2f}× ≤ {TARGET_VERIFY} "
        f"{_verdict(verify_ratio, TARGET_VERIFY)}; build {build_ratio:.2f}× ≤ {TARGET_BUILD} "
        f"{_verdict(build_ratio, TARGET_BUILD)}; peak {memory:.0f} MB ≤ {TARGET_MB:.0f} "
        f"{_verdict(memory, TARGET_MB)}"
    )
    return {**ratios, "peak_mb": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the packs here instead of a temp dir")
    parser.add_argument("--database", action="store_true", help="also pack from SQLite")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        for run in range(1, args.runs + 1):
            results.append(report(run, one_run(directory, args.records, args.database)))
    if len(results) > 1:
        print("worst of the runs (spread):")
        for name in results[0]:
            values = [r[name] for r in results]
            print(f"  {name:<22}  {max(values):6.2f}  ({min(values):.2f}–{max(values):.2f})")


if __name__ == "__main__":
    main()
