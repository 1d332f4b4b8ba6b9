"""Secrets at rest: portal passwords, TOTP secrets and browser storage state.

They are stored only as Fernet ciphertext, in columns whose names end in ``_enc``.
The key never enters the database. It comes from the first of:

1. ``ACCESSRECON_SECRET_KEY`` (one key, or several separated by commas: the first
   encrypts, all decrypt);
2. the OS keyring (service ``accessrecon``, user ``secret-key:<key file path>``), where
   a backend exists; a machine without one (a headless server, a container) simply
   skips this source;
3. the key file (mode 0600) in the data directory, made on first use.

A database copied without its key is useless to whoever holds it. A key that does
not open the stored secrets is refused at start-up, never silently replaced:
``open_secret_box`` checks a small encrypted canary kept in the database, and
refuses to make a fresh key for a database that already holds secrets.

Changing the key is ``agent.security.key_rotation``'s; it reaches every stored secret
through ``ciphertexts`` here.

Errors: ``SecretKeyError`` (a ``RuntimeError``) for every key problem, with a
message that says what to do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, LargeBinary, Table, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from agent.storage.models import KeyCanary

log = logging.getLogger(__name__)

KEYRING_SERVICE = "accessrecon"
CANARY_PLAINTEXT = "accessrecon key canary v1"
CANARY_ID = 1
ENV_NAME = "ACCESSRECON_SECRET_KEY"


class SecretKeyError(RuntimeError):
    """The key is missing, malformed or does not open the stored secrets."""


class KeySource(StrEnum):
    ENV = "env"
    KEYRING = "keyring"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class LoadedKeys:
    """Keys and where they came from; ``keys[0]`` encrypts."""

    source: KeySource
    keys: tuple[bytes, ...]
    location: str

    def __repr__(self) -> str:
        return f"LoadedKeys(source={self.source}, keys=<{len(self.keys)}>, {self.location})"


class SecretBox:
    """Encrypts and decrypts secrets with the practice's key(s); the first key encrypts."""

    def __init__(self, keys: list[bytes] | tuple[bytes, ...]) -> None:
        if not keys:
            raise SecretKeyError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise SecretKeyError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from exc

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise SecretKeyError(
                "the secret key does not open the stored secrets: it is not the key they "
                "were saved with (restore the key file, the keyring entry or "
                f"{ENV_NAME})"
            ) from exc

    def rotate(self, token: bytes) -> bytes:
        """The same secret, encrypted with the first key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise SecretKeyError("a stored secret does not open with any of the keys") from exc

    @classmethod
    def load(
        cls, *, env_key: str | None, key_file: Path, create: bool = True, use_keyring: bool = True
    ) -> SecretBox:
        """The box for the configured key, making a key file on first use.

        This does not look at the database; ``open_secret_box`` also proves the key is
        the database's own, and is what a process should call at start-up.
        """
        loaded = read_keys(env_key=env_key, key_file=key_file, use_keyring=use_keyring)
        if loaded is None:
            if not create:
                raise SecretKeyError(f"no secret key: {key_file} does not exist")
            loaded = create_key_file(key_file)
        return cls(loaded.keys)


# -- key sources ----------------------------------------------------------------------


def _split_keys(text: str) -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in text.replace("\n", ",").split(",") if k.strip())


def keyring_username(key_file: Path) -> str:
    """One keyring entry per data directory, so a demo never shares the practice's key."""
    return f"secret-key:{key_file.absolute()}"


