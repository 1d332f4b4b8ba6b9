"""The request gate: Host, Origin, CSRF, tokens only in headers, GET changes nothing, errors."""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from server.app import API_PREFIX, PUBLIC_PATHS
from server.config import (
    DEFAULT_EXTENSION_ID,
    EXTENSION_PUBLIC_KEY,
    ServerSettings,
    extension_id_for,
)
from tests.server.conftest import Practice, api_client

EXTENSION = f"chrome-extension://{DEFAULT_EXTENSION_ID}"
STATUS = "/api/v1/orgs/xero/!kow01/status"


def test_the_default_extension_id_is_the_one_chrome_derives_from_the_pinned_key() -> None:
    assert extension_id_for(EXTENSION_PUBLIC_KEY) == DEFAULT_EXTENSION_ID


def test_loopback_host_names_on_the_servers_port_are_answered(practice: Practice) -> None:
    client = practice.client("admin")
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST:8765"):
        assert client.get(STATUS, headers={"Host": host}).status_code == 200, host


def test_any_other_host_is_refused_with_421_before_the_route_runs(practice: Practice) -> None:
    """DNS rebinding: an attacker's name resolving to 127.0.0.1 still says its own name."""
    client = practice.client("admin")
    for host in (
        "attacker.example",
        "attacker.example:8765",
        "127.0.0.1",
        "127.0.0.1:9999",
        "localhost.attacker.example:8765",
        "0.0.0.0:8765",
        "",
    ):
        response = client.get(STATUS, headers={"Host": host})
        assert response.status_code == 421, host
        assert "Kōwhai" not in response.text
        # Even the unauthenticated routes and the pairing exchange are refused.
        assert client.get("/api/v1/health", headers={"Host": host}).status_code == 421
        assert (
            client.post(
                "/api/v1/pairing/exchange", json={"code": "ABCDEFGH"}, headers={"Host": host}
            ).status_code
            == 421
        )


def test_configured_extra_hosts_are_answered(practice: Practice) -> None:
    client = api_client(
        practice.runtime,
        practice.tokens["admin"],
        server_settings=ServerSettings(extra_hosts="recon.lan,box.lan:9000"),
    )
    assert client.get(STATUS, headers={"Host": "recon.lan:8765"}).status_code == 200
    assert client.get(STATUS, headers={"Host": "box.lan:9000"}).status_code == 200
    assert client.get(STATUS, headers={"Host": "box.lan:8765"}).status_code == 421


FOREIGN_ORIGINS = (
    "https://attacker.example",
    "http://attacker.example:8765",
    "null",
    "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "http://127.0.0.1:9999",
    f"{EXTENSION}.attacker.example",
    "moz-extension://" + DEFAULT_EXTENSION_ID,
)


def test_a_foreign_origin_is_refused_before_any_handler_runs(practice: Practice) -> None:
    """CORS would only hide the answer; the state change must not happen at all."""
    client = practice.client("admin")
    for origin in FOREIGN_ORIGINS:
        assert client.get(STATUS, headers={"Origin": origin}).status_code == 403, origin
        response = client.post(
            "/api/v1/scan-requests",
            headers={"Origin": origin},
            json={"portal": "xero", "portal_org_id": "!kow01"},
        )
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            STATUS, headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 403
    queued = client.get("/api/v1/audit", params={"action": "scan"}).json()
    assert queued["total"] == 0, "a refused request still queued a scan"


def test_the_extension_and_the_dashboards_own_origin_are_allowed(practice: Practice) -> None:
    client = practice.client("admin")
    response = client.get(STATUS, headers={"Origin": EXTENSION})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == EXTENSION
    for own in ("http://127.0.0.1:8765", "http://localhost:8765"):
        response = client.get(STATUS, headers={"Origin": own})
        assert response.status_code == 200
        # Same-origin needs no CORS grant, and gets none.
        assert "access-control-allow-origin" not in response.headers
    assert client.get(STATUS).status_code == 200  # no Origin: a non-browser client


