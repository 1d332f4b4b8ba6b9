"""Serving: loopback unless explicitly overridden (and logged), and no start with a bad key."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from accessrecon import serving
from accessrecon.serving import UnsafeBind, resolve_bind, serve_forever
from agent.runtime import Runtime
from agent.security.secrets import SecretKeyError, open_secret_box
from agent.settings import Settings


def test_loopback_addresses_are_served_without_ceremony() -> None:
    assert resolve_bind("127.0.0.1") == "127.0.0.1"
    assert resolve_bind("localhost") == "127.0.0.1"
    assert resolve_bind("::1") == "::1"
    assert resolve_bind("[::1]") == "::1"
    assert resolve_bind("127.0.0.2") == "127.0.0.2"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "recon.lan"])  # noqa: S104
def test_anything_else_needs_the_explicit_override(
    host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(UnsafeBind, match="--allow-non-loopback"):
        resolve_bind(host)
    with caplog.at_level(logging.WARNING, logger="accessrecon.serving"):
        assert resolve_bind(host, allow_non_loopback=True) == host
    assert "explicit override" in caplog.text


def test_a_non_loopback_host_setting_alone_does_not_expose_the_server(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda *a, **k: started.append((a, k)))
    runtime.settings.host = "0.0.0.0"  # noqa: S104  (what ACCESSRECON_HOST=0.0.0.0 does)
    with pytest.raises(UnsafeBind):
        serve_forever(runtime)
    assert started == []
    serve_forever(runtime, allow_non_loopback=True, host="192.168.1.20", port=9100)
    ((_args, kwargs),) = started
    assert (kwargs["host"], kwargs["port"]) == ("192.168.1.20", 9100)
    assert kwargs["proxy_headers"] is False


def test_a_wrong_key_stops_the_server_before_it_listens(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_secret_box(runtime.engine, env_key=None, key_file=runtime.settings.key_file)
    started: list[object] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda *a, **k: started.append(a))
    wrong = Runtime(
        Settings(
            data_dir=runtime.settings.data_dir,
            database_url_setting=runtime.settings.database_url,
            secret_key=Fernet.generate_key().decode(),
        )
    )
    with pytest.raises(SecretKeyError, match="not this database's key"):
        serve_forever(wrong)
    assert started == []
