"""A login whose sign-in the portal stopped accepting needs a person, and everyone hears.

The session a person left expires; the next crawl reads none of the login's orgs and
fails none of them, alerts the admin once, ``scan`` exits non-zero with the one
command to run, ``login list`` and the dashboard say "needs sign-in"; connecting
again ends all of it. And ``login connect`` itself: it changes nothing unless the
sign-in finished (time limit, closed window, a login that is not interactive).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi.testclient import TestClient
from playwright.async_api import Browser
from sqlmodel import Session, select

from agent.crawl.connect import ConnectError, ConnectTimedOut, check_display, connect_login
from agent.domain import ScanStatus
from agent.reports.words import moment
from agent.runtime import Runtime
from agent.security.logins import LoginError, add_login
from agent.security.users import add_user
from agent.services.alerts import send_alerts
from agent.services.signins import latest_sign_ins
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, PortalLogin, SignInAttempt
from server.app import create_app
from tests.browser_loop import BrowserLoop
from tests.extension.harness import pairing_code
from tests.interactive_person import (
    add_interactive,
    cli,
    connect_as_person,
    crawl,
    login_row,
    opened_page,
    sandbox,
    scans,
)
from tests.webhook import webhook_sink

pytestmark = [pytest.mark.browser]

DASHBOARD = "http://127.0.0.1:8765"
SESSION_LIFETIME_S = 1800


def dashboard_logins(runtime: Runtime) -> str:
    """The dashboard's page that lists the logins, as a practice admin sees it."""
    with session_scope(runtime.engine) as session:
        admin = add_user(
            session,
            name=f"Admin {uuid.uuid4().hex[:8]}",
            role="practice_admin",
            scope="all",
            actor="test",
        ).id
    client = TestClient(create_app(runtime, port=8765), base_url=DASHBOARD, follow_redirects=False)
    signed_in = client.post(
        "/dashboard/login",
        data={"code": pairing_code(runtime, admin)},
        headers={"Origin": DASHBOARD},
    )
    assert signed_in.status_code == 303
    page = client.get("/dashboard/scans")
    assert page.status_code == 200
    return page.text


def login_cells(page: str, login_id: int) -> str:
    row = page.split(f'<tr data-login="{login_id}"', 1)[1]
    return row.split("</tr>", 1)[0]


def test_an_expired_sign_in_needs_a_person_and_connecting_again_ends_it(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    with webhook_sink() as (received, url), sandbox("xero", seed=71) as box:
        alerting = runtime.settings.model_copy(update={"alert_webhook_url": url})
        login_id = add_interactive(runtime, box)
        connect_as_person(browser_loop, runtime, login_id, box)
        assert crawl(runtime, browser_loop).ok == box.orgs
        read = len(scans(runtime))

        box.offset_s += SESSION_LIFETIME_S + 60  # the person's session has expired
        report = crawl(runtime, browser_loop)
        assert [(p, r) for p, _, r, _ in report.login_failures] == [("xero", "needs_sign_in")]
        assert report.total == 0, "its orgs were neither read nor failed"
        assert len(scans(runtime)) == read
        assert {s.status for s in scans(runtime)} == {ScanStatus.OK}
        assert box.codes_sent() == 1, "no sign-in was tried"
        row = login_row(runtime, login_id)
        assert row.needs_sign_in_since is not None
        with Session(runtime.engine) as session:
            last = latest_sign_ins(session)[login_id]
        assert (last.ok, last.reason) == (False, "needs_sign_in")
        assert f"run 'accessrecon login connect {login_id}'" in last.detail

        # the admin is alerted, once for the episode
        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {"webhook": 1}
        item = received[0]["findings"][0]
        assert (item["class"], item["email"], item["reason"]) == (
            "sign_in_failed",
            box.login.email,
            "needs_sign_in",
        )
        assert f"accessrecon login connect {login_id}" in item["detail"]

        # the command line: scan's exit code and one line; login list
        scanned = cli(runtime, "scan")
        assert scanned.returncode == 1, scanned.stdout
        assert scanned.stderr.strip().count("\n") == 0, scanned.stderr
        assert f"run 'accessrecon login connect {login_id}'" in scanned.stderr
        assert len(scans(runtime)) == read, "scan failed no org either"
        listed = cli(runtime, "login", "list")
        assert listed.returncode == 0, listed.stderr
        assert f"needs sign-in since {moment(row.needs_sign_in_since)}" in listed.stdout
        assert f"'accessrecon login connect {login_id}'" in listed.stdout

        # the dashboard's list of logins
        cells = login_cells(dashboard_logins(runtime), login_id)
        assert 'data-result="needs_sign_in"' in cells
        assert "Needs sign-in" in cells
        assert f"accessrecon login connect {login_id}" in cells

        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {}, "the same episode twice"

        # a person connects it again: everything clears, and the next crawl reads it all
        connect_as_person(browser_loop, runtime, login_id, box)
        assert login_row(runtime, login_id).needs_sign_in_since is None
        again = crawl(runtime, browser_loop)
        assert again.login_failures == []
        assert again.ok == box.orgs
        assert "needs sign-in" not in cli(runtime, "login", "list").stdout
        cells = login_cells(dashboard_logins(runtime), login_id)
        assert "Needs sign-in" not in cells
        assert 'data-result="ok"' in cells
        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {}
    assert len(received) == 1


def _untouched(runtime: Runtime, login_id: int) -> tuple[object, ...]:
    row = login_row(runtime, login_id)
    with Session(runtime.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "login.connect"))
        attempts = session.exec(select(SignInAttempt)).all()
        return (
            row.storage_state_enc,
            row.connected_at,
            row.needs_sign_in_since,
            len(events.all()),
            len(attempts),
        )


