"""Secrets at rest: key sources, start-up checks, rotation, and no plaintext anywhere."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import typer
from cryptography.fernet import Fernet
from keyring.backend import KeyringBackend
from keyring.backends import fail
from sqlalchemy import Engine, LargeBinary
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from accessrecon.commands import server_admin
from agent.runtime import Runtime
from agent.security import key_rotation
from agent.security.key_rotation import rotate_secret_key
from agent.security.logins import add_login
from agent.security.secrets import (
    KEYRING_SERVICE,
    KeySource,
    SecretBox,
    SecretKeyError,
    keyring_username,
    open_secret_box,
    read_keys,
)
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, KeyCanary, PortalLogin
from server.app import create_app
from tests.server.conftest import Practice, api_client, build_practice

PASSWORD = "Sentinel-Pa55word-7f3a9c"
TOTP = "SENTINELTOTPSECRETQQQQQQQQQQQQQQ"  # valid base32, 160 bits
STORAGE = "sentinel-session-cookie-4b1e0d"


class MemoryKeyring(KeyringBackend):
    """An OS keyring stand-in: the real one must never be touched by tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture(autouse=True)
def no_os_keyring() -> Iterator[None]:
    """Every test here starts on a machine without a keyring backend."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def _store_login(runtime: Runtime, box: SecretBox) -> None:
    with session_scope(runtime.engine) as session:
        add_login(
            session,
            box,
            portal="xero",
            email="agent@harbourco.example",
            password=PASSWORD,
            totp_secret=TOTP,
            base_url="http://127.0.0.1:1",
        )


def _ciphertexts(engine: Engine) -> dict[tuple[str, str, object], bytes]:
    found = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, LargeBinary):
                    for pk, value in connection.execute(select(table.c.id, column)):  # type: ignore[call-overload]
                        if value:
                            found[(table.name, column.name, pk)] = bytes(value)
    return found


# -- key sources ----------------------------------------------------------------------


def test_without_a_keyring_backend_the_key_file_is_made_and_used(runtime: Runtime) -> None:
    key_file = runtime.settings.key_file
    assert not key_file.exists()
    box = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    loaded = read_keys(env_key=None, key_file=key_file)
    assert loaded is not None
    assert loaded.source is KeySource.FILE
    assert box.decrypt(box.encrypt("x")) == "x"
    assert "keys=<1>" in repr(loaded)
    assert loaded.keys[0].decode() not in repr(loaded)
    assert "hidden" in repr(box)


def test_the_os_keyring_is_a_key_source(runtime: Runtime, memory_keyring: MemoryKeyring) -> None:
    key = Fernet.generate_key()
    key_file = runtime.settings.key_file
    memory_keyring.set_password(KEYRING_SERVICE, keyring_username(key_file), key.decode())
    box = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    assert not key_file.exists(), "a key file was made although the keyring holds the key"
    assert SecretBox([key]).decrypt(box.encrypt("secret")) == "secret"
    loaded = read_keys(env_key=None, key_file=key_file)
    assert loaded is not None
    assert loaded.source is KeySource.KEYRING
    # The environment wins over the keyring.
    env_key = Fernet.generate_key().decode()
    env = read_keys(env_key=env_key, key_file=key_file)
    assert env is not None
    assert env.source is KeySource.ENV


def test_a_missing_key_for_a_database_with_secrets_stops_start_up(runtime: Runtime) -> None:
    box = open_secret_box(runtime.engine, env_key=None, key_file=runtime.settings.key_file)
    _store_login(runtime, box)
    runtime.settings.key_file.unlink()
    with pytest.raises(SecretKeyError, match="holds secrets encrypted with a key that is not"):
        create_app(runtime)
    assert not runtime.settings.key_file.exists(), "a fresh key was made for old secrets"


def test_a_wrong_key_is_caught_at_start_up_by_the_canary(runtime: Runtime) -> None:
    open_secret_box(runtime.engine, env_key=None, key_file=runtime.settings.key_file)
    # No secrets stored yet: only the canary can tell the key is wrong.
    wrong = Fernet.generate_key().decode()
    settings = Settings(
        data_dir=runtime.settings.data_dir,
        database_url_setting=runtime.settings.database_url,
        secret_key=wrong,
    )
    with pytest.raises(SecretKeyError, match="is not this database's key"):
        create_app(Runtime(settings))


def test_a_database_from_before_the_canary_is_checked_against_its_secrets(runtime: Runtime) -> None:
    key = Fernet.generate_key()
    _store_login(runtime, SecretBox([key]))
    wrong = Fernet.generate_key().decode()
    with pytest.raises(SecretKeyError, match="is not this database's key"):
        open_secret_box(runtime.engine, env_key=wrong, key_file=runtime.settings.key_file)
    with Session(runtime.engine) as session:
        assert session.get(KeyCanary, 1) is None
    open_secret_box(runtime.engine, env_key=key.decode(), key_file=runtime.settings.key_file)
    with Session(runtime.engine) as session:
        assert session.get(KeyCanary, 1) is not None


# -- rotation -------------------------------------------------------------------------


def test_rotate_key_re_encrypts_everything_and_retires_the_old_key(
    runtime: Runtime, monkeypatch
) -> None:
    key_file = runtime.settings.key_file
    box = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    _store_login(runtime, box)
    old_key = key_file.read_bytes().split()[0]
    before = _ciphertexts(runtime.engine)
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", runtime.settings.database_url)
    app = typer.Typer()
    app.command()(server_admin.rotate_key)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 0, result.output
    assert "re-encrypted" in result.output
    keys = key_file.read_bytes().split()
    assert len(keys) == 1
    assert keys[0] != old_key
    assert key_file.stat().st_mode & 0o777 == 0o600
    after = _ciphertexts(runtime.engine)
    assert set(after) == set(before)
    assert all(after[k] != before[k] for k in before)
    new_box = SecretBox(keys)
    with Session(runtime.engine) as session:
        login = session.exec(select(PortalLogin)).one()
        assert new_box.decrypt(login.password_enc) == PASSWORD
        assert new_box.decrypt(login.totp_secret_enc) == TOTP
        assert (
            session.exec(
                select(AuditEvent).where(AuditEvent.action == "secrets.key_rotated")
            ).first()
            is not None
        )
    with pytest.raises(SecretKeyError, match="is not this database's key"):
        open_secret_box(runtime.engine, env_key=old_key.decode(), key_file=key_file)
    open_secret_box(runtime.engine, env_key=None, key_file=key_file)


def test_a_rotation_that_dies_midway_leaves_a_key_store_that_opens_the_database(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = runtime.settings.key_file
    box = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    _store_login(runtime, box)

    def crash(*_args: object, **_kwargs: object) -> int:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(key_rotation, "_reencrypt", crash)
        with pytest.raises(KeyboardInterrupt):
            rotate_secret_key(runtime.engine, env_key=None, key_file=key_file)
    assert len(key_file.read_bytes().split()) == 2  # new and old, both readable
    reopened = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    with Session(runtime.engine) as session:
        login = session.exec(select(PortalLogin)).one()
        assert reopened.decrypt(login.password_enc) == PASSWORD
    report = rotate_secret_key(runtime.engine, env_key=None, key_file=key_file)
    assert report.secrets >= 3
    assert len(key_file.read_bytes().split()) == 1


def test_rotation_rewrites_a_keyring_entry(runtime: Runtime, memory_keyring: MemoryKeyring) -> None:
    key_file = runtime.settings.key_file
    entry = (KEYRING_SERVICE, keyring_username(key_file))
    memory_keyring.entries[entry] = Fernet.generate_key().decode()
    box = open_secret_box(runtime.engine, env_key=None, key_file=key_file)
    _store_login(runtime, box)
    old = memory_keyring.entries[entry]
    report = rotate_secret_key(runtime.engine, env_key=None, key_file=key_file)
    assert report.source is KeySource.KEYRING
    assert memory_keyring.entries[entry] != old
    assert "," not in memory_keyring.entries[entry]
    assert not key_file.exists()
    open_secret_box(runtime.engine, env_key=None, key_file=key_file)


def test_a_key_in_the_environment_is_rotated_in_two_steps(runtime: Runtime) -> None:
    old = Fernet.generate_key().decode()
    key_file = runtime.settings.key_file
    _store_login(runtime, open_secret_box(runtime.engine, env_key=old, key_file=key_file))
    before = _ciphertexts(runtime.engine)
    first = rotate_secret_key(runtime.engine, env_key=old, key_file=key_file)
    assert first.secrets == 0
    assert _ciphertexts(runtime.engine) == before, "changed secrets it cannot hand a key for"
    new = first.instruction.split()[-1]
    second = rotate_secret_key(runtime.engine, env_key=f"{new},{old}", key_file=key_file)
    assert second.secrets >= 3
    open_secret_box(runtime.engine, env_key=new, key_file=key_file)
    with pytest.raises(SecretKeyError):
        open_secret_box(runtime.engine, env_key=old, key_file=key_file)


# -- no plaintext anywhere ------------------------------------------------------------


def _database_bytes(runtime: Runtime) -> bytes:
    """What someone holding the database has: its files (SQLite) or every row (PostgreSQL)."""
    url = runtime.settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    chunks = []
    with runtime.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    chunks.append(
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
    return b"\n".join(chunks)


def _unzipped(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return b"".join(book.read(name) for name in book.namelist())


def test_planted_secrets_appear_nowhere_in_plaintext(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    practice: Practice = build_practice(runtime)
    admin = practice.client("admin")
    seen: list[bytes] = []

    def keep(response):  # type: ignore[no-untyped-def]
        assert response.status_code < 500, response.text
        seen.append(response.content)
        seen.append(json.dumps(dict(response.headers)).encode())
        return response

    keep(
        admin.post(
            "/api/v1/logins",
            json={
                "portal": "xero",
                "email": "agent@harbourco.example",
                "password": PASSWORD,
                "totp_secret": TOTP,
                "base_url": "http://127.0.0.1:1",
                "label": "sandbox",
            },
        )
    )
    # A rejected login with the same secrets: the 422 must not echo them either.
    keep(
        admin.post(
            "/api/v1/logins",
            json={
                "portal": "xero",
                "email": "bad",
                "password": PASSWORD,
                "totp_secret": TOTP + "!",
            },
        )
    )
    # What the crawler does after signing in: keep the browser's storage state, encrypted.
    with session_scope(runtime.engine) as session:
        login = session.exec(select(PortalLogin)).one()
        state = {"cookies": [{"name": "session", "value": STORAGE}], "origins": []}
        login.storage_state_enc = practice.client().app.state.box.encrypt(json.dumps(state))  # type: ignore[attr-defined]
        session.add(login)
    for path in (
        "/api/v1/logins",
        "/api/v1/audit",
        "/api/v1/findings",
        "/api/v1/me",
        "/api/v1/orgs/xero/!kow01/status",
        "/api/v1/tokens?all_users=true",
        "/api/v1/users",
        "/api/v1/crawls",
    ):
        keep(admin.get(path))
    login_id = admin.get("/api/v1/logins").json()[0]["id"]
    keep(admin.post("/api/v1/scan-requests", json={"login_id": login_id}))
    exports = [
        keep(admin.post("/api/v1/exports/findings.csv", json={})).content,
        _unzipped(
            keep(admin.post("/api/v1/exports/leaver.xlsx", json={"person": "Ben Brennan"})).content
        ),
        keep(admin.post("/api/v1/audit/export", json={})).content,
    ]
    rotate_secret_key(runtime.engine, env_key=None, key_file=runtime.settings.key_file)
    keep(api_client(runtime, practice.tokens["admin"]).get("/api/v1/logins"))

    # The secrets really are stored: the key opens them.
    box = open_secret_box(runtime.engine, env_key=None, key_file=runtime.settings.key_file)
    with Session(runtime.engine) as session:
        login = session.exec(select(PortalLogin)).one()
        assert box.decrypt(login.password_enc) == PASSWORD
        assert STORAGE in box.decrypt(login.storage_state_enc)

    places = {
        "database": _database_bytes(runtime),
        "logs": caplog.text.encode(),
        "API responses": b"\n".join(seen),
        "exports": b"\n".join(exports),
    }
    for sentinel in (PASSWORD, TOTP, STORAGE):
        for where, content in places.items():
            assert sentinel.encode() not in content, f"{sentinel} found in {where}"
            assert sentinel.lower().encode() not in content.lower(), f"{sentinel} in {where}"
