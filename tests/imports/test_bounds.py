"""Imports are bounded: rows by ACCESSRECON_IMPORT_MAX_ROWS, problems to the first hundred.

The cap is set through the setting, as a practice admin would set it; the million-row
case is ``python -m bench.imports``, not a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from xlsxwriter import Workbook as XlsxWriterBook

from agent.imports import DEFAULT_MAX_ROWS, ERROR_LIMIT, ImportRejected
from agent.imports.columns import STAFF_COLUMNS
from agent.imports.reading import read_sheet
from agent.runtime import Runtime
from agent.settings import DEFAULT_IMPORT_MAX_ROWS, Settings
from agent.storage.db import session_scope
from agent.storage.models import Org
from tests.imports.helpers import everything, load, rejected, staff_of, write_csv, write_xlsx

HEADER = ["name", "emails", "status"]
CAP = 5


def people(count: int, status: str = "active") -> list[list[str]]:
    return [[f"Person {i}", f"p{i}@practice.example", status] for i in range(count)]


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ACCESSRECON_IMPORT_MAX_ROWS", str(CAP))
    settings = Settings()
    assert settings.import_max_rows == CAP
    return settings


def test_the_default_cap_is_documented_once() -> None:
    assert DEFAULT_MAX_ROWS == DEFAULT_IMPORT_MAX_ROWS == Settings().import_max_rows == 200_000


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_cap_rows_are_accepted(engine: Engine, tmp_path: Path, capped: Settings, form: str) -> None:
    writer = write_csv if form == "csv" else write_xlsx
    path = writer(tmp_path / f"staff.{form}", HEADER, people(CAP))
    result = load(engine, "staff", path, max_rows=capped.import_max_rows)
    assert result.rows == CAP


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_one_row_over_the_cap_is_one_error(
    engine: Engine, tmp_path: Path, capped: Settings, form: str
) -> None:
    writer = write_csv if form == "csv" else write_xlsx
    # Every row is bad too: past the cap the file is not validated, only refused.
    path = writer(tmp_path / f"staff.{form}", HEADER, people(CAP + 1, status="sacked"))
    before = everything(engine)

    error = rejected(engine, "staff", path, max_rows=capped.import_max_rows)

    assert error.total == 1
    [only] = error.errors
    assert (only.file, only.row, only.column) == (f"staff.{form}", CAP + 2, None)
    assert only.reason == (
        f"staff.{form} has more than 5 rows; the limit is 5 (ACCESSRECON_IMPORT_MAX_ROWS)"
    )
    assert everything(engine) == before


def test_blank_rows_do_not_count_toward_the_cap(
    engine: Engine, tmp_path: Path, capped: Settings
) -> None:
    rows = [row for person in people(CAP) for row in (person, ["", "", ""])]
    path = write_csv(tmp_path / "staff.csv", HEADER, rows)
    assert load(engine, "staff", path, max_rows=capped.import_max_rows).rows == CAP


def test_blank_text_rows_of_a_workbook_do_not_count(
    engine: Engine, tmp_path: Path, capped: Settings
) -> None:
    """Excel keeps "   " in its shared strings: such a row is blank, as the reader sees it."""
    path = tmp_path / "staff.xlsx"
    book = XlsxWriterBook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    line = 1
    for person in people(CAP):
        sheet.write_row(line, 0, person)
        sheet.write_row(line + 1, 0, ["   ", " ", "\t"])
        line += 2
    book.close()
    result = load(engine, "staff", path, max_rows=capped.import_max_rows)
    assert result.rows == CAP


def test_reading_stops_at_the_cap(tmp_path: Path) -> None:
    """A streamed read: the rows past the cap are never parsed (a broken tail is unseen)."""
    path = tmp_path / "staff.csv"
    good = "".join(f"P{i},p{i}@practice.example,active\n" for i in range(CAP + 1))
    path.write_bytes(b"name,emails,status\n" + good.encode() + b'"unterminated\n' * 3)
    with pytest.raises(ImportRejected) as caught:
        read_sheet(path, STAFF_COLUMNS, max_rows=CAP)
    assert caught.value.errors[0].row == CAP + 2


def test_xlsx_shared_strings_are_read_only_as_far_as_needed(tmp_path: Path) -> None:
    """Excel keeps every text of a workbook in one table; a refused file never loads it all."""
    from agent.imports import xlsx_file

    path = tmp_path / "staff.xlsx"
    book = XlsxWriterBook(str(path))  # shared strings, as Excel writes them
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i in range(1, 2001):
        sheet.write_row(i, 0, [f"Person {i}", f"p{i}@practice.example", "active"])
    book.close()

    with path.open("rb") as handle:
        workbook, part = xlsx_file._open_workbook(handle)
        assert part == "xl/sharedStrings.xml"
        strings = workbook.worksheets[0]._shared_strings
        assert isinstance(strings, xlsx_file._SharedStrings)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        assert next(rows) == tuple(HEADER)
        for _ in range(10):
            next(rows)
        # header (3), 10 rows of 2 new texts and "active" once: a few dozen, not 4,000
        assert len(strings) < 40
        workbook.close()
    with pytest.raises(ImportRejected) as caught:
        read_sheet(path, STAFF_COLUMNS, max_rows=100)
    assert caught.value.errors[0].row == 102


def test_only_the_first_hundred_problems_are_kept_with_the_count(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "staff.csv", HEADER, people(12_345 + ERROR_LIMIT, "sacked"))

    error = rejected(engine, "staff", path)

    assert ERROR_LIMIT == 100
    assert len(error.errors) == 100
    assert error.total == 12_445
    assert [e.row for e in error.errors] == list(range(2, 102))
    assert all(e.column == "status" for e in error.errors)
    report = str(error)
    assert report.splitlines()[0] == (
        "staff.csv was not imported: 12,445 problems; nothing was changed."
    )
    assert report.splitlines()[-1] == "  ... and 12,345 more problems not shown."
    assert staff_of(engine) == {}


def test_problems_found_out_of_order_keep_the_first_in_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    """A whole-column problem is found after every row; it is still listed first."""
    with session_scope(engine) as session:
        session.add(Org(portal="xero", portal_org_id="!x7Kp2", name="Kowhai"))
    rows = [[f"C{i}", f"Client {i}", "lots"] for i in range(150)]
    path = write_csv(tmp_path / "clients.csv", ["client_id", "name", "annual_fee"], rows)

    error = rejected(engine, "clients", path)

    assert error.total == 151
    assert [(e.row, e.column) for e in error.errors] == [
        (1, "linked_orgs"),
        *((n, "annual_fee") for n in range(2, 101)),
    ]


def test_the_command_line_reads_the_cap_from_the_setting(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "staff.csv", HEADER, people(CAP + 1))
    env = {
        **os.environ,
        "ACCESSRECON_IMPORT_MAX_ROWS": str(CAP),
        "ACCESSRECON_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "accessrecon", "import", "staff", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert (
        "row 7: staff.csv has more than 5 rows; the limit is 5 (ACCESSRECON_IMPORT_MAX_ROWS)"
    ) in said


def test_the_upload_answers_the_first_hundred_and_the_total(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server.conftest import api_client, build_practice

    practice = build_practice(runtime)
    admin = api_client(runtime, practice.tokens["admin"])
    bad = "name,emails,status\n" + "".join(
        f"P{i},p{i}@harbourco.example,sacked\n" for i in range(250)
    )
    answer = admin.post("/api/v1/imports/staff", files={"file": ("roster.csv", bad.encode())})
    assert answer.status_code == 422
    body = answer.json()
    assert (body["total"], len(body["errors"])) == (250, 100)
    assert body["detail"] == "roster.csv was not imported: 250 problems; nothing was changed."

    monkeypatch.setattr(runtime.settings, "import_max_rows", 3)
    many = "name,emails,status\n" + "".join(
        f"P{i},p{i}@harbourco.example,active\n" for i in range(4)
    )
    answer = admin.post("/api/v1/imports/staff", files={"file": ("roster.csv", many.encode())})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["reason"] == (
        "roster.csv has more than 3 rows; the limit is 3 (ACCESSRECON_IMPORT_MAX_ROWS)"
    )


def test_an_upload_over_the_size_limit_is_refused_before_it_is_parsed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.config import ServerSettings
    from tests.server.conftest import api_client, build_practice

    practice = build_practice(runtime)
    monkeypatch.setenv("ACCESSRECON_MAX_UPLOAD_MB", "1")
    admin = api_client(runtime, practice.tokens["admin"], server_settings=ServerSettings())
    big = b"name,emails,status\n" + b"x" * (2 * 1024 * 1024)

    declared = admin.post("/api/v1/imports/staff", files={"file": ("roster.csv", big)})
    assert declared.status_code == 413
    # The gate's answer, given before the multipart parser spooled the body to disk.
    assert declared.json()["detail"] == "the file is larger than 1 MB (ACCESSRECON_MAX_UPLOAD_MB)"

    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + big
        + (f"\r\n--{boundary}--\r\n").encode()
    )
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    streamed = admin.post(
        "/api/v1/imports/staff",
        content=chunks,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert streamed.json()["detail"] == declared.json()["detail"]

    small = admin.post(
        "/api/v1/imports/staff",
        files={"file": ("roster.csv", b"name,emails,status\nNia,nia@harbourco.example,active\n")},
    )
    assert small.status_code == 200, small.text
