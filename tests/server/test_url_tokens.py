"""A token seen in a URL is revoked on sight, and never printed by the server's log.

Query strings are written to access logs and browser history, so a token in one has
leaked: the server revokes it and says so. uvicorn's access log line prints each
request's address; the server's log handlers redact token values from it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from accessrecon.serving import log_config
from agent.storage.models import ApiToken, AuditEvent, DashboardSession
from server.security import RedactTokens, redact_tokens
from tests.extension.harness import free_port, pairing_code
from tests.server.conftest import BASE_URL, Practice, api_client

ME = "/api/v1/me"


def _revoked(practice: Practice, who: str) -> bool:
    with Session(practice.runtime.engine) as session:
        token = session.exec(
            select(ApiToken).where(ApiToken.user_id == practice.user_ids[who])
        ).one()
    return token.revoked_at is not None


def _revocations(practice: Practice) -> list[AuditEvent]:
    with Session(practice.runtime.engine) as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == "auth.token_revoked"))
        )


def test_a_token_in_the_query_string_is_revoked_and_the_request_told_why(
    practice: Practice,
) -> None:
    anonymous = practice.client()
    admin = practice.client("admin")
    assert admin.get(ME).status_code == 200

    leaked = anonymous.get(ME, params={"access_token": practice.tokens["admin"]})
    assert leaked.status_code == 401
    assert "revoked because it was sent in a URL" in leaked.json()["detail"]
    assert leaked.headers["www-authenticate"] == "Bearer"
    assert _revoked(practice, "admin")
    assert admin.get(ME).status_code == 401, "the header no longer opens anything"
    (event,) = _revocations(practice)
    assert event.detail["reason"].startswith("sent in a URL")
    assert practice.tokens["admin"] not in str(event.detail)

    # The same token again: still refused with the reason, nothing revoked twice.
    again = anonymous.get(ME, params={"token": practice.tokens["admin"]})
    assert again.status_code == 401
    assert "revoked" in again.json()["detail"]
    assert len(_revocations(practice)) == 1

    # Under any name, or as a path segment, a token of ours is a leaked token.
    mia = practice.client("mia")
    assert mia.get(ME).status_code == 200
    assert anonymous.get(ME, params={"q": practice.tokens["mia"]}).status_code == 401
    assert _revoked(practice, "mia")
    assert mia.get(ME).status_code == 401
    max_ = practice.client("max")
    assert anonymous.get(f"/api/v1/findings/{practice.tokens['max']}").status_code == 401
    assert max_.get(ME).status_code == 401
    # A token sent by its own holder in the URL, with the header too, is revoked all the same.
    eve = practice.client("eve")
    assert eve.get(ME, params={"api_key": f"Bearer {practice.tokens['eve']}"}).status_code == 401
    assert eve.get(ME).status_code == 401


def test_a_token_parameter_holding_no_token_is_refused_and_revokes_nothing(
    practice: Practice,
) -> None:
    anonymous = practice.client()
    for params in (
        {"access_token": "art_" + "x" * 43},
        {"token": "guess"},
        {"bearer": ""},
        {"ACCESS_TOKEN": "nothing"},
    ):
        answer = anonymous.get(ME, params=params)
        assert answer.status_code == 400, params
        assert "Authorization header" in answer.json()["detail"]
    # Short text that merely starts like a token is an ordinary search.
    assert (
        practice.client("admin")
        .get("/api/v1/findings", params={"text": "art_supplies"})
        .status_code
        == 200
    )
    assert _revocations(practice) == []


def test_a_dashboard_session_id_in_a_url_ends_the_session(practice: Practice) -> None:
    dashboard = api_client(practice.runtime)
    dashboard.follow_redirects = False
    signed = dashboard.post(
        "/dashboard/login",
        headers={"Origin": BASE_URL},
        data={"code": pairing_code(practice.runtime, practice.user_ids["mia"])},
    )
    assert signed.status_code == 303
    (session_id,) = list(dashboard.cookies.values())
    assert dashboard.get("/dashboard").status_code == 200
    leaked = api_client(practice.runtime).get("/dashboard", params={"token": session_id})
    assert leaked.status_code == 401
    assert dashboard.get("/dashboard").status_code in (303, 401), "signed out"
    with Session(practice.runtime.engine) as session:
        (row,) = session.exec(select(DashboardSession)).all()
        assert session.get_one(ApiToken, row.token_id).revoked_at is not None


def test_the_log_filter_redacts_token_values_from_uvicorns_access_line() -> None:
    token = "art_" + "A1b2_C3d4-" * 4 + "xyz"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            f"/api/v1/me?access_token={token}&x=1&Token=abc&api%5Fkey=k&q={token}",
            "1.1",
            401,
        ),
        None,
    )
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert token not in line
    assert "access_token=[REDACTED]" in line
    assert "Token=[REDACTED]" in line
    assert "api%5Fkey=[REDACTED]" in line
    assert "q=[REDACTED]" in line
    assert "x=1" in line
    assert record.args[-1] == 401
    assert redact_tokens(f"/api/v1/findings/{token}") == "/api/v1/findings/art_[REDACTED]"
    # Every handler serve_forever gives uvicorn carries the filter.
    config = log_config()
    assert all("redact_tokens" in h["filters"] for h in config["handlers"].values())


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not start: {log.read_text(errors='replace')}")


def test_a_real_server_revokes_the_token_and_logs_no_trace_of_it(
    practice: Practice,
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(practice.runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": practice.runtime.settings.database_url,
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "accessrecon", "serve", "--no-worker", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_until_up(base, server, log)
            token = practice.tokens["admin"]
            answer = httpx.get(f"{base}{ME}?access_token={token}", timeout=10)
            assert answer.status_code == 401
            assert "revoked because it was sent in a URL" in answer.json()["detail"]
            again = httpx.get(
                f"{base}{ME}", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert again.status_code == 401
            other = practice.tokens["mia"]
            assert (
                httpx.get(f"{base}/api/v1/findings?token={other}&limit=5", timeout=10).status_code
                == 401
            )
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    text = log.read_text(errors="replace")
    assert "GET /api/v1/me?access_token=[REDACTED] HTTP/1.1" in text, text
    assert "token=[REDACTED]&limit=5" in text, text
    for secret in (practice.tokens["admin"], practice.tokens["mia"]):
        assert secret not in text
        assert secret[4:] not in text
    assert "was sent in a URL and has been revoked" in text
    assert _revoked(practice, "admin")
    assert _revoked(practice, "mia")
