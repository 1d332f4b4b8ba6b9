"""A pack's ``manifest.json``: what it holds, the chain head, and the signature over both.

Its ``signed`` part names the format, the period, when and by what version the pack
was built, each record file with its kind and record count (in chain order), the
total, the chain head, each summary file with its SHA-256, and the public key (raw,
base64) with its fingerprint. ``signature`` is the Ed25519 signature of the
canonical JSON of ``signed``: changing anything it names, or a record (the head
moves), breaks it, and signing it again takes the private key.

A manifest read back is checked for shape before anything in it is trusted; any
problem is a ``ManifestError`` whose message starts ``manifest.json:``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from agent.security.canonical import canonical_json
from agent.security.signing import fingerprint
from agent.services.evidence.chain import RecordFile

__all__ = [
    "FORMAT",
    "MANIFEST_NAME",
    "Manifest",
    "ManifestError",
    "SummaryFile",
    "parse_manifest",
]

FORMAT = "accessrecon-evidence-pack/1"
MANIFEST_NAME = "manifest.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest is missing, malformed or of another format."""


@dataclass(frozen=True, slots=True)
class SummaryFile:
    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    period_from: str
    period_to: str
    generated_at: str
    product_version: str
    files: tuple[RecordFile, ...]
    chain_head: str
    summary: tuple[SummaryFile, ...]
    public_key: bytes
    signature: bytes = b""

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def key_fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def signed(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "period": {"from": self.period_from, "to": self.period_to},
            "generated_at": self.generated_at,
            "product_version": self.product_version,
            "files": [{"name": f.name, "kind": f.kind, "records": f.records} for f in self.files],
            "records": self.records,
            "chain_head": self.chain_head,
            "summary": [{"name": s.name, "sha256": s.sha256} for s in self.summary],
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "key_fingerprint": self.key_fingerprint,
        }

    def signed_bytes(self) -> bytes:
        """What the signature covers."""
        return canonical_json(self.signed())

    def to_json(self) -> bytes:
        document = {
            "signed": self.signed(),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _fail(reason: str) -> ManifestError:
    return ManifestError(f"{MANIFEST_NAME}: {reason}")


def _get(mapping: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise _fail(f"{where} has no {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _fail(f"{where}: {key!r} is not a {kind.__name__}")
    return value


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"{what} is not base64") from None


def parse_manifest(content: bytes) -> Manifest:
    """The manifest in ``content``, checked for shape (not yet for its signature)."""
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise _fail("is not valid JSON") from None
    signed = _get(document, "signed", dict, "the manifest")
    signature = _base64(_get(document, "signature", str, "the manifest"), "the signature")
    if signed.get("format") != FORMAT:
        raise _fail(f"format {signed.get('format')!r} is not {FORMAT!r}")
    period = _get(signed, "period", dict, "signed")
    files = []
    for entry in _get(signed, "files", list, "signed"):
        records = _get(entry, "records", int, "a file entry")
        if records < 0:
            raise _fail("a file entry has a negative record count")
        files.append(
            RecordFile(
                _get(entry, "name", str, "a file entry"),
                _get(entry, "kind", str, "a file entry"),
                records,
            )
        )
    summary = tuple(
        SummaryFile(_get(e, "name", str, "a summary entry"), _get(e, "sha256", str, "a summary"))
        for e in _get(signed, "summary", list, "signed")
    )
    head = _get(signed, "chain_head", str, "signed")
    if not _HEX64.fullmatch(head):
        raise _fail("chain_head is not a SHA-256 in hex")
    public_key = _base64(_get(signed, "public_key", str, "signed"), "public_key")
    if len(public_key) != 32:
        raise _fail("public_key is not an Ed25519 public key (32 bytes)")
    manifest = Manifest(
        period_from=_get(period, "from", str, "period"),
        period_to=_get(period, "to", str, "period"),
        generated_at=_get(signed, "generated_at", str, "signed"),
        product_version=_get(signed, "product_version", str, "signed"),
        files=tuple(files),
        chain_head=head,
        summary=summary,
        public_key=public_key,
        signature=signature,
    )
    names = [f.name for f in manifest.files] + [s.name for s in manifest.summary]
    if len(set(names)) != len(names) or MANIFEST_NAME in names:
        raise _fail("names a file twice")
    if signed.get("key_fingerprint") != manifest.key_fingerprint:
        raise _fail("key_fingerprint is not the fingerprint of public_key")
    if signed.get("records") != manifest.records:
        raise _fail("records is not the sum of the files' record counts")
    if manifest.signed() != signed:
        raise _fail("holds fields this version does not know")
    return manifest
