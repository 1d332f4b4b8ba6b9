"""A worker's memory: every process it starts, counted once, as a container holds it.

A worker is a Python process, Playwright's driver (node) and Chromium's browser,
zygotes, GPU, network, storage and renderer processes. A sum of their RSS counts
each shared page once per process that maps it: Chromium's processes share their
libraries and much of their memory, and the RSS sum is about twice the truth. A sum
of PSS (``/proc/PID/smaps_rollup``) divides each shared page among its mappers, but
among *every* process on the machine: while another Chromium runs beside the
worker, the libraries' pages are split with it and the worker's sum drops (by 240 MB
once here, on a machine shared with other people's tests).

So the figure a limit is judged on is a container's: the anonymous and shared
memory of the worker's processes (``Pss_Anon`` + ``Pss_Shmem``: such pages are
shared only among the worker's own processes, which fork from each other) plus each
file page any of them maps, counted once (the union of their page frames, read from
``/proc/PID/pagemap``, which needs root for the frame numbers; without it the file
part falls back to ``Pss_File``). The PSS sum and the RSS sum are kept beside it,
and the processor time the tree used, which says whether a worker waits or works.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
#: a pagemap entry: bit 63 the page is present, bit 61 it is a file's, bits 0-54 its frame
_FRAME = (1 << 55) - 1
#: file mappings that are shared memory, already counted in ``Pss_Shmem``
_SHMEM_PATHS = ("/memfd:", "/dev/shm/", "/SYSV")  # noqa: S108  (read, never written)


def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found.setdefault(parent, []).append(int(entry))
    return found


def tree(root: int, leave_out: set[int] | None = None) -> list[int]:
    """A process and its descendants, but for ``leave_out``'s and theirs."""
    by_parent, skip = children(), leave_out or set()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in skip:
            continue
        found.append(pid)
        stack.extend(by_parent.get(pid, []))
    return found


def status_kb(pid: int | str, name: str) -> int:
    """A ``/proc/PID/status`` figure in KiB (``VmRSS``, ``VmHWM``); 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(f"{name}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rollup(pid: int) -> dict[str, int]:
    """``/proc/PID/smaps_rollup``'s figures in KiB (``Rss``, ``Pss``, ``Pss_Anon``…)."""
    figures: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                words = rest.split()
                if len(words) == 2 and words[1] == "kB":
                    figures[name] = int(words[0])
    except OSError:
        pass
    return figures


