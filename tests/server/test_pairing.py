"""Pairing codes (one-time, expiring, attempt-limited), hashed tokens and their revocation."""

from __future__ import annotations

import re
from datetime import timedelta

import typer
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from accessrecon.commands import server_admin
from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.pairing import CODE_ALPHABET, CODE_LENGTH, MAX_CODE_ATTEMPTS, issue_pairing_code
from agent.security.tokens import hash_secret
from agent.security.users import add_user
from agent.storage.db import session_scope
from agent.storage.models import ApiToken, AuditEvent, PairingCode
from tests.server.conftest import Practice, api_client

EXCHANGE = "/api/v1/pairing/exchange"


def _admin(runtime: Runtime) -> int:
    with session_scope(runtime.engine) as session:
        return add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="test"
        ).id


def _code(runtime: Runtime, user_id: int, ttl: timedelta = timedelta(minutes=5)) -> str:
    with session_scope(runtime.engine) as session:
        return issue_pairing_code(session, user_id=user_id, actor="test", ttl=ttl).code


def test_a_code_is_short_unambiguous_and_exchanged_once_for_a_working_token(
    runtime: Runtime,
) -> None:
    user_id = _admin(runtime)
    code = _code(runtime, user_id)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)
    client = api_client(runtime)
    typed = f" {code[:4].lower()}-{code[4:]} "  # as a person might type it
    response = client.post(EXCHANGE, json={"code": typed, "label": "Chrome"})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "Ada Admin"
    assert body["token"].startswith("art_")
    authed = api_client(runtime, body["token"])
    assert authed.get("/api/v1/me").json()["name"] == "Ada Admin"
    again = client.post(EXCHANGE, json={"code": code})
    assert again.status_code == 401


def test_codes_expire_after_five_minutes(runtime: Runtime) -> None:
    user_id = _admin(runtime)
    code = _code(runtime, user_id)
    with Session(runtime.engine) as session:
        row = session.exec(select(PairingCode)).one()
        lifetime = row.expires_at - row.created_at
        assert timedelta(minutes=4, seconds=59) <= lifetime <= timedelta(minutes=5, seconds=1)
        # Five minutes and a second later:
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    response = api_client(runtime).post(EXCHANGE, json={"code": code})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_wrong_guesses_burn_every_live_code_after_the_limit(runtime: Runtime) -> None:
    user_id = _admin(runtime)
    code = _code(runtime, user_id)
    other = _code(runtime, user_id)
    client = api_client(runtime)
    wrong = "".join("A" if c != "A" else "B" for c in code)
    for _ in range(MAX_CODE_ATTEMPTS):
        assert client.post(EXCHANGE, json={"code": wrong}).status_code == 401
    # The right code no longer works: the guesser may have been after either.
    assert client.post(EXCHANGE, json={"code": code}).status_code == 401
    assert client.post(EXCHANGE, json={"code": other}).status_code == 401
    with Session(runtime.engine) as session:
        failures = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auth.pairing_failed")
        ).all()
        assert len(failures) == MAX_CODE_ATTEMPTS
        assert session.exec(select(ApiToken)).all() == []
    # A fresh code works again.
    assert client.post(EXCHANGE, json={"code": _code(runtime, user_id)}).status_code == 200


def test_fewer_wrong_guesses_than_the_limit_leave_the_code_usable(runtime: Runtime) -> None:
    user_id = _admin(runtime)
    code = _code(runtime, user_id)
    client = api_client(runtime)
    for _ in range(MAX_CODE_ATTEMPTS - 1):
        assert client.post(EXCHANGE, json={"code": "ZZZZZZZZ"}).status_code == 401
    assert client.post(EXCHANGE, json={"code": code}).status_code == 200


def test_only_hashes_of_codes_and_tokens_are_stored(runtime: Runtime) -> None:
    user_id = _admin(runtime)
    code = _code(runtime, user_id)
    token = api_client(runtime).post(EXCHANGE, json={"code": code}).json()["token"]
    assert len(token) >= 40
    with Session(runtime.engine) as session:
        stored = session.exec(select(ApiToken)).one()
        assert stored.token_hash == hash_secret(token)
        assert session.exec(select(PairingCode)).one().code_hash == hash_secret(code)
        dump = repr(
            [
                tuple(r)
                for table in ("api_token", "pairing_code", "audit_event")
                for r in session.connection().execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            ]
        )
    assert token not in dump
    assert code not in dump


