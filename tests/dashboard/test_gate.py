"""The request gate's dashboard rules and the session's life, without a browser.

The browser tests show the pages; these pin the rules a browser cannot be made to
break: what the API keeps refusing, what the dashboard accepts, when a session ends.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select, update

from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.tokens import revoke_token
from agent.security.users import add_user
from agent.storage.db import session_scope
from agent.storage.models import ApiToken, DashboardSession
from server.app import create_app
from tests.extension.harness import pairing_code

BASE = "http://127.0.0.1:8765"
COOKIE = "accessrecon_dashboard_8765"


@pytest.fixture
def admin_id(runtime: Runtime) -> int:
    with session_scope(runtime.engine) as session:
        return add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="test"
        ).id


def _client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime, port=8765), base_url=BASE, follow_redirects=False)


def _signed_in(runtime: Runtime, user_id: int) -> TestClient:
    client = _client(runtime)
    answer = client.post(
        "/dashboard/login", data={"code": pairing_code(runtime, user_id)}, headers={"Origin": BASE}
    )
    assert answer.status_code == 303
    assert COOKIE in client.cookies
    return client


def test_dashboard_pages_carry_their_own_csp_and_referrer_policy(runtime: Runtime) -> None:
    client = _client(runtime)
    page = client.get("/dashboard/login")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    api = client.get("/api/v1/health")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert api.headers["referrer-policy"] == "no-referrer"


def test_form_posts_are_accepted_only_on_the_dashboard_and_only_from_itself(
    runtime: Runtime,
    admin_id: int,
) -> None:
    client = _client(runtime)
    code = {"code": "ABCD-EFGH"}
    assert client.post("/api/v1/pairing/exchange", data=code).status_code == 415
    assert client.post("/dashboard/login", data=code).status_code == 403  # no Origin
    for origin in (
        "https://attacker.example",
        "null",
        "http://localhost:8765",
        "chrome-extension://dlknhomepfggimodiicoicanhdhjlghk",
    ):
        assert (
            client.post("/dashboard/login", data=code, headers={"Origin": origin}).status_code
            == 403
        ), origin
    assert client.post("/dashboard/login", json=code, headers={"Origin": BASE}).status_code == 415
    assert client.put("/dashboard/login", data=code, headers={"Origin": BASE}).status_code == 415
    refused = client.post("/dashboard/login", data=code, headers={"Origin": BASE})
    assert refused.status_code == 401
    # The same origin under another allowed host name is that host's own origin.
    other = client.post(
        "/dashboard/login",
        data=code,
        headers={"Origin": "http://localhost:8765", "Host": "localhost:8765"},
    )
    assert other.status_code == 401


def test_dashboard_routes_are_not_in_the_api_schema(runtime: Runtime) -> None:
    app = create_app(runtime, enable_docs=True, port=8765)
    paths = TestClient(app, base_url=BASE).get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/dashboard")]


def test_a_session_ends_at_its_expiry_at_sign_out_and_when_its_token_is_revoked(
    runtime: Runtime,
    admin_id: int,
) -> None:
    client = _signed_in(runtime, admin_id)
    assert client.get("/dashboard").status_code == 200
    with session_scope(runtime.engine) as session:
        session.exec(
            update(DashboardSession).values(  # type: ignore[call-overload]
                expires_at=utcnow() - timedelta(seconds=1)
            )
        )
    expired = client.get("/dashboard/findings?class=leaver_access")
    assert expired.status_code == 303
    assert expired.headers["location"] == (
        "/dashboard/login?next=%2Fdashboard%2Ffindings%3Fclass%3Dleaver_access"
    )
    assert client.get("/dashboard/scans/live.json").status_code == 401

    # The next sign-in clears expired sessions and revokes their tokens.
    client = _signed_in(runtime, admin_id)
    with Session(runtime.engine) as session:
        assert len(session.exec(select(DashboardSession)).all()) == 1
        assert (
            len(session.exec(select(ApiToken).where(col(ApiToken.revoked_at).is_(None))).all()) == 1
        )
        token_id = session.exec(select(DashboardSession.token_id)).one()
    with session_scope(runtime.engine) as session:
        revoke_token(session, token_id, actor="test")
    assert client.get("/dashboard").status_code == 303

    client = _signed_in(runtime, admin_id)
    page = client.get("/dashboard")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert (
        client.post("/dashboard/logout", data={"csrf": csrf}, headers={"Origin": BASE}).status_code
        == 303
    )
    assert client.get("/dashboard").status_code == 303


def test_only_dashboard_addresses_are_followed_after_sign_in(
    runtime: Runtime, admin_id: int
) -> None:
    client = _client(runtime)
    for target, lands in (
        ("https://attacker.example/", "/dashboard"),
        ("//attacker.example/dashboard", "/dashboard"),
        ("/dashboard/orgs", "/dashboard/orgs"),
    ):
        answer = client.post(
            "/dashboard/login",
            headers={"Origin": BASE},
            data={"code": pairing_code(runtime, admin_id), "next": target},
        )
        assert answer.headers["location"] == lands
