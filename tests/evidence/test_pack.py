"""An evidence pack over a small practice: what it holds, that it verifies, and every way
of tampering with it caught, named alike by the product and by the stand-alone verifier."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from agent.security.canonical import GENESIS, canonical_json, chain_hash
from agent.security.signing import SigningKey, fingerprint
from agent.services.evidence.pack import PackInvalid, PackReport, PackResult, verify_pack
from agent.services.evidence.period import Period
from agent.services.evidence.records import KINDS
from tests.evidence.world import (
    ANNA,
    BEN,
    World,
    build_world,
    flip_byte_in_place,
    lines_of,
    make_pack,
    manifest_of,
    members,
    new_key,
    resigned,
    rewrite,
    standalone,
    today_period,
    with_lines,
)

OBSERVATIONS = "records/02-observations.jsonl"


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


@pytest.fixture
def key() -> SigningKey:
    return new_key()


@pytest.fixture
def built(engine: Engine, world: World, key: SigningKey, tmp_path: Path) -> PackResult:
    return make_pack(engine, tmp_path / "pack.zip", key, today_period())


def _pem(key: SigningKey, tmp_path: Path) -> Path:
    from agent.security.signing import write_public_key

    path = tmp_path / "practice.pem"
    write_public_key(key.public_raw, path)
    return path


def _both_fail(pack: Path, key: SigningKey, tmp_path: Path) -> str:
    """The product's and the stand-alone verifier's message, which must be the same (and
    the same with helper processes checking parts of the pack)."""
    with pytest.raises(PackInvalid) as refused:
        verify_pack(pack, trusted_key=key.public_raw)
    with pytest.raises(PackInvalid) as helped:
        verify_pack(pack, trusted_key=key.public_raw, processes=3)
    assert str(helped.value) == str(refused.value)
    code, out, err = standalone(pack, "--key", str(_pem(key, tmp_path)))
    assert code == 1, out
    assert out == ""
    assert err == f"FAILED: {refused.value}\n"
    return str(refused.value)


def test_a_pack_holds_every_kind_and_verifies_with_its_counts(
    built: PackResult, key: SigningKey, world: World, tmp_path: Path
) -> None:
    counts = {f.kind: f.records for f in built.manifest.files}
    assert [f.kind for f in built.manifest.files] == [k.name for k in KINDS]
    assert counts["scan"] == 3  # Kowhai twice, the other org's failure once
    assert counts["observation"] == 5  # 3 users, then 2
    assert counts["finding"] == 3
    assert counts["finding_review"] >= 2  # the accepted risk, the removal asked for
    assert counts["campaign"] == counts["campaign_item"] == 1
    assert counts["removal_plan"] == counts["removal_item"] == 1
    assert counts["import"] == 1
    assert counts["export"] == 1
    assert counts["audit_event"] >= 3  # plan, approval, finding reviews
    report = verify_pack(built.path, trusted_key=key.public_raw, deep=True)
    assert report.records == sum(counts.values())
    lines = report.lines()
    assert lines[0].startswith(f"OK: {report.records} records from ")
    assert f"  {OBSERVATIONS}: 5 records" in lines
    assert lines[-1] == f"signed by key {fingerprint(key.public_raw)}"
    code, out, err = standalone(built.path, "--key", str(_pem(key, tmp_path)))
    assert (code, err) == (0, "")
    assert out.splitlines() == lines
    code, out, err = standalone(built.path, "--fingerprint", fingerprint(key.public_raw))
    assert (code, out.splitlines(), err) == (0, lines, "")


def test_every_line_is_the_canonical_json_of_a_record_on_one_chain(built: PackResult) -> None:
    prev, seq = GENESIS, 0
    for file in built.manifest.files:
        for line in lines_of(built.path, file.name):
            record = json.loads(line)
            assert canonical_json(record) == line
            assert (record["kind"], record["prev"], record["seq"]) == (file.kind, prev, seq)
            prev, seq = chain_hash(prev, line), seq + 1
    assert prev == built.manifest.chain_head


def test_the_records_say_what_happened(built: PackResult, world: World) -> None:
    def data(name: str) -> list[dict[str, object]]:
        return [json.loads(line)["data"] for line in lines_of(built.path, name)]

    scans = data("records/01-scans.jsonl")
    assert {(s["outcome"], s["reason"]) for s in scans} == {("ok", None), ("failed", "timeout")}
    first = next(s for s in scans if s["outcome"] == "ok")
    assert (first["portal_stated_count"], first["rows_read"], first["client"]) == (3, 3, "C-Kowhai")
    assert first["portal"] == "xero"
    assert first["product_version"]
    assert "recipe" in first  # the recipe that read it; the scans here were not read by one
    imports = data("records/11-imports.jsonl")
    assert imports[0]["action"] == "import.staff"
    assert len(imports[0]["detail"]["sha256"]) == 64
    assert imports[0]["detail"]["rows"] == 2
    items = data("records/09-removal-items.jsonl")
    assert (items[0]["identity"], items[0]["approved_by"] != "") == (BEN, True)
    reviews = data("records/05-finding-reviews.jsonl")
    accepted = next(r for r in reviews if r["to_state"] == "accepted_risk")
    assert (accepted["finding_id"], accepted["actor"]) == (world.anna_finding, "Mia Manager")
    decided = data("records/07-campaign-items.jsonl")[0]
    assert (decided["decision"], decided["decided_by"], decided["identity"]) == (
        "keep",
        "Mia Manager",
        ANNA,
    )


def test_the_summary_workbook_and_page_say_what_was_closed_and_accepted(
    built: PackResult, tmp_path: Path
) -> None:
    files = dict(members(built.path))
    (tmp_path / "summary.xlsx").write_bytes(files["summary/evidence-summary.xlsx"])
    book = load_workbook(tmp_path / "summary.xlsx")
    assert book.sheetnames == ["Overview", "Coverage", "Leavers closed", "Exceptions", "Campaigns"]
    coverage = {row[2]: row[4] for row in book["Coverage"].iter_rows(min_row=5, values_only=True)}
    assert coverage == {"!abc12": "read ok", "!zzz99": "never read"}
    leavers = list(book["Leavers closed"].iter_rows(min_row=5, values_only=True))
    assert [(r[1], r[10]) for r in leavers] == [(BEN, "the client was asked; seen gone")]
    assert leavers[0][7] is not None  # removal asked
    exceptions = list(book["Exceptions"].iter_rows(min_row=5, values_only=True))
    assert [(r[1], r[7], r[9]) for r in exceptions] == [(ANNA, "Mia Manager", "year-end work")]
    campaigns = list(book["Campaigns"].iter_rows(min_row=5, values_only=True))
    assert campaigns == [("Q4", "Mia Manager", 1, 1, 1, 0, 0, 0)]
    html = files["summary/evidence-summary.html"].decode()
    assert "No records in this period" not in html
    assert "year-end work" in html
    assert "!zzz99" in html  # never read, so listed


def _seq_of(pack: Path, name: str, line: int) -> int:
    return json.loads(lines_of(pack, name)[line - 1])["seq"]


def test_one_byte_changed_inside_a_record_names_that_record(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    lines = lines_of(built.path, OBSERVATIONS)
    seq = _seq_of(built.path, OBSERVATIONS, 2)
    lines[1] = lines[1].replace(b'"role":"ADVISER"', b'"role":"ADVISEr"', 1)
    assert b"ADVISEr" in lines[1]
    pack = with_lines(built.path, tmp_path / "changed.zip", OBSERVATIONS, lines)
    message = _both_fail(pack, key, tmp_path)
    assert message == (
        f"{OBSERVATIONS} line 2 (seq {seq}): changed: its hash is not the one the next record holds"
    )


def test_a_byte_flipped_in_the_zip_itself_is_found_by_the_chain(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    pack = flip_byte_in_place(built.path, tmp_path / "flipped.zip", OBSERVATIONS, 30)
    seq = _seq_of(built.path, OBSERVATIONS, 1)
    assert _both_fail(pack, key, tmp_path) == (
        f"{OBSERVATIONS} line 1 (seq {seq}): changed: its hash is not the one the next record holds"
    )


def test_the_last_record_changed_disagrees_with_the_signed_head(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    last = next(f for f in reversed(built.manifest.files) if f.records)
    lines = lines_of(built.path, last.name)
    lines[-1] = lines[-1].replace(b'"actor":"', b'"actor":"X', 1)
    pack = with_lines(built.path, tmp_path / "last.zip", last.name, lines)
    assert _both_fail(pack, key, tmp_path) == (
        f"{last.name} line {last.records} (seq {built.manifest.records - 1}): changed: its "
        "hash is not the signed chain head"
    )


def test_a_changed_link_names_the_record_that_holds_it(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    lines = lines_of(built.path, OBSERVATIONS)
    seq = _seq_of(built.path, OBSERVATIONS, 2)
    at = lines[1].rindex(b'","seq":') - 1
    lines[1] = (
        lines[1][:at] + (b"0" if lines[1][at : at + 1] != b"0" else b"1") + lines[1][at + 1 :]
    )
    pack = with_lines(built.path, tmp_path / "link.zip", OBSERVATIONS, lines)
    assert _both_fail(pack, key, tmp_path) == (
        f"{OBSERVATIONS} line 2 (seq {seq}): changed: the hash it holds for the record before "
        "it is wrong"
    )


def test_a_dropped_record_is_named_by_its_seq(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    lines = lines_of(built.path, OBSERVATIONS)
    seq = _seq_of(built.path, OBSERVATIONS, 2)
    pack = with_lines(built.path, tmp_path / "dropped.zip", OBSERVATIONS, lines[:1] + lines[2:])
    assert _both_fail(pack, key, tmp_path) == (
        f"{OBSERVATIONS} line 2 (seq {seq}): missing: it holds seq {seq + 1}, so record "
        f"seq {seq} was removed"
    )


def test_two_swapped_records_are_named(built: PackResult, key: SigningKey, tmp_path: Path) -> None:
    lines = lines_of(built.path, OBSERVATIONS)
    seq = _seq_of(built.path, OBSERVATIONS, 2)
    lines[1], lines[2] = lines[2], lines[1]
    pack = with_lines(built.path, tmp_path / "swapped.zip", OBSERVATIONS, lines)
    assert _both_fail(pack, key, tmp_path) == (
        f"{OBSERVATIONS} line 2 (seq {seq}): out of order: it holds seq {seq + 1}, and seq "
        f"{seq} follows it"
    )


def test_the_last_record_of_a_file_dropped_is_a_count_the_manifest_refutes(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    scans = "records/01-scans.jsonl"
    lines = lines_of(built.path, scans)
    pack = with_lines(built.path, tmp_path / "short.zip", scans, lines[:-1])
    assert _both_fail(pack, key, tmp_path) == (
        f"{scans}: holds 2 records, the signed manifest says 3"
    )


def test_a_file_cut_short_is_named(built: PackResult, key: SigningKey, tmp_path: Path) -> None:
    content = dict(members(built.path))[OBSERVATIONS]
    pack = rewrite(built.path, tmp_path / "cut.zip", {OBSERVATIONS: content[:-1]})
    assert _both_fail(pack, key, tmp_path) == (
        f"{OBSERVATIONS} line 5 (seq {_seq_of(built.path, OBSERVATIONS, 5)}): cut short: no "
        "line break at its end"
    )


def test_a_manifest_resigned_with_another_key_fails_against_the_trusted_key(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    forger = new_key()
    pack = resigned(built.path, tmp_path / "forged.zip", forger)
    assert _both_fail(pack, key, tmp_path) == (
        f"manifest.json: signed with key {fingerprint(forger.public_raw)}, not with the "
        f"trusted key {fingerprint(key.public_raw)}"
    )
    # Without a trusted key it looks intact, and the stand-alone verifier says to compare.
    assert verify_pack(pack, trusted_key=None).manifest.key_fingerprint == forger.fingerprint
    code, out, err = standalone(pack)
    assert code == 0
    assert out.splitlines()[-1] == f"signed by key {forger.fingerprint}"
    assert err.startswith("WARNING: no --key given")


def test_a_manifest_edited_without_signing_again_fails_its_signature(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    manifest = manifest_of(built.path)
    manifest["signed"]["period"]["from"] = "2020-01-01"  # type: ignore[index]
    edited = json.dumps(manifest).encode()
    pack = rewrite(built.path, tmp_path / "edited.zip", {"manifest.json": edited})
    assert _both_fail(pack, key, tmp_path) == (
        f"manifest.json: the signature does not verify with key {key.fingerprint}: the "
        "manifest was changed after it was signed"
    )


def test_a_changed_summary_file_is_named(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    name = "summary/evidence-summary.html"
    html = dict(members(built.path))[name].replace(b"year-end work", b"year-end wrok")
    pack = rewrite(built.path, tmp_path / "summary.zip", {name: html})
    assert _both_fail(pack, key, tmp_path) == (
        f"{name}: changed: its SHA-256 is not the one the signed manifest holds"
    )


def test_a_file_added_to_the_pack_is_refused(
    built: PackResult, key: SigningKey, tmp_path: Path
) -> None:
    extra = dict(members(built.path)) | {"records/99-extra.jsonl": b"{}\n"}
    pack = rewrite(built.path, tmp_path / "extra.zip", extra)
    assert _both_fail(pack, key, tmp_path) == (
        "records/99-extra.jsonl: not listed in the signed manifest"
    )


def test_an_empty_period_is_a_valid_pack_that_says_so(
    engine: Engine, world: World, key: SigningKey, tmp_path: Path
) -> None:
    built = make_pack(
        engine, tmp_path / "empty.zip", key, Period(date(2020, 1, 1), date(2020, 3, 31))
    )
    assert built.manifest.records == 0
    report: PackReport = verify_pack(built.path, trusted_key=key.public_raw)
    assert report.lines()[0] == "OK: no records in this period (2020-01-01 to 2020-03-31)"
    code, out, err = standalone(built.path, "--key", str(_pem(key, tmp_path)))
    assert (code, out.splitlines(), err) == (0, report.lines(), "")
    html = dict(members(built.path))["summary/evidence-summary.html"].decode()
    assert "No records in this period" in html
    assert all(content == b"" for name, content in members(built.path) if name.endswith("jsonl"))


def test_the_same_period_packs_the_same_records(
    engine: Engine, world: World, key: SigningKey, tmp_path: Path
) -> None:
    one = make_pack(engine, tmp_path / "one.zip", key, today_period())
    two = make_pack(engine, tmp_path / "two.zip", key, today_period())
    assert one.manifest.chain_head == two.manifest.chain_head
    assert one.manifest.files == two.manifest.files
