"""glibc's allocator kept from giving memory back to the system while a pack is written.

Writing a pack makes and frees, for every batch of a thousand records, blocks of half a
megabyte (the encoded batch, its lines) and a thousand rows' dicts. glibc gives a
freed block above its thresholds back to the system at once (``M_MMAP_THRESHOLD``,
``M_TRIM_THRESHOLD``, 128 KiB until it adjusts them), so the next batch faults the same
memory in again: about 70,000 page faults for a million records, in both processes,
and a twentieth of the build's time (``bench/evidence``). While a pack is written, the
product's process raises both thresholds (``large_blocks_kept``: ``mallopt``, then
back to glibc's defaults and the free memory handed back); the helper is started
with the same thresholds (``HELPER_TUNABLES``). Other C libraries are left as they are.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator

__all__ = ["HELPER_TUNABLES", "helper_environment", "large_blocks_kept"]

#: blocks up to this size come from the heap, not mapped and unmapped on their own
MMAP_THRESHOLD = 4 << 20
#: free memory at the heap's top kept up to this size
TRIM_THRESHOLD = 32 << 20
#: glibc's own starting values, restored after a pack
_DEFAULT_THRESHOLD = 128 << 10
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
HELPER_TUNABLES = (
    f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}:glibc.malloc.trim_threshold={TRIM_THRESHOLD}"
)


def _glibc() -> ctypes.CDLL | None:
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL(None)
    except (AttributeError, ValueError, OSError):  # not glibc, or no confstr name for it
        return None


@contextlib.contextmanager
def large_blocks_kept() -> Iterator[None]:
    """This process keeps large freed blocks for reuse while the block runs."""
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
        libc.malloc_trim(0)


def helper_environment() -> dict[str, str]:
    """This process's environment, with glibc's thresholds for a helper that writes a pack
    (``GLIBC_TUNABLES``, read by glibc as the process starts; ignored elsewhere)."""
    environment = dict(os.environ)
    given = environment.get("GLIBC_TUNABLES")
    environment["GLIBC_TUNABLES"] = f"{given}:{HELPER_TUNABLES}" if given else HELPER_TUNABLES
    return environment
