"""A pack's zip written by a helper process while the product's process encodes the rows.

Writing a large pack is two halves of about the same cost: reading and encoding the
rows, and putting each record on the chain, one SHA-256 after another, which can only
go in order. The helper (``helper``: a fresh interpreter loading the standard library
and this package's byte-level modules) puts the records on the chain and keeps the
zip's structure (``archive.PackArchive``: headers, CRC-32, central directory) in the
same open file, while the product's process encodes the next batch. Records cross
both ways in shared slots (``slots``), not through the pipe:

* a batch of encoded records goes from the product's process to the helper in a slot
  (``SHARED``; a batch larger than a slot goes in the request itself, ``RECORDS``),
  and the helper answers that the slot is free as soon as it took the batch out;
* the lines the helper made go back in a slot, with where in the file they belong
  (``WRITE``), and the product's process writes them there (``os.pwrite``) and frees
  the slot over a pipe of its own. Writing half a gigabyte into the file's pages costs
  the kernel about a tenth of a second, and the product's process, which waits for
  the chain, has that time; the helper, which sets the pace, does not. Lines too
  large for a slot, lines made while no slot is free (the helper never waits for the
  product's process, which may be waiting to send it a request) and everything but
  the record lines, the helper writes itself.

The bytes are the same as ``PackArchive`` writes in one process (a test compares
them). A helper that stops fails the pack with the helper's own words; one that
cannot be started leaves the pack to be written in the product's process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from typing import IO, BinaryIO, cast

from agent.services.evidence.archive import Moment, PackArchive
from agent.services.evidence.helper import HelperFailed, helper_command
from agent.services.evidence.slots import SharedSlots

__all__ = ["ArchiveProcess", "serve"]

_FRAME = struct.Struct("<cQ")
_NAME = struct.Struct("<I")
_SLOT = struct.Struct("<IQ")
_PLACE = struct.Struct("<IQQ")
_PIPE_BYTES = 1 << 20
#: the requests: a record file begun, records (in the request, or in a shared slot),
#: the file ended, another file added, the chain's head and length asked for, the zip
#: closed
BEGIN, RECORDS, SHARED, END, ADD, HEAD, CLOSE = b"B", b"R", b"S", b"E", b"A", b"H", b"Z"
#: the helper's word that a batch's slot is free again; lines to write at a place
FREED, WRITE = b"F", b"W"
#: batches: enough for the product's process to be two ahead of the helper; a batch of
#: a thousand records is about 0.3-0.7 MB, its lines a tenth more
BATCH_SLOTS, BATCH_SLOT_BYTES = 3, 2 << 20
LINE_SLOTS, LINE_SLOT_BYTES = 3, 3 << 20
#: writes smaller than this (the zip's headers) the helper makes itself
_HANDED_BYTES = 1 << 16


class ArchiveProcess:
    """A ``PackArchive`` written by a helper process into the same open file: requests go
    over a pipe as they come, so this process need not wait for the chain.
    ``environment``: the helper's."""

    def __init__(
        self, handle: IO[bytes], when: Moment, environment: dict[str, str] | None = None
    ) -> None:
        handle.flush()
        self._handle = handle
        self._fd = handle.fileno()
        self._batches = SharedSlots.create(BATCH_SLOTS, BATCH_SLOT_BYTES)
        self._lines = SharedSlots.create(LINE_SLOTS, LINE_SLOT_BYTES)
        self._freeing: int | None = None
        shared: list[int] = []
        if self._batches is None or self._lines is None:  # both, or everything by the pipe
            self._release()
        else:
            freeing_read, self._freeing = os.pipe()
            shared = [self._batches.fd, self._lines.fd, freeing_read]
        self._free = list(range(BATCH_SLOTS)) if shared else []
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this package's own module
                helper_command("write", str(self._fd), json.dumps(when), *map(str, shared)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=[self._fd, *shared],
                env=environment,
            )
        except BaseException:
            self._release()
            raise
        finally:
            if shared:
                os.close(shared[-1])  # the helper's end of the pipe that frees line slots
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._in: IO[bytes] = self._process.stdin
        self._out: IO[bytes] = self._process.stdout
        _widen(self._in)

    def _release(self) -> None:
        for slots in (self._batches, self._lines):
            if slots is not None:
                slots.close()
        self._batches = self._lines = None
        if self._freeing is not None:
            os.close(self._freeing)
            self._freeing = None

    def _failed(self) -> HelperFailed:
        self._process.kill()
        _, err = self._process.communicate()
        said = err.decode("utf-8", "replace").strip().splitlines()
        return HelperFailed(f"the pack writer stopped: {said[-1] if said else 'no reason given'}")

    def _send(self, request: bytes, payload: bytes = b"") -> None:
        try:
            self._in.write(_FRAME.pack(request, len(payload)))
            if payload:
                self._in.write(payload)
        except BrokenPipeError:
            raise self._failed() from None

    def _flush(self) -> None:
        try:
            self._in.flush()
        except BrokenPipeError:
            raise self._failed() from None

    def _answer(self) -> tuple[bytes, bytes]:
        """The helper's next answer, after doing what it asks on the way: a batch slot it
        freed is noted, lines it hands back are written where they belong."""
        header = self._out.read(_FRAME.size)
        if len(header) != _FRAME.size:
            raise self._failed()
        answered, length = _FRAME.unpack(header)
        payload = self._out.read(length)
        if len(payload) != length:
            raise self._failed()
        if answered == FREED:
            (slot,) = _NAME.unpack(payload)
            if slot in self._free or not 0 <= slot < BATCH_SLOTS:
                raise self._failed()
            self._free.append(slot)
        elif answered == WRITE:
            self._write_lines(*_PLACE.unpack(payload))
        return answered, payload

    def _write_lines(self, slot: int, position: int, size: int) -> None:
        if self._lines is None or self._freeing is None:
            raise self._failed()
        with self._lines.view(slot, size) as view:
            done = 0
            while done < size:
                done += os.pwrite(self._fd, view[done:], position + done)
        os.write(self._freeing, _NAME.pack(slot))

    def _ask(self, request: bytes) -> bytes:
        self._send(request)
        self._flush()
        while True:
            answered, payload = self._answer()
            if answered == request:
                return payload
            if answered not in (FREED, WRITE):
                raise self._failed()

    def _free_slot(self) -> int:
        """A batch slot the helper has taken its batch from, waiting for one if none is
        (and writing the lines it hands back meanwhile)."""
        if not self._free:
            self._flush()  # the helper answers only the requests it has been sent
        while not self._free:
            if self._answer()[0] not in (FREED, WRITE):
                raise self._failed()
        return self._free.pop()

    def begin(self, name: str, kind: str) -> None:
        self._send(BEGIN, json.dumps([name, kind]).encode("utf-8"))

    def records(self, batch: bytes) -> None:
        if not batch:
            return
        if self._batches is None or len(batch) > self._batches.size:
            self._send(RECORDS, batch)
            return
        slot = self._free_slot()
        self._batches.put(slot, batch)
        self._send(SHARED, _SLOT.pack(slot, len(batch)))
        self._flush()

    def end(self) -> None:
        self._send(END)

    def chain(self) -> tuple[bytes, int]:
        """The chain's head and its number of records so far."""
        head, count = json.loads(self._ask(HEAD))
        return head.encode("ascii"), int(count)

    def add(self, name: str, data: bytes) -> None:
        encoded = name.encode("utf-8")
        self._send(ADD, _NAME.pack(len(encoded)) + encoded + data)

    def close(self) -> None:
        self._ask(CLOSE)
        self._in.close()
        if self._process.wait() != 0:
            raise self._failed()
        self._release()
        self._handle.seek(0, os.SEEK_END)  # the helper wrote through the same open file

    def abandon(self) -> None:
        """Stop the helper, whatever it was doing (the pack is not finished)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()
        self._release()


def _widen(pipe: IO[bytes]) -> None:
    """A larger pipe, so the sender can be a batch ahead (Linux; elsewhere as it is)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


