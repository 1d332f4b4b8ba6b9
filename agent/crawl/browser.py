"""Launching the one Chromium a crawl uses, with its memory bounded.

A crawl starts one browser and multiplies pages, not browsers (a browser costs
about 280 MiB here, a further context about 63 MiB). The flags keep Chromium from
reaching for Google's services, which a practice's locked-down network refuses.

A worker must fit a small container, and three things in it grow with a crawl
unless bounded:

* **Playwright's driver** (node) keeps its garbage until its heap nears a limit that
  node sizes from the machine's memory: a crawl of 10,000 orgs took its anonymous
  memory from 75 to 170 MB, nearly all of it garbage (its live heap stays under
  24 MB). With ``DRIVER_HEAP_MB`` (96) it stays near 150 MB of PSS at the same speed (64 MB
  cost a sixth of a full-speed crawl's orgs a second in collections). Playwright
  starts the driver with this process's environment, so ``bound_driver_heap`` puts
  the limit in ``NODE_OPTIONS`` when this module is imported, before any driver is
  started (the crawler and the worker both import it first); a ``NODE_OPTIONS``
  that already names a limit is left alone.
* **Renderers**: each page's JavaScript heap is held to ``RENDERER_HEAP_MB``, so a
  portal's page that grows without end crashes its renderer (a portal error, retried
  on a fresh page) instead of taking the container's memory. A portal's own app
  needs a few tens of MB.
* **Pages**: a sign-in leaves its page open for the crawl's first page read, and an
  open page holds a renderer (70-120 MB with a portal's scripts in it) for as long
  as it is open. A login read through its portal's JSON reads no page, so the
  crawler closes its pages (``close_pages``) once it is signed in (and once its org
  list is read, when only the list is read from pages).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from agent.scrapers.request_session import own_requests
from agent.settings import ChromiumNotFound, Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Playwright

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

#: the most JavaScript heap one page's renderer may hold (V8's old space), in MB
RENDERER_HEAP_MB = 256
#: the most heap Playwright's driver may hold before it must collect its garbage, in MB
DRIVER_HEAP_MB = 96

MEMORY_FLAGS = (f"--js-flags=--max-old-space-size={RENDERER_HEAP_MB}",)


def bound_driver_heap(environ: MutableMapping[str, str] | None = None) -> None:
    """Give the Playwright driver started next a bounded heap (``DRIVER_HEAP_MB``),
    unless ``NODE_OPTIONS`` already sets one."""
    env = os.environ if environ is None else environ
    options = env.get("NODE_OPTIONS", "")
    if "--max-old-space-size" not in options:
        env["NODE_OPTIONS"] = f"{options} --max-old-space-size={DRIVER_HEAP_MB}".strip()


bound_driver_heap()


def launch_args(settings: Settings, *, visible: bool = False) -> dict[str, object]:
    """Keyword arguments for ``chromium.launch`` built from the settings: the headless
    Chromium, or the full one for a window a person sees (``visible``)."""
    args: dict[str, object] = {"headless": not visible, "args": [*QUIET_FLAGS, *MEMORY_FLAGS]}
    executable = settings.chromium_executable if visible else settings.headless_chromium_executable
    if executable:
        args["executable_path"] = executable
    return args


async def launch_browser(playwright: Playwright, settings: Settings) -> Browser:
    """The crawl's Chromium, its contexts reading through request contexts of the
    driver's own (``agent.scrapers.request_session``)."""
    try:
        browser = await playwright.chromium.launch(**launch_args(settings))  # type: ignore[arg-type]
    except Exception as exc:
        if "Executable doesn't exist" in str(exc):
            raise ChromiumNotFound(
                "no Chromium found: install Debian's 'chromium' package, or run "
                "'playwright install chromium', or set ACCESSRECON_CHROMIUM_PATH"
            ) from exc
        raise
    own_requests(browser, playwright.request)
    return browser


async def close_pages(context: BrowserContext, sign_in_lock: asyncio.Lock) -> None:
    """Close every page of ``context``, and with them their renderers, once
    ``sign_in_lock`` is free (a sign-in under way holds it, and its page)."""
    from agent.scrapers.pages import close_page

    async with sign_in_lock:
        for page in context.pages:
            await close_page(page)


async def close_context(context: BrowserContext) -> None:
    """Close a login's context: a browser too stuck to close it must not keep the crawl
    from ending (its scans are recorded already)."""
    from agent.scrapers.pages import close_within  # loaded by the crawl already

    await close_within(context.close(), "a context closed")
