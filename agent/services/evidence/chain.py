"""One hash chain across a pack's record files, and naming the first record that breaks it.

Each line of a record file is the canonical JSON of one record,
``{"data":{…},"kind":"scan","prev":"<hex>","seq":7}``, and its hash is
``chain_hash(prev, line)`` (``agent.security.canonical``); the next record's ``prev``
is that hash, the first record's is ``GENESIS``, and ``seq`` counts from 0 across
every file of the pack in its order. The last hash is the chain head, which the
manifest carries and the signature covers. ``lines`` writes the chain, and checks
spans of it at once (``spans``); this module reads it in order.

Reading in order is what ``verify_pack`` falls back to when the spans do not make the
signed chain, and what ``deep`` asks for. Per line it finds ``","seq":`` from the end,
compares the ``prev`` and ``seq`` there and the kind before them with what the chain
expects, and hashes the line; no JSON is parsed. Only when that fails does
``_diagnose`` look closer (the line's own tail, and the next record) to say what
happened: a record changed, one missing, two swapped. ``deep`` also decodes every
line and checks it is the canonical JSON of a record of its file's kind: eight times
slower, so it is asked for, not done by default. Without it a line's ``data`` is
checked as bytes, which is what the chain and the signature vouch for.

The stand-alone verifier in ``docs/verify_evidence.py`` follows the same rules and
words its findings the same way; the tests hold the two to each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import BinaryIO

from agent.security.canonical import GENESIS, canonical_json
from agent.services.evidence.lines import HASH_HEX, SEQ_MARK

__all__ = [
    "ChainBreak",
    "ChainBroken",
    "RecordFile",
    "verify_chain",
]

BLOCK = 4 << 20


@dataclass(frozen=True, slots=True)
class RecordFile:
    """A record file as the signed manifest lists it."""

    name: str
    kind: str
    records: int


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place the pack is not what was signed, and why."""

    file: str
    line: int | None
    seq: int | None
    reason: str

    def message(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.reason}"
        seq = "" if self.seq is None else f" (seq {self.seq})"
        return f"{self.file} line {self.line}{seq}: {self.reason}"


class ChainBroken(Exception):
    def __init__(self, found: ChainBreak) -> None:
        super().__init__(found.message())
        self.found = found


class _Lines:
    """A stream's lines, a block at a time. A last line without its line break is
    given like the others, and ``unterminated`` says so once the stream is read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.unterminated = False

    def __iter__(self) -> Iterator[list[bytes]]:
        rest = b""
        while block := self._stream.read(BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            if lines:
                yield lines
        if rest:
            self.unterminated = True
            yield [rest]


@dataclass(frozen=True, slots=True)
class _Tail:
    kind: bytes
    prev: bytes
    seq: int


def _tail(line: bytes) -> _Tail | None:
    """A line's kind, ``prev`` and ``seq`` read from its last bytes; ``None`` if malformed."""
    i = line.rfind(SEQ_MARK)
    digits, head = line[i + len(SEQ_MARK) : -1], line[: max(i - HASH_HEX, 0)]
    k, prev = head.rfind(b',"kind":'), line[i - HASH_HEX : i]
    if (
        i < HASH_HEX
        or not line.endswith(b"}")
        or not digits.isdigit()
        or k < 0
        or (digits[:1] == b"0" and digits != b"0")
        or not head.endswith(b',"prev":"')
        or len(prev) != HASH_HEX
        or any(c not in b"0123456789abcdef" for c in prev)
    ):
        return None
    return _Tail(head[k + 8 : -9], prev, int(digits))


def _deep_check(line: bytes, kind: str) -> str | None:
    """Why ``line`` is not the canonical JSON of a record of ``kind`` (``None``: it is)."""
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return "is not valid JSON"
    if not isinstance(record, dict) or set(record) != {"data", "kind", "prev", "seq"}:
        return "is not a record: it must hold exactly data, kind, prev and seq"
    if record["kind"] != kind or not isinstance(record["data"], dict):
        return f"is not a {kind} record"
    if canonical_json(record) != line:
        return "is not in canonical JSON form"
    return None


@dataclass(frozen=True, slots=True)
class _Place:
    """Where the check is: the file, the seq of its first record, and the record before."""

    file: RecordFile
    first_seq: int
    before: tuple[str, int, int] | None  # (file, line, seq) of the previous file's last

    def line_of(self, seq: int) -> int:
        return seq - self.first_seq + 1

    def record_before(self, seq: int) -> tuple[str, int, int] | None:
        if seq > self.first_seq:
            return (self.file.name, self.line_of(seq - 1), seq - 1)
        return self.before


