"""A record's fast line is its canonical JSON, whatever the values; the signing key is kept
like the secrets key."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.filemodes import mode_of
from agent.security.canonical import canonical_json
from agent.security.signing import (
    SigningKeyError,
    load_signing_key,
    read_public_key,
    signature_holds,
)
from agent.services.evidence.period import Period, PeriodError
from agent.services.evidence.shapes import Field, RecordShape, Value

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=13)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
VALUES = {
    Value.TEXT: TEXT,
    Value.TEXT_OR_NULL: st.none() | TEXT,
    Value.INT: st.integers(),
    Value.INT_OR_NULL: st.none() | st.integers(),
    Value.BOOL: st.booleans(),
    Value.BOOL_OR_NULL: st.none() | st.booleans(),
    Value.TIME: TIMES,
    Value.TIME_OR_NULL: st.none() | TIMES,
    Value.DATE_OR_NULL: st.none() | st.dates(),
    Value.TEXT_LIST: st.lists(TEXT, max_size=3),
    Value.JSON: st.dictionaries(
        TEXT, st.none() | st.integers() | TEXT | st.lists(TEXT), max_size=3
    ),
}
SHAPE = RecordShape('every "kind" ü', [Field(f"{v.value} ü%s", v) for v in Value][::-1])


def _plain(value: object) -> object:
    """The value as the record holds it: times in UTC, dates as ISO text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({f.name: VALUES[f.value] for f in SHAPE.fields}), st.integers(0))
def test_a_line_is_the_canonical_json_of_its_record(row: dict[str, object], seq: int) -> None:
    values = [row[name] for name in SHAPE.names]
    record = {
        "data": {name: _plain(row[name]) for name in SHAPE.names},
        "kind": SHAPE.kind,
        "prev": "ab" * 32,
        "seq": seq,
    }
    assert SHAPE.line(values, "ab" * 32, seq) == canonical_json(record).decode("utf-8")


def test_a_period_is_whole_utc_days_and_refuses_nonsense() -> None:
    period = Period.parse("2026-01-01", " 2026-03-31")
    assert (period.begins, period.ends) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    with pytest.raises(PeriodError, match=r"^--from '2026-13-01' is not a date"):
        Period.parse("2026-13-01", "2026-12-31")
    with pytest.raises(PeriodError, match=r"^--from 2026-04-01 is after --to 2026-03-31"):
        Period.parse("2026-04-01", "2026-03-31")


def test_the_key_file_is_made_once_owner_only_and_kept(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "signing.key"
    made = load_signing_key(env_value=None, key_file=key_file)
    assert mode_of(key_file) == 0o600
    again = load_signing_key(env_value=None, key_file=key_file, create=False)
    assert again.public_raw == made.public_raw
    assert signature_holds(made.public_raw, again.sign(b"head"), b"head")
    assert not signature_holds(made.public_raw, again.sign(b"head"), b"other")
    assert "PRIVATE" not in repr(made)


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "signing.key"
    load_signing_key(env_value=None, key_file=key_file)
    os.chmod(key_file, 0o644)
    with pytest.raises(SigningKeyError, match="readable by others"):
        load_signing_key(env_value=None, key_file=key_file)


def test_no_key_is_made_when_only_checking(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="no signing key"):
        load_signing_key(env_value=None, key_file=tmp_path / "signing.key", create=False)
    assert not (tmp_path / "signing.key").exists()


def test_the_environment_key_wins_as_pem_or_base64(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    for text in (pem, base64.b64encode(raw).decode()):
        loaded = load_signing_key(env_value=text, key_file=tmp_path / "none.key")
        assert loaded.public_raw == public
    assert not (tmp_path / "none.key").exists()
    with pytest.raises(SigningKeyError, match="neither a PEM private key nor 32 bytes"):
        load_signing_key(env_value="not a key", key_file=tmp_path / "none.key")
    assert read_public_key(base64.b64encode(public), "given") == public
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        read_public_key(b"-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----", "key.pem")
