"""Logins a person signs in: ``login connect`` with the test as the person, then crawls
that use the stored sign-in and never walk the sign-in pages; a login never connected,
or whose session ends mid-crawl, reads nothing more and is left for the person.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from agent.domain import ScanStatus
from agent.runtime import Runtime
from agent.services.signins import latest_sign_ins
from agent.storage.models import AuditEvent, SignInAttempt
from sandbox.portals.common import update_settings
from tests.browser_loop import BrowserLoop
from tests.interactive_person import (
    CONNECTED_AT,
    add_interactive,
    connect_as_person,
    crawl,
    login_row,
    sandbox,
    scans,
)

pytestmark = [pytest.mark.browser]


@pytest.mark.parametrize("portal", ["xero", "qbo", "myob"])
def test_a_person_connects_a_login_then_crawls_read_every_org_with_its_sign_in(
    runtime: Runtime, browser_loop: BrowserLoop, portal: str
) -> None:
    with sandbox(portal) as box:
        login_id = add_interactive(runtime, box)
        assert login_row(runtime, login_id).needs_sign_in_since is not None, "never connected"

        connected = connect_as_person(browser_loop, runtime, login_id, box)
        assert (connected.login_id, connected.email) == (login_id, box.login.email)
        assert connected.connected_at == CONNECTED_AT
        row = login_row(runtime, login_id)
        assert row.connected_at == CONNECTED_AT
        assert row.needs_sign_in_since is None
        assert row.storage_state_enc is not None
        assert box.login.email.encode() not in row.storage_state_enc, "kept encrypted"
        with Session(runtime.engine) as session:
            audit = session.exec(
                select(AuditEvent).where(AuditEvent.action == "login.connect")
            ).all()
            last = latest_sign_ins(session)[login_id]
        assert [e.detail for e in audit] == [
            {"login_id": login_id, "portal": portal, "email": box.login.email}
        ]
        assert last.ok

        report = crawl(runtime, browser_loop)
        assert report.login_failures == []
        assert report.ok == box.orgs
        assert report.sign_ins == 0
        assert box.codes_sent() == 1, "the crawl never walked the sign-in"
        assert {s.status for s in scans(runtime)} == {ScanStatus.OK}
        with Session(runtime.engine) as session:
            last = latest_sign_ins(session)[login_id]
        assert last.ok
        assert "still accepted" in last.detail


def test_a_login_that_was_never_connected_needs_sign_in_and_reads_nothing(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    with sandbox("xero", seed=62) as box:
        login_id = add_interactive(runtime, box)
        report = crawl(runtime, browser_loop)
        assert [(p, e, r) for p, e, r, _ in report.login_failures] == [
            ("xero", box.login.email, "needs_sign_in")
        ]
        assert f"accessrecon login connect {login_id}" in report.login_failures[0][3]
        assert report.total == 0
        assert not report.complete
        assert scans(runtime) == []
        assert box.codes_sent() == 0, "no sign-in was tried"


def test_a_session_that_ends_mid_crawl_leaves_the_rest_for_the_person(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    with sandbox("xero", seed=63, orgs=6) as box:
        login_id = add_interactive(runtime, box)
        connect_as_person(browser_loop, runtime, login_id, box)
        # the sign-in check and the org list, then a few org reads, and the session ends
        update_settings(box.server.app, session_expiry_requests=4)  # type: ignore[arg-type]
        report = crawl(runtime, browser_loop)
    assert [r for _, _, r, _ in report.login_failures] == ["needs_sign_in"]
    assert sum(report.failed.values()) == 0, "no org recorded as failed"
    assert report.ok < box.orgs
    assert {s.status for s in scans(runtime)} <= {ScanStatus.OK}
    assert login_row(runtime, login_id).needs_sign_in_since is not None
    with Session(runtime.engine) as session:
        failed = session.exec(
            select(SignInAttempt).where(SignInAttempt.reason == "needs_sign_in")
        ).all()
    assert len(failed) == 1, "kept once per crawl, however many orgs were waiting"
    assert box.codes_sent() == 1
