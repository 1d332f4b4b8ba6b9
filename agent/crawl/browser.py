"""Launching the one Chromium a crawl uses.

A crawl starts one browser and multiplies pages, not browsers (a browser costs
about 280 MiB here, a further context about 63 MiB). The flags keep Chromium from
reaching for Google's services, which a practice's locked-down network refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.settings import ChromiumNotFound, Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

QUIET_FLAGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
)


def launch_args(settings: Settings) -> dict[str, object]:
    """Keyword arguments for ``chromium.launch`` built from the settings."""
    args: dict[str, object] = {"headless": True, "args": list(QUIET_FLAGS)}
    executable = settings.chromium_executable
    if executable:
        args["executable_path"] = executable
    return args


async def launch_browser(playwright: Playwright, settings: Settings) -> Browser:
    try:
        return await playwright.chromium.launch(**launch_args(settings))  # type: ignore[arg-type]
    except Exception as exc:
        if "Executable doesn't exist" in str(exc):
            raise ChromiumNotFound(
                "no Chromium found: install Debian's 'chromium' package, or run "
                "'playwright install chromium', or set ACCESSRECON_CHROMIUM_PATH"
            ) from exc
        raise
