"""Helper processes: a pack written, and parts of one checked, beside the product's process.

A chain costs one SHA-256 per record, and Python computes one at a time, so a large
pack keeps one processor busy where the machine has more (``bench/evidence``). Two
jobs are handed to a helper, a fresh interpreter that loads nothing but the standard
library and this package's byte-level modules (``lines``, ``archive``), so each adds
little memory:

* **write**: the helper writes the pack's zip (``archive.PackArchive``) into the same
  open file, putting each batch on the chain, while the product's process reads and
  encodes the next rows and hands them over in shared memory (``slots``), or over the
  pipe where there is none (``ArchiveProcess``);
* **check**: the record bytes are cut at line breaks into spans, one per processor
  (up to ``MAX_PROCESSES``); the first is checked in the product's process and each
  other in a helper at the same time (``check_spans``), and the spans are joined
  (``lines.joined_head``).

A helper that cannot be started, or stops, never makes a bad pack pass or a wrong one:
a check then reads the pack in order in the product's process; a write that cannot
start one is done in the product's process, and one whose helper stops fails with
the helper's own words.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, BinaryIO

from agent.services.evidence.archive import Moment, PackArchive
from agent.services.evidence.lines import Segment, SpanCheck, check_span
from agent.services.evidence.slots import SLOT_BYTES, SLOTS, SharedSlots

__all__ = ["MAX_PROCESSES", "ArchiveProcess", "HelperFailed", "check_spans", "main", "processors"]

MAX_PROCESSES = 4
_ROOT = str(Path(__file__).resolve().parents[3])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from agent.services.evidence.helper import main; sys.exit(main(sys.argv[2:]))"
)
_FRAME = struct.Struct("<cQ")
_NAME = struct.Struct("<I")
_SLOT = struct.Struct("<IQ")
_PIPE_BYTES = 1 << 20
#: the writer's requests: a record file begun, records (in the request, or in a shared
#: slot), the file ended, another file added, the chain's head and length asked for,
#: the zip closed
BEGIN, RECORDS, SHARED, END, ADD, HEAD, CLOSE = b"B", b"R", b"S", b"E", b"A", b"H", b"Z"
#: the writer's word that a shared slot's batch was taken and the slot may be written
FREED = b"F"


class HelperFailed(OSError):
    """A helper process could not do its part; the message says why."""


def processors() -> int:
    """How many processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _command(*args: str) -> list[str]:
    # -I -S: no site-packages, no environment variables, no current directory on the path
    return [sys.executable, "-I", "-S", "-c", _BOOT, _ROOT, *args]


