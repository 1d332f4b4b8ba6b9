"""A batch of records encoded either way is their canonical JSON, whatever the values; the
signing key is kept like the secrets key."""

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
from agent.security.canonical import GENESIS, canonical_json, chain_hash
from agent.security.signing import (
    SigningKeyError,
    load_signing_key,
    read_public_key,
    signature_holds,
)
from agent.services.evidence.lines import chain_lines, frame_batch, line_format
from agent.services.evidence.period import Period, PeriodError
from agent.services.evidence.shapes import Field, RecordShape, Value

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
ZONES = [UTC, timezone(timedelta(hours=13)), timezone(timedelta(hours=-5, minutes=-30))]
ANY_TIME = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)
)
#: what the database hands over: naive times (or times in UTC)
PLAIN_TIME = st.datetimes(min_value=datetime(1, 1, 1), timezones=st.none() | st.just(UTC))
INT64 = st.integers(-(2**63), 2**63 - 1)
JSON_VALUE = st.dictionaries(
    TEXT,
    st.none()
    | st.integers()
    | TEXT
    | st.lists(TEXT)
    | st.floats(allow_nan=False, allow_infinity=False),
    max_size=3,
)


def _values(times: st.SearchStrategy[datetime], ints: st.SearchStrategy[int]) -> dict:
    return {
        Value.TEXT: TEXT,
        Value.TEXT_OR_NULL: st.none() | TEXT,
        Value.INT: ints,
        Value.INT_OR_NULL: st.none() | ints,
        Value.BOOL: st.booleans(),
        Value.BOOL_OR_NULL: st.none() | st.booleans(),
        Value.TIME: times,
        Value.TIME_OR_NULL: st.none() | times,
        Value.DATE_OR_NULL: st.none() | st.dates(),
        Value.TEXT_LIST: st.none() | st.lists(TEXT, max_size=3),
        Value.JSON: JSON_VALUE,
    }


SHAPE = RecordShape('every "kind" ü', [Field(f"{v.value} ü%s", v) for v in Value][::-1])


def _rows(values: dict) -> st.SearchStrategy[list[list[object]]]:
    row = st.tuples(*(values[f.value] for f in SHAPE.fields)).map(list)
    return st.lists(row, min_size=1, max_size=4)


def _plain(value: object) -> object:
    """The value as the record holds it: times in UTC (naive ones taken as UTC), dates as text."""
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _canonical_data(row: list[object]) -> bytes:
    return canonical_json({name: _plain(v) for name, v in zip(SHAPE.names, row, strict=True)})


@settings(max_examples=300, deadline=None)
@given(_rows(_values(ANY_TIME, st.integers())))
def test_a_batch_is_the_canonical_json_of_its_records_data(rows: list[list[object]]) -> None:
    expected = frame_batch([_canonical_data(row) for row in rows])
    assert SHAPE.encode(rows) == expected
    fast = SHAPE.encode_fast(rows)
    assert fast is None or fast == expected


@settings(max_examples=300, deadline=None)
@given(_rows(_values(PLAIN_TIME, INT64)))
def test_values_as_the_database_gives_them_take_the_fast_way_to_the_same_bytes(
    rows: list[list[object]],
) -> None:
    fast = SHAPE.encode_fast(rows)
    assert fast is not None
    assert fast == frame_batch([_canonical_data(row) for row in rows])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("int ü%s", 1.5),  # a float would be spelled orjson's way
        ("int ü%s", True),  # a bool where a number belongs
        ("bool ü%s", 1),
        ("text ü%s", 1e16),
        ("text ü%s", datetime(2026, 1, 1)),
        ("time ü%s", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=13)))),
        ("date_or_null ü%s", datetime(2026, 1, 1)),
        ("text_list ü%s", ["a", 2.5]),
        ("int ü%s", 2**64),  # beyond orjson's integers
    ],
)
def test_a_value_not_of_its_columns_type_is_left_to_the_converters(
    field: str, value: object
) -> None:
    row = _example_row()
    row[SHAPE.names.index(field)] = value
    assert SHAPE.encode_fast([row]) is None


def _example_row() -> list[object]:
    """A row of the right types: each nullable value empty, JSON holding floats."""
    examples: dict[Value, object] = {
        Value.TEXT: "x",
        Value.INT: 7,
        Value.BOOL: False,
        Value.TIME: datetime(2026, 1, 1, 12, tzinfo=UTC),
        Value.TEXT_LIST: ["a"],
        Value.JSON: {"b": 1.5, "a": [1e16]},
    }
    return [examples.get(f.value) for f in SHAPE.fields]


def test_the_example_row_itself_takes_the_fast_way() -> None:
    row = _example_row()
    assert SHAPE.encode_fast([row]) == frame_batch([_canonical_data(row)])
    assert b'"a":[1e+16],"b":1.5' in SHAPE.encode([row])  # the standard library's floats


@given(_rows(_values(PLAIN_TIME, INT64)), st.integers(0, 2**40))
@settings(max_examples=100, deadline=None)
def test_a_batch_on_the_chain_is_each_records_canonical_json_linked_by_its_hash(
    rows: list[list[object]], first: int
) -> None:
    batch = SHAPE.encode(rows)
    lines, head, count = chain_lines(line_format(SHAPE.kind), batch, GENESIS.encode(), first)
    prev = GENESIS
    assert count == len(rows)
    assert lines.endswith(b"\n")
    for seq, (row, line) in enumerate(zip(rows, lines.split(b"\n")[:-1], strict=True), first):
        data = {name: _plain(v) for name, v in zip(SHAPE.names, row, strict=True)}
        assert line == canonical_json({"data": data, "kind": SHAPE.kind, "prev": prev, "seq": seq})
        prev = chain_hash(prev, line)
    assert head == prev.encode()


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