def test_a_revoked_token_is_refused_on_the_next_request(practice: Practice) -> None:
    mia = practice.client("mia")
    me = mia.get("/api/v1/me").json()
    assert me["name"] == "Mia Manager"
    tokens = mia.get("/api/v1/tokens").json()
    assert [t["id"] for t in tokens] == [me["token_id"]]
    # A manager cannot revoke someone else's token, nor list everyone's.
    admin_token_id = practice.client("admin").get("/api/v1/me").json()["token_id"]
    assert mia.request("DELETE", f"/api/v1/tokens/{admin_token_id}", json={}).status_code == 404
    assert mia.get("/api/v1/tokens", params={"all_users": "true"}).status_code == 403
    revoked = mia.request("DELETE", f"/api/v1/tokens/{me['token_id']}", json={})
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert mia.get("/api/v1/me").status_code == 401
    listed = practice.client("admin").get("/api/v1/tokens", params={"all_users": "true"}).json()
    assert {t["user_name"] for t in listed} == {
        "Ada Admin",
        "Mia Manager",
        "Max M.",
        "Eve Employee",
    }
    assert all("token" not in t and "token_hash" not in t for t in listed)


def test_an_admin_revokes_any_token_and_removes_users(practice: Practice) -> None:
    admin = practice.client("admin")
    eve_token = practice.client("eve").get("/api/v1/me").json()["token_id"]
    assert admin.request("DELETE", f"/api/v1/tokens/{eve_token}", json={}).status_code == 200
    assert practice.client("eve").get("/api/v1/me").status_code == 401
    max_id = practice.user_ids["max"]
    assert admin.request("DELETE", f"/api/v1/users/{max_id}", json={}).status_code == 204
    assert practice.client("max").get("/api/v1/me").status_code == 401
    self_removal = admin.request("DELETE", f"/api/v1/users/{practice.user_ids['admin']}", json={})
    assert self_removal.status_code == 409
    actions = [
        e["action"] for e in admin.get("/api/v1/audit", params={"action": "auth"}).json()["items"]
    ]
    assert "auth.token_revoked" in actions
    assert "auth.user_removed" in actions
    assert "auth.signed_in" in actions


def test_admins_issue_codes_through_the_api_for_the_dashboard(practice: Practice) -> None:
    admin = practice.client("admin")
    eve = practice.user_ids["eve"]
    issued = admin.post(f"/api/v1/users/{eve}/pairing-codes", json={})
    assert issued.status_code == 201
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.json()["code"])
    assert (
        practice.client("mia").post(f"/api/v1/users/{eve}/pairing-codes", json={}).status_code
        == 403
    )
    exchanged = practice.client().post(EXCHANGE, json={"code": issued.json()["code"]})
    assert exchanged.json()["user"]["name"] == "Eve Employee"


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("pair")(server_admin.pair)
    app.command("rotate-key")(server_admin.rotate_key)
    app.add_typer(server_admin.users_app, name="users")
    app.add_typer(server_admin.tokens_app, name="tokens")
    return app


def test_the_command_line_adds_users_pairs_lists_and_revokes(runtime: Runtime, monkeypatch) -> None:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", runtime.settings.database_url)
    runner = CliRunner()
    cli = _cli()
    no_users = runner.invoke(cli, ["pair"])
    assert no_users.exit_code != 0
    assert "no API users yet" in str(no_users.exception)
    added = runner.invoke(
        cli, ["users", "add", "Ada Admin", "--role", "practice_admin", "--scope", "all"]
    )
    assert added.exit_code == 0, added.output
    paired = runner.invoke(cli, ["pair"])
    assert paired.exit_code == 0, paired.output
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", paired.output).group(0)  # type: ignore[union-attr]
    token = (
        api_client(runtime).post(EXCHANGE, json={"code": code, "label": "cli test"}).json()["token"]
    )
    client = api_client(runtime, token)
    assert client.get("/api/v1/me").status_code == 200
    listed = runner.invoke(cli, ["tokens", "list"])
    assert "cli test" in listed.output
    assert token not in listed.output
    token_id = client.get("/api/v1/me").json()["token_id"]
    assert runner.invoke(cli, ["tokens", "revoke", str(token_id)]).exit_code == 0
    assert client.get("/api/v1/me").status_code == 401
    users = runner.invoke(cli, ["users", "list"])
    assert "Ada Admin" in users.output
    assert runner.invoke(cli, ["users", "remove", "Ada Admin"]).exit_code == 0
    assert "no API users" in runner.invoke(cli, ["users", "list"]).output
