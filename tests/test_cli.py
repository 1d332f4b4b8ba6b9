"""The command line as a user meets it: exit codes, one-line errors, nothing half-done."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.runtime import Runtime
from agent.services.findings import reconcile
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Finding
from sandbox.generate import generate_world, write_world
from tests.factories import DOMAIN, add_staff, ok_scan, org


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


def test_scan_refuses_before_any_progress_is_shown() -> None:
    """No progress bar for a crawl that cannot start: the error is the whole output."""
    result = run("scan")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "accessrecon: no portal logins to crawl: add one with 'accessrecon login add'"
    )
    assert result.stdout == "", "nothing drawn before the error"
    one_portal = run("scan", "--portal", "qbo")
    assert "no portal logins to crawl for portal qbo" in one_portal.stderr
    assert one_portal.stdout == ""


def test_scan_refuses_a_bad_recipe_or_a_missing_chromium_before_any_progress(
    tmp_path: Path,
) -> None:
    added = run(
        "login",
        "add",
        "--portal",
        "xero",
        "--email",
        "robot@harbourco.example",
        "--base-url",
        "http://127.0.0.1:9",
        stdin="s3cret-Pa55\nJBSWY3DPEHPK3PXPJBSWY3DPEH\n",
    )
    assert added.returncode == 0, added.stderr
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "xero.toml").write_text('[orgs\nversion = "x"\n', encoding="utf-8")
    bad_recipe = run("scan", env={"ACCESSRECON_RECIPE_DIR": str(recipes)})
    assert bad_recipe.returncode == 1
    assert "xero.toml: not valid TOML" in bad_recipe.stderr
    assert bad_recipe.stderr.strip().count("\n") == 0
    assert bad_recipe.stdout == ""
    no_browser = run("scan", env={"ACCESSRECON_CHROMIUM_PATH": str(tmp_path / "no-chromium")})
    assert no_browser.returncode == 1
    assert "which does not exist" in no_browser.stderr
    assert no_browser.stdout == ""


def test_findings_lists_ids_under_a_header_so_review_is_one_step(database_url: str) -> None:
    env = {"ACCESSRECON_DATABASE_URL": database_url}
    runtime = Runtime(Settings(database_url_setting=database_url))
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ben Brennan", f"ben@{DOMAIN}", status="left", left_on=date(2026, 3, 3))
        ok_scan(
            session,
            org(session, "!abc12"),
            [(f"ben@{DOMAIN}", "FINANCIALADVISER"), ("olive@kowhai.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])
    with Session(runtime.engine) as session:
        leaver = session.exec(
            select(Finding.id).where(Finding.finding_class == "leaver_access")
        ).one()
    runtime.engine.dispose()

    listed = run("findings", "--problems", env=env)
    assert listed.returncode == 0, listed.stderr
    header, row, *rest = listed.stdout.splitlines()
    assert header.split() == ["id", "severity", "class", "portal", "org", "email", "detail"]
    assert row.split()[0] == str(leaver)
    for words in ("Critical", "Leaver access", "Xero", "!abc12", "left on 3 Mar 2026"):
        assert words in row
    assert rest == [
        "1 finding; act on one by its id: accessrecon review ack ID "
        "(or accept-risk, request-removal)"
    ]
    acked = run("review", "ack", row.split()[0], "--reason", "called the client", env=env)
    assert acked.returncode == 0, acked.stderr
    everyone = run("findings", env=env).stdout.splitlines()
    assert len(everyone) == 4, "the leaver and the client's own user, under one header"
