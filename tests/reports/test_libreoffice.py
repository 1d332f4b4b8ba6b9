"""The workbooks open in LibreOffice: every workbook a report writes, of the practice
``accessrecon demo`` shows (``tests.reports.demo_practice``), prints to a PDF whose
every page has something on it, and the hostile names of ``tests.reports.states``
come out of LibreOffice as the same text, never evaluated.

Each printed page of the demo's workbooks is also a PNG (``pdftoppm``), copied to
ACCESSRECON_SCREENSHOTS as ``workbook-<report>-<n>.png`` (a temporary folder unless it
is set; the pictures in docs/screenshots are made with it set there), so a person can
look at what a practice admin prints, on the names they meet first, without opening
a spreadsheet. All the workbooks go through one LibreOffice run: it takes seconds to
start.

A missing ``soffice`` or ``pdftoppm`` is a failure, never a skip: the test command
installs both (Debian's ``libreoffice-calc-nogui`` and ``poppler-utils``).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import Engine

from agent.reports.common import ReportFormat
from agent.runtime import Runtime
from tests.extension.harness import SCREENSHOTS
from tests.reports.conftest import AS_OF
from tests.reports.demo_practice import build_demo_practice
from tests.reports.states import FORMULA_NAME, XML_NAME, State
from tests.reports.test_column_fit import WORKBOOKS, every_workbook
from tests.reports.test_formula_safety import write_all

#: a page counts as blank when less than this share of it, inside the margins where
#: the running header and footer print, is ink
MIN_INK = 0.002
MARGIN = 0.1


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


def print_pages(pdf: Path, prefix: Path) -> list[Path]:
    """Each page of ``pdf`` as a PNG at 100 dpi (small print stays readable), in page order."""
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "100", str(pdf), str(prefix)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = prefix.parent.glob(f"{prefix.name}-*.png")
    return sorted(pages, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def ink(png: Path) -> float:
    """The share of a page's body (inside ``MARGIN``) that is not white."""
    page = ImageOps.grayscale(Image.open(png))
    width, height = page.size
    body = page.crop(
        (
            int(width * MARGIN),
            int(height * MARGIN),
            int(width * (1 - MARGIN)),
            int(height * (1 - MARGIN)),
        )
    )
    inked = body.point(lambda v: 255 if v < 200 else 0).histogram()[255]
    return inked / (body.size[0] * body.size[1])


def test_every_workbook_prints_pages_with_something_on_each(
    runtime: Runtime, tmp_path: Path
) -> None:
    practice = build_demo_practice(runtime, tmp_path / "world")
    (tmp_path / "xlsx").mkdir()
    written = every_workbook(
        runtime.engine,
        tmp_path / "xlsx",
        leaver_email=practice.leaver_email,
        admin=practice.admin,
        now=AS_OF,
    )
    assert list(written) == list(WORKBOOKS)
    books = list(written.values())
    pdf_dir = tmp_path / "pdf"
    _soffice(tmp_path / "profile", "pdf", pdf_dir, books)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for book in books:
        pdf = pdf_dir / f"{book.stem}.pdf"
        assert pdf.exists(), f"LibreOffice could not open {book.name}"
        assert pdf.read_bytes().startswith(b"%PDF")
        (tmp_path / "png").mkdir(exist_ok=True)
        pages = print_pages(pdf, tmp_path / "png" / book.stem)
        assert pages, f"{book.name} printed no page"
        blank = [n for n, page in enumerate(pages, 1) if ink(page) < MIN_INK]
        assert blank == [], f"{book.name}: pages {blank} of {len(pages)} are blank"
        for n, page in enumerate(pages, 1):
            shutil.copyfile(page, SCREENSHOTS / f"workbook-{book.stem}-{n}.png")


def test_a_page_with_only_its_running_header_and_footer_counts_as_blank(
    tmp_path: Path,
) -> None:
    page = Image.new("L", (660, 510), 255)
    draw = ImageDraw.Draw(page)
    draw.text((20, 12), "Leaver report: Ben Brennan    As of 24 Nov 2026 09:30 UTC", fill=0)
    draw.text((300, 490), "Page 3 of 3", fill=0)
    page.save(tmp_path / "margins.png")
    assert ink(tmp_path / "margins.png") < MIN_INK
    draw.text((60, 200), "Kōwhai Bakery Ltd    ben@harbourco.example    Leaver access", fill=0)
    page.save(tmp_path / "one-row.png")
    assert ink(tmp_path / "one-row.png") >= MIN_INK


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