def test_cors_preflight_is_granted_to_the_extension_only(practice: Practice) -> None:
    client = practice.client()
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    granted = client.options("/api/v1/captures", headers={"Origin": EXTENSION, **request})
    assert granted.status_code == 200
    assert granted.headers["access-control-allow-origin"] == EXTENSION
    assert "authorization" in granted.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in granted.headers


def test_the_extension_id_is_a_setting(practice: Practice) -> None:
    other = "abcdefghijklmnopabcdefghijklmnop"
    client = api_client(
        practice.runtime,
        practice.tokens["admin"],
        server_settings=ServerSettings(extension_id=other),
    )
    assert client.get(STATUS, headers={"Origin": f"chrome-extension://{other}"}).status_code == 200
    assert client.get(STATUS, headers={"Origin": EXTENSION}).status_code == 403
    with pytest.raises(ValueError, match="32 letters"):
        ServerSettings(extension_id="not-an-id")


def test_every_route_but_health_and_pairing_needs_a_token(practice: Practice) -> None:
    client = practice.client()
    operations = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    checked = 0
    for template, methods in operations.items():
        path = (
            template.replace("{portal}", "xero")
            .replace("{portal_org_id}", "!kow01")
            .replace("{kind}", "staff")
        )
        for name in ("user_id", "token_id", "finding_id", "staff_id", "request_id", "login_id"):
            path = path.replace("{" + name + "}", "1")
        for method in (m.upper() for m in methods):
            if template in PUBLIC_PATHS:
                continue
            upload = template.startswith(f"{API_PREFIX}/imports/")
            kwargs: dict[str, object] = (
                {"files": {"file": ("a.csv", b"x")}}
                if upload and method == "POST"
                else {"json": {}}
                if method in ("POST", "PUT", "DELETE")
                else {}
            )
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 401, (method, template, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 25
    assert client.get("/api/v1/health").status_code == 200


def test_tokens_are_never_taken_from_the_url_or_a_cookie(practice: Practice) -> None:
    token = practice.tokens["admin"]
    anonymous = practice.client()
    # A token in the address has leaked (logs, history): refused, and revoked on sight.
    leaked = practice.tokens["mia"]
    assert anonymous.get(STATUS, params={"access_token": leaked}).status_code == 401
    assert anonymous.get(STATUS, params={"token": leaked}).status_code == 401
    assert anonymous.get(STATUS, params={"token": "not-a-token"}).status_code == 400
    assert practice.client("mia").get(STATUS).status_code == 401
    assert practice.client("admin").get(STATUS).status_code == 200
    anonymous.cookies.set("access_token", token)
    anonymous.cookies.set("token", token)
    anonymous.cookies.set("Authorization", f"Bearer {token}")
    assert anonymous.get(STATUS).status_code == 401
    assert anonymous.get(STATUS, headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert anonymous.get(STATUS, headers={"Authorization": "Bearer art_forged"}).status_code == 401


def test_state_changes_need_a_json_body_even_with_a_valid_token(practice: Practice) -> None:
    """An HTML form can send urlencoded, multipart or text/plain without a preflight."""
    client = practice.client("admin")
    target = "/api/v1/scan-requests"
    form = client.post(target, data={"portal": "xero", "portal_org_id": "!kow01"})
    assert form.status_code == 415
    plain = client.post(
        target,
        content=b'{"portal": "xero", "portal_org_id": "!kow01"}',
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    multipart = client.post(target, files={"portal": (None, "xero")})
    assert multipart.status_code == 415
    none = client.post(target, content=b'{"portal": "xero", "portal_org_id": "!kow01"}')
    assert none.status_code == 415
    assert client.get("/api/v1/audit", params={"action": "scan"}).json()["total"] == 0
    ok = client.post(target, json={"portal": "xero", "portal_org_id": "!kow01"})
    assert ok.status_code == 202


def test_uploads_are_multipart_only_on_the_upload_routes(practice: Practice) -> None:
    client = practice.client("admin")
    as_json = client.post("/api/v1/imports/staff", json={"file": "name,emails"})
    assert as_json.status_code == 415
    # The upload route still needs the token and passes the Origin check.
    anonymous = practice.client()
    files = {"file": ("staff.csv", b"name,emails,status\n", "text/csv")}
    assert anonymous.post("/api/v1/imports/staff", files=files).status_code == 401
    assert (
        client.post(
            "/api/v1/imports/staff", files=files, headers={"Origin": "https://attacker.example"}
        ).status_code
        == 403
    )


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in connection.execute(select(table))), key=repr
            )
            for table in SQLModel.metadata.sorted_tables
        }