# -- in the helper ----------------------------------------------------------------------


class _HandedFile:
    """The pack file as the helper's zip writes it: record lines are handed to the
    product's process to write at their place (``WRITE``), everything else is written
    here; the position moves on either way."""

    def __init__(
        self, handle: BinaryIO, lines: SharedSlots, freeing: int, answers: BinaryIO
    ) -> None:
        self._handle, self._lines, self._freeing = handle, lines, freeing
        self._answers = answers
        self._free = list(range(lines.count))
        os.set_blocking(freeing, False)

    def write(self, data: bytes) -> int:
        size = len(data)
        slot = self._slot() if _HANDED_BYTES <= size <= self._lines.size else None
        if slot is None:
            return self._handle.write(data)
        self._lines.put(slot, data)
        position = self._handle.tell()
        self._handle.seek(size, os.SEEK_CUR)
        self._answers.write(_FRAME.pack(WRITE, _PLACE.size) + _PLACE.pack(slot, position, size))
        self._answers.flush()
        return size

    def _slot(self) -> int | None:
        """A free line slot, or ``None`` if the product's process has freed none yet: then
        the lines are written here rather than waited for, since the product's process
        may itself be waiting for this one to read a request."""
        if not self._free:
            try:
                freed = os.read(self._freeing, _NAME.size * self._lines.count)
            except BlockingIOError:
                return None
            if not freed:
                raise EOFError("the product's process stopped writing")
            self._free += [slot for (slot,) in _NAME.iter_unpack(freed)]
        return self._free.pop()

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def flush(self) -> None:
        self._handle.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the product's process stopped sending")
    return data


