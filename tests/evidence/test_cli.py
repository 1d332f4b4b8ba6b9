"""``accessrecon evidence pack|verify|key`` as a practice and its auditor meet them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from accessrecon.cli import app
from agent.filemodes import mode_of
from agent.storage.models import AuditEvent
from tests.evidence.world import World, build_world, new_key, standalone, today_period


@pytest.fixture
def cli(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    return CliRunner()


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _period_args() -> list[str]:
    period = today_period()
    return ["--from", period.first_day.isoformat(), "--to", period.last_day.isoformat()]


def _exports(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == "export.evidence_pack")
        return list(session.exec(query))


@pytest.mark.browser
def test_a_pack_is_written_signed_audited_and_verified_by_both(
    cli: CliRunner,
    world: World,
    engine: Engine,
    tmp_path: Path,
    chromium_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCESSRECON_CHROMIUM_PATH", chromium_path)
    pack = tmp_path / "q4.zip"
    result = cli.invoke(app, ["evidence", "pack", *_period_args(), "-o", str(pack)])
    assert result.exit_code == 0, result.output
    assert mode_of(pack) == 0o600
    assert mode_of(tmp_path / "data" / "signing.key") == 0o600
    assert result.stdout.startswith(f"{pack}: ")
    assert "records in 13 files" in result.stdout
    with zipfile.ZipFile(pack) as z:
        pdf = PdfReader(io.BytesIO(z.read("summary/evidence-summary.pdf")))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Access evidence" in text
    assert "year-end work" in text
    [event] = _exports(engine)
    assert event.detail["sha256"] == hashlib.sha256(pack.read_bytes()).hexdigest()
    assert event.detail["filename"] == "q4.zip"

    result = cli.invoke(app, ["evidence", "verify", str(pack), "--deep"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK: ")
    assert lines[-1].endswith("(this practice's key)")
    key_file = tmp_path / "practice.pem"
    result = cli.invoke(app, ["evidence", "key", "-o", str(key_file)])
    assert result.exit_code == 0, result.output
    assert key_file.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    code, out, err = standalone(pack, "--key", str(key_file))
    assert (code, err) == (0, "")
    assert out.splitlines() == [*lines[:-1], lines[-1].removesuffix(" (this practice's key)")]
    assert len(_exports(engine)) == 1  # verifying is not an export


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-13-01", "--to", "2026-12-31"],
            "accessrecon: --from '2026-13-01' is not a date: write it as YYYY-MM-DD",
        ),
        (
            ["--from", "2026-04-01", "--to", "2026-03-31"],
            "accessrecon: --from 2026-04-01 is after --to 2026-03-31: the period would be empty",
        ),
        (
            ["--from", "2026-01-01", "--to", "yesterday"],
            "accessrecon: --to 'yesterday' is not a date: write it as YYYY-MM-DD",
        ),
    ],
)
def test_a_bad_period_is_one_line_and_changes_nothing(
    cli: CliRunner, engine: Engine, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli.invoke(app, ["evidence", "pack", *args, "-o", str(tmp_path / "p.zip")])
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert not (tmp_path / "p.zip").exists()
    assert not (tmp_path / "data" / "signing.key").exists()
    assert _exports(engine) == []


def test_an_output_that_is_not_a_zip_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["evidence", "pack", *_period_args(), "-o", str(tmp_path / "p.pdf")])
    assert result.exit_code == 1
    assert result.stderr.strip() == "accessrecon: -o p.pdf: an evidence pack is a .zip file"


def test_a_pack_from_another_key_fails_against_the_practice_key(
    cli: CliRunner, world: World, engine: Engine, tmp_path: Path
) -> None:
    from tests.evidence.world import make_pack

    other = new_key()
    pack = make_pack(engine, tmp_path / "other.zip", other, today_period()).path
    result = cli.invoke(app, ["evidence", "key", "-o", str(tmp_path / "mine.pem")])
    assert result.exit_code == 0, result.output
    mine = result.stdout.rsplit("fingerprint ", 1)[1].strip()
    result = cli.invoke(app, ["evidence", "verify", str(pack)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"accessrecon: FAILED: manifest.json: signed with key {other.fingerprint}, not with "
        f"the trusted key {mine}"
    )
    code, _, err = standalone(pack, "--key", str(tmp_path / "mine.pem"))
    assert code == 1
    assert err.strip() == result.stderr.strip().removeprefix("accessrecon: ")


def test_verify_without_a_practice_key_says_what_to_do(cli: CliRunner, tmp_path: Path) -> None:
    pack = tmp_path / "p.zip"
    pack.write_bytes(b"PK")
    result = cli.invoke(app, ["evidence", "verify", str(pack)])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("accessrecon: no signing key: ")
    assert result.stderr.strip().endswith("to check a pack from elsewhere, pass --key FILE")
    assert not (tmp_path / "data" / "signing.key").exists()