def verify_chain(
    files: Sequence[RecordFile],
    open_file: Callable[[str], BinaryIO],
    *,
    head: str,
    deep: bool = False,
) -> int:
    """Check every record of ``files`` in order against the chain and ``head``.

    Returns the number of records; raises ``ChainBroken`` naming the first record (or
    file) that is not as signed.
    """
    sha256 = hashlib.sha256
    prev, n = GENESIS.encode("ascii"), 0
    last: tuple[str, int, int] | None = None
    for index, file in enumerate(files):
        place = _Place(file, n, last)
        marker = b',"kind":' + encode_basestring(file.kind).encode("utf-8") + b',"prev":"'
        span = len(marker) + HASH_HEX
        with open_file(file.name) as stream:
            reader = _Lines(stream)
            blocks = iter(reader)
            for lines in blocks:
                block_start = n
                for line in lines:
                    i = line.rfind(SEQ_MARK)
                    if (
                        line[i - HASH_HEX : i] != prev
                        or line[i - span : i - HASH_HEX] != marker
                        or line[i + 8 :] != b"%d}" % n
                        or (deep and _deep_check(line, file.kind) is not None)
                    ):
                        j = n - block_start
                        following = _following(lines, j, blocks, files, index, open_file)
                        found = _diagnose(line, following, prev, n, place, head, deep)
                        raise ChainBroken(found)
                    prev = sha256(prev + line).hexdigest().encode("ascii")
                    n += 1
        count = n - place.first_seq
        if reader.unterminated:
            raise ChainBroken(
                ChainBreak(file.name, count, n - 1, "cut short: no line break at its end")
            )
        if count != file.records:
            raise ChainBroken(
                ChainBreak(
                    file.name,
                    None,
                    None,
                    f"holds {count} records, the signed manifest says {file.records}",
                )
            )
        if count:
            last = (file.name, count, n - 1)
    if prev.decode("ascii") != head:
        if last is None:
            raise ChainBroken(
                ChainBreak("manifest.json", None, None, "the chain head of an empty pack is wrong")
            )
        name, line_no, seq = last
        raise ChainBroken(
            ChainBreak(name, line_no, seq, "changed: its hash is not the signed chain head")
        )
    return n


def _following(
    lines: list[bytes],
    j: int,
    blocks: Iterator[list[bytes]],
    files: Sequence[RecordFile],
    index: int,
    open_file: Callable[[str], BinaryIO],
) -> bytes | None:
    """The record after ``lines[j]`` in chain order (perhaps in the next file), or None."""
    if j + 1 < len(lines):
        return lines[j + 1]
    for later in blocks:
        return later[0]
    for file in files[index + 1 :]:
        with open_file(file.name) as stream:
            for later in _Lines(stream):
                return later[0]
    return None


def _diagnose(
    line: bytes,
    following: bytes | None,
    prev: bytes,
    n: int,
    place: _Place,
    head: str,
    deep: bool,
) -> ChainBreak:
    """What is wrong at the record expected to be seq ``n``, which the fast check refused."""
    name, line_no = place.file.name, place.line_of(n)
    tail = _tail(line)
    if tail is None or tail.kind != encode_basestring(place.file.kind).encode("utf-8"):
        return ChainBreak(name, line_no, n, "changed: it is not a well-formed record of this file")
    if tail.prev == prev:
        if tail.seq != n:
            return ChainBreak(name, line_no, n, f"changed: it says seq {tail.seq}")
        reason = _deep_check(line, place.file.kind) if deep else None
        return ChainBreak(name, line_no, n, f"changed: it {reason or 'is not as signed'}")
    next_tail = _tail(following) if following is not None else None
    if tail.seq == n:
        own_hash = hashlib.sha256(tail.prev + line).hexdigest().encode("ascii")
        if following is None:
            intact = own_hash.decode("ascii") == head
        else:
            intact = next_tail is not None and next_tail.prev == own_hash
        before = place.record_before(n)
        if intact and before is not None:
            return ChainBreak(*before, "changed: its hash is not the one the next record holds")
        return ChainBreak(
            name, line_no, n, "changed: the hash it holds for the record before it is wrong"
        )
    if tail.seq > n:
        if next_tail is not None and next_tail.seq == n:
            return ChainBreak(
                name, line_no, n, f"out of order: it holds seq {tail.seq}, and seq {n} follows it"
            )
        return ChainBreak(
            name, line_no, n, f"missing: it holds seq {tail.seq}, so record seq {n} was removed"
        )
    return ChainBreak(
        name, line_no, n, f"out of order: it holds seq {tail.seq}, a record repeated or moved"
    )
