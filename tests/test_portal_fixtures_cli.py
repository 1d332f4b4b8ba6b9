"""``accessrecon portal fixtures list|show|replay|export``, run as a person would.

Fixtures are stored through the service the API uses, with the content of sandbox
captures; replay reads markup in a Chromium of its own, as the command does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accessrecon.cli import app
from agent.runtime import Runtime
from agent.services.fixtures import CaptureIn, save_fixture
from agent.settings import Settings
from agent.storage.db import session_scope

FIXTURES = Path(__file__).parent / "fixtures" / "portal"
LAYOUT_2 = Path(__file__).parent / "scrapers" / "recipes_v2"


def store(runtime: Runtime, name: str) -> int:
    """A sandbox capture saved as the API saves it; its number."""
    data = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    capture = CaptureIn(
        portal=data["portal"],
        portal_org_id=data["portal_org_id"],
        recipe=data["recipe"],
        kind=data["kind"],
        page_path=data["page_path"],
        recipe_read=data["recipe_read"],
        content=data["content"],
    )
    with session_scope(runtime.engine) as session:
        row = save_fixture(session, capture, actor="Ada Admin (user #1)")
        assert row.id is not None
        return row.id


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Runtime]:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    runtime = Runtime(Settings())
    yield runtime
    runtime.engine.dispose()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["portal", "fixtures", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_the_saved_pages_newest_first(cli: Runtime) -> None:
    code, out, _ = run("list")
    assert (code, out.strip()) == (0, "no pages have been saved for support yet")
    first = store(cli, "xero-hostile-names")
    second = store(cli, "qbo-two-tabs-layout2")
    code, out, _ = run("list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [f"#{second}", f"#{first}"]
    assert "qbo 1234567890123  html  qbo@2026.12.1  layout not read" in lines[0]
    assert "xero !crit1  json  xero@2026.12.1  read by its recipe" in lines[1]
    assert lines[1].endswith("by Ada Admin (user #1)")


def test_show_prints_the_facts_and_the_redacted_content(cli: Runtime) -> None:
    number = store(cli, "myob-cards")
    code, out, _ = run("show", str(number))
    assert code == 0
    assert "portal: myob" in out
    assert "recipe_read: True" in out
    assert '"email": "person1@example.invalid"' in out
    code, _, err = run("show", "99")
    assert code == 1
    assert (
        err.strip() == "accessrecon: no fixture 99: 'accessrecon portal fixtures list' shows them"
    )


def test_replay_prints_the_users_read(cli: Runtime) -> None:
    number = store(cli, "qbo-two-tabs")
    code, out, _ = run("replay", str(number))
    assert code == 0, out
    assert "read with qbo@2026.12.1" in out
    assert "active · Primary admin · person1@example.invalid · Person 1 · kind users" in out
    assert "firm Firm 1" in out
    assert "id u0028" in out
    assert out.strip().endswith("4 users read (users: 2; firms: 2)")


def test_replay_of_a_changed_layout_names_the_key_and_exits_1(cli: Runtime) -> None:
    number = store(cli, "xero-hostile-names-layout2")
    code, _, err = run("replay", str(number))
    assert code == 1
    assert err.strip() == (
        "accessrecon: the recipe xero@2026.12.1 read nothing: the users JSON has no list at"
        " 'users' (recipe users.rows)"
    )
    code, out, _ = run("replay", str(number), "--recipe", str(LAYOUT_2 / "xero.toml"))
    assert code == 0, out
    assert "read with xero@2026.12.1-layout2 (override)" in out
    assert out.strip().endswith("5 users read (JSON total 5)")


def test_replay_with_a_bad_recipe_file_changes_nothing_and_says_why(
    cli: Runtime, tmp_path: Path
) -> None:
    number = store(cli, "myob-cards")
    bad = tmp_path / "myob-fix.toml"
    bad.write_text('version = "4"\n[users]\nrows = 7\n', "utf-8")
    code, _, err = run("replay", str(number), "--recipe", str(bad))
    assert code == 1
    assert err.startswith(f"accessrecon: {bad}: users.rows:")
    code, _, err = run("replay", str(tmp_path / "nothing.json"))
    assert code == 1
    assert "give a fixture's number or an exported fixture file" in err


def test_export_writes_a_file_that_replays_to_its_expected_users(
    cli: Runtime, tmp_path: Path
) -> None:
    number = store(cli, "qbo-paged-layout2")
    target = tmp_path / "qbo-fixed.json"
    code, out, _ = run(
        "export", str(number), "-o", str(target), "--recipe", str(LAYOUT_2 / "qbo.toml")
    )
    assert code == 0, out
    assert out.strip() == f"wrote {target}: read with qbo@2026.12.1-layout2 (override), 31 users"
    written = json.loads(target.read_text("utf-8"))
    assert written["expected"]["error"] is None
    assert len(written["expected"]["users"]) == 31
    assert (
        written["content"]
        == json.loads((FIXTURES / "qbo-paged-layout2.json").read_text("utf-8"))["content"]
    )
    # the exported file is a FIXTURE too
    code, out, _ = run("replay", str(target), "--recipe", str(LAYOUT_2 / "qbo.toml"))
    assert code == 0
    assert out.strip().endswith("31 users read (users: 30; firms: 1)")
    code, _, err = run("export", str(number), "-o", str(tmp_path / "fixed.txt"))
    assert (code, err.strip()) == (
        1,
        f"accessrecon: {tmp_path / 'fixed.txt'}: name the fixture file *.json",
    )


def test_a_file_that_is_not_a_fixture_is_refused(cli: Runtime, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": "something else"}', "utf-8")
    code, _, err = run("replay", str(other))
    assert code == 1
    assert "not a fixture file" in err
