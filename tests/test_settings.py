"""Every setting parses when written as the README writes it, in the environment or .env.

pydantic-settings decodes list-typed fields from the environment as JSON, so
``ACCESSRECON_PRACTICE_DOMAINS=a.example,b.example`` (the README's form) used to stop
the settings loader. These tests load every variable of the README's Settings table
in its documented form, and insist that every list-typed setting has such a test.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings, NoDecode

from agent import settings as settings_module
from agent.crawl.browser import launch_args
from agent.settings import ChromiumNotFound, Settings
from server.config import ServerSettings

README = Path(__file__).resolve().parents[1] / "README.md"

#: Each variable of the README's Settings table, written as the README writes it.
README_FORM: dict[str, str] = {
    "ACCESSRECON_DATA_DIR": "/srv/accessrecon",
    "DATABASE_URL": "postgresql+psycopg://user:pass@db.example/accessrecon",
    "ACCESSRECON_DATABASE_URL": "postgresql+psycopg://user:pass@db.example/accessrecon",
    "ACCESSRECON_HOST": "127.0.0.1",
    "ACCESSRECON_PORT": "8765",
    "ACCESSRECON_EXTRA_HOSTS": "accessrecon.practice.example,10.0.0.5:8443",
    "ACCESSRECON_CHROMIUM_PATH": "/usr/bin/chromium",
    "CHROMIUM_PATH": "/usr/bin/chromium",
    "ACCESSRECON_HEADLESS_CHROMIUM_PATH": "/usr/lib/chromium/chromium-headless-shell",
    "ACCESSRECON_PRACTICE_DOMAINS": "a.example,b.example",
    "ACCESSRECON_CRAWL_CONCURRENCY": "4",
    "ACCESSRECON_SCRAPE_TIMEOUT_S": "20",
    "ACCESSRECON_SECRET_KEY": "x" * 43 + "=",
    "ACCESSRECON_STALE_AFTER_HOURS": "72",
    "ACCESSRECON_IMPORT_MAX_ROWS": "200000",
    "ACCESSRECON_MAX_UPLOAD_MB": "20",
    "ACCESSRECON_ALERT_WEBHOOK_URL": "https://hooks.practice.example/accessrecon",
    "ACCESSRECON_SMTP_HOST": "smtp.practice.example",
    "ACCESSRECON_SMTP_PORT": "587",
    "ACCESSRECON_SMTP_USERNAME": "alerts",
    "ACCESSRECON_SMTP_PASSWORD": "s3cret",
    "ACCESSRECON_SMTP_STARTTLS": "true",
    "ACCESSRECON_SMTP_FROM": "accessrecon@practice.example",
    "ACCESSRECON_ALERT_FALLBACK_EMAIL": "admin@practice.example",
    "ACCESSRECON_EXTENSION_ID": "dlknhomepfggimodiicoicanhdhjlghk",
    "ACCESSRECON_DASHBOARD_SESSION_HOURS": "12",
    "ACCESSRECON_API_DOCS": "true",
    "ACCESSRECON_SINGLE_ADMIN_SELF_APPROVAL": "false",
    "ACCESSRECON_CLIENT_REQUEST_REMINDER_DAYS": "14",
    "ACCESSRECON_ACCESS_END_REMINDER_DAYS": "7",
    "ACCESSRECON_REMOVAL_CLAIM_LEASE_S": "600",
    "ACCESSRECON_CAMPAIGN_REMINDER_DAYS": "7",
    "ACCESSRECON_DASHBOARD_URL": "https://accessrecon.practice.example",
    "ACCESSRECON_RECIPE_DIR": "/srv/accessrecon/recipes",
    "ACCESSRECON_TIMEZONE": "Pacific/Auckland",
    "ACCESSRECON_LOGIN_CONNECT_TIMEOUT_S": "600",
    "ACCESSRECON_PORTAL_PACE": "xero:5,qbo:3",
    "ACCESSRECON_PORTAL_CONCURRENCY": "xero:4,qbo:3",
    "ACCESSRECON_PORTAL_DAILY_BUDGET": "xero:12000,qbo:25000",
    "ACCESSRECON_METRICS_ALLOW": "10.0.0.7,10.0.0.0/24",
    "ACCESSRECON_WORKER_STALL_S": "90",
    "ACCESSRECON_WORKER_METRICS_PORT": "9101",
    "ACCESSRECON_WORKER_METRICS_HOST": "127.0.0.1",
}

#: Each list-typed setting, in README form, and the value it must load as.
LIST_SETTINGS: dict[str, tuple[str, object]] = {
    "practice_domains": ("a.example, B.example", ["a.example", "b.example"]),
    "extra_hosts": (
        "accessrecon.practice.example,10.0.0.5:8443",
        ["accessrecon.practice.example", "10.0.0.5:8443"],
    ),
    "portal_pace": ("xero:5,qbo:3", {"xero": 5.0, "qbo": 3.0}),
    "portal_concurrency": ("xero:4, qbo:3", {"xero": 4, "qbo": 3}),
    "portal_daily_budget": ("2,xero:12000", {"*": 2, "xero": 12000}),
    "metrics_allow": ("10.0.0.7, 10.0.0.0/24", ["10.0.0.7/32", "10.0.0.0/24"]),
}


def readme_variables() -> set[str]:
    """The variable names of the README's Settings table (``_PORT`` after a name: its kin)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        prefix = ""
        for name in re.findall(r"`([A-Z_]+)`", first):
            if name.startswith("_") and prefix:
                names.add(prefix + name)
            else:
                names.add(name)
                prefix = name.rsplit("_", 1)[0]
    return names


