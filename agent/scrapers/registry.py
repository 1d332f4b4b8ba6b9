"""Which scraper reads which portal.

A new portal registers itself by being listed here; asking for an unknown kind is
an error that names the kinds there are. Importing this module loads every
scraper, and with them Playwright: the server and the services never need it.
"""

from __future__ import annotations

from agent.domain import Portal
from agent.scrapers.base import Scraper
from agent.scrapers.myob import MyobScraper
from agent.scrapers.qbo import QboScraper
from agent.scrapers.xero import XeroScraper

_SCRAPERS: dict[Portal, Scraper] = {}


def _register(scraper: Scraper) -> None:
    if scraper.portal in _SCRAPERS:
        raise RuntimeError(f"two scrapers registered for portal {scraper.portal!s}")
    _SCRAPERS[scraper.portal] = scraper


_register(XeroScraper())
_register(QboScraper())
_register(MyobScraper())


def scraper_for(portal: Portal | str) -> Scraper:
    """The scraper of a portal kind; a clear error for a kind with none."""
    try:
        return _SCRAPERS[Portal(portal)]
    except (KeyError, ValueError):
        known = ", ".join(sorted(str(p) for p in _SCRAPERS))
        raise ValueError(f"no scraper for portal {portal!r}; known portals: {known}") from None


def registered_portals() -> list[Portal]:
    return sorted(_SCRAPERS)
