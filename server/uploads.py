"""What an uploaded import file must be, for the API's upload and the dashboard's alike.

Both take the same files (``agent.imports``), so both accept the same kinds and keep
the same part of the name the browser sent: a small module of its own, since a route
never imports another route and the dashboard imports none.
"""

from __future__ import annotations

import re
from pathlib import Path

#: the file kinds an import reads
SUFFIXES = (".csv", ".xlsx")


def safe_filename(name: str | None) -> str:
    """The upload's own name, reduced to a plain file name (no path, no odd characters)."""
    base = Path((name or "upload").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "upload"
    return cleaned[-120:]
