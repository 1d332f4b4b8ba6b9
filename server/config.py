"""The server's own settings: which extension, which host names, what to expose.

Read from ``ACCESSRECON_*`` environment variables (or ``.env``) like the rest of the
product's settings:

* ``ACCESSRECON_EXTENSION_ID`` — the Chrome extension allowed to call the API (its
  origin is ``chrome-extension://<id>``). The default is the id Chrome derives from
  ``EXTENSION_PUBLIC_KEY``, which the extension's manifest pins in its ``key`` field,
  so an unpacked install of the extension from this repository gets exactly this id.
  A build published with another key sets the variable to its own id.
* ``ACCESSRECON_EXTRA_HOSTS`` — host names (``name`` or ``name:port``, comma
  separated) the server also answers to besides 127.0.0.1, localhost and [::1] on
  its port; needed only when serving on a non-loopback address on purpose.
* ``ACCESSRECON_API_DOCS`` — serve ``/docs`` and ``/openapi.json`` (off by default:
  the schema maps the attack surface for anyone who can reach the port).
* ``ACCESSRECON_MAX_UPLOAD_MB`` — the largest import file accepted.
* ``ACCESSRECON_BADGE_CACHE_SECONDS`` — how long an org's badge answer is reused
  (0 turns the cache off); a crawl's result shows up within this delay.
* ``ACCESSRECON_DASHBOARD_SESSION_HOURS`` — how long a dashboard sign-in lasts before
  the person types a new pairing code.
* ``ACCESSRECON_MAX_IN_FLIGHT`` — requests handled at once (the rest queue); keep it
  below the database connection pool's size (15 by default).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The public half of the key the extension's manifest pins (manifest.json "key").
EXTENSION_PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs0AVXBAaBojjB13YIxQDV9a8NL3VPP+2oZQ6cjSlY2Vy"
    "s2v2nZZ3dXH0jUSrv0ULFQ3G6RNy+A3SZ1nEf84V43K3VyjKoXch9OCiT/ZQtgCKpkdI36y/7z/HMZ0HNN9RMz55"
    "xPWgbuf7xlGEgAc1+lqyfayhx0NJGr6VoHt0uY+cXqK8pO5ocmpO583S7bOnN2z2T2XnLrOPV7xJAuqO+ZB4rjS1"
    "dZ3J55uAgDQhAwjwxdngyIiyGv+FkzE6ghVY1JdMuD0LZ9wcZYpB4I7LKD5gX0MntPGw26gfWbG+OeI2jq0Fh7o4"
    "GUaSG+Axsq0Z/9ixZ4Mk9LoURLfcvxMrEwIDAQAB"
)


def extension_id_for(public_key_b64: str) -> str:
    """Chrome's id for an extension key: SHA-256 of the DER key, first 32 hex digits as a-p."""
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


DEFAULT_EXTENSION_ID = "dlknhomepfggimodiicoicanhdhjlghk"

_EXTENSION_ID = re.compile(r"[a-p]{32}")
_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACCESSRECON_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    extension_id: str = DEFAULT_EXTENSION_ID
    extra_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_docs: bool = False
    max_upload_mb: int = Field(default=20, ge=1, le=500)
    max_in_flight: int = Field(default=10, ge=1, le=100)
    badge_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    dashboard_session_hours: int = Field(default=12, ge=1, le=24 * 30)

    @field_validator("extension_id")
    @classmethod
    def _check_extension_id(cls, value: str) -> str:
        if not _EXTENSION_ID.fullmatch(value):
            raise ValueError("a Chrome extension id is 32 letters from a to p")
        return value

    @field_validator("extra_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = [h for h in value.split(",") if h.strip()]
        if isinstance(value, list):
            hosts = [str(h).strip().lower() for h in value]
            for host in hosts:
                if not _HOST.fullmatch(host):
                    raise ValueError(f"{host!r} is not a host name or host:port")
            return hosts
        return value

    @property
    def extension_origin(self) -> str:
        return f"chrome-extension://{self.extension_id}"


def allowed_hosts(port: int, extra: list[str]) -> frozenset[str]:
    """Host header values the server answers: loopback names on its port, and the extras.

    An extra given without a port is allowed on the server's port (and bare, as a
    browser sends it for port 80).
    """
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if port == 80:
        hosts |= {"127.0.0.1", "localhost", "[::1]"}
    for host in extra:
        match = _HOST.fullmatch(host)
        if match and match.group(2):
            hosts.add(host)
        else:
            hosts.add(f"{host}:{port}")
            if port == 80:
                hosts.add(host)
    return frozenset(hosts)
