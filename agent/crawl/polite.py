"""What each portal is asked to bear: requests in flight, a pace, a daily budget.

A practice's crawl comes from one machine and a handful of staff-like logins. A real
portal (behind its web application firewall) sees it as one client address and as
accounts that should look like people, so the crawl keeps three limits per portal:

* **concurrency**: requests in flight to the portal's host at once;
* **pace**: requests a second to the portal's host, shared by every login of that
  portal, because a firewall counts by client address and one more login must not
  mean more load; a 429 slows it (``agent.crawl.pace``);
* **daily budget**: requests a day per login (UTC days), counted in the database
  (``agent.services.request_budget``), because an account's daily volume is what a
  portal's abuse detection notices; orgs left when it is spent wait for the next day.

The defaults and the reasons for them are docs/architecture.md's "Polite crawling"
table; ``ACCESSRECON_PORTAL_PACE``, ``_CONCURRENCY`` and ``_DAILY_BUDGET`` change
them per portal. A portal served on this machine (the sandbox, the demo, the tests)
is not held to the defaults, only to what a setting names: the defaults protect
real portals, and a sandbox stands in for the internet at full speed.

``limits_for`` is the one answer to "what is this portal held to", for the crawler
and for whatever prints it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent.domain import Portal
from agent.settings import EVERY_PORTAL

if TYPE_CHECKING:
    from agent.settings import Settings


@dataclass(frozen=True, slots=True)
class PortalLimits:
    """The limits one portal is held to; ``None`` where nothing holds it back."""

    portal: str
    #: requests in flight to the portal's host at once (the crawl's own bound applies too)
    concurrency: int | None
    #: requests a second to the portal's host, every login together
    pace_per_s: float | None
    #: requests a day (UTC) per login, counted across processes
    daily_budget: int | None
    #: where each number came from: ``default``, ``setting`` or ``local`` (a portal on
    #: this machine, held only to what a setting names), one word per limit
    source: tuple[str, str, str] = ("default", "default", "default")

    @property
    def paced(self) -> bool:
        return self.pace_per_s is not None

    def describe(self) -> str:
        """One line: ``xero: 4 requests in flight, 5 a second per portal host, ...``."""
        inflight = (
            f"{self.concurrency} requests in flight"
            if self.concurrency is not None
            else "requests in flight bound by the crawl only"
        )
        pace = (
            f"{self.pace_per_s:g} a second per portal host"
            if self.pace_per_s is not None
            else "no pace"
        )
        budget = (
            f"{self.daily_budget:,} a day per login"
            if self.daily_budget is not None
            else "no daily budget"
        )
        sources = sorted(set(self.source))
        return f"{self.portal}: {inflight}, {pace}, {budget} ({', '.join(sources)})"


#: The defaults: what a person's browser on the portal could plausibly do, and half
#: of or well under what the portal's own published API allows. The reasons, per
#: portal, are docs/architecture.md's "Polite crawling" table.
DEFAULTS: dict[Portal, PortalLimits] = {
    Portal.XERO: PortalLimits("xero", concurrency=4, pace_per_s=5.0, daily_budget=12_000),
    Portal.QBO: PortalLimits("qbo", concurrency=3, pace_per_s=3.0, daily_budget=25_000),
    Portal.MYOB: PortalLimits("myob", concurrency=4, pace_per_s=4.0, daily_budget=12_000),
}


def limits_for(
    portal: Portal | str, settings: Settings, *, base_url: str | None = None
) -> PortalLimits:
    """The limits ``portal`` is held to under ``settings``, at ``base_url`` if given.

    A setting naming the portal (or one given for every portal) wins over the
    default; a portal at a loopback address keeps only what settings name.
    """
    kind = Portal(str(portal))
    default = DEFAULTS[kind]
    local = base_url is not None and is_local(base_url)
    concurrency, c_from = _pick(settings.portal_concurrency, kind, default.concurrency, local)
    pace, p_from = _pick(settings.portal_pace, kind, default.pace_per_s, local)
    budget, b_from = _pick(settings.portal_daily_budget, kind, default.daily_budget, local)
    return PortalLimits(
        kind.value,
        concurrency=int(concurrency) if concurrency is not None else None,
        pace_per_s=float(pace) if pace is not None else None,
        daily_budget=int(budget) if budget is not None else None,
        source=(c_from, p_from, b_from),
    )


def is_local(base_url: str) -> bool:
    """Whether the portal at ``base_url`` is served on this machine (a loopback host)."""
    host = (urlsplit(base_url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pick(
    setting: dict[str, int] | dict[str, float],
    portal: Portal,
    default: float | None,
    local: bool,
) -> tuple[float | None, str]:
    if portal.value in setting:
        return setting[portal.value], "setting"
    if EVERY_PORTAL in setting:
        return setting[EVERY_PORTAL], "setting"
    if local:
        return None, "local"
    return default, "default"
