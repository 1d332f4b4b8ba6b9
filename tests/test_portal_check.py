"""``accessrecon portal check``: every step of a login's portal, and for a failing one,
what the portal showed instead, so the recipe key to change can be found."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.runtime import Runtime
from agent.storage.models import Crawl, PortalLogin, Scan
from sandbox.generate import generate_world
from sandbox.portals.common import update_settings
from sandbox.world import World
from tests.test_crawl_faults import Portals

pytestmark = pytest.mark.browser

PORTALS = ("xero", "qbo", "myob")


class Served(Portals):
    """The world's portals served and their logins stored, with each login's id."""

    def __init__(self, world: World, runtime: Runtime, stack: ExitStack) -> None:
        super().__init__(world, runtime, stack)
        with Session(runtime.engine) as session:
            rows = session.exec(select(PortalLogin)).all()
        self.login_ids = {row.portal: row.id for row in rows if row.id is not None}


@pytest.fixture
def world() -> World:
    return generate_world(31, staff=6, orgs_per_portal=3, users_per_org=4)


@pytest.fixture
def served(world: World, runtime: Runtime) -> Iterator[Served]:
    with ExitStack() as stack:
        yield Served(world, runtime, stack)


def check(
    runtime: Runtime, *args: str, recipes: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_SCRAPE_TIMEOUT_S": "5",
        "COLUMNS": "200",
    }
    if recipes is not None:
        env["ACCESSRECON_RECIPE_DIR"] = str(recipes)
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", "portal", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def failed_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    line = result.stderr.strip()
    assert "\n" not in line, line
    assert line.startswith("accessrecon: portal check of login "), line
    return line


@pytest.mark.parametrize("portal", PORTALS)
def test_a_healthy_portal_passes_every_step_and_records_nothing(
    runtime: Runtime, served: Served, world: World, portal: str
) -> None:
    result = check(runtime, "--login", str(served.login_ids[portal]))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"recipe {portal}@" in out
    assert f"agent/scrapers/recipes/{portal}.toml" in out
    assert f"polite: {portal}:" in out
    for step in ("sign-in page", "sign in", "org list", "users of", "counts agree"):
        assert step in out, out
    assert "FAILED" not in out
    orgs = [o for o in world.orgs if o.portal == portal]
    assert f"{len(orgs)} orgs read" in out
    with Session(runtime.engine) as session:
        assert session.exec(select(Crawl)).all() == []
        assert session.exec(select(Scan)).all() == []


@pytest.mark.parametrize(
    ("portal", "key", "saw"),
    [
        ("xero", "recipe users.rows", "keys: count, members"),
        ("qbo", "recipe users.lists[0].table", "× li.person[data-person-id] (span.person__"),
        ("myob", "recipe users.rows", "keys of an item of 'results': memberId"),
    ],
)
def test_a_changed_users_page_fails_naming_the_recipe_key_and_what_is_there(
    runtime: Runtime, served: Served, portal: str, key: str, saw: str
) -> None:
    update_settings(served.servers[portal].app, layout_version=2)
    result = check(runtime, "--login", str(served.login_ids[portal]))
    line = failed_line(result)
    assert "failed at 'users of" in line, line
    assert key in line, line
    assert "layout_changed" in line
    assert "org list" in result.stdout
    assert saw in result.stdout, result.stdout


def test_a_label_the_portal_no_longer_shows_names_the_labels_it_does(
    runtime: Runtime, served: Served, tmp_path: Path
) -> None:
    (tmp_path / "xero.toml").write_text(
        'version = "2026.12.1-1"\n[sign_in]\nemail_label = "E-mail"\n', encoding="utf-8"
    )
    result = check(runtime, "--login", str(served.login_ids["xero"]), recipes=tmp_path)
    line = failed_line(result)
    assert "failed at 'label 'E-mail''" in line, line
    assert "xero@2026.12.1-1 (override)" in result.stdout
    assert "labels: 'Email address', 'Password'" in result.stdout, result.stdout


def test_an_org_the_login_cannot_see_fails_its_own_step(runtime: Runtime, served: Served) -> None:
    result = check(runtime, "--login", str(served.login_ids["qbo"]), "--org", "1234567890123")
    line = failed_line(result)
    assert "failed at 'org asked for': 1234567890123 is not in this login's org list" in line


def test_an_unknown_login_and_a_bad_recipe_are_refused_in_one_line(
    runtime: Runtime, served: Served, tmp_path: Path
) -> None:
    result = check(runtime, "--login", "999")
    assert result.returncode == 1
    assert result.stderr.strip() == "accessrecon: no login with id 999; see accessrecon login list"
    (tmp_path / "qbo.toml").write_text('version = "2"\n[orgs]\nread = "soap"\n', encoding="utf-8")
    result = check(runtime, "--login", str(served.login_ids["qbo"]), recipes=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"accessrecon: {tmp_path / 'qbo.toml'}: orgs: ")
