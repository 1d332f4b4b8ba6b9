"""Every export from the command line is audited: findings to a file or stdout, backups.

Each test runs the real command line in a process of its own against the test's
database (SQLite and PostgreSQL) and then reads the audit log: the event names the
export, its row count and the SHA-256 of exactly the bytes handed out.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from agent.runtime import Runtime
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent
from tests.factories import DOMAIN, add_client, add_staff, ok_scan, org


def _cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", *args],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture
def populated(runtime: Runtime) -> Runtime:
    """Two orgs, a leaver in both: three open findings, two of them problems."""
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ben Brennan", f"ben@{DOMAIN}", status="left")
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        ok_scan(
            session,
            org(session, "!kow01"),
            [(f"ben@{DOMAIN}", "STANDARD"), ("owner@kowhai.example", "STANDARD")],
        )
        ok_scan(session, org(session, "!rat01", "Rātā"), [(f"ben@{DOMAIN}", "STANDARD")])
        reconcile(session, configured_domains=[DOMAIN])
    return runtime


def _exports(runtime: Runtime) -> list[AuditEvent]:
    with Session(runtime.engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.action).startswith("export."))
                .order_by(col(AuditEvent.id))
            )
        )


def test_findings_to_a_file_is_audited_with_rows_and_the_files_digest(
    populated: Runtime,
    tmp_path: Path,
) -> None:
    target = tmp_path / "out" / "findings.csv"
    result = _cli(populated, "findings", "-o", str(target))
    assert result.returncode == 0, result.stderr
    content = target.read_bytes()
    assert content.startswith(b"portal,portal_org_id")
    (event,) = _exports(populated)
    assert event.action == "export.findings_csv"
    assert event.actor.startswith("cli")
    assert event.detail["rows"] == 3
    assert event.detail["sha256"] == hashlib.sha256(content).hexdigest()
    assert event.detail["destination"] == "findings.csv"

    as_json = tmp_path / "problems.json"
    assert _cli(populated, "findings", "--problems", "-o", str(as_json)).returncode == 0
    last = _exports(populated)[-1]
    assert last.action == "export.findings_json"
    assert last.detail["rows"] == len(json.loads(as_json.read_text())) == 2
    assert last.detail["filter"]["problems_only"] is True
    assert last.detail["sha256"] == hashlib.sha256(as_json.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_findings_to_stdout_is_audited_with_the_digest_of_what_was_printed(
    populated: Runtime,
    fmt: str,
) -> None:
    result = _cli(populated, "findings", "--format", fmt)
    assert result.returncode == 0, result.stderr
    (event,) = _exports(populated)
    assert event.action == f"export.findings_{fmt}"
    assert event.detail["destination"] == "stdout"
    assert event.detail["rows"] == 3
    assert event.detail["sha256"] == hashlib.sha256(result.stdout).hexdigest()
    if fmt == "json":
        assert len(json.loads(result.stdout)) == 3


def test_the_on_screen_table_is_not_an_export(populated: Runtime) -> None:
    result = _cli(populated, "findings")
    assert result.returncode == 0, result.stderr
    assert b"3 findings" in result.stdout
    assert _exports(populated) == []


def test_a_backup_is_audited_as_an_export(populated: Runtime, tmp_path: Path) -> None:
    target = tmp_path / "backup.zip"
    result = _cli(populated, "backup", "-o", str(target))
    assert result.returncode == 0, result.stderr
    (event,) = _exports(populated)
    assert event.action == "export.backup"
    assert event.detail["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert event.detail["filename"] == "backup.zip"
    assert event.detail["rows"] > 0
    assert event.detail["tables"] > 10
    assert event.actor.startswith("cli")
