"""The practice's Ed25519 signing key: what an evidence pack's chain head is signed with.

An auditor checks a pack against a public key the practice handed over beforehand
(``accessrecon evidence key -o FILE``), so the private key must stay the same from
pack to pack and never leave the practice. It is kept like the secrets key
(``agent.security.secrets``), from the first of:

1. ``ACCESSRECON_SIGNING_KEY``: the private key as PEM (PKCS #8, unencrypted) or as
   its 32 raw bytes in base64;
2. the key file ``signing.key`` (PEM, mode 0600) in the data directory, made on first
   use; a key file that others may read is refused, never silently used.

A key's **fingerprint** is the hex SHA-256 of its 32 raw public bytes: short enough to
read over the phone, and what the pack's manifest and ``evidence verify`` print.

Errors: ``SigningKeyError`` (a ``RuntimeError``) with a message that says what to do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.filemodes import PRIVATE_FILE, mode_of, open_private

__all__ = [
    "ENV_NAME",
    "KEY_FILE_NAME",
    "SigningKey",
    "SigningKeyError",
    "fingerprint",
    "load_signing_key",
    "public_key_pem",
    "read_public_key",
    "signature_holds",
    "write_public_key",
]

ENV_NAME = "ACCESSRECON_SIGNING_KEY"
KEY_FILE_NAME = "signing.key"
RAW_KEY_BYTES = 32


class SigningKeyError(RuntimeError):
    """The signing key (or a public key given to check with) is missing or malformed."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key and where it came from; ``repr`` never shows the key."""

    private: Ed25519PrivateKey
    location: str

    def __repr__(self) -> str:
        return f"SigningKey(<hidden>, fingerprint={self.fingerprint}, {self.location})"

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def fingerprint(public_raw: bytes) -> str:
    """The hex SHA-256 of a public key's 32 raw bytes."""
    return hashlib.sha256(public_raw).hexdigest()


def public_key_pem(public_raw: bytes) -> bytes:
    """The public key as PEM (SubjectPublicKeyInfo), the form handed to an auditor."""
    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signature_holds(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is the key's signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _base64_raw(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == RAW_KEY_BYTES else None


def _private_from_text(text: str, where: str) -> Ed25519PrivateKey:
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(stripped.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"{where} is not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{where} holds a {type(key).__name__}, not an Ed25519 key")
        return key
    raw = _base64_raw(stripped)
    if raw is None:
        raise SigningKeyError(
            f"{where} is neither a PEM private key nor 32 bytes in base64: set it to the "
            f"content of a {KEY_FILE_NAME} file, or unset it to use the key file"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def read_public_key(text: bytes, where: str) -> bytes:
    """The 32 raw bytes of a public key given as PEM or as base64 of the raw bytes."""
    stripped = text.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped)
        except ValueError as exc:
            raise SigningKeyError(f"{where} is not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{where} holds a {type(key).__name__}, not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = _base64_raw(stripped.decode("ascii", errors="replace"))
    if raw is None:
        raise SigningKeyError(f"{where} is neither a PEM public key nor 32 bytes in base64")
    return raw


def _read_key_file(key_file: Path) -> SigningKey:
    mode = mode_of(key_file)
    if os.name == "posix" and mode & 0o077:
        raise SigningKeyError(
            f"{key_file} is readable by others (mode {mode:o}); run chmod 600 on it"
        )
    text = key_file.read_text(encoding="ascii", errors="replace")
    if not text.strip():
        raise SigningKeyError(f"{key_file} is empty: restore the signing key from a backup")
    return SigningKey(_private_from_text(text, str(key_file)), str(key_file))


def _create_key_file(key_file: Path) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return SigningKey(private, str(key_file))


def load_signing_key(*, env_value: str | None, key_file: Path, create: bool = True) -> SigningKey:
    """The practice's signing key: ``env_value`` (``ACCESSRECON_SIGNING_KEY``), else the
    key file, made on first use when ``create``; refused with a reason otherwise."""
    if env_value and env_value.strip():
        return SigningKey(_private_from_text(env_value, ENV_NAME), ENV_NAME)
    if key_file.exists():
        return _read_key_file(key_file)
    if not create:
        raise SigningKeyError(
            f"no signing key: {ENV_NAME} is not set and {key_file} does not exist "
            "(a pack made here creates it)"
        )
    try:
        return _create_key_file(key_file)
    except FileExistsError:  # another process made it first: use theirs
        return _read_key_file(key_file)


def write_public_key(public_raw: bytes, path: Path) -> None:
    """Write the public key as PEM, owner-only like every file the product writes."""
    with open_private(path, "wb") as handle:
        handle.write(public_key_pem(public_raw))
