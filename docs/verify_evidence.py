"""Check an accessrecon evidence pack without accessrecon: Python 3.11+ and cryptography.

    python verify_evidence.py PACK.zip --key KEY.pem   (or --fingerprint HEX)

Prints OK, or the first record, file or signature that is not as signed (exit 1).
"""

import argparse
import base64
import hashlib
import json
import re
import struct
import sys
import zipfile
from collections.abc import Iterator
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

MANIFEST, FORMAT = "manifest.json", "accessrecon-evidence-pack/1"
TAIL = re.compile(rb'.*,"kind":("[^"\\]*"),"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]*)}', re.S)


def fail(message: str) -> NoReturn:
    raise SystemExit(f"FAILED: {message}")


def blocks(pack: str, info: zipfile.ZipInfo) -> Iterator[bytes]:  # raw, from the zip
    with open(pack, "rb") as f:
        f.seek(info.header_offset)
        f.seek(info.header_offset + 30 + sum(struct.unpack("<2H", f.read(30)[26:])))
        left = info.compress_size
        while left:
            yield (data := f.read(min(4 << 20, left)))
            left -= len(data)


def records(pack: str, infos: dict, files: list) -> Iterator[tuple]:
    for f in files:  # (file, line number, line, cut); line None once the file has ended
        number, rest = 0, b""
        for data in blocks(pack, infos[f["name"]]):
            *lines, rest = (rest + data).split(b"\n")
            for line in lines:
                number += 1
                yield f, number, line, False
        if rest:
            number += 1
            yield f, number, rest, False
        yield f, number, None, bool(rest)


def main() -> None:
    parser = argparse.ArgumentParser(description="Check an accessrecon evidence pack.")
    parser.add_argument("pack")
    parser.add_argument("--key", help="the practice's public key file (PEM)")
    parser.add_argument("--fingerprint", help="the practice's key fingerprint (hex SHA-256)")
    args, key = parser.parse_args(), None
    if args.key:
        with open(args.key, "rb") as handle:
            key = load_pem_public_key(handle.read()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    pack, fingerprint = args.pack, args.fingerprint
    try:
        entries = zipfile.ZipFile(pack).infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        fail(f"{pack.rsplit('/', 1)[-1]}: not a readable zip file ({exc})")
    infos: dict = {}
    for i in entries:
        if i.filename in infos:
            fail(f"{i.filename}: in the pack twice")
        if i.compress_type != zipfile.ZIP_STORED:
            fail(f"{i.filename}: compressed, but a pack's files are stored")
        infos[i.filename] = i
    if MANIFEST not in infos:
        fail(f"{MANIFEST}: missing from the pack")
    try:
        document = json.loads(b"".join(blocks(pack, infos[MANIFEST])))
        signed, signature = document["signed"], base64.b64decode(document["signature"])
        files, summary, head = signed["files"], signed["summary"], signed["chain_head"]
        embedded = base64.b64decode(signed["public_key"], validate=True)
        found, total = hashlib.sha256(embedded).hexdigest(), sum(f["records"] for f in files)
        got = (signed["format"], signed["key_fingerprint"], signed["records"])
        if got != (FORMAT, found, total):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        fail(f"{MANIFEST}: is not a well-formed manifest of {FORMAT}")
    wanted = (fingerprint or hashlib.sha256(key or embedded).hexdigest()).lower()
    if found != wanted:
        fail(f"{MANIFEST}: signed with key {found}, not with the trusted key {wanted}")
    try:
        message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        Ed25519PublicKey.from_public_bytes(embedded).verify(signature, message.encode())
    except Exception:
        fail(f"{MANIFEST}: the signature does not verify with key {found}: the manifest was "
             "changed after it was signed")  # fmt: skip
    listed = {f["name"] for f in files} | {s["name"] for s in summary}
    for name in [*(n for n in infos if n != MANIFEST and n not in listed)]:
        fail(f"{name}: not listed in the signed manifest")
    for name in sorted(listed - set(infos)):
        fail(f"{name}: missing from the pack")
    prev, n, before, stream = b"0" * 64, 0, "", records(pack, infos, files)
    for f, number, line, cut in stream:
        here = f"{f['name']} line {number} (seq {n})"
        if line is None and cut:
            fail(f"{f['name']} line {number} (seq {n - 1}): cut short: no line break at its end")
        if line is None and number != f["records"]:
            fail(f"{f['name']}: holds {number} records, the signed manifest says {f['records']}")
        if line is None:
            continue
        t = TAIL.fullmatch(line)
        kind, own, seq = json.dumps(f["kind"]).encode(), t and t[2], t and int(t[3])
        if t and t[1] == kind and own == prev and seq == n:
            before, n = f"{here}:", n + 1
            prev = hashlib.sha256(prev + line).hexdigest().encode()
            continue
        if not t or t[1] != kind:
            fail(f"{here}: changed: it is not a well-formed record of this file")
        if own == prev:
            fail(f"{here}: changed: it says seq {seq}")
        following = next((rec for _, _, rec, _ in stream if rec is not None), None)
        after = TAIL.fullmatch(following) if following is not None else None
        if seq == n:
            mine = hashlib.sha256(own + line).hexdigest().encode()
            intact = after[2] == mine if after else following is None and mine.decode() == head
            if intact and before:
                fail(f"{before} changed: its hash is not the one the next record holds")
            fail(f"{here}: changed: the hash it holds for the record before it is wrong")
        if seq > n and after and int(after[3]) == n:
            fail(f"{here}: out of order: it holds seq {seq}, and seq {n} follows it")
        if seq > n:
            fail(f"{here}: missing: it holds seq {seq}, so record seq {n} was removed")
        fail(f"{here}: out of order: it holds seq {seq}, a record repeated or moved")
    if prev.decode() != head:
        fail(f"{before} changed: its hash is not the signed chain head" if before else
             f"{MANIFEST}: the chain head of an empty pack is wrong")  # fmt: skip
    for s in summary:
        if hashlib.sha256(b"".join(blocks(pack, infos[s["name"]]))).hexdigest() != s["sha256"]:
            fail(f"{s['name']}: changed: its SHA-256 is not the one the signed manifest holds")
    period = f"{signed['period']['from']} to {signed['period']['to']}"
    first = f"OK: {total} records from {period}, chain head {head[:16]}"
    lines = [f"  {f['name']}: {f['records']} records" for f in files] + [f"signed by key {found}"]
    print("\n".join([first if total else f"OK: no records in this period ({period})", *lines]))
    if key is None and fingerprint is None:
        print("WARNING: no --key given: check that fingerprint with the practice", file=sys.stderr)


if __name__ == "__main__":
    main()