def serve(fd: int, when: Moment, shared: list[int], requests: BinaryIO, answers: BinaryIO) -> int:
    """The helper's side: ``shared`` holds the descriptors of the batch slots, the line
    slots and the pipe line slots are freed on (none: everything crosses the pipe)."""
    batches: SharedSlots | None = None
    with os.fdopen(fd, "wb", closefd=False) as handle:
        target: BinaryIO = handle
        if shared:
            batches = SharedSlots.attach(shared[0], BATCH_SLOTS)
            lines = SharedSlots.attach(shared[1], LINE_SLOTS)
            target = cast(BinaryIO, _HandedFile(handle, lines, shared[2], answers))
        archive = PackArchive(target, when)
        while True:
            request, length = _FRAME.unpack(_read_exactly(requests, _FRAME.size))
            payload = _read_exactly(requests, length) if length else b""
            if request == SHARED:
                if batches is None:
                    raise ValueError("a batch in shared memory, but none was given")
                slot, size = _SLOT.unpack(payload)
                batch = batches.take(slot, size)
                answers.write(_FRAME.pack(FREED, _NAME.size) + _NAME.pack(slot))
                answers.flush()
                archive.records(batch)
            elif request == RECORDS:
                archive.records(payload)
            elif request == BEGIN:
                archive.begin(*json.loads(payload))
            elif request == END:
                archive.end()
            elif request == ADD:
                (size,) = _NAME.unpack(payload[: _NAME.size])
                name = payload[_NAME.size : _NAME.size + size].decode("utf-8")
                archive.add(name, payload[_NAME.size + size :])
            elif request == HEAD:
                answer = json.dumps([archive.head.decode("ascii"), archive.count]).encode()
                answers.write(_FRAME.pack(HEAD, len(answer)) + answer)
                answers.flush()
            elif request == CLOSE:
                archive.close()
                handle.flush()
                answers.write(_FRAME.pack(CLOSE, 0))
                answers.flush()
                return 0
            else:
                raise ValueError(f"unknown request {request!r}")
