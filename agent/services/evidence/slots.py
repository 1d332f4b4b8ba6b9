"""Shared memory that records cross in between the product's process and the pack writer.

While a pack is written, every record crosses from the product's process, which
encodes it, to the helper process that puts it on the chain, and its line crosses
back to be written to the file (``writer``). Through a pipe, each byte is copied into
the kernel and out again, and the pipe's pages are found and freed for every batch:
about a tenth of a second of processor time on each side for a million records
(``bench/evidence``). Here one process copies a batch into one of a few slots of a
memory file both processes map and sends only which slot and how long; the other
takes it out and answers that the slot is free again. Whatever does not fit a slot,
or a system without memory files, goes the way it went before.

Standard library only: the helper loads this module.
"""

from __future__ import annotations

import mmap
import os

__all__ = ["SharedSlots"]


class SharedSlots:
    """``count`` slots of ``size`` bytes in a memory file, mapped by the process that made
    it (``create``) and by the helper it hands the file's descriptor to (``attach``)."""

    def __init__(self, fd: int, count: int, size: int) -> None:
        self.fd, self.count, self.size = fd, count, size
        self._map = mmap.mmap(fd, count * size)
        self._view = memoryview(self._map)

    @classmethod
    def create(cls, count: int, size: int) -> SharedSlots | None:
        """New slots, or ``None`` where this system has no memory files (not Linux)."""
        try:
            fd = os.memfd_create("accessrecon-pack", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            return None
        try:
            os.ftruncate(fd, count * size)
            return cls(fd, count, size)
        except (OSError, ValueError):
            os.close(fd)
            return None

    @classmethod
    def attach(cls, fd: int, count: int) -> SharedSlots:
        """The ``count`` slots whose memory file another process made and passed as
        ``fd``; the file's size says how large each is."""
        size, rest = divmod(os.fstat(fd).st_size, count)
        if rest or not size:
            raise ValueError(f"a memory file of {count} slots is {size * count + rest} bytes")
        return cls(fd, count, size)

    def put(self, slot: int, data: bytes) -> None:
        start = self._start(slot, len(data))
        self._map[start : start + len(data)] = data

    def take(self, slot: int, size: int) -> bytes:
        """A copy of the ``size`` bytes in ``slot``: the slot may be written again at once."""
        start = self._start(slot, size)
        return self._map[start : start + size]

    def view(self, slot: int, size: int) -> memoryview:
        """The ``size`` bytes in ``slot`` as they are, not copied (until the slot is freed)."""
        start = self._start(slot, size)
        return self._view[start : start + size]

    def _start(self, slot: int, size: int) -> int:
        if not 0 <= slot < self.count or not 0 <= size <= self.size:
            raise ValueError(f"no room for {size} bytes in slot {slot}")
        return slot * self.size

    def close(self) -> None:
        self._view.release()
        self._map.close()
        os.close(self.fd)
