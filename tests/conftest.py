"""Fixtures every test can use: databases, settings, Chromium, small worlds.

Database tests run on SQLite and on PostgreSQL. PostgreSQL comes from
``ACCESSRECON_TEST_PG_URL`` (the README's test command starts one); each test gets
its own schema. Leaving PostgreSQL out takes an explicit
``ACCESSRECON_TEST_DATABASES=sqlite``; a missing server is otherwise a failure,
never a skip. So is a missing Chromium.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from agent.runtime import Runtime
from agent.settings import Settings
from agent.storage.db import make_engine, upgrade_to_head
from sandbox.generate import generate_world
from sandbox.world import World
from tests.browser_loop import BrowserLoop

PG_URL = os.environ.get("ACCESSRECON_TEST_PG_URL", "")
DATABASES = [
    d.strip()
    for d in os.environ.get("ACCESSRECON_TEST_DATABASES", "sqlite,postgresql").split(",")
    if d.strip()
]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or writes outside its temporary directory."""
    for name in list(os.environ):
        if (
            name.startswith("ACCESSRECON_")
            and name
            not in (
                "ACCESSRECON_TEST_PG_URL",
                "ACCESSRECON_TEST_DATABASES",
                "ACCESSRECON_CHROMIUM_PATH",
            )
        ) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("ACCESSRECON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the long tests first, so that with several workers (``-n``) they run
    beside the many short ones instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``kind``, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    if not PG_URL:
        pytest.fail(
            "ACCESSRECON_TEST_PG_URL is not set: run the tests with scripts/test.sh, or set "
            "ACCESSRECON_TEST_DATABASES=sqlite to leave PostgreSQL out on purpose"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url_setting=database_url,
        practice_domains=["harbourco.example"],
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = Settings().chromium_executable
    if not found:
        pytest.fail(
            "no Chromium on this machine: browser tests need it (scripts/test.sh "
            "installs Debian's chromium package)"
        )
    return found


@pytest.fixture(scope="session")
def small_world() -> World:
    return generate_world(11, staff=10, orgs_per_portal=5, users_per_org=5)


@pytest.fixture(scope="session")
def headless_chromium_path(chromium_path: str) -> str:
    """The Chromium crawls launch (the headless shell where installed), as in production."""
    found = Settings().headless_chromium_executable
    assert found is not None
    return found


@pytest.fixture(scope="session")
def browser_loop(headless_chromium_path: str) -> Iterator[BrowserLoop]:
    loop = BrowserLoop(headless_chromium_path)
    yield loop
    loop.close()
