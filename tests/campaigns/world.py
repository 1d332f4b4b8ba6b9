"""A small practice for access review tests: two managers' clients, a partner above them,
one unlinked org, a leaver, a direct invite and an unknown practice address."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from tests.factories import DOMAIN, add_client, add_staff, agent_login, failed_scan, ok_scan, org

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
DUE = date(2027, 3, 31)
AGENT = "accessrecon.xero@harbourco.example"
LEE = f"lee@{DOMAIN}"
ANA = f"ana@{DOMAIN}"
TEMP = f"temp@{DOMAIN}"


def review_world(engine: Engine) -> None:
    """Two managers' clients, one unlinked org, a leaver, a direct invite, an unknown address."""
    with session_scope(engine) as session:
        agent_login(session, AGENT)
        add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        add_staff(session, "Max Manager", f"max@{DOMAIN}")
        add_staff(session, "Pat Partner", f"pat@{DOMAIN}")
        add_staff(session, "Lee Leaver", LEE, status="left", left_on=date(2026, 11, 30))
        add_staff(session, "Ana Active", ANA)
        for name, manager, org_id in (
            ("Mia's Bakery", "Mia Manager", "!mia01"),
            ("Max's Garage", "Max Manager", "!max01"),
        ):
            client = add_client(session, name, manager, ("xero", org_id))
            client.partner = "Pat Partner"
            session.add(client)
        ok_scan(
            session,
            org(session, "!mia01", "Mia's Bakery"),
            [
                (LEE, "STANDARD"),
                (ANA, "STANDARD"),
                ("owner@bakery.example", "ADVISER"),
                (AGENT, "ADVISER"),
            ],
        )
        ok_scan(
            session, org(session, "!max01", "Max's Garage"), [(ANA, "STANDARD"), (TEMP, "STANDARD")]
        )
        ok_scan(session, org(session, "!nolnk", "Unlinked Ltd"), [(ANA, "STANDARD")])
        failed_scan(session, org(session, "!never", "Never Read Ltd"))
        reconcile(session, configured_domains=[DOMAIN])
        for name, role, scope in (
            ("Ada Admin", "practice_admin", "all"),
            ("Pat Partner", "partner", "all"),
            ("Mia Manager", "manager", "managed"),
            ("Max Manager", "manager", "managed"),
        ):
            add_user(session, name=name, role=role, scope=scope, actor="test")
