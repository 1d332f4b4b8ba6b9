"""Packs written and checked with helper processes: the same bytes and the same findings as
in one process, rows from the database encoded the fast way, and a helper that cannot
start or fails never lets a pack pass."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.security.signing import SigningKey
from agent.services.evidence import slots, writer
from agent.services.evidence.helper import HelperFailed
from agent.services.evidence.kinds import RecordKind, rows_of
from agent.services.evidence.pack import (
    PackInvalid,
    PackResult,
    _data_start,
    _members,
    build_pack,
    verify_pack,
    write_pack,
)
from agent.services.evidence.period import Period
from agent.services.evidence.records import KINDS, OBSERVATIONS
from agent.services.evidence.spans import StoredFile, cut_spans
from tests.evidence.world import (
    build_world,
    lines_of,
    make_pack,
    new_key,
    today_period,
    with_lines,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def key() -> SigningKey:
    return new_key()


@pytest.fixture
def built(engine: Engine, key: SigningKey, tmp_path: Path) -> PackResult:
    build_world(engine, tmp_path)
    return make_pack(engine, tmp_path / "pack.zip", key, today_period())


def _stored(pack: Path) -> list[StoredFile]:
    members, manifest = _members(pack), verify_pack(pack, trusted_key=None).manifest
    with pack.open("rb") as stream:
        return [
            StoredFile(f, _data_start(stream, members[f.name]), members[f.name].compress_size)
            for f in manifest.files
        ]


@pytest.mark.parametrize("processes", [1, 2, 3, 5])
def test_a_sound_pack_verifies_however_many_processes_check_it(
    built: PackResult, key: SigningKey, processes: int
) -> None:
    report = verify_pack(built.path, trusted_key=key.public_raw, processes=processes)
    assert report.records == built.manifest.records > 20


@pytest.mark.parametrize("parts", range(1, 8))
def test_spans_hold_every_record_once_in_order_each_beginning_at_a_line(
    built: PackResult, parts: int
) -> None:
    stored = _stored(built.path)
    data = built.path.read_bytes()
    with built.path.open("rb") as stream:
        spans = cut_spans(stream, stored, parts)
    assert 1 <= len(spans) <= parts
    if parts > 1:
        assert len(spans) > 1  # the records are many short lines: they can be cut
    pieces: dict[str, list[bytes]] = {f.file.name: [] for f in stored}
    for span in spans:
        for name, segment in span:
            start = next(f for f in stored if f.file.name == name).offset
            piece = data[segment.offset : segment.offset + segment.length]
            assert segment.offset == start or data[segment.offset - 1 : segment.offset] == b"\n"
            assert piece.endswith(b"\n")
            pieces[name].append(piece)
    for f in stored:
        assert b"".join(pieces[f.file.name]) == data[f.offset : f.offset + f.size]


def test_a_changed_record_is_named_alike_by_one_process_and_by_helpers(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    name = "records/02-observations.jsonl"
    lines = lines_of(built.path, name)
    lines[3] = lines[3].replace(b'"status":"active"', b'"status":"activE"', 1)
    pack = with_lines(built.path, tmp_path / "changed.zip", name, lines)
    messages = set()
    for processes in (1, 2, 4):
        with pytest.raises(PackInvalid) as refused:
            verify_pack(pack, trusted_key=key.public_raw, processes=processes)
        messages.add(str(refused.value))
    assert messages == {
        f"{name} line 4 (seq {json.loads(lines[3])['seq']}): changed: its hash is not the one "
        "the next record holds"
    }


def test_without_helpers_a_pack_is_checked_here_with_the_same_answers(
    built: PackResult, key: SigningKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "records/01-scans.jsonl"
    short = with_lines(built.path, tmp_path / "short.zip", name, lines_of(built.path, name)[1:])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    report = verify_pack(built.path, trusted_key=key.public_raw, processes=3)
    assert report.records == built.manifest.records
    with pytest.raises(PackInvalid) as refused:
        verify_pack(short, trusted_key=key.public_raw, processes=3)
    assert (
        str(refused.value)
        == f"{name} line 1 (seq 0): missing: it holds seq 1, so record seq 0 was removed"
    )


def _records(engine: Engine, period: Period, times: int) -> list[tuple[RecordKind, list]]:
    """Every kind's rows for the period, each row ``times`` over (to fill many batches)."""
    with Session(engine) as session:
        return [(kind, list(rows_of(session, kind, period)) * times) for kind in KINDS]


def test_rows_from_the_database_are_encoded_the_fast_way(engine: Engine, tmp_path: Path) -> None:
    build_world(engine, tmp_path)
    encoded = 0
    for kind, rows in _records(engine, today_period(), 1):
        if rows:
            assert kind.shape.encode_fast(rows) == kind.shape.encode(rows), kind.name
            assert kind.shape.encode_fast(rows) is not None, kind.name
            encoded += 1
    assert encoded >= 10


def _observation(i: int) -> list[object]:
    values = {
        "added_by_owner": None,
        "email": f"p{i}@client.example",
        "extra_permissions": [],
        "firm": None,
        "id": i,
        "kind": None,
        "last_login": None,
        "name": f"Person {i}",
        "portal_user_id": None,
        "role": "STANDARD",
        "scan_id": 1,
        "status": "active",
        "subscriber": False,
    }
    return [values[name] for name in OBSERVATIONS.shape.names]


