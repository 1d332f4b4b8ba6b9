"""An evidence pack: building the signed zip for a period, and checking one.

The zip holds one JSON Lines file per kind of record in the chain's order
(``records``), the summary as a workbook, as the HTML page and as that page printed
to PDF, and ``manifest.json`` last: the files and their counts, the chain head, the
summary files' SHA-256 and the public key, signed (``manifest``). Every member is
stored, not deflated: deflating (zlib level 1) made a million-record pack seven times
smaller but added a quarter to the build and an inflate pass to every check
(``bench/evidence``); a pack sent away can be compressed for the journey. The file is
written beside its destination and renamed into place, owner-only
(``agent.filemodes``): a pack is whole or absent. Rows are read and encoded here a
batch at a time (``shapes``) while a helper process puts them on the chain and
writes the zip (``archive``, ``helper``): the two halves of the work take about as
long, and a chain can only be computed one record after another.

Checking reads the members' bytes straight from the zip, since the chain covers
every byte of every record and the zip's own CRC would only add a second pass. The
checks, in order, each failing with the first thing that is not as signed:

1. the zip: each member once, stored, none the manifest does not list;
2. the manifest's shape, and its key: the key the checker trusts (the practice's
   own, or one given), which a re-signed manifest carrying another key fails;
3. the signature of the manifest's signed part under that key;
4. the chain against the signed head and the files' counts: in spans checked at
   once, by this process and helpers (``spans``), and where they do not hold, record
   by record in order (``chain.verify_chain``) to name the first that breaks it;
5. each summary file against its signed SHA-256.

``docs/verify_evidence.py`` makes the same checks in the same order with the
standard library and ``cryptography`` only, for an auditor without the product.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import IO, BinaryIO

from sqlmodel import Session

from agent.filemodes import open_private
from agent.reports.evidence_summary import summary_html, write_summary_xlsx
from agent.security.canonical import jsonable
from agent.security.signing import SigningKey, fingerprint, signature_holds
from agent.services.evidence.allocator import helper_environment, large_blocks_kept
from agent.services.evidence.archive import Archive, Moment, PackArchive
from agent.services.evidence.chain import ChainBroken, RecordFile, verify_chain
from agent.services.evidence.kinds import RecordKind, rows_of
from agent.services.evidence.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    SummaryFile,
    parse_manifest,
)
from agent.services.evidence.period import Period
from agent.services.evidence.records import KINDS, PRODUCT_VERSION
from agent.services.evidence.spans import StoredFile, chain_holds
from agent.services.evidence.summary import EvidenceSummary, summarise
from agent.services.evidence.writer import ArchiveProcess

__all__ = [
    "PackInvalid",
    "PackReport",
    "PackResult",
    "build_pack",
    "open_member",
    "verify_pack",
    "write_pack",
]

SUMMARY_XLSX = "summary/evidence-summary.xlsx"
SUMMARY_HTML = "summary/evidence-summary.html"
SUMMARY_PDF = "summary/evidence-summary.pdf"
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_LOCAL_MAGIC = b"PK\x03\x04"
#: rows encoded and sent on at a time: large enough that orjson's one call and the
#: pipe's one write pay off, small enough for a batch to wait in the pipe
BATCH = 1_000


@dataclass(frozen=True, slots=True)
class PackResult:
    path: Path
    manifest: Manifest
    summary: EvidenceSummary
    sha256: str


class PackInvalid(Exception):
    """The pack is not what was signed; the message names the first place it differs."""


@dataclass(frozen=True, slots=True)
class PackReport:
    manifest: Manifest
    trusted: bool

    @property
    def records(self) -> int:
        return self.manifest.records

    def lines(self) -> list[str]:
        """What a successful check prints (``docs/verify_evidence.py`` prints the same)."""
        m = self.manifest
        period = f"{m.period_from} to {m.period_to}"
        if m.records == 0:
            first = f"OK: no records in this period ({period})"
        else:
            first = f"OK: {m.records} records from {period}, chain head {m.chain_head[:16]}"
        lines = [first]
        lines += [f"  {f.name}: {f.records} records" for f in m.files]
        lines.append(f"signed by key {m.key_fingerprint}")
        return lines


#: what a pack is written from: each kind of record with its rows, in the chain's order
Records = Iterable[tuple[RecordKind, Iterable[Sequence[object]]]]
#: the summary files for the records' counts per kind: (name in the pack, content)
Summary = Callable[[dict[str, int]], list[tuple[str, bytes]]]


def build_pack(
    session: Session,
    period: Period,
    path: Path,
    key: SigningKey,
    *,
    now: datetime,
    print_pdf: Callable[[str], bytes] | None = None,
) -> PackResult:
    """Write the signed pack of ``period`` to ``path``; ``print_pdf`` prints the summary
    page (the command line passes Chromium's), otherwise the pack has no PDF."""
    made: list[EvidenceSummary] = []

    def summary_files(counts: dict[str, int]) -> list[tuple[str, bytes]]:
        summary = summarise(session, period, records=counts, now=now)
        made.append(summary)
        with tempfile.TemporaryDirectory() as scratch:  # 0700: only the owner reads it
            workbook = Path(scratch) / "summary.xlsx"
            write_summary_xlsx(summary, workbook)
            xlsx = workbook.read_bytes()
        html = summary_html(summary)
        content = [(SUMMARY_XLSX, xlsx), (SUMMARY_HTML, html.encode("utf-8"))]
        if print_pdf is not None:
            content.append((SUMMARY_PDF, print_pdf(html)))
        return content

    records = ((kind, rows_of(session, kind, period)) for kind in KINDS)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open_private(partial, "wb") as handle:
            manifest = write_pack(handle, period, records, summary_files, key, now=now)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return PackResult(path, manifest, made[0], digest.hexdigest())


def write_pack(
    handle: IO[bytes],
    period: Period,
    records: Records,
    summary: Summary,
    key: SigningKey,
    *,
    now: datetime,
    helper: bool = True,
) -> Manifest:
    """Write a pack to ``handle``: the records on one chain, the summary, the signed
    manifest (``bench/evidence`` times this with rows made in memory). With ``helper``
    and ``handle`` an open file, a helper process writes the zip while this one reads
    and encodes rows; the bytes are the same either way."""
    archive = _archive(handle, now.timetuple()[:6], helper=helper)
    try:
        files: list[RecordFile] = []
        with _collection_paused(), large_blocks_kept():
            for kind, rows in records:
                archive.begin(kind.file, kind.name)
                count = 0
                for batch in _batches(rows):
                    archive.records(kind.shape.encode(batch))
                    count += len(batch)
                archive.end()
                files.append(RecordFile(kind.file, kind.name, count))
        head, chained = archive.chain()
        if chained != sum(f.records for f in files):  # a batch framed wrongly: never signed
            raise RuntimeError(
                f"the chain holds {chained} records where {sum(f.records for f in files)} "
                "were written"
            )
        summary_files: list[SummaryFile] = []
        for name, data in summary({f.kind: f.records for f in files}):
            archive.add(name, data)
            summary_files.append(SummaryFile(name, hashlib.sha256(data).hexdigest()))
        unsigned = Manifest(
            period_from=period.first_day.isoformat(),
            period_to=period.last_day.isoformat(),
            generated_at=str(jsonable(now)),
            product_version=PRODUCT_VERSION,
            files=tuple(files),
            chain_head=head.decode("ascii"),
            summary=tuple(summary_files),
            public_key=key.public_raw,
        )
        manifest = replace(unsigned, signature=key.sign(unsigned.signed_bytes()))
        archive.add(MANIFEST_NAME, manifest.to_json())
        archive.close()
    except BaseException:
        archive.abandon()
        raise
    return manifest


def _archive(handle: IO[bytes], when: Moment, *, helper: bool) -> Archive:
    """A helper process's archive where ``handle`` is a file it can write too, else this one's."""
    if helper:
        try:
            if handle.seekable():
                handle.fileno()
                return ArchiveProcess(handle, when, helper_environment())
        except (OSError, ValueError):  # no file descriptor, no process, no pass_fds here
            pass
    return PackArchive(handle, when)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The cycle collector paused while rows stream through. Rows, their dicts and their
    bytes hold no cycles and are freed as each batch is done, but batches that outlive
    a young collection are moved to the oldest generation, whose growth has Python walk
    every object of the process (the whole ORM's) again and again: a fifth of a large
    build's time (``bench/evidence``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batches(rows: Iterable[Sequence[object]]) -> Iterator[list[Sequence[object]]]:
    remaining = iter(rows)
    while batch := list(islice(remaining, BATCH)):
        yield batch


# -- checking -------------------------------------------------------------------------


class _Member(io.RawIOBase):
    """A stored member's bytes, read straight from the zip file."""

    def __init__(self, path: Path, info: zipfile.ZipInfo) -> None:
        self._file = path.open("rb")
        try:
            self._file.seek(_data_start(self._file, info))
        except PackInvalid:
            self._file.close()
            raise
        self._left = info.compress_size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


def _data_start(stream: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes begin: after its local header, name and extra field."""
    stream.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(stream.read(_LOCAL_HEADER.size))
    if header[0] != _LOCAL_MAGIC:
        raise PackInvalid(f"{info.filename}: the zip entry is damaged")
    name_length, extra_length = header[-2], header[-1]
    return int(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def open_member(path: Path, info: zipfile.ZipInfo) -> BinaryIO:
    """A stored member of the zip at ``path``, to read as a file."""
    return _Member(path, info)  # type: ignore[return-value]


def _members(path: Path) -> dict[str, zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as pack:
            infos = pack.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackInvalid(f"{path.name}: not a readable zip file ({exc})") from None
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in members:
            raise PackInvalid(f"{info.filename}: in the pack twice")
        if info.compress_type != zipfile.ZIP_STORED:
            raise PackInvalid(f"{info.filename}: compressed, but a pack's files are stored")
        members[info.filename] = info
    return members


def _chain_holds(
    path: Path, members: dict[str, zipfile.ZipInfo], manifest: Manifest, processes: int | None
) -> bool:
    """The fast check of the chain; where it does not hold, ``verify_chain`` says why."""
    with path.open("rb") as stream:
        stored = [
            StoredFile(f, _data_start(stream, info), info.compress_size)
            for f in manifest.files
            for info in [members[f.name]]
        ]
    return chain_holds(path, stored, manifest.chain_head, processes)


def _read(path: Path, info: zipfile.ZipInfo) -> bytes:
    with _Member(path, info) as member:
        return member.read()


def verify_pack(
    path: Path,
    *,
    trusted_key: bytes | None,
    deep: bool = False,
    processes: int | None = None,
) -> PackReport:
    """Check the pack at ``path``; ``trusted_key`` is the raw public key it must be signed
    with (``None``: the key it carries, which proves only that it is intact).
    ``processes``: how many check the chain at once (``None``: one per processor for a
    large pack; ``spans``)."""
    members = _members(path)
    if MANIFEST_NAME not in members:
        raise PackInvalid(f"{MANIFEST_NAME}: missing from the pack")
    try:
        manifest = parse_manifest(_read(path, members[MANIFEST_NAME]))
    except ManifestError as exc:
        raise PackInvalid(str(exc)) from None
    key = manifest.public_key if trusted_key is None else trusted_key
    if manifest.public_key != key:
        raise PackInvalid(
            f"{MANIFEST_NAME}: signed with key {manifest.key_fingerprint}, "
            f"not with the trusted key {fingerprint(key)}"
        )
    if not signature_holds(key, manifest.signature, manifest.signed_bytes()):
        raise PackInvalid(
            f"{MANIFEST_NAME}: the signature does not verify with key {fingerprint(key)}: "
            "the manifest was changed after it was signed"
        )
    listed = {f.name for f in manifest.files} | {s.name for s in manifest.summary}
    for name in members:
        if name != MANIFEST_NAME and name not in listed:
            raise PackInvalid(f"{name}: not listed in the signed manifest")
    for name in sorted(listed - set(members)):
        raise PackInvalid(f"{name}: missing from the pack")
    try:
        if deep or not _chain_holds(path, members, manifest, processes):
            verify_chain(
                manifest.files,
                lambda name: open_member(path, members[name]),
                head=manifest.chain_head,
                deep=deep,
            )
    except ChainBroken as exc:
        raise PackInvalid(exc.found.message()) from None
    for summary in manifest.summary:
        if hashlib.sha256(_read(path, members[summary.name])).hexdigest() != summary.sha256:
            raise PackInvalid(
                f"{summary.name}: changed: its SHA-256 is not the one the signed manifest holds"
            )
    return PackReport(manifest, trusted=trusted_key is not None)
