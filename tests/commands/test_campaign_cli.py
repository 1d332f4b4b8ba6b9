"""``accessrecon campaign …`` as a person runs it: start, list, decide, status, export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from accessrecon.commands.campaign import campaign_app
from agent.clock import utcnow
from agent.runtime import Runtime
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, CampaignItem
from tests.campaigns.world import LEE, TEMP, review_world
from tests.factories import DOMAIN

pytestmark = pytest.mark.database

app = typer.Typer()
app.add_typer(campaign_app, name="campaign")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Runtime]:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    monkeypatch.setenv("ACCESSRECON_PRACTICE_DOMAINS", DOMAIN)
    runtime = Runtime(Settings())
    review_world(runtime.engine)
    yield runtime
    runtime.engine.dispose()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _item(runtime: Runtime, identity: str) -> int:
    with session_scope(runtime.engine) as session:
        item_id = session.exec(
            select(CampaignItem.id).where(CampaignItem.identity == identity)
        ).one()
        assert item_id is not None
        return item_id


def test_a_review_from_the_command_line(cli: Runtime, tmp_path: Path) -> None:
    due = (utcnow().date() + timedelta(days=30)).isoformat()
    code, out = run("campaign", "status")
    assert (code, out.strip()) == (
        0,
        "no access reviews yet: start one with 'accessrecon campaign start'",
    )
    code, out = run("campaign", "start", "Q1 2027", "--due", due, "--as", "Mia Manager")
    assert code == 1
    assert "only practice admins start access reviews" in out
    code, out = run("campaign", "start", "Q1 2027", "--due", "31/03/2027", "--as", "Ada Admin")
    assert code == 2
    assert "is not a date like 2027-03-31" in out
    code, out = run("campaign", "start", "Q1 2027", "--due", due, "--as", "Ada Admin")
    assert code == 0, out
    assert "campaign 1 'Q1 2027': 5 items for 3 reviewer(s)" in out
    assert "1 org(s) have never been read ok" in out

    code, out = run("campaign", "list", "1", "--as", "Mia Manager")
    assert code == 0
    assert LEE in out
    assert TEMP not in out  # Max's client
    assert "2 of 2 still to decide" in out

    lee = _item(cli, LEE)
    code, out = run("campaign", "decide", "1", "keep", "--item", str(lee), "--as", "Mia Manager")
    assert code == 1
    assert "keeping it needs a reason" in out
    code, out = run("campaign", "decide", "1", "remove", "--person", LEE, "--as", "Mia Manager")
    assert code == 0, out
    assert "1 item(s) decided: remove" in out
    assert "removal plan 1 proposed" in out
    code, out = run(
        "campaign", "decide", "1", "keep", "--item", str(_item(cli, TEMP)), "--as", "Mia Manager"
    )
    assert code == 1
    assert "is for Max Manager to decide, not Mia Manager" in out

    code, out = run("campaign", "status", "1")
    assert code == 0
    assert "1/5 decided" in out
    assert "Mia Manager" in out
    assert "[1 remove]" in out

    path = tmp_path / "mia.xlsx"
    code, out = run("campaign", "export", "1", "--as", "Mia Manager", "-o", str(path))
    assert code == 0, out
    book = openpyxl.load_workbook(path, read_only=True)
    text = "\n".join(
        " ".join(str(v) for v in row if v is not None)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    )
    assert LEE in text
    assert TEMP not in text
    with session_scope(cli.engine) as session:
        actions = set(session.exec(select(AuditEvent.action)))
    assert {"campaign.started", "campaign.decided", "export.review_list"} <= actions

    code, out = run("campaign", "status", "7")
    assert (code, out.strip()) == (1, "accessrecon: no campaign with id 7")
