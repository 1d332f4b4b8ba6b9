"""The demo's path, end to end: sandbox portals, real Chromium, storage, reconcile, report.

A world is generated, its three portals served, the practice's files imported, every
org crawled and reconciled; the findings must equal the world's ground truth, and
the leaver report must list exactly the leaver's access, by client manager.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from agent.crawl.crawler import Crawler
from agent.domain import ScanStatus
from agent.imports import ImportKind, run_import
from agent.reconcile import normalise_email
from agent.reports.leaver import write_leaver_report
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.finding_lists import open_findings
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from agent.storage.models import Scan
from sandbox.generate import generate_world, write_world
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser


def test_demo_path_finds_exactly_the_ground_truth(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    world = generate_world(5, staff=10, orgs_per_portal=5, users_per_org=6)
    files = write_world(world, tmp_path / "world")
    domains = world.practice_domains
    with ExitStack() as servers:
        for login in world.logins:
            portal = servers.enter_context(PortalServer(create_portal_app(login.portal, world)))
            with session_scope(runtime.engine) as session:
                add_login(
                    session,
                    runtime.box,
                    portal=login.portal,
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=portal.base_url,
                )
        for kind, path in (
            (ImportKind.STAFF, files.staff),
            (ImportKind.CLIENTS, files.clients),
            (ImportKind.ACCESS, files.access),
        ):
            run_import(runtime.engine, kind, path, practice_domains=domains)
        crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings, concurrency=3)
        report = browser_loop.run(lambda browser: crawler.run(browser=browser))

    assert report.ok == len(world.orgs)
    assert not report.failed
    with Session(runtime.engine) as session:
        scans = list(session.exec(select(Scan)))
    assert [s.status for s in scans] == [ScanStatus.OK] * len(world.orgs)
    assert all(s.user_count == s.reported_total for s in scans)

    with session_scope(runtime.engine) as session:
        reconcile(session, configured_domains=domains)
        rows = open_findings(session)
    got = {
        (r.portal, r.portal_org_id, normalise_email(r.email, domains)): r.finding_class
        for r in rows
    }
    want = {
        (t.portal, t.org_id, normalise_email(t.email, domains)): t.finding_class
        for t in world.truth
    }
    assert got == want
    assert not {lg.email for lg in world.logins} & {r.email for r in rows}
    assert {r.portal for r in rows} == {"xero", "qbo", "myob"}

    leaver = max(
        world.leavers(),
        key=lambda s: sum(
            1
            for t in world.truth
            if t.finding_class == "leaver_access"
            and normalise_email(t.email, domains) in {normalise_email(e, domains) for e in s.emails}
        ),
    )
    out = tmp_path / "leaver.xlsx"
    with session_scope(runtime.engine) as session:
        _, count = write_leaver_report(session, leaver.name, out)
    leaver_emails = {normalise_email(e, domains) for e in leaver.emails}
    expected = [t for t in world.truth if normalise_email(t.email, domains) in leaver_emails]
    assert count == len(expected) > 0

    book = load_workbook(out)
    summary = book["Summary"]
    assert summary["A1"].value.startswith(f"Leaver report: {leaver.name}")
    assert summary.freeze_panes == "A5"
    clients = {c.client_id: c for c in world.clients}
    org_manager = {
        o.org_id: (clients[o.client_id].client_manager if o.client_id else "No client manager")
        for o in world.orgs
    }
    per_manager = Counter(org_manager[t.org_id] for t in expected)
    sheets = {name: book[name] for name in book.sheetnames if name != "Summary"}
    assert set(sheets) == set(per_manager)
    for manager, sheet in sheets.items():
        assert sheet.freeze_panes == "A5"
        assert sheet.auto_filter.ref.startswith("A4:")
        header = [c.value for c in sheet[4]]
        assert header[:4] == ["Client", "Org", "Portal", "Org id"]
        body = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0] is not None]
        assert len(body) == per_manager[manager]
        assert {r[3] for r in body} <= {t.org_id for t in expected}
