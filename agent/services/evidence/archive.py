"""A pack's zip as it is written: record files on one chain, then the other files.

Every member is stored, not deflated, and owner-only, dated when the pack was built
(``agent.services.evidence.pack`` says why). The records come in batches of data
objects (``lines.frame_batch``) and are put on the chain here (``lines.chain_lines``).
Standard library only: the same archive is written in the product's process or, for a
pack written to a file, in a helper process while the product's process reads and
encodes the next rows (``agent.services.evidence.helper``).
"""

from __future__ import annotations

import contextlib
import zipfile
from typing import IO, Protocol

from agent.services.evidence.lines import GENESIS, chain_lines, line_format

__all__ = ["Archive", "Moment", "PackArchive", "entry"]

Moment = tuple[int, int, int, int, int, int]


def entry(name: str, when: Moment) -> zipfile.ZipInfo:
    """A stored, owner-only member dated ``when`` (year, month, day, hour, minute, second)."""
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    return info


class Archive(Protocol):
    """What writing a pack asks of its archive, here or in a helper process."""

    def begin(self, name: str, kind: str) -> None: ...
    def records(self, batch: bytes) -> None: ...
    def end(self) -> None: ...
    def chain(self) -> tuple[bytes, int]: ...
    def add(self, name: str, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abandon(self) -> None: ...


class PackArchive:
    """Writes a pack's members to ``handle``: ``begin`` a record file, add its ``records``,
    ``end`` it; ``add`` any other file; ``close``. (Writing the zip from a thread of its
    own, its CRC-32 and writes outside the interpreter lock, measured no faster: both
    processors are busy already, and the hand-over cost more than it saved.)"""

    def __init__(self, handle: IO[bytes], when: Moment) -> None:
        self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True)
        self._when = when
        self._member: IO[bytes] | None = None
        self._template = b""
        self.head, self.count = GENESIS, 0

    def begin(self, name: str, kind: str) -> None:
        self.end()
        self._member = self._zip.open(entry(name, self._when), "w", force_zip64=True)
        self._template = line_format(kind)

    def records(self, batch: bytes) -> None:
        """The records whose data objects ``batch`` holds (``lines.frame_batch``)."""
        if self._member is None:
            raise RuntimeError("records outside a record file")
        if batch:
            lines, self.head, count = chain_lines(self._template, batch, self.head, self.count)
            self.count += count
            self._member.write(lines)

    def end(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None

    def chain(self) -> tuple[bytes, int]:
        """The chain's head and its number of records so far."""
        return self.head, self.count

    def add(self, name: str, data: bytes) -> None:
        self.end()
        self._zip.writestr(entry(name, self._when), data)

    def close(self) -> None:
        self.end()
        self._zip.close()

    def abandon(self) -> None:
        """Close what can be closed of an unfinished pack (whoever opened the file removes
        it); the error that stopped it is the one worth reporting, not this one's."""
        with contextlib.suppress(OSError, ValueError):
            self.close()
