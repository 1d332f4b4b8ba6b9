"""The workbooks open in LibreOffice: each converts to a PDF and a PNG, and the hostile
names come out of LibreOffice as the same text, never evaluated.

A missing ``soffice`` or ``pdftoppm`` is a failure, never a skip: the test command
installs both (Debian's ``libreoffice-calc-nogui`` and ``poppler-utils``).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent.reports.common import ReportFormat
from tests.reports.states import FORMULA_NAME, XML_NAME, State
from tests.reports.test_formula_safety import write_all


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed: the report tests need LibreOffice and "
            "poppler-utils (scripts/test.sh installs them)"
        )
    return found


def _soffice(profile: Path, fmt: str, outdir: Path, files: list[Path]) -> None:
    """One headless conversion with a private profile, so parallel runs never collide."""
    subprocess.run(
        [
            _tool("soffice"),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )


def test_every_report_converts_to_pdf_and_png(engine: Engine, state: State, tmp_path: Path) -> None:
    books = write_all(engine, tmp_path / "xlsx", ReportFormat.XLSX)
    pdf_dir = tmp_path / "pdf"
    _soffice(tmp_path / "profile", "pdf", pdf_dir, books)
    for book in books:
        pdf = pdf_dir / f"{book.stem}.pdf"
        assert pdf.exists(), f"LibreOffice could not open {book.name}"
        assert pdf.stat().st_size > 1000
        assert pdf.read_bytes().startswith(b"%PDF")
        subprocess.run(
            [
                _tool("pdftoppm"),
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(pdf_dir / book.stem),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        png = pdf_dir / f"{book.stem}.png"
        assert png.read_bytes().startswith(b"\x89PNG")


def test_libreoffice_reads_hostile_names_as_plain_text(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    books = write_all(engine, tmp_path / "xlsx", ReportFormat.XLSX)
    wanted = [b for b in books if b.stem in ("matrix", "exceptions")]
    # Comma-separated, double-quoted, UTF-8 (76): LibreOffice's CSV filter options.
    _soffice(
        tmp_path / "profile", "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv", wanted
    )
    cells: set[str] = set()
    for book in wanted:
        with (tmp_path / "csv" / f"{book.stem}.csv").open(encoding="utf-8", newline="") as f:
            cells.update(c for row in csv.reader(f) for c in row)
    for value in (
        FORMULA_NAME,
        "+1 Bakery",
        "-2 Dairy",
        "@SUM(A1)",
        "\tTab Cafe",
        "\rCR Motors",
        XML_NAME,
        "\tTemp Contractor",
    ):
        assert value in cells, value
    assert "y" not in cells
    assert "click" not in cells
