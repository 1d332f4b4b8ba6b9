"""The command line as a user meets it: exit codes, one-line errors, nothing half-done."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.generate import generate_world, write_world


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path):
    return write_world(
        generate_world(2, staff=6, orgs_per_portal=2, users_per_org=3, portals=("xero",)),
        tmp_path / "world",
    )


@pytest.mark.long
def test_every_command_has_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in (
        "demo",
        "import",
        "login",
        "scan",
        "reconcile",
        "findings",
        "report",
        "serve",
        "diff",
        "review",
        "schedule",
        "worker",
        "backup",
        "restore",
        "retention",
        "pair",
        "users",
        "tokens",
        "rotate-key",
    ):
        assert command in result.stdout
    for report in ("leaver", "matrix", "workload", "exceptions", "evidence"):
        assert run("report", report, "--help").returncode == 0


def test_serve_refuses_a_non_loopback_address_without_the_override(tmp_path: Path) -> None:
    result = run(
        "serve",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--no-worker",
        env={"ACCESSRECON_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "--allow-non-loopback" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_roster_names_file_row_and_column_and_imports_nothing(files, tmp_path: Path) -> None:
    bad = tmp_path / "roster.csv"
    with files.staff.open() as good, bad.open("w", newline="") as out:
        rows = list(csv.reader(good))
        rows[3][2] = "retired"  # spreadsheet row 4
        csv.writer(out).writerows(rows)
    result = run("import", "staff", str(bad))
    assert result.returncode == 1
    assert "roster.csv" in result.stderr
    assert "row 4" in result.stderr
    assert "status" in result.stderr
    assert result.stdout == ""
    listed = run("report", "leaver", rows[1][0], "-o", str(tmp_path / "x.xlsx"))
    assert listed.returncode == 1
    assert "no staff member matches" in listed.stderr


def test_import_then_report_on_someone_unknown_fails_in_one_line(files, tmp_path: Path) -> None:
    assert run("import", "staff", str(files.staff)).returncode == 0
    result = run("report", "leaver", "Nobody Atall", "-o", str(tmp_path / "x.xlsx"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "x.xlsx").exists()


def test_login_add_takes_secrets_from_the_prompt_and_never_lists_them() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEH"
    added = run(
        "login",
        "add",
        "--portal",
        "xero",
        "--email",
        "robot@harbourco.example",
        stdin=f"s3cret-Pa55\n{secret}\n",
    )
    assert added.returncode == 0, added.stderr
    listed = run("login", "list")
    assert "robot@harbourco.example" in listed.stdout
    assert "s3cret-Pa55" not in listed.stdout + listed.stderr
    assert secret not in listed.stdout + listed.stderr
    wrong = run(
        "login",
        "add",
        "--portal",
        "xero",
        "--email",
        "r@harbourco.example",
        stdin="pw\nnot base32!\n",
    )
    assert wrong.returncode == 1
    assert "TOTP secret" in wrong.stderr
