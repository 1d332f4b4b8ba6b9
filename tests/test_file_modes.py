"""The product's files are its owner's alone: data directory 0700, everything written 0600.

The tests run with the usual umask of 022, under which a file anyone creates is
readable by every local account, and check the modes after real runs: the command
line making a fresh data directory, a report, a findings export, a backup; and the
start-up check that warns about and fixes modes that let others in.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from agent.runtime import Runtime
from agent.services.backup import write_backup
from agent.settings import Settings
from agent.storage.db import session_scope
from tests.factories import DOMAIN, add_client, add_staff, ok_scan, org


@pytest.fixture(autouse=True)
def _common_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_a_first_command_makes_a_private_data_dir_and_database(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "accessrecon"
    result = _cli("users", "list", env={"ACCESSRECON_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr
    assert _mode(data) == 0o700
    assert _mode(data / "accessrecon.db") == 0o600
    assert "readable by others" not in result.stderr


def test_the_sqlite_wal_and_shm_files_are_private_while_in_use(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    runtime = Runtime(settings)
    database = settings.data_dir / "accessrecon.db"
    with runtime.engine.connect() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        connection.execute(text("INSERT INTO probe VALUES (1)"))
        connection.commit()
        wal = database.with_name("accessrecon.db-wal")
        shm = database.with_name("accessrecon.db-shm")
        assert wal.exists()
        assert shm.exists()
        assert {p.name: _mode(p) for p in (settings.data_dir, database, wal, shm)} == {
            "data": 0o700,
            "accessrecon.db": 0o600,
            "accessrecon.db-wal": 0o600,
            "accessrecon.db-shm": 0o600,
        }
    runtime.engine.dispose()


def test_start_up_warns_about_and_fixes_modes_that_let_others_in(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "data"
    Runtime(Settings(data_dir=data)).engine.dispose()
    database = data / "accessrecon.db"
    for name in ("accessrecon.db-wal", "accessrecon.db-shm"):
        (data / name).write_bytes(b"")
    for path in (database, data / "accessrecon.db-wal", data / "accessrecon.db-shm"):
        path.chmod(0o644)
    data.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="agent.filemodes"):
        Runtime(Settings(data_dir=data)).engine.dispose()
    assert _mode(data) == 0o700
    assert _mode(database) == 0o600
    assert caplog.text.count("readable by others") >= 2
    assert str(data) in caplog.text
    assert str(database) in caplog.text


@pytest.mark.long
def test_reports_findings_and_backups_are_written_private(
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ben Brennan", f"ben@{DOMAIN}", status="left")
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        ok_scan(session, org(session, "!kow01"), [(f"ben@{DOMAIN}", "STANDARD")])
    env = {
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
    }
    assert _cli("reconcile", env=env).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    # Files already there, readable by all, are overwritten as the owner's alone.
    stale = {name: out / name for name in ("matrix.xlsx", "leaver.csv", "findings.csv")}
    for path in stale.values():
        path.write_text("old")
        path.chmod(0o644)
    runs = [
        ("report", "matrix", "-o", str(stale["matrix.xlsx"])),
        ("report", "leaver", "Ben Brennan", "-o", str(stale["leaver.csv"])),
        ("report", "workload", "-o", str(out / "workload.xlsx")),
        ("findings", "-o", str(stale["findings.csv"])),
        ("findings", "--format", "json", "-o", str(out / "findings.json")),
        ("backup", "-o", str(out / "backup.zip")),
    ]
    for args in runs:
        result = _cli(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
    modes = {p.name: _mode(p) for p in sorted(out.iterdir())}
    assert modes == dict.fromkeys(modes, 0o600), modes
    assert len(modes) == 6

    # The backup writer itself, in this process (umask 022), on a file already there.
    target = tmp_path / "again.zip"
    target.write_text("old")
    target.chmod(0o664)
    write_backup(runtime.engine, target)
    assert _mode(target) == 0o600
    write_backup(runtime.engine, tmp_path / "new" / "fresh.zip")
    assert _mode(tmp_path / "new" / "fresh.zip") == 0o600