def _keyring_get(username: str) -> str | None:
    """The keyring entry, or ``None`` where there is no entry or no usable backend."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, username)
    except KeyringError as exc:
        log.debug("no usable keyring (%s); using the key file", type(exc).__name__)
        return None


def read_keys(
    *, env_key: str | None, key_file: Path, use_keyring: bool = True
) -> LoadedKeys | None:
    """The configured keys from the first source that has any; ``None`` if none has."""
    if env_key and env_key.strip():
        return LoadedKeys(KeySource.ENV, _split_keys(env_key), ENV_NAME)
    if use_keyring:
        username = keyring_username(key_file)
        stored = _keyring_get(username)
        if stored:
            return LoadedKeys(
                KeySource.KEYRING,
                _split_keys(stored),
                f"OS keyring entry {KEYRING_SERVICE}/{username}",
            )
    if key_file.exists():
        mode = key_file.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretKeyError(
                f"{key_file} is readable by others (mode {mode:o}); run chmod 600 on it"
            )
        keys = tuple(line for line in key_file.read_bytes().split() if line)
        if not keys:
            raise SecretKeyError(f"{key_file} is empty: restore the key file from a backup")
        return LoadedKeys(KeySource.FILE, keys, str(key_file))
    return None


def create_key_file(key_file: Path) -> LoadedKeys:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return LoadedKeys(KeySource.FILE, (key,), str(key_file))


# -- the database's secrets -----------------------------------------------------------


def encrypted_columns() -> list[tuple[Table, list[str]]]:
    """Every ``*_enc`` binary column of every table: what rotation re-encrypts.

    Found from the models, so a table added later with an ``_enc`` column is rotated
    without a change here.
    """
    found = []
    for table in SQLModel.metadata.sorted_tables:
        names = [
            c.name
            for c in table.columns
            if c.name.endswith("_enc") and isinstance(c.type, LargeBinary)
        ]
        if names:
            found.append((table, names))
    return found


def ciphertexts(session: Session) -> Iterator[tuple[Table, dict[str, Any], str, bytes]]:
    """(table, primary key, column, ciphertext) for every stored secret."""
    for table, names in encrypted_columns():
        keys = list(table.primary_key.columns)
        for row in session.connection().execute(select(*keys, *(table.c[n] for n in names))):
            mapping = row._mapping
            pk = {c.name: mapping[c.name] for c in keys}
            for name in names:
                value = mapping[name]
                if value:
                    yield table, pk, name, bytes(value)


def _holds_secrets(session: Session) -> bool:
    return next(
        (True for table, *_ in ciphertexts(session) if table.name != KeyCanary.__tablename__),
        False,
    )


def open_secret_box(
    engine: Engine, *, env_key: str | None, key_file: Path, use_keyring: bool = True
) -> SecretBox:
    """The box for this database, proven to be its key; what every process calls at start-up.

    Refuses, with a message saying what to restore, a missing key for a database that
    holds secrets and a key that does not open the database's canary. A database
    without a canary yet gets one (after the key has opened an existing secret, if any).
    """
    loaded = read_keys(env_key=env_key, key_file=key_file, use_keyring=use_keyring)
    with Session(engine) as session:
        canary = session.get(KeyCanary, CANARY_ID)
        if loaded is None:
            if canary is not None or _holds_secrets(session):
                raise SecretKeyError(
                    "this database holds secrets encrypted with a key that is not here: set "
                    f"{ENV_NAME}, restore {key_file} (mode 0600) or the OS keyring entry "
                    f"{KEYRING_SERVICE}/{keyring_username(key_file)}. A new key cannot open "
                    "the stored passwords, so none is made."
                )
            loaded = create_key_file(key_file)
    box = SecretBox(loaded.keys)
    _check_canary(engine, box, loaded)
    return box


def _check_canary(engine: Engine, box: SecretBox, loaded: LoadedKeys) -> None:
    wrong_key = SecretKeyError(
        f"the secret key from {loaded.location} is not this database's key: it does not "
        "open the stored secrets. Restore the key the database was made with (a backup of "
        f"the key file, the keyring entry or {ENV_NAME}); nothing was changed."
    )
    with Session(engine) as session:
        canary = session.get(KeyCanary, CANARY_ID)
        if canary is not None:
            try:
                plaintext = box.decrypt(canary.canary_enc)
            except SecretKeyError:
                raise wrong_key from None
            if plaintext != CANARY_PLAINTEXT:
                raise wrong_key
            return
        sample = next(
            (
                value
                for table, _, _, value in ciphertexts(session)
                if table.name != KeyCanary.__tablename__
            ),
            None,
        )
        if sample is not None:
            try:
                box.decrypt(sample)
            except SecretKeyError:
                raise wrong_key from None
        session.add(KeyCanary(id=CANARY_ID, canary_enc=box.encrypt(CANARY_PLAINTEXT)))
        try:
            session.commit()
        except IntegrityError:
            # Another process wrote the canary first: check the key against theirs.
            session.rollback()
            _check_canary(engine, box, loaded)
