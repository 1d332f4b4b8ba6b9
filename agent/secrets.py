"""Secrets at rest: portal passwords, TOTP secrets and browser storage state.

They are stored only as Fernet ciphertext. The key never enters the database: it
comes from ``ACCESSRECON_SECRET_KEY`` or from a key file (mode 0600) in the data
directory, made on first use. A database copied without its key is useless to
whoever holds it; a key that does not open the stored secrets is refused with a
message, never silently replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(RuntimeError):
    """The key is missing, malformed or does not open the stored secrets."""


class SecretBox:
    """Encrypts and decrypts secrets with the practice's key(s); the first key encrypts."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise SecretKeyError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from exc

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise SecretKeyError(
                "the secret key does not open the stored secrets: it is not the key they "
                "were saved with (restore the key file or ACCESSRECON_SECRET_KEY)"
            ) from exc

    @classmethod
    def load(cls, *, env_key: str | None, key_file: Path, create: bool = True) -> SecretBox:
        """The box for the configured key, making a key file on first use."""
        if env_key:
            return cls([k.strip().encode() for k in env_key.split(",") if k.strip()])
        if key_file.exists():
            mode = key_file.stat().st_mode & 0o777
            if mode & 0o077:
                raise SecretKeyError(
                    f"{key_file} is readable by others (mode {mode:o}); run chmod 600 on it"
                )
            lines = key_file.read_bytes().split()
            return cls([line for line in lines if line])
        if not create:
            raise SecretKeyError(f"no secret key: {key_file} does not exist")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
        return cls.load(env_key=None, key_file=key_file, create=False)