def test_the_readme_table_is_read() -> None:
    names = readme_variables()
    assert {
        "ACCESSRECON_PRACTICE_DOMAINS",
        "ACCESSRECON_EXTRA_HOSTS",
        "ACCESSRECON_SMTP_PORT",
        "ACCESSRECON_IMPORT_MAX_ROWS",
        "DATABASE_URL",
    } <= names


def test_every_readme_variable_has_its_form_here() -> None:
    assert readme_variables() - set(README_FORM) == set()


def test_every_readme_setting_loads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in readme_variables():
        monkeypatch.setenv(name, README_FORM[name])
    settings = Settings()
    server = ServerSettings()
    assert settings.practice_domains == ["a.example", "b.example"]
    assert server.extra_hosts == ["accessrecon.practice.example", "10.0.0.5:8443"]
    assert settings.import_max_rows == 200_000
    assert (settings.smtp_port, settings.smtp_starttls) == (587, True)
    assert settings.database_url == README_FORM["ACCESSRECON_DATABASE_URL"]
    assert (server.max_upload_mb, server.api_docs) == (20, True)
    assert settings.portal_pace == {"xero": 5.0, "qbo": 3.0}
    assert settings.recipe_dir == Path("/srv/accessrecon/recipes")
    assert settings.timezone == "Pacific/Auckland"
    assert settings.headless_chromium_path == Path("/usr/lib/chromium/chromium-headless-shell")


@pytest.mark.parametrize(
    "value",
    [
        "a.example,b.example",
        "a.example, b.example",
        "A.example ,b.example,",
        '["a.example", "b.example"]',
    ],
)
def test_practice_domains_in_the_readme_form(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ACCESSRECON_PRACTICE_DOMAINS", value)
    assert Settings().practice_domains == ["a.example", "b.example"]


def test_one_practice_domain_and_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSRECON_PRACTICE_DOMAINS", "practice.example")
    assert Settings().practice_domains == ["practice.example"]
    monkeypatch.setenv("ACCESSRECON_PRACTICE_DOMAINS", "")
    assert Settings().practice_domains == []


def _list_fields(model: type[BaseSettings]) -> set[str]:
    found = set()
    for name, info in model.model_fields.items():
        origin = typing.get_origin(info.annotation)
        if origin in (list, set, tuple, frozenset, dict):
            found.add(name)
    return found


def test_every_list_setting_reads_the_readme_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new list setting must join LIST_SETTINGS, and be marked NoDecode to pass."""
    fields = {
        "practice_domains": Settings,
        "extra_hosts": ServerSettings,
        "portal_pace": Settings,
        "portal_concurrency": Settings,
        "portal_daily_budget": Settings,
        "metrics_allow": Settings,
    }
    assert _list_fields(Settings) | _list_fields(ServerSettings) == set(LIST_SETTINGS)
    for name, (written, loaded) in LIST_SETTINGS.items():
        model = fields[name]
        assert NoDecode in model.model_fields[name].metadata
        monkeypatch.setenv(f"ACCESSRECON_{name.upper()}", written)
        assert getattr(model(), name) == loaded


def test_list_settings_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "ACCESSRECON_PRACTICE_DOMAINS=a.example,b.example\n"
        "ACCESSRECON_EXTRA_HOSTS=accessrecon.practice.example\n"
        "ACCESSRECON_IMPORT_MAX_ROWS=1000\n",
        encoding="utf-8",
    )
    assert Settings().practice_domains == ["a.example", "b.example"]
    assert Settings().import_max_rows == 1000
    assert ServerSettings().extra_hosts == ["accessrecon.practice.example"]


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_a_bad_import_cap_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("ACCESSRECON_IMPORT_MAX_ROWS", value)
    with pytest.raises(ValidationError, match="import_max_rows"):
        Settings()


def _browsers(directory: Path, *names: str) -> list[Path]:
    """Files standing for browsers: the settings only check that they are there."""
    paths = [directory / name for name in names]
    for path in paths:
        path.write_text("")
    return paths


def test_the_headless_chromium_is_the_setting_and_a_missing_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (shell,) = _browsers(tmp_path, "headless-shell")
    monkeypatch.setenv("ACCESSRECON_HEADLESS_CHROMIUM_PATH", str(shell))
    assert Settings().headless_chromium_executable == str(shell)
    monkeypatch.setenv("ACCESSRECON_HEADLESS_CHROMIUM_PATH", str(tmp_path / "gone"))
    with pytest.raises(ChromiumNotFound, match="ACCESSRECON_HEADLESS_CHROMIUM_PATH points to"):
        Settings().headless_chromium_executable  # noqa: B018 - the property raises


def test_without_a_headless_shell_crawls_use_the_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (chromium,) = _browsers(tmp_path, "chromium")
    monkeypatch.setenv("ACCESSRECON_CHROMIUM_PATH", str(chromium))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(settings_module, "HEADLESS_SHELL", tmp_path / "no-shell")
    settings = Settings()
    assert settings.headless_chromium_executable == settings.chromium_executable == str(chromium)


def test_a_window_a_person_sees_opens_in_the_full_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium, shell = _browsers(tmp_path, "chromium", "shell")
    monkeypatch.setenv("ACCESSRECON_CHROMIUM_PATH", str(chromium))
    monkeypatch.setenv("ACCESSRECON_HEADLESS_CHROMIUM_PATH", str(shell))
    settings = Settings()
    assert launch_args(settings)["executable_path"] == str(shell)
    assert launch_args(settings)["headless"] is True
    assert launch_args(settings, visible=True)["executable_path"] == str(chromium)
    assert launch_args(settings, visible=True)["headless"] is False
