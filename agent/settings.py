"""Settings: environment variables prefixed ``ACCESSRECON_``, or a ``.env`` file.

``DATABASE_URL`` is also read without the prefix, the name every database tool and
container platform already uses. Anything not set falls back to a working local
default: an SQLite file in the data directory, the server on 127.0.0.1.

A list setting is written as the README writes it, comma separated
(``ACCESSRECON_PRACTICE_DOMAINS=a.example,b.example``); a JSON list is read too.
pydantic-settings would otherwise decode a list from the environment as JSON only, and
refuse the README's own form, so list fields are marked ``NoDecode`` and split here.
"""

from __future__ import annotations

import json
import shutil
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent.domain import Portal
from agent.metrics.access import parse_network

DEFAULT_IMPORT_MAX_ROWS = 200_000
#: where Debian's ``chromium-headless-shell`` package puts the browser itself
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
"""The default of ``import_max_rows``; ``agent.imports.DEFAULT_MAX_ROWS`` is the same."""


def split_list_setting(text: str) -> list[str]:
    """A list setting's text: a JSON list if it is one, else comma separated values."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            return [str(item).strip() for item in loaded if str(item).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


#: the per-portal settings (``agent.crawl.polite``): how a value is read, and its bounds
PER_PORTAL_SETTINGS: dict[str, tuple[type[int] | type[float], float, float, str, str]] = {
    "portal_pace": (float, 0.01, 10_000, "requests a second", "xero:5,qbo:3"),
    "portal_concurrency": (int, 1, 64, "requests in flight", "xero:4,qbo:3"),
    "portal_daily_budget": (int, 1, 1_000_000_000, "requests a day", "xero:12000,qbo:25000"),
}
#: the key of a per-portal setting's value for every portal it does not name
EVERY_PORTAL = "*"


def per_portal_setting(value: object, field: str) -> dict[str, float]:
    """``xero:5,qbo:3`` (a number alone: every portal not named) or a JSON object, checked.

    A bad value raises ``ValueError`` naming the variable, the part that is wrong and
    the form to write instead.
    """
    kind, low, high, unit, written = PER_PORTAL_SETTINGS[field]
    name = f"ACCESSRECON_{field.upper()}"
    example = f"write portal:{unit.replace(' ', '-')}, e.g. {written}"
    items: list[tuple[str, object]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, str):
        stripped = value.strip()
        loaded = _json_object(stripped) if stripped.startswith("{") else None
        if loaded is not None:
            items = list(loaded.items())
        else:
            items = []
            for part in (p.strip() for p in stripped.split(",")):
                if part:
                    portal, sep, written_value = part.rpartition(":")
                    items.append((portal.strip() if sep else EVERY_PORTAL, written_value.strip()))
    else:
        raise ValueError(f"{name}: {value!r} is not a per-portal value; {example}")
    known = {p.value for p in Portal}
    parsed: dict[str, float] = {}
    for portal, raw in items:
        key = str(portal).strip().casefold() if portal != EVERY_PORTAL else EVERY_PORTAL
        if key != EVERY_PORTAL and key not in known:
            raise ValueError(f"{name}: {portal!r} is not a portal; use {', '.join(sorted(known))}")
        if key in parsed:
            raise ValueError(
                f"{name}: {'every portal' if key == EVERY_PORTAL else key} is given twice"
            )
        number: float | None
        try:
            number = kind(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValueError(
                f"{name}: {raw!r} for {'every portal' if key == EVERY_PORTAL else key} is not "
                f"{'a whole number' if kind is int else 'a number'} of {unit} from "
                f"{low:g} to {high:g}; {example}"
            )
        parsed[key] = number
    return parsed


def _json_object(text: str) -> dict[str, object] | None:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        return None
    return loaded if isinstance(loaded, dict) else None


class ChromiumNotFound(RuntimeError):
    """No Chromium to drive: the message says how to install one."""


def _existing(path: Path, variable: str) -> str:
    """A browser a setting names, refused with the setting's name if it is not there."""
    if not path.exists():
        raise ChromiumNotFound(f"{variable} points to {path}, which does not exist")
    return str(path)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACCESSRECON_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # fields with an alias (the database URL) can be given by name in code, too
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=lambda: user_data_path("accessrecon"))
    database_url_setting: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ACCESSRECON_DATABASE_URL", "DATABASE_URL"),
    )
    host: str = "127.0.0.1"
    port: int = 8765
    chromium_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("ACCESSRECON_CHROMIUM_PATH", "CHROMIUM_PATH"),
    )
    #: The Chromium that crawls, with no window (``headless_chromium_executable``).
    headless_chromium_path: Path | None = None
    #: The practice's own email domains; empty means "infer from the roster".
    practice_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: How many requests to the portals one crawl has in flight at once (orgs: twice that).
    crawl_concurrency: int = Field(default=4, ge=1, le=64)
    #: Polite crawling, per portal (``agent.crawl.polite``), written ``xero:5,qbo:3`` (a
    #: number alone: every portal not named); unset portals keep their defaults.
    portal_pace: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    portal_concurrency: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    portal_daily_budget: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    #: How long one page or request of a portal may take before it counts as a timeout.
    scrape_timeout_s: float = Field(default=20.0, gt=0, le=600)
    #: How long ``accessrecon login connect`` waits for a person to finish signing in.
    login_connect_timeout_s: float = Field(default=600.0, gt=0, le=3600)
    #: A key for secrets at rest, base64 Fernet; otherwise the key file is used.
    secret_key: str | None = Field(default=None, repr=False)
    #: An org whose last ok scan is older than this is reported stale.
    stale_after_hours: int = Field(default=72, ge=1)
    #: The most data rows one import file may hold; a longer file is refused unread.
    import_max_rows: int = Field(default=DEFAULT_IMPORT_MAX_ROWS, ge=1, le=10_000_000)

    #: Alerts: a webhook that receives JSON, and/or e-mail through an SMTP server.
    alert_webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = True
    smtp_from: str = "accessrecon@localhost"
    #: Who gets alerts for clients with no client manager on the roster (and unlinked orgs).
    alert_fallback_email: str | None = None

    #: Removals need a second person's approval; a practice with a single practice
    #: admin may let that admin approve their own plans (each such approval is audited).
    single_admin_self_approval: bool = False
    #: A request to a client still open after this many days is reminded and alerted.
    client_request_reminder_days: int = Field(default=14, ge=1, le=365)
    #: Intended access with an end date (``until``): the client manager is reminded
    #: this many days before it ends (0: on the last day only).
    access_end_reminder_days: int = Field(default=7, ge=0, le=365)
    #: How long a ``remove run`` holds an item it claimed before another run may take
    #: it over (a run that crashed); the item's org is read again before anything is
    #: repeated, so a takeover never removes twice.
    removal_claim_lease_s: float = Field(default=600.0, ge=0)
    #: Access reviews: each reviewer with open items is reminded this many days before
    #: the campaign's due date (after it, open items go to the client's partner).
    campaign_reminder_days: int = Field(default=7, ge=0, le=365)
    #: The dashboard's address as reviewers reach it, for the links in campaign e-mails;
    #: unset: this machine's ``host`` and ``port``.
    dashboard_url: str | None = None
    #: A directory of recipe overrides (``xero.toml``, ``qbo.toml``, ``myob.toml``):
    #: each is laid over the shipped recipe of its portal, so a practice can fix a
    #: changed portal page without a new release (``agent.scrapers.recipe_book``).
    recipe_dir: Path | None = None
    #: Who may read the metrics (the server's ``/metrics``, a worker's metrics port)
    #: besides this computer: addresses or networks (``agent.metrics.access``).
    metrics_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: A worker's own metrics port (``accessrecon worker --metrics-port``); 0 or unset: none.
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    #: Where that port listens; an address other than loopback needs ``metrics_allow``.
    worker_metrics_host: str = "127.0.0.1"
    #: On PostgreSQL, how long a worker may go without a heartbeat before its scan is
    #: taken up by another worker (``agent.crawl.queue``); the crawl resumes where it
    #: stopped. Each worker beats a quarter of this apart.
    worker_stall_s: float = Field(default=180.0, ge=2, le=3600)
    #: The practice's time zone (an IANA name such as ``Pacific/Auckland``): the
    #: dashboard's schedule picker reads "weekdays at 07:00" in it.
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA time zone name, checked here so a typo is named at start, not at 07:00."""
        name = value.strip()
        try:
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(
                f"ACCESSRECON_TIMEZONE: {value!r} is not a time zone; write an IANA name "
                "such as Pacific/Auckland, Australia/Sydney or UTC"
            ) from None
        return name

    @field_validator("practice_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        """``a.example, B.example`` or ``["a.example"]`` to ``["a.example", "b.example"]``."""
        if isinstance(value, str):
            value = split_list_setting(value)
        if isinstance(value, list | tuple):
            return [str(d).strip().lstrip("@").lower() for d in value if str(d).strip()]
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        """``10.0.0.7, 10.0.0.0/24`` as networks' text; an entry that is not one is named."""
        if isinstance(value, str):
            value = split_list_setting(value)
        if isinstance(value, list | tuple):
            return [str(parse_network(str(v))) for v in value if str(v).strip()]
        return value

    @field_validator("portal_pace", "portal_concurrency", "portal_daily_budget", mode="before")
    @classmethod
    def _per_portal(cls, value: object, info: ValidationInfo) -> object:
        """``xero:5,qbo:3``, ``5`` or ``{"xero": 5}``: checked here, so an error names it."""
        assert info.field_name is not None
        return per_portal_setting(value, info.field_name)

    @property
    def database_url(self) -> str:
        if self.database_url_setting:
            return self.database_url_setting
        return f"sqlite:///{self.data_dir / 'accessrecon.db'}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @cached_property
    def chromium_executable(self) -> str | None:
        """The Chromium to launch: the setting, then ``chromium`` on PATH, then Playwright's.

        ``None`` means Playwright's own download; raise if that is missing too, so a
        crawl fails with an instruction instead of a stack trace.
        """
        if self.chromium_path:
            return _existing(self.chromium_path, "ACCESSRECON_CHROMIUM_PATH")
        for name in ("chromium", "chromium-browser"):
            found = shutil.which(name)
            if found:
                return found
        return None

    @cached_property
    def headless_chromium_executable(self) -> str | None:
        """The Chromium for work no one watches (crawls, removals, PDFs): the setting,
        then Chromium's headless shell, then the Chromium above.

        The headless shell (Debian's ``chromium-headless-shell``, the browser Playwright
        itself runs headless) is the same engine without a browser window around each
        page: a page costs a sixth of the processor time to open. Windows a person
        sees (``login connect``) and the extension need the full Chromium.
        """
        if self.headless_chromium_path:
            return _existing(self.headless_chromium_path, "ACCESSRECON_HEADLESS_CHROMIUM_PATH")
        if HEADLESS_SHELL.exists():  # Debian's binary, not the script on PATH that runs it
            return str(HEADLESS_SHELL)
        return shutil.which("chromium-headless-shell") or self.chromium_executable
