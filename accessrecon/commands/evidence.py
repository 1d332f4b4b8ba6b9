"""``accessrecon evidence pack|verify|key``: signed evidence for an auditor.

``pack --from DATE --to DATE -o pack.zip`` writes every scan, finding, review,
campaign decision, removal, import and export of the period as hash-chained JSON
Lines, with a summary (workbook and a PDF printed by Chromium), and signs the chain
head with the practice's Ed25519 key (``agent.services.evidence``,
``agent.security.signing``). Like every export of client data, the pack is
owner-only (mode 0600) and audited (``export.evidence_pack``, with its SHA-256).

``verify PACK`` checks a pack against the practice's own key (or ``--key FILE``)
and prints OK with the counts and the key's fingerprint, or the first record, file
or signature that is not as signed, on stderr with exit code 1. It only reads, so
it is not audited, and needs no database.

``key -o FILE`` writes the public key to hand to the auditor, who checks packs with
``docs/verify_evidence.py`` and no copy of the product.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from accessrecon.console import cli_actor, refuse, say
from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.audit import record
from agent.security.signing import (
    ENV_NAME,
    KEY_FILE_NAME,
    SigningKey,
    SigningKeyError,
    load_signing_key,
    read_public_key,
    write_public_key,
)
from agent.services.evidence.pack import PackInvalid, build_pack, verify_pack
from agent.services.evidence.period import Period, PeriodError
from agent.settings import Settings
from agent.storage.db import session_scope

evidence_app = typer.Typer(
    help="Signed, hash-chained evidence packs for auditors: pack, verify, key.",
    no_args_is_help=True,
)


def _signing_key(settings: Settings, *, create: bool) -> SigningKey:
    return load_signing_key(
        env_value=os.environ.get(ENV_NAME),
        key_file=settings.data_dir / KEY_FILE_NAME,
        create=create,
    )


@evidence_app.command("pack")
def pack(
    first_day: Annotated[str, typer.Option("--from", help="the period's first day, YYYY-MM-DD")],
    last_day: Annotated[str, typer.Option("--to", help="its last day (inclusive, UTC)")],
    output: Annotated[
        Path, typer.Option("-o", "--output", dir_okay=False, help="the .zip file to write")
    ],
) -> None:
    """Write the signed evidence pack of a period."""
    try:
        period = Period.parse(first_day, last_day)
    except PeriodError as exc:
        refuse(str(exc))
    if output.suffix.lower() != ".zip":
        refuse(f"-o {output.name}: an evidence pack is a .zip file")
    runtime = Runtime()
    try:
        key = _signing_key(runtime.settings, create=True)
    except SigningKeyError as exc:
        refuse(str(exc))

    def print_pdf(html: str) -> bytes:
        from agent.crawl.pdf import html_to_pdf  # Playwright: loaded only to print

        return html_to_pdf(html, runtime.settings)

    with session_scope(runtime.engine) as session:
        result = build_pack(session, period, output, key, now=utcnow(), print_pdf=print_pdf)
    manifest = result.manifest
    with session_scope(runtime.engine) as session:
        record(
            session,
            actor=cli_actor(),
            action="export.evidence_pack",
            detail={
                "from": manifest.period_from,
                "to": manifest.period_to,
                "records": manifest.records,
                "chain_head": manifest.chain_head,
                "key_fingerprint": manifest.key_fingerprint,
                "sha256": result.sha256,
                "filename": output.name,
            },
        )
    what = (
        "no records in this period"
        if manifest.records == 0
        else f"{manifest.records} records in {len(manifest.files)} files"
    )
    say(f"{output}: {what} ({period}), signed by key {manifest.key_fingerprint}")


@evidence_app.command("verify")
def verify(
    pack_file: Annotated[Path, typer.Argument(help="the evidence pack (.zip)")],
    key_file: Annotated[
        Path | None,
        typer.Option("--key", help="a public key to check with (default: the practice's own)"),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option("--deep", help="also check every record is canonical JSON (slower)"),
    ] = False,
) -> None:
    """Check a pack: OK with its counts, or the first record that is not as signed."""
    if not pack_file.is_file():
        refuse(f"{pack_file}: no such file")
    try:
        if key_file is not None:
            if not key_file.is_file():
                refuse(f"--key {key_file}: no such file")
            trusted = read_public_key(key_file.read_bytes(), str(key_file))
            whose = "the key given"
        else:
            trusted = _signing_key(Settings(), create=False).public_raw
            whose = "this practice's key"
    except SigningKeyError as exc:
        refuse(f"{exc}; to check a pack from elsewhere, pass --key FILE")
    try:
        report = verify_pack(pack_file, trusted_key=trusted, deep=deep)
    except PackInvalid as exc:
        refuse(f"FAILED: {exc}")
    lines = report.lines()
    lines[-1] += f" ({whose})"
    for line in lines:
        say(line)


@evidence_app.command("key")
def key(
    output: Annotated[
        Path, typer.Option("-o", "--output", dir_okay=False, help="the file to write (PEM)")
    ],
) -> None:
    """Write the practice's public signing key, for the auditor to check packs with."""
    try:
        signing = _signing_key(Settings(), create=True)
    except SigningKeyError as exc:
        refuse(str(exc))
    write_public_key(signing.public_raw, output)
    say(f"{output}: public key, fingerprint {signing.fingerprint}")
