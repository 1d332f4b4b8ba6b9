"""A portal's knowledge is data: recipes validate, overrides fix a changed portal, and a
bad recipe is refused before a request is sent, naming its file, key and reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.crawl.crawler import Crawler
from agent.domain import FailureReason, Portal, ScanStatus
from agent.runtime import Runtime
from agent.scrapers.recipe import Recipe
from agent.scrapers.recipe_book import RecipeError, current_book, load_book
from agent.security.logins import add_login
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Observation, Org, Scan
from sandbox.generate import generate_world
from tests.browser_loop import BrowserLoop
from tests.test_crawl_faults import Portals, crawl

LAYOUT_2 = Path(__file__).parent / "recipes_v2"


def test_every_portal_has_a_shipped_recipe_that_validates() -> None:
    book = load_book()
    assert sorted(book.recipes) == sorted(Portal)
    for portal, loaded in book.recipes.items():
        assert isinstance(loaded.recipe, Recipe)
        assert loaded.recipe.portal == portal
        assert loaded.label == f"{portal}@{loaded.recipe.version}"
        assert not loaded.overridden
        assert loaded.sources == (f"agent/scrapers/recipes/{portal}.toml",)


def test_an_override_is_laid_over_the_shipped_recipe() -> None:
    book = load_book(LAYOUT_2)
    xero = book[Portal.XERO]
    assert xero.overridden
    assert xero.label == "xero@2026.12.1-layout2 (override)"
    # what the override does not name stays the shipped recipe's
    assert xero.recipe.sign_in == load_book()[Portal.XERO].recipe.sign_in
    assert xero.recipe.users.rows == "members"  # type: ignore[union-attr]


BAD = [
    ("xero.toml", 'version = "2"\n[sign_in]\npasword_label = "P"\n', "sign_in.pasword_label"),
    ("xero.toml", 'version = "latest"\n', "version: String should match pattern"),
    ("myob.toml", '[users]\nrows = "results"\n', "version: an override must give its own"),
    (
        "xero.toml",
        'version = "2"\n[users]\npath = "/api/users"\n',
        "users.path: must contain {org}",
    ),
    (
        "qbo.toml",
        'version = "2"\n[[users.lists]]\nname = "users"\n'
        'path = "/app/company/{org}/manageusers?page={page}"\n'
        'table = ["Name"]\nitems = "li"\nempty_text = "None"\n'
        '[users.lists.columns]\nname = "Name"\n',
        "users.lists[0]: give exactly one of table",
    ),
    (
        "qbo.toml",
        'version = "2"\n[[users.lists]]\nname = "users"\n'
        'path = "/app/company/{org}/manageusers?page={page}"\nitems = "li"\n'
        'empty_text = "None"\n[users.lists.columns]\nname = ".n"\n',
        "fields must give email, role, status",
    ),
    ("myob.toml", 'version = "2"\n[values.status]\nACTIVE = "enabled"\n', "values.status.ACTIVE"),
    ("qbo.toml", 'version = "2"\n[orgs]\nread = "soap"\n', "orgs: Input tag 'soap'"),
    ("xero.toml", "version = \n", "not valid TOML"),
    ("sage.toml", 'version = "1"\n', "not a portal's recipe; name it one of"),
]


@pytest.mark.parametrize(("name", "text", "reason"), BAD)
def test_a_recipe_that_does_not_validate_is_refused_with_file_key_and_reason(
    tmp_path: Path, name: str, text: str, reason: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(RecipeError) as refused:
        load_book(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / name}: "), message
    assert reason in message, message
    assert "\n" not in message


def test_an_edited_override_applies_without_a_restart(tmp_path: Path) -> None:
    assert current_book(tmp_path)[Portal.MYOB].label == "myob@" + (
        load_book()[Portal.MYOB].recipe.version
    )
    (tmp_path / "myob.toml").write_text('version = "9.1"\n', encoding="utf-8")
    assert current_book(tmp_path)[Portal.MYOB].label == "myob@9.1 (override)"


@pytest.fixture
def quick_runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings.model_copy(update={"scrape_timeout_s": 2.0}))
    yield runtime
    runtime.engine.dispose()


def with_recipes(runtime: Runtime, directory: Path | None) -> Runtime:
    runtime.settings = runtime.settings.model_copy(update={"recipe_dir": directory})
    return runtime


def test_a_crawl_with_a_bad_recipe_is_refused_before_any_request(
    quick_runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    (tmp_path / "qbo.toml").write_text('version = "2"\n[sign_in]\npath = "signin"\n')
    with session_scope(quick_runtime.engine) as session:
        add_login(
            session,
            quick_runtime.box,
            portal="qbo",
            email="agent@harbourco.example",
            password="pw",
            totp_secret="JBSWY3DPEHPK3PXP",
            base_url="http://127.0.0.1:9",
        )
    with_recipes(quick_runtime, tmp_path)
    crawler = Crawler(quick_runtime.engine, quick_runtime.box, settings=quick_runtime.settings)
    with pytest.raises(RecipeError, match=r"qbo\.toml: sign_in\.path: .*must start with /"):
        browser_loop.run(lambda browser: crawler.run(browser=browser), timeout=60)
    with Session(quick_runtime.engine) as session:
        assert session.exec(select(Crawl)).all() == []
        assert session.exec(select(Scan)).all() == []


def _users_by_org(runtime: Runtime, crawl_id: int) -> dict[tuple[str, str], list[tuple]]:
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Org, Observation)
            .join(Scan, Scan.org_id == Org.id)  # type: ignore[arg-type]
            .join(Observation, Observation.scan_id == Scan.id)  # type: ignore[arg-type]
            .where(Scan.crawl_id == crawl_id)
        ).all()
    seen: dict[tuple[str, str], list[tuple]] = {}
    for org, o in rows:
        seen.setdefault((org.portal, org.portal_org_id), []).append(
            (o.email, o.name, o.role, o.status, o.kind, o.firm, tuple(o.extra_permissions))
        )
    return {key: sorted(users) for key, users in seen.items()}


def _recipes_recorded(
    runtime: Runtime, crawl_id: int, status: ScanStatus | None = None
) -> set[tuple[str, str | None]]:
    query = select(Org.portal, Scan.recipe).join(Org).where(Scan.crawl_id == crawl_id)
    if status is not None:
        query = query.where(Scan.status == status)
    with Session(runtime.engine) as session:
        rows = session.exec(query).all()
    return {(portal, recipe) for portal, recipe in rows}


@pytest.mark.browser
def test_a_changed_layout_is_fixed_by_an_override_recipe_alone(
    quick_runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    """Layout 2 fails every org as changed; the same crawl with the layout-2 recipes in
    the override directory reads every org ok, with the same users as layout 1."""
    world = generate_world(29, staff=8, orgs_per_portal=3, users_per_org=6)
    shipped = {p: load_book()[p].label for p in Portal}
    with ExitStack() as stack:
        portals = Portals(world, quick_runtime, stack)
        before = crawl(quick_runtime, browser_loop)
        assert before.ok == len(world.orgs)
        assert _recipes_recorded(quick_runtime, before.crawl_id) == set(shipped.items())

        portals.set(layout_version=2)
        changed = crawl(quick_runtime, browser_loop)
        assert changed.ok == 0
        assert dict(changed.failed) == {FailureReason.LAYOUT_CHANGED: len(world.orgs)}
        assert _recipes_recorded(quick_runtime, changed.crawl_id) == set(shipped.items())

        fixed = crawl(with_recipes(quick_runtime, LAYOUT_2), browser_loop)
    assert fixed.ok == len(world.orgs), dict(fixed.failed)
    # a crawl after one with failures goes on with it: its failed scans are read again
    assert fixed.crawl_id == changed.crawl_id
    fixed_users = _users_by_org(quick_runtime, fixed.crawl_id)
    assert {key: sorted(u[0] for u in users) for key, users in fixed_users.items()} == {
        (o.portal, o.org_id): sorted(u.email for u in o.users) for o in world.orgs
    }
    assert _users_by_org(quick_runtime, fixed.crawl_id) == _users_by_org(
        quick_runtime, before.crawl_id
    )
    assert _recipes_recorded(quick_runtime, fixed.crawl_id, ScanStatus.OK) == {
        (str(p), f"{p}@2026.12.1-layout2 (override)") for p in Portal
    }
