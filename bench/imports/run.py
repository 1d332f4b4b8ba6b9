"""A million-row roster, refused: time and peak memory of the import, in a child process.

    python -m bench.imports [--rows 1000000] [--form xlsx csv] [--keep DIR] [--at-cap]

Writes a roster of ``--rows`` people into a temporary directory, as Excel writes a
workbook (every text in the shared-strings table) and as CSV, then imports each in a
fresh process (``measure.py``) against an empty SQLite database with the default
``ACCESSRECON_IMPORT_MAX_ROWS`` (200,000). The import must be refused with the one
"more than N rows" error; the figures are the import's wall-clock seconds and the
child's peak resident memory (``VmHWM``), beside its memory before the import.

``--at-cap`` also imports a file of exactly 200,000 rows, every one wrong: the most
a file can make the import validate (all rows read and checked, the first 100
problems kept and the rest counted). Its memory is not bounded by the 150 MB of a
refused file; its figures are printed for reference.

The workbook is written by a plain streaming writer here (the OOXML parts by hand),
because openpyxl or XlsxWriter take minutes for a million rows; openpyxl reads it as
any Excel file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ["name", "emails", "status", "left_on", "practice_role"]
LIMIT_MB = 150
DEFAULT_CAP = 200_000


def people(rows: int) -> Iterator[list[str]]:
    """Roster rows; every one is wrong (a bad status), as in the file that prompted this."""
    for i in range(1, rows + 1):
        yield [f"Person {i}", f"person{i}@practice.example", "sacked", "", "Accountant"]


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Staff" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_COLUMNS = "ABCDE"


def write_xlsx(path: Path, rows: int) -> None:
    """A workbook as Excel saves one: cells refer to a shared-strings table, in first-use order."""
    index: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            raw.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                b'2006/main"><sheetData>'
            )
            for number, values in enumerate(_with_header(rows), start=1):
                cells = []
                for column, value in zip(_COLUMNS, values, strict=True):
                    if not value:
                        continue
                    at = index.setdefault(value, len(index))
                    cells.append(f'<c r="{column}{number}" t="s"><v>{at}</v></c>')
                raw.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())
            raw.write(b"</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as raw:
            raw.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'count="{len(index)}" uniqueCount="{len(index)}">'.encode()
            )
            for text in index:
                raw.write(f"<si><t>{escape(text)}</t></si>".encode())
            raw.write(b"</sst>")


def _with_header(rows: int) -> Iterator[list[str]]:
    yield HEADER
    yield from people(rows)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        for values in people(rows):
            handle.write(",".join(values) + "\n")


def measure(path: Path, database: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports.measure", str(path), str(database)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--form", nargs="+", choices=("xlsx", "csv"), default=["xlsx", "csv"])
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument(
        "--at-cap",
        action="store_true",
        help="also import a file of exactly the cap, every row wrong",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accessrecon-bench-imports-") as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        failed = False
        for form in args.form:
            failed = _run(directory, Path(scratch), form, args.rows, refused=True) or failed
            if args.at_cap:
                _run(directory, Path(scratch), form, DEFAULT_CAP, refused=False)
        if failed:
            raise SystemExit(1)


def _run(directory: Path, scratch: Path, form: str, rows: int, *, refused: bool) -> bool:
    """Write and import one file, print its figures; whether it missed its mark."""
    path = directory / f"roster-{rows}.{form}"
    started = time.perf_counter()
    (write_xlsx if form == "xlsx" else write_csv)(path, rows)
    wrote = time.perf_counter() - started
    print(f"{form}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, written in {wrote:.1f} s")
    figures = measure(path, scratch / f"{form}-{rows}.sqlite")
    peak = float(str(figures["peak_rss_mb"]))
    timing = (
        f"seconds {figures['seconds']:.2f}, cpu {figures['cpu_seconds']:.2f}; "
        f"peak RSS {peak:.1f} MB (before the import {figures['rss_before_mb']:.1f} MB"
    )
    if not refused:
        print(f"  validated whole: {figures['problems']:,} problems (first: {figures['first']})")
        print(f"  {timing})")
        return False
    verdict = "ok" if peak <= LIMIT_MB else "OVER"
    print(
        f"  import refused at the cap: {figures['refused_at_cap']} "
        f"({figures['problems']} problem: {figures['first']})"
    )
    print(f"  {timing}; limit {LIMIT_MB} MB: {verdict})")
    return verdict != "ok" or not figures["refused_at_cap"]


if __name__ == "__main__":
    main()
