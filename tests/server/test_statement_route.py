"""A client's statement from the API and the dashboard: scope, formats, the audit record."""

from __future__ import annotations

import hashlib
from email import policy
from email.parser import BytesParser

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from agent.runtime import Runtime
from agent.storage.models import AuditEvent
from server.app import create_app
from tests.extension.harness import pairing_code
from tests.server.conftest import BASE_URL, api_client, token_for
from tests.statement_world import CLIENT_NAME, CONTACT, StatementWorld, build

ESCAPED_NAME = "O&#39;Brien &lt;Bakers&gt; &amp; Sons"


@pytest.fixture
def world(runtime: Runtime) -> StatementWorld:
    return build(runtime)


def _api(runtime: Runtime, world: StatementWorld, who: str) -> TestClient:
    return api_client(runtime, token_for(runtime, world.user_ids[who]))


def _events(runtime: Runtime) -> list[AuditEvent]:
    with Session(runtime.engine) as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == "export.client_statement"))
        )


def test_the_clients_manager_gets_the_page_and_the_export_is_recorded(
    runtime: Runtime, world: StatementWorld
) -> None:
    answer = _api(runtime, world, "mia").get(f"/api/v1/clients/{world.client_id}/statement")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "attachment" in answer.headers["content-disposition"]
    assert ESCAPED_NAME in answer.text
    assert answer.text.count("Not read:") == 2
    [event] = _events(runtime)
    assert event.actor == f"Mia Manager (user #{world.user_ids['mia']})"
    assert event.detail["via"] == "api"
    assert event.detail["format"] == "html"
    assert event.detail["client_id"] == world.client_id
    assert event.detail["sha256"] == hashlib.sha256(answer.content).hexdigest()


def test_the_eml_is_addressed_to_the_clients_contact(
    runtime: Runtime, world: StatementWorld
) -> None:
    answer = _api(runtime, world, "admin").get(
        f"/api/v1/clients/{world.client_id}/statement", params={"format": "eml"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("message/rfc822")
    parsed = BytesParser(policy=policy.default).parsebytes(answer.content)
    assert parsed["To"] == CONTACT
    assert CLIENT_NAME in parsed["Subject"]


@pytest.mark.parametrize("who", ["eve", "max"])
def test_a_client_outside_the_callers_scope_is_not_found(
    runtime: Runtime, world: StatementWorld, who: str
) -> None:
    answer = _api(runtime, world, who).get(f"/api/v1/clients/{world.client_id}/statement")
    assert answer.status_code == 404
    assert CLIENT_NAME not in answer.text
    assert _events(runtime) == []
    # the client Eve and Max may see answers them
    mine = _api(runtime, world, who).get(f"/api/v1/clients/{world.other_id}/statement")
    assert mine.status_code == 200


def test_no_token_no_statement_and_a_bad_format_is_named(
    runtime: Runtime, world: StatementWorld
) -> None:
    assert api_client(runtime).get(f"/api/v1/clients/{world.client_id}/statement").status_code == (
        401
    )
    answer = _api(runtime, world, "admin").get(
        f"/api/v1/clients/{world.client_id}/statement", params={"format": "pdf"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "format"]
    assert _api(runtime, world, "admin").get("/api/v1/clients/0/statement").status_code == 422


def test_a_client_without_a_contact_email_has_no_eml(runtime: Runtime) -> None:
    world = build(runtime, contact="")
    answer = _api(runtime, world, "admin").get(
        f"/api/v1/clients/{world.client_id}/statement", params={"format": "eml"}
    )
    assert answer.status_code == 409
    assert "`contact_email`" in answer.json()["detail"]


def _dashboard(runtime: Runtime, user_id: int) -> TestClient:
    client = TestClient(create_app(runtime, port=8765), base_url=BASE_URL, follow_redirects=False)
    signed_in = client.post(
        "/dashboard/login",
        data={"code": pairing_code(runtime, user_id)},
        headers={"Origin": BASE_URL},
    )
    assert signed_in.status_code == 303
    return client


def test_the_dashboard_page_prints_under_the_dashboards_csp(
    runtime: Runtime, world: StatementWorld
) -> None:
    client = _dashboard(runtime, world.user_ids["mia"])
    page = client.get(f"/dashboard/clients/{world.client_id}/statement")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert '<link rel="stylesheet" href="/dashboard/statement.css">' in page.text
    assert "<style>" not in page.text
    assert ESCAPED_NAME in page.text
    assert f"/dashboard/clients/{world.client_id}/statement.eml" in page.text
    css = client.get("/dashboard/statement.css")
    assert css.status_code == 200
    assert "@media print" in css.text
    eml = client.get(f"/dashboard/clients/{world.client_id}/statement.eml")
    assert eml.status_code == 200
    assert BytesParser(policy=policy.default).parsebytes(eml.content)["To"] == CONTACT
    assert [e.detail["via"] for e in _events(runtime)] == ["dashboard", "dashboard"]
    org = client.get("/dashboard/orgs/xero/!obr01")
    assert f'href="/dashboard/clients/{world.client_id}/statement"' in org.text


def test_the_dashboard_hides_a_client_outside_the_viewers_scope(
    runtime: Runtime, world: StatementWorld
) -> None:
    client = _dashboard(runtime, world.user_ids["eve"])
    assert client.get(f"/dashboard/clients/{world.client_id}/statement").status_code == 404
    assert client.get(f"/dashboard/clients/{world.client_id}/statement.eml").status_code == 404
    assert client.get("/dashboard/clients/99999999999/statement").status_code == 404
    assert _events(runtime) == []
