"""Alerts reach the right manager, once, over a real SMTP server and a real webhook."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from sqlalchemy import Engine

from agent.services.alerts import send_alerts
from agent.services.findings import reconcile
from agent.settings import Settings
from agent.storage.db import session_scope
from tests.factories import DOMAIN, add_client, add_staff, agent_login, ok_scan, org
from tests.mail import Sink, smtp_sink
from tests.webhook import webhook_sink


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], str]]:
    with webhook_sink() as sink:
        yield sink


def _world(engine: Engine) -> None:
    with session_scope(engine) as session:
        agent_login(session)
        add_staff(session, "Mia Manager", "mia@harbourco.example")
        add_staff(session, "Lee Leaver", "lee@harbourco.example", status="left")
        add_staff(session, "Ana Active", "ana@harbourco.example")
        add_client(session, "Mia's Bakery", "Mia Manager", ("xero", "!mia01"))
        add_client(session, "Ben's Garage", "Ben Notonroster", ("xero", "!ben01"))
        ok_scan(
            session,
            org(session, "!mia01", "Mia's Bakery"),
            [("lee@harbourco.example", "STANDARD"), ("owner@bakery.example", "STANDARD")],
        )
        ok_scan(
            session, org(session, "!ben01", "Ben's Garage"), [("ana@harbourco.example", "STANDARD")]
        )
        ok_scan(
            session,
            org(session, "!nolnk", "Unlinked Ltd"),
            [("temp@harbourco.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])


def test_each_manager_gets_their_own_clients_once(
    engine: Engine, settings: Settings, smtp: tuple[Sink, int], webhook: tuple[list[dict], str]
) -> None:
    sink, port = smtp
    received, url = webhook
    _world(engine)
    configured = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "alert_webhook_url": url,
            "alert_fallback_email": "admin@harbourco.example",
        }
    )
    with session_scope(engine) as session:
        report = send_alerts(session, configured)
    assert report.failed == []
    assert report.sent == {"webhook": 3, "email": 3}

    mails = {
        tuple(to): message_from_bytes(content, policy=policy.default)
        for to, content in sink.messages
    }
    assert set(mails) == {("mia@harbourco.example",), ("admin@harbourco.example",)}
    mia = mails[("mia@harbourco.example",)].get_content()
    assert "Lee Leaver" in mia or "lee@harbourco.example" in mia
    assert "Ben's Garage" not in mia
    assert (
        "1 new access finding on your clients (1 critical)"
        in mails[("mia@harbourco.example",)]["Subject"]
    )
    admin = mails[("admin@harbourco.example",)].get_content()
    assert "Ben's Garage" in admin
    assert "Unlinked Ltd" in admin
    assert "owner@bakery.example" not in mia + admin  # client users are never alerted

    by_manager = {p["client_manager"]: p for p in received}
    assert set(by_manager) == {"Mia Manager", "Ben Notonroster", "(no client manager)"}
    assert [f["class"] for f in by_manager["Mia Manager"]["findings"]] == ["leaver_access"]

    with session_scope(engine) as session:
        again = send_alerts(session, configured)
    assert again.sent == {}
    assert len(sink.messages) == 2
    assert len(received) == 3


def test_a_failed_delivery_is_tried_again_next_time(
    engine: Engine, settings: Settings, webhook: tuple[list[dict], str]
) -> None:
    received, url = webhook
    _world(engine)
    broken = settings.model_copy(update={"alert_webhook_url": "http://127.0.0.1:9/nothing"})
    with session_scope(engine) as session:
        first = send_alerts(session, broken)
    assert first.sent == {}
    assert len(first.failed) == 3
    with session_scope(engine) as session:
        second = send_alerts(session, settings.model_copy(update={"alert_webhook_url": url}))
    assert second.sent == {"webhook": 3}
    assert len(received) == 3
