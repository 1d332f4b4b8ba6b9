"""Files only their owner may read: the data directory, the database, exports, backups.

The data directory holds the practice's client data (the SQLite database with its
WAL and shared-memory files, the key file, the demo's reports) and the files the
product writes elsewhere (reports, ``findings -o``, backups) hold the same data. On
a shared machine a default umask of 022 would leave all of them readable by every
local account, so:

* the data directory is created ``0700`` and every file the product writes is
  created ``0600`` (``open_private``, ``private_output``), never first created
  readable and narrowed afterwards;
* at start (``agent.runtime.Runtime``, ``agent.storage.db.make_engine``) the data
  directory and the SQLite files are checked: a mode that lets group or others in
  is logged as a warning and set right, the way a key file is checked
  (``agent.security.secrets``), except that these are fixed rather than refused, since
  nothing in them is a key.

On systems without POSIX modes (Windows) these are no-ops.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = 0o077
_POSIX = os.name == "posix"


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (``0o644`` and the like)."""
    return stat.S_IMODE(path.stat().st_mode)


def check_private(path: Path) -> bool:
    """Warn about and fix a file or directory that group or others may use.

    Returns whether the mode was changed. A missing path is left alone.
    """
    if not _POSIX or not path.exists():
        return False
    mode = mode_of(path)
    if not mode & _OTHERS:
        return False
    wanted = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
    try:
        path.chmod(wanted)
    except OSError as exc:  # not ours to change (another owner, a read-only mount)
        log.warning(
            "%s is readable by others (mode %o) and could not be set to %o: %s; run chmod %o on it",
            path,
            mode,
            wanted,
            exc.strerror,
            wanted,
        )
        return False
    log.warning("%s was readable by others (mode %o); its mode is now %o", path, mode, wanted)
    return True


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner may enter: created ``0700``, or checked."""
    if not path.exists():
        path.mkdir(parents=True, mode=PRIVATE_DIR)
        if _POSIX:
            path.chmod(PRIVATE_DIR)  # mkdir's mode is cut by the umask; this is not
        return path
    check_private(path)
    return path


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, PRIVATE_FILE)
    if _POSIX:
        os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode through O_TRUNC
    return fd


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing a file that is ``0600`` from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, mode, opener=_private_opener, **kwargs)


def create_private(path: Path) -> None:
    """Create ``path`` empty and ``0600`` if it does not exist (it is left as is otherwise).

    SQLite gives a database's WAL and shared-memory files the mode of the database
    file, so creating that file private first makes all three private.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    if _POSIX:
        os.fchmod(fd, PRIVATE_FILE)
    os.close(fd)


def sqlite_files(database: Path) -> tuple[Path, Path, Path]:
    """A SQLite database file and the WAL and shared-memory files beside it."""
    return (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    )


@contextmanager
def private_output(path: Path) -> Iterator[None]:
    """Write ``path`` (and any scratch file) inside this block as owner-only.

    For writers that open the file themselves (openpyxl, xlsxwriter, ``csv``): the
    process umask is ``077`` for the block, an existing file is made ``0600`` before
    it is overwritten, and the result is ``0600`` after. The umask belongs to the
    whole process, so this is for the command line, not for the server's threads.
    """
    if not _POSIX:
        yield
        return
    if path.exists():
        path.chmod(PRIVATE_FILE)
    previous = os.umask(_OTHERS)
    try:
        yield
    finally:
        os.umask(previous)
    if path.exists():
        path.chmod(PRIVATE_FILE)
