"""Helper processes: a pack written, and parts of one checked, beside the product's process.

A chain costs one SHA-256 per record, and Python computes one at a time, so a large
pack keeps one processor busy where the machine has more (``bench/evidence``). Two
jobs are handed to a helper, a fresh interpreter that loads nothing but the standard
library and this package's byte-level modules (``lines``, ``archive``, ``writer``,
``slots``), so each adds little memory:

* **write**: the helper puts each batch of records on the chain and keeps the pack's
  zip in the same open file, while the product's process reads and encodes the next
  rows (``writer``);
* **check**: the record bytes are cut at line breaks into spans, one per processor
  (up to ``MAX_PROCESSES``); the first is checked in the product's process and each
  other in a helper at the same time (``check_spans``), and the spans are joined
  (``lines.joined_head``).

A helper that cannot be started, or stops, never makes a bad pack pass or a wrong one:
a check then reads the pack in order in the product's process; a write that cannot
start one is done in the product's process, and one whose helper stops fails with
the helper's own words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from agent.services.evidence.lines import Segment, SpanCheck, check_span

__all__ = [
    "MAX_PROCESSES",
    "HelperFailed",
    "check_spans",
    "helper_command",
    "main",
    "processors",
]

MAX_PROCESSES = 4
_ROOT = str(Path(__file__).resolve().parents[3])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from agent.services.evidence.helper import main; sys.exit(main(sys.argv[2:]))"
)


class HelperFailed(OSError):
    """A helper process could not do its part; the message says why."""


def processors() -> int:
    """How many processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def helper_command(*args: str) -> list[str]:
    """The command that starts a helper with ``args``: this interpreter, with no
    site-packages, no Python environment variables and no current directory on the path
    (``-I -S``)."""
    return [sys.executable, "-I", "-S", "-c", _BOOT, _ROOT, *args]


# -- checking -------------------------------------------------------------------------


def _span_json(found: SpanCheck) -> str:
    return json.dumps(
        {
            "sound": found.sound,
            "first_prev": None if found.first_prev is None else found.first_prev.decode("ascii"),
            "first_seq": found.first_seq,
            "last": None if found.last is None else found.last.decode("ascii"),
            "counts": found.counts,
        }
    )


def _span_from(text: str) -> SpanCheck:
    fields = json.loads(text)
    first, last = fields["first_prev"], fields["last"]
    return SpanCheck(
        sound=fields["sound"] is True,
        first_prev=None if first is None else first.encode("ascii"),
        first_seq=int(fields["first_seq"]),
        last=None if last is None else last.encode("ascii"),
        counts=[int(c) for c in fields["counts"]],
    )


def check_spans(path: Path, spans: Sequence[Sequence[Segment]]) -> list[SpanCheck]:
    """Each span of the file at ``path`` checked: the first here, each other in a helper
    process at the same time. A helper that fails reports its span unsound."""
    helpers: list[subprocess.Popen[str]] = []
    try:
        for span in spans[1:]:
            segments = json.dumps([[s.kind, s.offset, s.length] for s in span])
            helpers.append(
                subprocess.Popen(  # noqa: S603 - this interpreter, this package's own module
                    helper_command("check", str(path), segments),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
    except OSError:  # none can be started: this process checks every span
        _stop(helpers)
        helpers = []
    try:
        with path.open("rb") as stream:
            found = [check_span(stream, spans[0])]
            if not helpers:  # none could be started: this process checks them all
                found += [check_span(stream, span) for span in spans[1:]]
        for helper in helpers:
            out, _ = helper.communicate()
            try:
                found.append(_span_from(out) if helper.returncode == 0 else SpanCheck(False))
            except (ValueError, KeyError, TypeError):
                found.append(SpanCheck(False))
        return found
    finally:
        _stop(helpers)


def _stop(helpers: Sequence[subprocess.Popen[str]]) -> None:
    for helper in helpers:
        if helper.poll() is None:
            helper.kill()
            helper.wait()


def _serve_check(path: str, segments: str) -> int:
    with open(path, "rb") as stream:
        found = check_span(stream, [Segment(k, o, n) for k, o, n in json.loads(segments)])
    sys.stdout.write(_span_json(found))
    return 0


def main(argv: list[str]) -> int:
    """A helper process: ``check PATH SEGMENTS`` or ``write FD WHEN [BATCHES LINES
    FREEING]`` (``writer``). What stops it is said in one line on stderr, which the
    product's process reports."""
    role, *args = argv
    try:
        if role == "check":
            return _serve_check(*args)
        if role == "write":
            from agent.services.evidence.writer import serve

            when = tuple(json.loads(args[1]))
            shared = [int(fd) for fd in args[2:]]
            return serve(int(args[0]), when, shared, sys.stdin.buffer, sys.stdout.buffer)
        raise ValueError(f"unknown role {role!r}")
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(1)  # not through the half-written zip's finalizer, which would say more
