"""Key rotation: every stored secret re-encrypted with a new key, with no moment unreadable.

``rotate_secret_key`` keeps the old key readable until the new ciphertext is
committed: the key store first holds "new, old", then the database is re-encrypted
in one transaction, then the store is cut down to "new". A crash at any point
leaves a key store that opens the database.

It is the only code that rewrites a key store (the keyring entry or the key file)
after the key is made; reading keys, the canary and the secrets themselves are
``agent.security.secrets``'s.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import Engine, update
from sqlmodel import Session

from agent.security.secrets import (
    CANARY_ID,
    CANARY_PLAINTEXT,
    ENV_NAME,
    KEYRING_SERVICE,
    KeySource,
    LoadedKeys,
    SecretBox,
    SecretKeyError,
    ciphertexts,
    keyring_username,
    open_secret_box,
    read_keys,
)
from agent.storage.models import AuditEvent, KeyCanary


@dataclass(frozen=True, slots=True)
class RotationReport:
    source: KeySource
    location: str
    secrets: int
    #: what the operator still has to do (only for keys held in the environment)
    instruction: str = ""


# -- the key store --------------------------------------------------------------------


def _keyring_set(username: str, value: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, username, value)
    except KeyringError as exc:
        raise SecretKeyError(f"cannot write the key to the OS keyring: {exc}") from exc


def _write_key_file(key_file: Path, keys: tuple[bytes, ...]) -> None:
    """Replace the key file atomically: a reader sees the old file or the new, never half."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(key_file.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\n".join(keys) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, key_file)


def _store_keys(loaded: LoadedKeys, key_file: Path, keys: tuple[bytes, ...]) -> None:
    if loaded.source is KeySource.KEYRING:
        _keyring_set(keyring_username(key_file), ",".join(k.decode() for k in keys))
    else:
        _write_key_file(key_file, keys)


# -- the database ---------------------------------------------------------------------


def _reencrypt(engine: Engine, box: SecretBox, *, actor: str, source: KeySource) -> int:
    """Every secret and the canary, encrypted with ``box``'s first key, in one transaction."""
    count = 0
    with Session(engine) as session:
        for table, pk, name, value in list(ciphertexts(session)):
            condition = [table.c[k] == v for k, v in pk.items()]
            session.connection().execute(
                update(table).where(*condition).values({name: box.rotate(value)})
            )
            count += 1
        if session.get(KeyCanary, CANARY_ID) is None:
            session.add(KeyCanary(id=CANARY_ID, canary_enc=box.encrypt(CANARY_PLAINTEXT)))
            count += 1
        session.add(
            AuditEvent(
                actor=actor,
                action="secrets.key_rotated",
                detail={"source": source.value, "secrets": count},
            )
        )
        session.commit()
    return count


def _verify_all(engine: Engine, key: bytes) -> None:
    only_new = SecretBox([key])
    with Session(engine) as session:
        for _, _, _, value in ciphertexts(session):
            only_new.decrypt(value)


def rotate_secret_key(
    engine: Engine,
    *,
    env_key: str | None,
    key_file: Path,
    use_keyring: bool = True,
    actor: str = "cli",
) -> RotationReport:
    """Re-encrypt every secret with a new key, keeping the old key readable until done.

    Stop the server and the worker first: a process still holding only the old key
    would write ciphertext the new key cannot open.

    A key held in ``ACCESSRECON_SECRET_KEY`` cannot be rewritten from here. Given one
    key, this changes nothing and returns an instruction to set "new,old"; given
    several, it re-encrypts with the first and says to drop the others.
    """
    box = open_secret_box(engine, env_key=env_key, key_file=key_file, use_keyring=use_keyring)
    loaded = read_keys(env_key=env_key, key_file=key_file, use_keyring=use_keyring)
    assert loaded is not None
    if loaded.source is KeySource.ENV:
        if len(loaded.keys) == 1:
            new = Fernet.generate_key().decode()
            return RotationReport(
                KeySource.ENV,
                loaded.location,
                0,
                instruction=(
                    f"the key is held in {ENV_NAME}, which this command cannot change. Set "
                    f"{ENV_NAME}=<new>,<old> with this new key first and run rotate-key "
                    f"again:\n{new}"
                ),
            )
        count = _reencrypt(engine, box, actor=actor, source=loaded.source)
        _verify_all(engine, loaded.keys[0])
        return RotationReport(
            KeySource.ENV,
            loaded.location,
            count,
            instruction=f"every secret now opens with the first key: set {ENV_NAME} to it alone",
        )
    new_key = Fernet.generate_key()
    both = (new_key, *loaded.keys)
    _store_keys(loaded, key_file, both)
    count = _reencrypt(engine, SecretBox(both), actor=actor, source=loaded.source)
    _verify_all(engine, new_key)
    _store_keys(loaded, key_file, (new_key,))
    return RotationReport(loaded.source, loaded.location, count)
