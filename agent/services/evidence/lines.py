"""A record line on the chain, as bytes: putting a batch of records on it, and checking a span.

Each record is one line, ``{"data":{…},"kind":"…","prev":"<hex>","seq":N}``, and its hash
``sha256(prev + line)`` in hex is the next line's ``prev`` (``agent.security.canonical``).
These are the two loops a pack spends its time in, one SHA-256 per record, so they
are kept small and use the standard library only: they run in the product's process
and in the helper processes that write a pack and check parts of one
(``agent.services.evidence.helper``).

Writing is one chain, a record after another. Checking need not be: every line holds
the hash of the line before it, so a span of lines (parts of one or more files,
beginning at a line) is checked on its own, taking its first line's ``prev`` and
``seq`` as given, and whoever joins the spans checks that each begins where the one
before it ended (``joined_head``). A span only says whether it is sound; where a pack
is not, ``chain.verify_chain`` reads it again in order to name the first record that
breaks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import BinaryIO

__all__ = [
    "GENESIS",
    "Segment",
    "SpanCheck",
    "chain_lines",
    "check_span",
    "frame_batch",
    "joined_head",
    "line_format",
]

#: the ``prev`` of the first record of a chain (``agent.security.canonical.GENESIS``)
GENESIS = b"0" * 64
SEQ_MARK = b'","seq":'
HASH_HEX = 64
READ_BLOCK = 1 << 20


def _kind_json(kind: str) -> bytes:
    return encode_basestring(kind).encode("utf-8").replace(b"%", b"%%")


def line_format(kind: str) -> bytes:
    """The ``%`` template of a line of ``kind``: its data object, ``prev`` and ``seq`` go in."""
    return b'{"data":%b,"kind":' + _kind_json(kind) + b',"prev":"%b","seq":%d}'


def frame_batch(datas: Sequence[bytes]) -> bytes:
    """Data objects framed as a batch: ``[d1,\\n,d2,\\n,d3]``, each object with one byte
    on either side and a line break between (``orjson`` writes a list of them, with a
    line break between each, so in one call)."""
    return b"[" + b",\n,".join(datas) + b"]" if datas else b""


def chain_lines(template: bytes, batch: bytes, prev: bytes, seq: int) -> tuple[bytes, bytes, int]:
    """The records of a framed ``batch`` put on the chain after ``prev`` from ``seq``: their
    lines, each ended by a line break, the hash of the last, and how many."""
    sha256 = hashlib.sha256
    lines: list[bytes] = []
    append = lines.append
    for framed in batch.split(b"\n"):
        line = template % (framed[1:-1], prev, seq)
        prev = sha256(prev + line).hexdigest().encode("ascii")
        append(line)
        seq += 1
    count = len(lines)
    append(b"")
    return b"\n".join(lines), prev, count


@dataclass(frozen=True, slots=True)
class Segment:
    """Part of one record file: ``length`` bytes at ``offset`` in the pack, from a line's start."""

    kind: str
    offset: int
    length: int


@dataclass(slots=True)
class SpanCheck:
    """What a span's lines say of themselves: ``sound`` if each holds the hash of the one
    before it and the next ``seq``, each segment ends with a line break and every line is
    of its file's kind; where the span begins (the ``prev`` and ``seq`` its first record
    holds, ``None`` if it has none) and the hash of its last record."""

    sound: bool = True
    first_prev: bytes | None = None
    first_seq: int = 0
    last: bytes | None = None
    counts: list[int] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.counts)


def _start(line: bytes) -> tuple[bytes, int] | None:
    """The ``prev`` and ``seq`` a line says it follows (checked in full by the loop)."""
    i = line.rfind(SEQ_MARK)
    digits = line[i + len(SEQ_MARK) : -1]
    if i < HASH_HEX or not digits.isdigit():
        return None
    return line[i - HASH_HEX : i], int(digits)


def check_span(stream: BinaryIO, segments: Sequence[Segment]) -> SpanCheck:
    """Check the lines of ``segments`` (in chain order) as one span; stops at the first
    that is not sound."""
    sha256 = hashlib.sha256
    found = SpanCheck()
    prev, n = b"", 0
    for segment in segments:
        tail = b',"kind":' + _kind_json(segment.kind) + b',"prev":"%b","seq":%d}'
        stream.seek(segment.offset)
        left, rest, count = segment.length, b"", 0
        while left:
            block = stream.read(min(READ_BLOCK, left))
            if not block:
                found.sound = False
                return found
            left -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            if found.first_prev is None and lines:
                start = _start(lines[0])
                if start is None:
                    found.sound = False
                    return found
                (prev, n), (found.first_prev, found.first_seq) = start, start
            for line in lines:
                if not line.endswith(tail % (prev, n)):
                    found.sound = False
                    return found
                prev = sha256(prev + line).hexdigest().encode("ascii")
                n += 1
            count += len(lines)
        if rest:
            found.sound = False
            return found
        found.counts.append(count)
    found.last = prev if found.first_prev is not None else None
    return found


def joined_head(spans: Sequence[SpanCheck]) -> bytes | None:
    """The chain head if ``spans``, in order, are sound and make one chain from its start;
    ``None`` if not."""
    prev, n = GENESIS, 0
    for span in spans:
        if not span.sound:
            return None
        if span.first_prev is None:
            continue
        if span.first_prev != prev or span.first_seq != n or span.last is None:
            return None
        prev, n = span.last, n + span.records
    return prev