def process_kind(pid: int) -> str:
    """What a worker's process is: ``python``, ``driver`` (Playwright's node),
    ``browser``, ``renderer``, ``gpu``, ``network``, ``storage``, ``utility``,
    ``zygote`` or ``other``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            # Chromium's child processes rewrite their command line as one string
            words = handle.read().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return "other"
    if not words:
        return "other"
    program = os.path.basename(words[0])
    if "python" in program or program == "accessrecon":
        return "python"
    if "node" in program or "run-driver" in words:
        return "driver"
    if "chrom" not in " ".join(words):
        return "other"
    kind = next((w.split("=", 1)[1] for w in words if w.startswith("--type=")), "browser")
    if kind == "utility":
        sub = next((w for w in words if w.startswith("--utility-sub-type=")), "")
        kind = "network" if "Network" in sub else "storage" if "Storage" in sub else kind
    return {"gpu-process": "gpu"}.get(kind, kind)


def file_frames(pid: int) -> set[int] | None:
    """The page frames of the files ``pid`` maps that are in memory; ``None`` when the
    frames cannot be read (not root)."""
    frames: set[int] = set()
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) < 6 or not parts[5].startswith("/"):
                    continue
                if parts[5].startswith(_SHMEM_PATHS):
                    continue
                start, end = (int(x, 16) for x in parts[0].split("-"))
                pages = (end - start) // (PAGE_KB * 1024)
                pagemap.seek(start // (PAGE_KB * 1024) * 8)
                entries = array("Q")
                entries.frombytes(pagemap.read(pages * 8))
                frames.update(e & _FRAME for e in entries if e and (e >> 61) & 5 == 5)
    except OSError:
        return frames
    frames.discard(0)  # a zero frame number: the kernel hid it (not root)
    return frames if frames else None


@dataclass(frozen=True)
class Sample:
    """One look at a process tree's memory, in KiB (``peak_pss_kb``: the highest PSS
    sum of the samples a peak was chosen from, which need not be the same sample)."""

    anon_kb: int
    file_kb: int
    pss_kb: int
    rss_kb: int
    processes: int
    by_kind_pss_kb: dict[str, int] = field(default_factory=dict)
    peak_pss_kb: int = 0
    #: the processor time the tree used while watched (a process's last half second
    #: before it ended aside), in seconds, and split by kind of process
    cpu_s: float = 0.0
    cpu_by_kind_s: dict[str, float] = field(default_factory=dict)

    @property
    def container_kb(self) -> int:
        """What a container holding only these processes would hold (module note)."""
        return self.anon_kb + self.file_kb

    @property
    def container_mb(self) -> float:
        return self.container_kb / 1024

    def as_json(self) -> dict[str, object]:
        return {
            "anon_kb": self.anon_kb,
            "file_kb": self.file_kb,
            "pss_kb": self.pss_kb,
            "rss_kb": self.rss_kb,
            "processes": self.processes,
            "by_kind_pss_kb": dict(sorted(self.by_kind_pss_kb.items())),
            "peak_pss_kb": self.peak_pss_kb,
            "cpu_s": self.cpu_s,
            "cpu_by_kind_s": dict(sorted(self.cpu_by_kind_s.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Sample:
        return cls(**data)  # type: ignore[arg-type]

    def describe(self) -> str:
        """``612 MB (anon 330 + files 282; PSS sum 540, RSS sum 1,240; …)``, the split
        of PSS by kind of process, and the processor time used."""
        kinds = ", ".join(f"{k} {v / 1024:.0f}" for k, v in self.by_kind_pss_kb.items())
        cpu = ", ".join(f"{k} {v:,.1f}" for k, v in self.cpu_by_kind_s.items())
        return (
            f"{self.container_mb:,.0f} MB (anon {self.anon_kb / 1024:,.0f} + files "
            f"{self.file_kb / 1024:,.0f}; PSS sum {self.pss_kb / 1024:,.0f}, RSS sum "
            f"{self.rss_kb / 1024:,.0f}; PSS by process: {kinds}); CPU {self.cpu_s:,.0f} s"
            + (f" ({cpu})" if cpu else "")
        )


EMPTY = Sample(0, 0, 0, 0, 0)


def cpu_ticks(pid: int) -> int:
    """The processor time ``pid`` has used, user and system, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def sample_tree(
    root: int,
    leave_out: set[int] | None = None,
    *,
    files: bool = True,
    cpu: dict[int, int] | None = None,
    kinds: dict[int, str] | None = None,
) -> tuple[Sample, bool]:
    """The memory of ``root`` and its descendants, but for ``leave_out``'s, and whether
    its file part is the union of page frames (``files``, and root) or ``Pss_File``.
    ``cpu`` is given each process's processor time so far (ticks, by pid); ``kinds``
    keeps each process's kind between samples."""
    anon = pss = rss = pss_file = 0
    by_kind: dict[str, int] = {}
    frames: set[int] = set()
    readable = files
    pids = tree(root, leave_out)
    for pid in pids:
        figures = rollup(pid)
        anon += figures.get("Pss_Anon", 0) + figures.get("Pss_Shmem", 0)
        pss_file += figures.get("Pss_File", 0)
        pss += figures.get("Pss", 0)
        rss += figures.get("Rss", 0)
        kind = kinds[pid] if kinds is not None and pid in kinds else process_kind(pid)
        if kinds is not None and kind not in ("zygote", "other"):  # a fork renames itself
            kinds[pid] = kind
        by_kind[kind] = by_kind.get(kind, 0) + figures.get("Pss", 0)
        if cpu is not None:
            cpu[pid] = max(cpu.get(pid, 0), cpu_ticks(pid))
        if readable:
            found = file_frames(pid)
            readable = found is not None or not figures
            frames |= found or set()
    file_kb = len(frames) * PAGE_KB if readable else pss_file
    return Sample(anon, file_kb, pss, rss, len(pids), by_kind), readable


