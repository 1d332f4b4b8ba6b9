"""Settings: environment variables prefixed ``ACCESSRECON_``, or a ``.env`` file.

``DATABASE_URL`` is also read without the prefix, the name every database tool and
container platform already uses. Anything not set falls back to a working local
default: an SQLite file in the data directory, the server on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from functools import cached_property
from pathlib import Path

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChromiumNotFound(RuntimeError):
    """No Chromium to drive: the message says how to install one."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACCESSRECON_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
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
    #: The practice's own email domains; empty means "infer from the roster".
    practice_domains: list[str] = Field(default_factory=list)
    #: How many org pages one crawl works on at once (per login).
    crawl_concurrency: int = Field(default=4, ge=1, le=64)
    #: How long one page or request of a portal may take before it counts as a timeout.
    scrape_timeout_s: float = Field(default=20.0, gt=0, le=600)
    #: A key for secrets at rest, base64 Fernet; otherwise the key file is used.
    secret_key: str | None = Field(default=None, repr=False)
    #: An org whose last ok scan is older than this is reported stale.
    stale_after_hours: int = Field(default=72, ge=1)

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

    @field_validator("practice_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [d.strip().lower() for d in value.split(",") if d.strip()]
        return value

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
            if not self.chromium_path.exists():
                raise ChromiumNotFound(
                    f"ACCESSRECON_CHROMIUM_PATH points to {self.chromium_path}, "
                    "which does not exist"
                )
            return str(self.chromium_path)
        for name in ("chromium", "chromium-browser"):
            found = shutil.which(name)
            if found:
                return found
        return None
