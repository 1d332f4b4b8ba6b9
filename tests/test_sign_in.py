"""Signing in: no code sent twice across processes, a refused code tried once more, a
portal that cannot be reached a clean failure, and a failed sign-in seen everywhere.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.crawl.crawler import Crawler
from agent.crawl.report import CrawlReport
from agent.domain import FailureReason, ScanStatus
from agent.reports.common import ReportFormat
from agent.reports.evidence import write_evidence_report
from agent.runtime import Runtime
from agent.scrapers.totp import STEP_SECONDS, current_step, totp_for
from agent.security.logins import add_login
from agent.security.users import add_user
from agent.services.alerts import send_alerts
from agent.services.signins import claim_totp_step, latest_sign_ins
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin, Scan, SignInAttempt
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import runtime_of
from sandbox.serve import PortalServer
from sandbox.world import World
from server.app import create_app
from tests.browser_loop import BrowserLoop
from tests.extension.harness import pairing_code

pytestmark = [pytest.mark.browser, pytest.mark.long]

DASHBOARD = "http://127.0.0.1:8765"


def _env(runtime: Runtime) -> dict[str, str]:
    return {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
    }


def _scan(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", "scan", *args],
        env=_env(runtime),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _crawl(runtime: Runtime, browser_loop: BrowserLoop) -> CrawlReport:
    crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings, concurrency=4)
    return browser_loop.run(lambda browser: crawler.run(browser=browser), timeout=300)


def _add(
    runtime: Runtime,
    world: World,
    base_url: str,
    *,
    password: str | None = None,
    email: str | None = None,
    portal: str = "xero",
) -> int:
    login = world.logins_of(portal)[0]
    with session_scope(runtime.engine) as session:
        return add_login(
            session,
            runtime.box,
            portal=portal,
            email=email or login.email,
            password=password or login.password,
            totp_secret=login.totp_secret,
            base_url=base_url,
        ).id


def _wait_for_a_fresh_step(room_s: float) -> None:
    """Sleep until at least ``room_s`` seconds of the current TOTP step remain."""
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < room_s:
        time.sleep(left + 0.2)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- 6: a TOTP code is never submitted twice -------------------------------------------


def test_a_step_is_claimed_once_and_only_forwards(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            PortalLogin(
                portal="xero",
                base_url="http://x",
                email="a@b.example",
                password_enc=b"p",
                totp_secret_enc=b"s",
            )
        )
    with Session(engine) as session:
        login_id = session.exec(select(PortalLogin.id)).one()
    assert login_id is not None
    assert claim_totp_step(engine, login_id, 100)
    assert not claim_totp_step(engine, login_id, 100), "the same step twice"
    assert not claim_totp_step(engine, login_id, 99), "an earlier step after a later one"
    assert claim_totp_step(engine, login_id, 101)
    with Session(engine) as session:
        assert session.get(PortalLogin, login_id).totp_last_step == 101  # type: ignore[union-attr]


def test_two_processes_signing_in_to_one_login_within_a_step_send_distinct_codes(
    runtime: Runtime,
) -> None:
    """Two ``scan`` processes back to back, each signing in afresh, inside one 30 s step."""
    world = generate_world(41, staff=6, orgs_per_portal=3, users_per_org=3, portals=("xero",))
    with PortalServer(create_portal_app("xero", world)) as server:
        login_id = _add(runtime, world, server.base_url)
        # The first scan must end inside the step it signed in with, so it starts as a
        # step begins; on a machine busy enough to take a whole step (a process that
        # starts, launches Chromium, signs in and reads three orgs), it is tried again.
        firsts = 0
        while True:
            _wait_for_a_fresh_step(room_s=29)
            step = current_step()
            first = _scan(runtime)
            firsts += 1
            with session_scope(runtime.engine) as session:  # each sign-in starts afresh
                row = session.get(PortalLogin, login_id)
                assert row is not None
                first_step = row.totp_last_step
                row.storage_state_enc = None
            assert first.returncode == 0, first.stderr
            if current_step() == step:
                break
            assert firsts < 5, "five first scans in a row took a whole 30 s step"
        second = _scan(runtime)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    with Session(runtime.engine) as session:
        row = session.get(PortalLogin, login_id)
        attempts = list(session.exec(select(SignInAttempt).order_by(col(SignInAttempt.id))))
        scans = list(session.exec(select(Scan)))
    assert row is not None
    assert first_step is not None
    assert row.totp_last_step is not None
    assert first_step == step
    assert row.totp_last_step > first_step, "the second process reused the first one's step"
    assert [a.status for a in attempts] == ["ok"] * (firsts + 1)
    assert len(scans) == (firsts + 1) * len(world.orgs)
    assert {s.status for s in scans} == {ScanStatus.OK}


def test_a_code_refused_after_a_person_used_it_is_sent_again_from_a_fresh_step(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    """Someone signed in by hand with the same authenticator in this step: one more try."""
    world = generate_world(43, staff=6, orgs_per_portal=2, users_per_org=3, portals=("xero",))
    login = world.logins_of("xero")[0]
    with PortalServer(create_portal_app("xero", world)) as server:
        login_id = _add(runtime, world, server.base_url)
        _wait_for_a_fresh_step(room_s=15)
        step = current_step()
        portal = runtime_of(server.app)  # type: ignore[arg-type]
        assert portal.verify_code(login, totp_for(login.totp_secret).at(step * STEP_SECONDS))
        report = _crawl(runtime, browser_loop)
    assert report.login_failures == []
    assert report.ok == len(world.orgs)
    with Session(runtime.engine) as session:
        row = session.get(PortalLogin, login_id)
        assert row is not None
        assert row.totp_last_step == step + 1, "the refused step, then the next one"


# -- 9: a portal that cannot be reached --------------------------------------------------


def test_a_portal_that_cannot_be_reached_is_a_clean_failure_on_every_portal(
    runtime: Runtime,
) -> None:
    """With and without a stored session (qbo and myob once raised out of the crawl)."""
    world = generate_world(47, staff=6, orgs_per_portal=1, users_per_org=2)
    base = f"http://127.0.0.1:{_closed_port()}"
    stored = runtime.box.encrypt(json.dumps({"cookies": [], "origins": []}))
    ids: list[int] = []
    for portal in ("xero", "qbo", "myob"):
        for kind in ("fresh", "stored"):
            login_id = _add(
                runtime, world, base, portal=portal, email=f"{kind}.{portal}@harbourco.example"
            )
            ids.append(login_id)
            if kind == "stored":
                with session_scope(runtime.engine) as session:
                    row = session.get(PortalLogin, login_id)
                    assert row is not None
                    row.storage_state_enc = stored
    result = _scan(runtime)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "6 logins failed" in result.stderr
    assert f"cannot reach {base}/: connection refused" in result.stderr
    with Session(runtime.engine) as session:
        last = latest_sign_ins(session)
    assert sorted(last) == sorted(ids)
    for attempt in last.values():
        assert (attempt.ok, attempt.reason) == (False, FailureReason.PORTAL_ERROR)
        assert attempt.detail == f"cannot reach {base}/: connection refused"


# -- 7: a login that fails on its first crawl is visible --------------------------------


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], str]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _dashboard_scans_page(runtime: Runtime) -> str:
    with session_scope(runtime.engine) as session:
        admin = add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="test"
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


def test_a_login_that_fails_its_first_crawl_is_seen_everywhere_and_alerted_once(
    runtime: Runtime, browser_loop: BrowserLoop, webhook: tuple[list[dict], str], tmp_path: Path
) -> None:
    received, url = webhook
    alerting = runtime.settings.model_copy(update={"alert_webhook_url": url})
    world = generate_world(53, staff=6, orgs_per_portal=2, users_per_org=3, portals=("xero",))
    email = world.logins_of("xero")[0].email
    with PortalServer(create_portal_app("xero", world)) as server:
        login_id = _add(runtime, world, server.base_url, password="not-the-password")
        first = _crawl(runtime, browser_loop)
        assert [(p, r) for p, _, r, _ in first.login_failures] == [("xero", "login_failed")]
        assert first.total == 0, "no org was ever listed, so no scan could fail"

        # the command line: the login's last sign-in, and scan's exit code and one line
        listed = subprocess.run(
            [sys.executable, "-m", "accessrecon", "login", "list"],
            env=_env(runtime),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr
        assert "failed" in listed.stdout
        assert "login_failed" in listed.stdout
        removed = subprocess.run(
            [sys.executable, "-m", "accessrecon", "login", "remove", str(login_id)],
            env=_env(runtime),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert removed.returncode == 1
        assert "kept" in removed.stderr
        assert removed.stderr.strip().count("\n") == 0, removed.stderr
        scanned = _scan(runtime)
        assert scanned.returncode == 1
        assert scanned.stderr.strip().count("\n") == 0, scanned.stderr
        assert f"xero {email}: login_failed" in scanned.stderr

        # the evidence report
        out = tmp_path / "evidence.csv"
        with Session(runtime.engine) as session:
            result = write_evidence_report(session, out, fmt=ReportFormat.CSV)
        text = out.read_text(encoding="utf-8")
        assert result.rows == 2
        assert f"sign-in of {email}" in text
        assert "login_failed" in text

        # the dashboard
        page = _dashboard_scans_page(runtime)
        assert "Portal logins" in page
        assert email in page
        assert "Login failed" in page

        # alerted once per failure episode, like a critical finding
        with session_scope(runtime.engine) as session:
            alerted = send_alerts(session, alerting)
        assert alerted.sent == {"webhook": 1}
        item = received[0]["findings"][0]
        assert (item["severity"], item["class"], item["email"]) == (
            "critical",
            "sign_in_failed",
            email,
        )
        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {}, "the same episode twice"

        # it signs in again: the failure is over; a new failure is a new episode
        _add(runtime, world, server.base_url)
        assert _crawl(runtime, browser_loop).ok == len(world.orgs)
        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {}
        _add(runtime, world, server.base_url, password="wrong-again")
        again = _crawl(runtime, browser_loop)
        assert len(again.login_failures) == 1
        assert dict(again.failed) == {FailureReason.LOGIN_FAILED: len(world.orgs)}
        with session_scope(runtime.engine) as session:
            assert send_alerts(session, alerting).sent == {"webhook": 1}
    assert len(received) == 2
