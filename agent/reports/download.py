"""A report handed over as bytes (an API download) rather than left at a path.

The reports write files, streamed in constant memory; a download needs the bytes
and their digest before anything is sent. So the file is written into a temporary
directory of its own (mode 0700: nobody else can read it while it exists), read
back, and the directory removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Download:
    """A finished export: the exact bytes handed out, what to call them, how many rows."""

    content: bytes
    filename: str
    media_type: str
    rows: int


def written(write: Callable[[Path], int], name: str) -> tuple[bytes, int]:
    """Run a report writer on a scratch path; return the file's bytes and its row count."""
    with tempfile.TemporaryDirectory(prefix="accessrecon-export-") as directory:
        path = Path(directory) / name
        rows = write(path)
        return path.read_bytes(), rows
