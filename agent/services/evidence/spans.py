"""A pack's record bytes cut at line breaks into spans, checked at the same time.

``verify_pack`` first asks ``chain_holds``: the record files, taken as one run of
bytes, are cut into as many spans as there are processors to check them (up to
``helper.MAX_PROCESSES``; one for a pack under ``PARALLEL_BYTES``, where starting a
helper costs more than it saves), of about the same cost by the manifest's record
counts and the bytes, each cut moved on to the next line's start. The
spans are checked at once (``helper.check_spans``) and joined (``lines.joined_head``);
the chain holds if they make one chain from its start to the signed head and each
file has the records the manifest says. If not, ``verify_pack`` reads the pack again
in order (``chain.verify_chain``), which names the first record that breaks it: the
answer is the same as reading in order, only found sooner when the pack is sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from agent.services.evidence.chain import RecordFile
from agent.services.evidence.helper import MAX_PROCESSES, check_spans, processors
from agent.services.evidence.lines import Segment, joined_head

__all__ = ["PARALLEL_BYTES", "StoredFile", "chain_holds", "cut_spans"]

PARALLEL_BYTES = 8 << 20
#: checking a record costs about as much as checking 900 more bytes of it (a digest's
#: own cost, and its line's), so spans are cut by records and bytes, not bytes alone
RECORD_COST = 900
#: what this process checks while a helper starts (about 50 ms, in the same units): the
#: first span, checked here, is made that much longer, so that all end together
HEAD_START = 64 << 20
_WINDOW = 1 << 16

#: a span: parts of record files in chain order, each with its file's name
Span = list[tuple[str, Segment]]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A record file as the manifest lists it, and where its bytes are in the pack."""

    file: RecordFile
    offset: int
    size: int


def _line_start(stream: BinaryIO, stored: StoredFile, at: int) -> int:
    """The first line start at or after ``at`` in the file (its size if there is none)."""
    if at == 0:
        return 0
    position = at - 1  # a line starts at ``at`` if the byte before it ends a line
    while position < stored.size:
        stream.seek(stored.offset + position)
        window = stream.read(min(_WINDOW, stored.size - position))
        if not window:
            break
        found = window.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(window)
    return stored.size


def cut_spans(stream: BinaryIO, files: Sequence[StoredFile], parts: int) -> list[Span]:
    """The files' bytes in ``parts`` spans that take about as long to check (the first
    ``HEAD_START`` longer), each beginning at a line (fewer spans if the lines are too
    long to cut there); at least one, perhaps empty."""
    costs = [f.file.records * RECORD_COST + f.size for f in files]
    total = sum(costs)
    head_start = min(HEAD_START, total // (2 * parts))
    share = (total - head_start) // parts
    targets = [head_start + share * k for k in range(1, parts)]
    cuts: set[tuple[int, int]] = set()
    before = 0
    for index, (stored, cost) in enumerate(zip(files, costs, strict=True)):
        for target in targets:
            if before <= target < before + cost and stored.size:
                at = (target - before) * stored.size // cost
                at = _line_start(stream, stored, at)
                cuts.add((index, at) if at < stored.size else (index + 1, 0))
        before += cost
    spans: list[Span] = [[]]
    for index, stored in enumerate(files):
        at = 0
        for cut in sorted(offset for i, offset in cuts if i == index):
            if cut > at:
                spans[-1].append((stored.file.name, _segment(stored, at, cut)))
            spans.append([])
            at = cut
        if stored.size > at:
            spans[-1].append((stored.file.name, _segment(stored, at, stored.size)))
    return [span for span in spans if span] or [[]]


def _segment(stored: StoredFile, start: int, end: int) -> Segment:
    return Segment(stored.file.kind, stored.offset + start, end - start)


def chain_holds(
    path: Path, files: Sequence[StoredFile], head: str, processes: int | None = None
) -> bool:
    """Whether the records of ``files`` (in chain order) make the chain ``head`` ends and
    each file holds the records its manifest entry says; ``processes``: how many check
    at once (``None``: one per processor for a large pack)."""
    if processes is None:
        large = sum(f.size for f in files) >= PARALLEL_BYTES
        processes = min(processors(), MAX_PROCESSES) if large else 1
    with path.open("rb") as stream:
        spans = cut_spans(stream, files, max(processes, 1))
    found = check_spans(path, [[segment for _, segment in span] for span in spans])
    joined = joined_head(found)
    if joined is None or joined.decode("ascii") != head:
        return False
    counts = dict.fromkeys((f.file.name for f in files), 0)
    for span, checked in zip(spans, found, strict=True):
        for (name, _), count in zip(span, checked.counts, strict=True):
            counts[name] += count
    return all(counts[f.file.name] == f.file.records for f in files)
