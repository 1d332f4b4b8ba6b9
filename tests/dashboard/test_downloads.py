"""Downloads where people look, in a real Chromium: each page's button gives a file cut to
the viewer's scope, and each file is recorded in the audit log with its exact bytes' digest.

The practice is ``tests.dashboard.world``'s: Mia manages Kōwhai, Tōtara, Harakeke and
Mānuka; Rātā, Pōhutukawa, Kauri, Kererū and Tūī are Max's; Unlinked Holdings belongs
to no client, so only an all-clients viewer sees it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from agent.security.audit import list_events
from agent.storage.models import Client
from tests.dashboard.conftest import Dashboard

MIAS_CLIENTS = {"Kōwhai Bakery", "Tōtara Builders", "Harakeke Nursery", "Mānuka Honey"}
NOT_MIAS = ("Rātā", "Pōhutukawa", "Kauri Legal", "Kererū", "Tūī", "Unlinked Holdings")


def _events(dash: Dashboard, action: str) -> list[tuple[str, dict[str, object]]]:
    with Session(dash.runtime.engine) as session:
        return [(e.actor, e.detail) for e in list_events(session, action=action, limit=None).events]


def _actor(dash: Dashboard, who: str) -> str:
    names = {"admin": "Ada Admin", "mia": "Mia Manager"}
    return f"{names[who]} (user #{dash.world.user_ids[who]})"


def _download(page: Page, link: str) -> tuple[str, bytes]:
    """Click the page's download button named ``link``; the file's name and bytes."""
    button = page.locator(".downloads").get_by_role("link", name=link)
    expect(button).to_be_visible()
    assert button.evaluate("a => a.tagName") == "A", "a download is a plain link (a GET)"
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def _audited_once(
    dash: Dashboard, action: str, before: int, who: str, content: bytes, filename: str
) -> dict[str, object]:
    """The one new audit row of ``action``: by ``who``, naming the file and its digest."""
    events = _events(dash, action)
    assert len(events) == before + 1, f"{action}: one audit row per download"
    actor, detail = events[0]
    assert actor == _actor(dash, who)
    assert detail["sha256"] == hashlib.sha256(content).hexdigest()
    assert detail["filename"] == filename
    return detail


def _workbook_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_every_page_has_its_download_and_each_is_audited(dash: Dashboard) -> None:
    page = dash.page("admin")
    steps = [
        (
            "/dashboard/findings",
            "CSV",
            "export.findings_csv",
            r"accessrecon-findings-\d{8}-\d{4}\.csv",
        ),
        (
            "/dashboard/findings",
            "Excel workbook",
            "export.findings_xlsx",
            r"accessrecon-findings-\d{8}-\d{4}\.xlsx",
        ),
        (
            f"/dashboard/people/{dash.world.staff_ids['Ben Brennan']}",
            "Leaver workbook",
            "export.leaver_xlsx",
            r"leaver-Ben-Brennan-\d{8}\.xlsx",
        ),
        (
            "/dashboard/people",
            "Access matrix",
            "export.report_matrix",
            r"access-matrix-[\d-]{10}\.xlsx",
        ),
        ("/dashboard", "Workload", "export.report_workload", r"workload-[\d-]{10}\.xlsx"),
        ("/dashboard", "Exceptions", "export.report_exceptions", r"exceptions-[\d-]{10}\.xlsx"),
        ("/dashboard/scans", "Evidence", "export.report_evidence", r"evidence-[\d-]{10}\.xlsx"),
        (
            "/dashboard/orgs/xero/!rat01",
            "Access statement",
            "export.client_statement",
            r"access-statement-.+-[\d-]{10}\.html",
        ),
    ]
    files: dict[str, bytes] = {}
    for path, link, action, name in steps:
        page.goto(path)
        before = len(_events(dash, action))
        filename, content = _download(page, link)
        assert re.fullmatch(name, filename), filename
        detail = _audited_once(dash, action, before, "admin", content, filename)
        assert detail["scope"] == "all"
        files[action] = content

    findings = _csv_rows(files["export.findings_csv"])
    assert len(findings) == 12, "every finding that needs action, as the list counts them"
    assert "Unlinked Holdings" in _workbook_text(files["export.findings_xlsx"])
    leaver = _workbook_text(files["export.leaver_xlsx"])
    for org in ("Kōwhai Bakery Ltd", "Rātā Joinery Ltd", "Unlinked Holdings"):
        assert org in leaver
    assert "Rātā Joinery" in _workbook_text(files["export.report_exceptions"])
    assert "Rātā Joinery" in files["export.client_statement"].decode()
    assert "<link" not in files["export.client_statement"].decode(), "the file stands alone"
    page.close()


def test_a_managers_downloads_hold_only_their_clients(dash: Dashboard) -> None:
    page = dash.page("mia")
    page.goto("/dashboard/findings")
    shown = int(page.locator("#findings-count").inner_text().split()[0])
    before = len(_events(dash, "export.findings_csv"))
    filename, content = _download(page, "CSV")
    rows = _csv_rows(content)
    assert len(rows) == shown > 0
    assert {r["client"] for r in rows} <= MIAS_CLIENTS
    detail = _audited_once(dash, "export.findings_csv", before, "mia", content, filename)
    assert detail["scope"] == "managed"
    assert detail["rows"] == shown

    # The list's filters go with the download.
    page.goto("/dashboard/findings?class=leaver_access&group=client")
    _, content = _download(page, "CSV")
    rows = _csv_rows(content)
    assert [(r["finding_class"], r["org_name"]) for r in rows] == [
        ("leaver_access", "Kōwhai Bakery Ltd")
    ]

    for path, link, mine in (
        ("/dashboard/findings", "Excel workbook", "Kōwhai Bakery Ltd"),
        (
            f"/dashboard/people/{dash.world.staff_ids['Ben Brennan']}",
            "Leaver workbook",
            "Kōwhai Bakery Ltd",
        ),
        ("/dashboard/people", "Access matrix", "Kōwhai Bakery"),
        ("/dashboard", "Exceptions", "Kōwhai Bakery"),
        ("/dashboard", "Workload", "Mia Manager"),
        ("/dashboard/scans", "Evidence", "Kōwhai Bakery Ltd"),
    ):
        page.goto(path)
        _, content = _download(page, link)
        text = _workbook_text(content)
        assert mine in text, link
        for other in (*NOT_MIAS, "Max Manager"):
            assert other not in text, f"{link} shows {other}: not Mia's"
    page.close()


def test_downloads_refuse_what_they_cannot_give_and_record_nothing(dash: Dashboard) -> None:
    anonymous = dash.context()
    before = len(_events(dash, "export.findings_csv"))
    answer = anonymous.request.get(dash.url("/dashboard/findings.csv"), max_redirects=0)
    assert answer.status == 303
    assert answer.headers["location"].startswith("/dashboard/login?next=")
    assert len(_events(dash, "export.findings_csv")) == before
    anonymous.close()

    page = dash.page("mia")
    for path in ("/dashboard/reports/payroll.xlsx", "/dashboard/people/999999/leaver.xlsx"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 404, path
    response = page.goto("/dashboard/orgs/xero/!rat01")  # not Mia's client: no statement
    assert response is not None
    assert response.status == 404
    with Session(dash.runtime.engine) as session:
        rata = session.exec(select(Client.id).where(Client.name == "Rātā Joinery")).one()
    before = len(_events(dash, "export.client_statement"))
    assert page.request.get(f"/dashboard/clients/{rata}/statement.html").status == 404
    assert len(_events(dash, "export.client_statement")) == before
    page.close()