def watch(root: int, leave_out: set[int], interval_s: float, files_every_s: float) -> Sample:
    """Sample until SIGTERM (or until ``root`` is gone): the sample with the most
    anonymous memory, its file part the most any sample saw. Stop it while the tree
    still runs: its last look reads the file pages again.

    Anonymous memory moves; the file part (the pages of the libraries and of
    Chromium in use) barely does once the browser is up, and its union of frames
    costs a few tenths of a second of CPU, so it is read every ``files_every_s`` only.
    Adding the highest of each is an upper bound of the peak, never below it.
    """
    leave_out = leave_out | {os.getpid()}  # the watcher is not the tree's
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    peak, peak_pss, peak_file, files_at = EMPTY, 0, 0, -files_every_s
    ticks: dict[int, int] = {}
    kinds: dict[int, str] = {}
    last = False
    while os.path.exists(f"/proc/{root}"):
        due = last or time.monotonic() - files_at >= files_every_s
        if due:
            files_at = time.monotonic()
        now, _ = sample_tree(root, leave_out, files=due, cpu=ticks, kinds=kinds)
        peak_file = max(peak_file, now.file_kb)  # between reads of frames: Pss_File, less
        if now.anon_kb > peak.anon_kb:
            peak = now
        peak_pss = max(peak_pss, now.pss_kb)
        if last:
            break
        # once stopped, one last look with the file pages read, while the tree still runs
        last = stop.wait(interval_s)
    tick = os.sysconf("SC_CLK_TCK")
    by_kind: dict[str, float] = {}
    for pid, used in ticks.items():
        kind = kinds.get(pid, "other")
        by_kind[kind] = by_kind.get(kind, 0.0) + used / tick
    return replace(
        peak,
        file_kb=peak_file,
        peak_pss_kb=peak_pss,
        cpu_s=round(sum(ticks.values()) / tick, 1),
        cpu_by_kind_s={k: round(v, 1) for k, v in sorted(by_kind.items())},
    )


class PeakSampler:
    """The peak memory of a process tree, sampled by a process of its own (so that
    sampling takes no time from the measured process's interpreter) every
    ``interval_s``; ``leave_out`` names processes (and their trees) that are not the
    tree's own, such as a sandbox portal started by the measured process."""

    def __init__(
        self,
        root: int,
        *,
        leave_out: set[int] | None = None,
        interval_s: float = 0.5,
        files_every_s: float = 5.0,
    ) -> None:
        self.root = root
        self.leave_out = leave_out or set()
        self.interval_s = interval_s
        self.files_every_s = files_every_s
        self.peak = EMPTY
        handle, name = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        self._out = Path(name)
        self._watcher: subprocess.Popen[bytes] | None = None

    def start(self) -> PeakSampler:
        self._watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.scale.memory",
                str(self.root),
                "--leave-out",
                ",".join(str(p) for p in sorted(self.leave_out)),
                "--interval",
                str(self.interval_s),
                "--files-every",
                str(self.files_every_s),
                "--out",
                str(self._out),
            ]
        )
        time.sleep(self.interval_s)  # its first look is taken before the work starts
        return self

    def stop(self) -> Sample:
        assert self._watcher is not None
        self._watcher.terminate()
        self._watcher.wait(timeout=60)
        self.peak = Sample.from_json(json.loads(self._out.read_text()))
        self._out.unlink()
        return self.peak

    def __enter__(self) -> PeakSampler:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Sample a process tree's peak memory.")
    parser.add_argument("root", type=int)
    parser.add_argument("--leave-out", default="")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--files-every", type=float, default=5.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    leave_out = {int(p) for p in args.leave_out.split(",") if p}
    peak = watch(args.root, leave_out, args.interval, args.files_every)
    args.out.write_text(json.dumps(peak.as_json()))


if __name__ == "__main__":
    main()