def _write(handle: IO[bytes], records: Sequence, key: SigningKey, helper: bool) -> None:
    write_pack(
        handle,
        today_period(),
        records,
        lambda counts: [("summary/counts.json", json.dumps(counts).encode())],
        key,
        now=NOW,
        helper=helper,
    )


def test_a_pack_written_by_a_helper_is_the_one_written_here(
    engine: Engine, key: SigningKey, tmp_path: Path
) -> None:
    build_world(engine, tmp_path)
    records = _records(engine, today_period(), 700)  # thousands of observations
    in_memory = io.BytesIO()
    _write(in_memory, records, key, helper=True)  # no file: written here all the same
    with (tmp_path / "helped.zip").open("wb") as handle:
        _write(handle, records, key, helper=True)
    written = (tmp_path / "helped.zip").read_bytes()
    assert written == in_memory.getvalue()
    report = verify_pack(tmp_path / "helped.zip", trusted_key=key.public_raw, processes=2)
    assert report.records == sum(len(rows) for _, rows in records) > 3_000


@pytest.mark.parametrize("crossing", ["shared slots and the pipe", "the pipe alone"])
def test_records_crossing_in_shared_slots_or_the_pipe_make_the_same_pack(
    crossing: str,
    engine: Engine,
    key: SigningKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_world(engine, tmp_path)
    records = _records(engine, today_period(), 700)
    in_memory = io.BytesIO()
    _write(in_memory, records, key, helper=False)
    sent: list[int] = []
    handed: list[int] = []
    put, write_lines = slots.SharedSlots.put, writer.ArchiveProcess._write_lines

    def sending(self: slots.SharedSlots, slot: int, batch: bytes) -> None:
        sent.append(len(batch))
        put(self, slot, batch)

    def writing(self: writer.ArchiveProcess, slot: int, position: int, size: int) -> None:
        handed.append(size)
        write_lines(self, slot, position, size)

    monkeypatch.setattr(slots.SharedSlots, "put", sending)
    monkeypatch.setattr(writer.ArchiveProcess, "_write_lines", writing)
    if crossing == "the pipe alone":  # a system without memory files
        monkeypatch.setattr(slots.SharedSlots, "create", classmethod(lambda *args: None))
    else:  # slots too small for the larger batches, and for the lines of some
        sizes = sorted(len(kind.shape.encode(rows[:1000])) for kind, rows in records if rows)
        monkeypatch.setattr(writer, "BATCH_SLOT_BYTES", sizes[len(sizes) // 2])
        monkeypatch.setattr(writer, "LINE_SLOT_BYTES", sizes[-1])
    with (tmp_path / "helped.zip").open("wb") as handle:
        _write(handle, records, key, helper=True)
    assert (tmp_path / "helped.zip").read_bytes() == in_memory.getvalue()
    if crossing == "the pipe alone":
        assert sent == handed == []
    else:
        batches = sum(-(-len(rows) // 1000) for _, rows in records)
        # slots written again and again, and the larger batches and lines through the pipe
        assert 3 * writer.BATCH_SLOTS < len(sent) < batches
        assert max(sent) <= writer.BATCH_SLOT_BYTES
        assert 3 * writer.LINE_SLOTS < len(handed) < batches
        assert max(handed) <= writer.LINE_SLOT_BYTES


def test_a_helper_that_cannot_write_fails_the_pack_naming_why(
    key: SigningKey, tmp_path: Path
) -> None:
    (tmp_path / "read-only.zip").write_bytes(b"")
    rows = [_observation(i) for i in range(10)]
    with (
        (tmp_path / "read-only.zip").open("rb") as handle,
        pytest.raises(HelperFailed, match=r"^the pack writer stopped: .*Bad file descriptor"),
    ):
        _write(handle, [(OBSERVATIONS, rows)], key, helper=True)


def test_rows_that_fail_midway_stop_the_helper_with_the_rows_error(
    key: SigningKey, tmp_path: Path
) -> None:
    def failing() -> Iterator[list[object]]:
        yield from map(_observation, range(2_500))
        raise ConnectionError("the database went away")

    with (
        (tmp_path / "pack.zip").open("wb") as handle,
        pytest.raises(ConnectionError, match="the database went away"),
    ):
        _write(handle, [(OBSERVATIONS, failing())], key, helper=True)
    assert gc.isenabled()  # the collector, paused while rows stream, is back


def test_an_interrupted_pack_is_not_left_behind(
    engine: Engine, key: SigningKey, tmp_path: Path
) -> None:
    build_world(engine, tmp_path)
    path = tmp_path / "pack.zip"

    def no_pdf(html: str) -> bytes:
        raise RuntimeError("no summary today")

    with Session(engine) as session, pytest.raises(RuntimeError, match="no summary today"):
        build_pack(session, today_period(), path, key, now=NOW, print_pdf=no_pdf)
    assert list(tmp_path.glob("*pack.zip*")) == []
    assert make_pack(engine, path, key, today_period()).manifest.records > 20


def test_the_helper_loads_nothing_but_the_standard_library() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import agent.services.evidence.helper, agent.services.evidence.writer; "
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    outside = {
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        and name not in ("__main__", "agent", "agent.services", "agent.services.evidence")
    }
    assert outside == {
        "agent.services.evidence.archive",
        "agent.services.evidence.helper",
        "agent.services.evidence.lines",
        "agent.services.evidence.slots",
        "agent.services.evidence.writer",
    }