def test_get_requests_change_nothing(practice: Practice) -> None:
    engine = practice.runtime.engine
    client = practice.client("admin")
    before = _snapshot(engine)
    ben = practice.staff_ids["ben"]
    for path in (
        STATUS,
        "/api/v1/findings",
        "/api/v1/findings/1",
        f"/api/v1/people/{ben}/access",
        "/api/v1/people",
        "/api/v1/crawls",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/tokens?all_users=true",
        "/api/v1/audit",
        "/api/v1/logins",
        "/api/v1/health",
        "/api/v1/scan-requests/1",
    ):
        assert client.get(path).status_code in (200, 404), path
    assert _snapshot(engine) == before


def test_docs_and_schema_are_served_only_when_enabled(practice: Practice) -> None:
    hidden = practice.client("admin")
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert hidden.get(path).status_code == 404
    shown = api_client(practice.runtime, enable_docs=True)
    assert shown.get("/openapi.json").status_code == 200
    assert shown.get("/docs").status_code == 200
    # Enabling the docs does not open the API.
    assert shown.get(STATUS).status_code == 401


def test_an_unexpected_error_gets_a_generic_500_and_the_detail_is_logged(
    practice: Practice, caplog: pytest.LogCaptureFixture
) -> None:
    client = practice.client("admin")
    router = APIRouter()

    @router.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("database password is hunter2")

    client.app.include_router(router)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="server.security"):
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["error_id"] in caplog.text
    assert "hunter2" in caplog.text


def test_validation_errors_do_not_echo_what_was_sent(practice: Practice) -> None:
    client = practice.client("admin")
    response = client.post(
        "/api/v1/logins",
        json={
            "portal": "xero",
            "email": "agent@harbourco.example",
            "password": "pw-SENTINEL-42",
            "totp_secret": "x" * 5000,
        },
    )
    assert response.status_code == 422
    assert "pw-SENTINEL-42" not in response.text
    assert "xxxxx" not in response.text


def test_responses_carry_protective_headers(practice: Practice) -> None:
    response = practice.client("admin").get(STATUS)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    refused = practice.client("admin").get(STATUS, headers={"Host": "evil.example"})
    assert refused.headers["cache-control"] == "no-store"


def test_nul_bytes_in_the_address_are_refused(practice: Practice) -> None:
    client = practice.client("admin")
    assert client.get("/api/v1/orgs/xero/%00abc/status").status_code == 400
    assert client.get("/api/v1/findings", params={"text": "a\x00b"}).status_code == 400


def test_server_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("ACCESSRECON_EXTRA_HOSTS", "recon.lan, box.lan:9000")
    monkeypatch.setenv("ACCESSRECON_EXTENSION_ID", "abcdefghijklmnopabcdefghijklmnop")
    settings = ServerSettings()
    assert settings.extra_hosts == ["recon.lan", "box.lan:9000"]
    assert settings.extension_origin == "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    assert settings.api_docs is False
    monkeypatch.setenv("ACCESSRECON_EXTRA_HOSTS", "evil.example/path")
    with pytest.raises(ValueError, match="not a host name"):
        ServerSettings()