def test_connect_changes_nothing_when_nobody_signs_in_in_time_or_the_window_closes(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    with sandbox("myob", seed=72, orgs=1) as box:
        login_id = add_interactive(runtime, box)
        before = _untouched(runtime, login_id)

        async def nobody(browser: Browser) -> str:
            contexts = len(browser.contexts)
            with pytest.raises(ConnectTimedOut) as timed_out:
                await connect_login(browser, runtime.engine, runtime.box, login_id, timeout_s=1.5)
            assert len(browser.contexts) == contexts, "its window closed"
            return str(timed_out.value)

        message = browser_loop.run(nobody)
        assert message == (
            f"login {login_id} (myob {box.login.email}): nobody finished signing in within "
            "1.5 s; nothing was changed"
        )
        assert _untouched(runtime, login_id) == before

        async def closes_the_window(browser: Browser) -> ConnectError:
            seen: set[object] = set(browser.contexts)
            connecting = asyncio.ensure_future(
                connect_login(browser, runtime.engine, runtime.box, login_id, timeout_s=60)
            )
            page = await opened_page(browser, seen, box.base_url)
            await page.get_by_label("Password", exact=True).fill(box.login.password)
            await page.close()
            with pytest.raises(ConnectError, match="window was closed") as closed:
                await connecting
            return closed.value

        assert "nothing was changed" in str(browser_loop.run(closes_the_window))
        assert _untouched(runtime, login_id) == before
        assert box.codes_sent() == 0


def test_only_interactive_logins_connect_and_the_command_says_why_in_one_line(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    with session_scope(runtime.engine) as session:
        totp = add_login(
            session,
            runtime.box,
            portal="xero",
            email="robot@harbourco.example",
            password="pw",
            totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEH",
            base_url="http://127.0.0.1:9",
        ).id

    async def refused(browser: Browser, login_id: int) -> str:
        with pytest.raises(LoginError) as error:
            await connect_login(browser, runtime.engine, runtime.box, login_id, timeout_s=5)
        return str(error.value)

    assert "signs in by itself" in browser_loop.run(lambda b: refused(b, totp))
    assert browser_loop.run(lambda b: refused(b, 999)) == "no login with id 999"

    added = cli(
        runtime,
        "login",
        "add",
        "--portal",
        "qbo",
        "--email",
        "a@harbourco.example",
        "--base-url",
        "http://127.0.0.1:9",
        "--method",
        "interactive",
    )
    assert added.returncode == 0, added.stderr
    assert "Password" not in added.stdout, "no secret is asked for"
    with Session(runtime.engine) as session:
        row = session.exec(select(PortalLogin).where(PortalLogin.portal == "qbo")).one()
    assert (row.sign_in_method, runtime.box.decrypt(row.password_enc)) == ("interactive", "")
    assert f"accessrecon login connect {row.id}" in added.stdout
    listed = cli(runtime, "login", "list")
    assert f"needs sign-in since {moment(row.needs_sign_in_since)}" in listed.stdout

    for login_id, expected in (
        (str(totp), "signs in by itself"),
        ("999", "no login with id 999"),
        (str(row.id), "no display to open a browser window on"),
    ):
        result = cli(
            runtime, "login", "connect", login_id, env={"DISPLAY": "", "WAYLAND_DISPLAY": ""}
        )
        assert result.returncode == 1, result.stdout
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert expected in result.stderr
    assert row.id is not None
    assert login_row(runtime, row.id).needs_sign_in_since == row.needs_sign_in_since
    check_display(1, {"DISPLAY": ":0"}, "linux")
    check_display(1, {"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    with pytest.raises(ConnectError):
        check_display(1, {}, "linux")
    check_display(1, {}, "darwin")
