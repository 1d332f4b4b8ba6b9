"""One phase of the evidence benchmark, in a process of its own (``bench.evidence.measure``).

    rows N               make N rows and drop them (what making them costs)
    build N PACK         write a signed pack of N records to PACK
    hash PACK            SHA-256 over the record files' bytes, streamed in 1 MiB blocks
    hash-lines PACK      SHA-256 of each record line on its own (one digest per record)
    verify PACK          ``verify_pack`` against the key beside PACK
    seed N DB            a SQLite database holding about N records of one period
    build-db DB PACK     ``build_pack`` from that database (no PDF), end to end
    standalone PACK      ``docs/verify_evidence.py --key`` in a child process

Prints one JSON line: wall-clock and CPU seconds of the phase, the process's peak
resident memory (``VmHWM``) and that of the processes it started (the product's
helpers, or the stand-alone verifier), and their sum, which is what the memory target
is held to. A child's peak is its own ``VmHWM``, read from ``/proc`` every few
milliseconds while the phase runs, the latest reading (``ru_maxrss`` will not do: a
child started by ``vfork`` keeps the peak of the parent it was started from), and
summed over the children as if all ran at once.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.filemodes import open_private
from agent.security.signing import SigningKey, write_public_key
from agent.services.evidence.pack import open_member, verify_pack, write_pack
from agent.services.evidence.period import Period
from bench.evidence.rows import kinds_and_rows

ROOT = Path(__file__).resolve().parents[2]
BLOCK = 1 << 20


def _hwm_mb(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # the child has just ended
        return None
    return None


class ChildPeaks(threading.Thread):
    """The peak resident memory of each child of this process, sampled while it runs."""

    def __init__(self, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, float] = {}
        self._every, self._done = every, threading.Event()

    def _children(self) -> list[int]:
        found: list[int] = []
        for task in Path("/proc/self/task").iterdir():
            try:
                found += [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def sample(self) -> None:
        # The latest reading, not the largest: a child started by vfork reads the
        # parent's peak until its execve, and from then on its own, which only grows.
        for pid in self._children():
            peak = _hwm_mb(pid)
            if peak is not None:
                self.peaks[pid] = peak

    def run(self) -> None:
        while not self._done.wait(self._every):
            self.sample()

    def stop(self) -> float:
        """The children's peaks, summed."""
        self._done.set()
        self.join()
        return sum(self.peaks.values())


def _record_members(pack: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(pack) as z:
        return [i for i in z.infolist() if i.filename.endswith(".jsonl")]


def rows(count: int) -> dict[str, object]:
    made = sum(sum(1 for _ in kind_rows) for _, kind_rows in kinds_and_rows(count))
    return {"records": made}


def build(count: int, pack: Path) -> dict[str, object]:
    key = SigningKey(Ed25519PrivateKey.generate(), "bench")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with open_private(pack, "wb") as handle:
        manifest = write_pack(
            handle,
            Period(date(2026, 10, 1), date(2026, 12, 31)),
            kinds_and_rows(count),
            lambda counts: [],
            key,
            now=now,
        )
    write_public_key(key.public_raw, pack.with_suffix(".pem"))
    return {"records": manifest.records, "bytes": pack.stat().st_size}


def _seed(database: Path, records: int) -> dict[str, object]:
    from bench.evidence.seed import seed  # the migrations: loaded only where needed

    return dict(seed(database, records))


def build_db(database: Path, pack: Path) -> dict[str, object]:
    from sqlmodel import Session

    from agent.services.evidence.pack import build_pack
    from agent.storage.db import make_engine

    key = SigningKey(Ed25519PrivateKey.generate(), "bench")
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        result = build_pack(
            session,
            Period(date(2026, 11, 1), date(2026, 11, 30)),
            pack,
            key,
            now=datetime(2026, 12, 1, tzinfo=UTC),
        )
    write_public_key(key.public_raw, pack.with_suffix(".pem"))
    return {"records": result.manifest.records, "bytes": pack.stat().st_size}


def hash_stream(pack: Path) -> dict[str, object]:
    digest, size = hashlib.sha256(), 0
    for info in _record_members(pack):
        with open_member(pack, info) as member:
            while block := member.read(BLOCK):
                digest.update(block)
                size += len(block)
    return {"bytes": size}


def hash_lines(pack: Path) -> dict[str, object]:
    sha256, lines = hashlib.sha256, 0
    for info in _record_members(pack):
        rest = b""
        with open_member(pack, info) as member:
            while block := member.read(4 * BLOCK):
                *done, rest = (rest + block).split(b"\n")
                for line in done:
                    sha256(line).hexdigest()
                lines += len(done)
    return {"records": lines}


def verify(pack: Path) -> dict[str, object]:
    from agent.security.signing import read_public_key

    key = read_public_key(pack.with_suffix(".pem").read_bytes(), "bench key")
    return {"records": verify_pack(pack, trusted_key=key).records}


def standalone(pack: Path) -> dict[str, object]:
    verifier = ROOT / "docs" / "verify_evidence.py"
    key = str(pack.with_suffix(".pem"))
    done = subprocess.run(
        [sys.executable, str(verifier), str(pack), "--key", key],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"ok": done.stdout.startswith("OK")}


PHASES = {
    "rows": lambda args: rows(int(args[0])),
    "build": lambda args: build(int(args[0]), Path(args[1])),
    "seed": lambda args: _seed(Path(args[1]), int(args[0])),
    "build-db": lambda args: build_db(Path(args[0]), Path(args[1])),
    "hash": lambda args: hash_stream(Path(args[0])),
    "hash-lines": lambda args: hash_lines(Path(args[0])),
    "verify": lambda args: verify(Path(args[0])),
    "standalone": lambda args: standalone(Path(args[0])),
}


def main() -> None:
    phase, args = sys.argv[1], sys.argv[2:]
    children = ChildPeaks()
    children.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = PHASES[phase](args)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    children_mb, own_mb = children.stop(), _hwm_mb() or 0.0
    print(
        json.dumps(
            {
                "phase": phase,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu, 3),
                "own_peak_rss_mb": round(own_mb, 1),
                "children_peak_rss_mb": round(children_mb, 1),
                "children": len(children.peaks),
                "peak_rss_mb": round(own_mb + children_mb, 1),
                **figures,
            }
        )
    )


if __name__ == "__main__":
    main()
