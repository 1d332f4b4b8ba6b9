"""Shared memory that batches of encoded records cross to the pack writer's helper in.

While a pack is written, every record crosses from the product's process, which
encodes it, to the helper process that puts it on the chain (``helper``). Through a
pipe, each byte is copied into the kernel and out again, and the pipe's pages are
found and freed for every batch: about a tenth of a second of processor time on each
side for a million records, on the helper's side too, which sets the pace of the
build (``bench/evidence``). Here the product's process copies a batch into one of a
few slots of a memory file both processes map and sends only which slot and how long;
the helper copies the batch out and answers that the slot is free again. A batch
larger than a slot, or a system without memory files, goes through the pipe as before.

Standard library only: the helper loads this module.
"""

from __future__ import annotations

import mmap
import os

__all__ = ["SLOTS", "SLOT_BYTES", "SharedSlots"]

#: enough for the product's process to be two batches ahead of the helper
SLOTS = 3
#: a batch of a thousand records is about 0.3-0.7 MB
SLOT_BYTES = 2 << 20


class SharedSlots:
    """``SLOTS`` slots of ``SLOT_BYTES`` in a memory file, mapped by the process that made
    it (``create``) and by the helper it hands the file's descriptor to (``attach``)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, SLOTS * SLOT_BYTES)

    @classmethod
    def create(cls) -> SharedSlots | None:
        """New slots, or ``None`` where this system has no memory files (not Linux)."""
        try:
            fd = os.memfd_create("accessrecon-pack-batches", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            return None
        try:
            os.ftruncate(fd, SLOTS * SLOT_BYTES)
            return cls(fd)
        except (OSError, ValueError):
            os.close(fd)
            return None

    @classmethod
    def attach(cls, fd: int) -> SharedSlots:
        """The slots whose memory file another process made and passed as ``fd``."""
        return cls(fd)

    def put(self, slot: int, batch: bytes) -> None:
        start = slot * SLOT_BYTES
        self._map[start : start + len(batch)] = batch

    def take(self, slot: int, size: int) -> bytes:
        """A copy of the ``size`` bytes in ``slot``: the slot may be written again at once."""
        if not 0 <= slot < SLOTS or not 0 <= size <= SLOT_BYTES:
            raise ValueError(f"no batch of {size} bytes in slot {slot}")
        start = slot * SLOT_BYTES
        return self._map[start : start + size]

    def close(self) -> None:
        self._map.close()
        os.close(self.fd)
