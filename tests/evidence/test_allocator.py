"""While a pack is written, glibc keeps the large blocks freed between batches instead of
giving them back to the system and faulting them in again, in the product's process and
in the helper that writes the zip; afterwards the product's process is as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.services.evidence import writer
from agent.services.evidence.allocator import HELPER_TUNABLES, helper_environment
from agent.services.evidence.pack import write_pack
from tests.evidence.world import new_key, today_period

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not hasattr(os, "confstr") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="the thresholds are glibc's",
)

#: batches as a pack makes them: a thousand rows' worth of blocks and one of half a
#: megabyte, made and freed fifty times over; the page faults of the second time round
_BATCHES = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from agent.services.evidence.allocator import large_blocks_kept

def batches():
    for _ in range(50):
        rows = [bytes(1000) for _ in range(2000)]
        encoded = bytes(500_000)
        del rows, encoded

def faults():
    batches()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    batches()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

plain = faults()
with large_blocks_kept():
    kept = faults()
print(plain, kept, faults())
"""


def test_blocks_freed_between_batches_are_kept_only_while_a_pack_is_written() -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _BATCHES, str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        env={},
    )
    plain, kept, after = map(int, done.stdout.split())
    assert plain > 5_000  # glibc gives the memory back after each batch
    assert kept < plain / 100
    assert after > plain / 2  # and does so again once the pack is written


def test_the_helper_that_writes_a_pack_starts_with_the_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    environment = helper_environment()
    assert environment["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{HELPER_TUNABLES}"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"  # this process's own
    # glibc takes the thresholds from the environment as a process starts
    batches = _BATCHES.replace("with large_blocks_kept():", "if True:")
    faults = [
        int(
            subprocess.run(
                [sys.executable, "-I", "-S", "-c", batches, str(ROOT)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout.split()[0]
        )
        for env in ({}, environment)
    ]
    assert faults[0] > 5_000
    assert faults[1] < faults[0] / 100
    # and the helper is started with that environment
    started: list[object] = []
    popen = subprocess.Popen

    def recorded(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        started.append(kwargs.get("env"))
        return popen(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(writer.subprocess, "Popen", recorded)
    with (tmp_path / "pack.zip").open("wb") as handle:
        key = new_key()
        write_pack(handle, today_period(), [], lambda counts: [], key, now=NOW)
    assert started == [environment]