def _widen(pipe: IO[bytes]) -> None:
    """A larger pipe, so the sender can be a batch ahead (Linux; elsewhere as it is)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


# -- checking -------------------------------------------------------------------------


def _span_json(found: SpanCheck) -> str:
    return json.dumps(
        {
            "sound": found.sound,
            "first_prev": None if found.first_prev is None else found.first_prev.decode("ascii"),
            "first_seq": found.first_seq,
            "last": None if found.last is None else found.last.decode("ascii"),
            "counts": found.counts,
        }
    )


def _span_from(text: str) -> SpanCheck:
    fields = json.loads(text)
    first, last = fields["first_prev"], fields["last"]
    return SpanCheck(
        sound=fields["sound"] is True,
        first_prev=None if first is None else first.encode("ascii"),
        first_seq=int(fields["first_seq"]),
        last=None if last is None else last.encode("ascii"),
        counts=[int(c) for c in fields["counts"]],
    )


def check_spans(path: Path, spans: Sequence[Sequence[Segment]]) -> list[SpanCheck]:
    """Each span of the file at ``path`` checked: the first here, each other in a helper
    process at the same time. A helper that fails reports its span unsound."""
    helpers: list[subprocess.Popen[str]] = []
    try:
        for span in spans[1:]:
            segments = json.dumps([[s.kind, s.offset, s.length] for s in span])
            helpers.append(
                subprocess.Popen(  # noqa: S603 - this interpreter, this package's own module
                    _command("check", str(path), segments),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
    except OSError:  # none can be started: this process checks every span
        _stop(helpers)
        helpers = []
    try:
        with path.open("rb") as stream:
            found = [check_span(stream, spans[0])]
            if not helpers:  # none could be started: this process checks them all
                found += [check_span(stream, span) for span in spans[1:]]
        for helper in helpers:
            out, _ = helper.communicate()
            try:
                found.append(_span_from(out) if helper.returncode == 0 else SpanCheck(False))
            except (ValueError, KeyError, TypeError):
                found.append(SpanCheck(False))
        return found
    finally:
        _stop(helpers)


def _stop(helpers: Sequence[subprocess.Popen[str]]) -> None:
    for helper in helpers:
        if helper.poll() is None:
            helper.kill()
            helper.wait()


def _serve_check(path: str, segments: str) -> int:
    with open(path, "rb") as stream:
        found = check_span(stream, [Segment(k, o, n) for k, o, n in json.loads(segments)])
    sys.stdout.write(_span_json(found))
    return 0


# -- writing --------------------------------------------------------------------------


class ArchiveProcess:
    """A ``PackArchive`` written by a helper process into the same open file: requests go
    over a pipe as they come, so this process need not wait for the chain, and batches
    of records in shared slots (``slots``), each written again once the helper has
    answered that it took the batch out. ``environment``: the helper's."""

    def __init__(
        self, handle: IO[bytes], when: Moment, environment: dict[str, str] | None = None
    ) -> None:
        handle.flush()
        self._handle = handle
        fd = handle.fileno()
        self._slots = SharedSlots.create()
        self._free = list(range(SLOTS)) if self._slots is not None else []
        shared = () if self._slots is None else (self._slots.fd,)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this package's own module
                _command("write", str(fd), json.dumps(when), *map(str, shared)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(fd, *shared),
                env=environment,
            )
        except BaseException:
            self._release()
            raise
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._in: IO[bytes] = self._process.stdin
        self._out: IO[bytes] = self._process.stdout
        _widen(self._in)

    def _release(self) -> None:
        if self._slots is not None:
            self._slots.close()
            self._slots = None

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
        """The helper's next answer; a slot it freed is taken note of on the way."""
        header = self._out.read(_FRAME.size)
        if len(header) != _FRAME.size:
            raise self._failed()
        answered, length = _FRAME.unpack(header)
        payload = self._out.read(length)
        if len(payload) != length:
            raise self._failed()
        if answered == FREED:
            (slot,) = _NAME.unpack(payload)
            if slot in self._free or not 0 <= slot < SLOTS:
                raise self._failed()
            self._free.append(slot)
        return answered, payload

    def _ask(self, request: bytes) -> bytes:
        self._send(request)
        self._flush()
        while True:
            answered, payload = self._answer()
            if answered == request:
                return payload
            if answered != FREED:
                raise self._failed()

    def _free_slot(self) -> int:
        """A slot the helper has taken its batch from, waiting for one if none is."""
        if not self._free:
            self._flush()  # the helper frees slots only for the requests it has been sent
            if self._answer()[0] != FREED:
                raise self._failed()
        return self._free.pop()

    def begin(self, name: str, kind: str) -> None:
        self._send(BEGIN, json.dumps([name, kind]).encode("utf-8"))

    def records(self, batch: bytes) -> None:
        if not batch:
            return
        if self._slots is None or len(batch) > SLOT_BYTES:
            self._send(RECORDS, batch)
            return
        slot = self._free_slot()
        self._slots.put(slot, batch)
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


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the product's process stopped sending")
    return data


def _serve_write(
    fd: int, when: Moment, slots: SharedSlots | None, requests: BinaryIO, answers: BinaryIO
) -> int:
    with os.fdopen(fd, "wb", closefd=False) as handle:
        archive = PackArchive(handle, when)
        while True:
            request, length = _FRAME.unpack(_read_exactly(requests, _FRAME.size))
            payload = _read_exactly(requests, length) if length else b""
            if request == SHARED:
                if slots is None:
                    raise ValueError("a batch in shared memory, but none was given")
                slot, size = _SLOT.unpack(payload)
                batch = slots.take(slot, size)
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


def main(argv: list[str]) -> int:
    """A helper process: ``check PATH SEGMENTS`` or ``write FD WHEN [SLOTS_FD]``. What
    stops it is said in one line on stderr, which the product's process reports."""
    role, *args = argv
    try:
        if role == "check":
            return _serve_check(*args)
        if role == "write":
            when = tuple(json.loads(args[1]))
            slots = SharedSlots.attach(int(args[2])) if len(args) > 2 else None
            return _serve_write(int(args[0]), when, slots, sys.stdin.buffer, sys.stdout.buffer)
        raise ValueError(f"unknown role {role!r}")
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(1)  # not through the half-written zip's finalizer, which would say more
