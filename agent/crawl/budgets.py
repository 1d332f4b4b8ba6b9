"""A crawl's politeness: each login's gate, and the orgs a spent budget leaves.

The crawler asks here for the gate of each login it opens (``agent.crawl.gate``):
its portal host's slots and pace, shared by every login of that host in the crawl,
and its own daily budget, claimed through the crawl's store. When a login's budget
is spent its remaining orgs are *left for the next day*:

* no scan is recorded for them (nothing was read, so nothing may look like "no
  users", and nothing failed);
* each counts in the crawl's report under its own reason, ``budget_spent``, which
  the command line prints beside the failures, so the crawl ends ``incomplete``;
* the crawl keeps a ``BudgetDeferral`` row per login, so the next day's crawl of
  the same scope resumes it and reads only the orgs it has not read.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

from agent.crawl.gate import LoginBudget, LoginGate, PortalGate
from agent.crawl.login import LoginSession
from agent.crawl.pace import pace_for
from agent.crawl.polite import limits_for
from agent.crawl.report import CrawlReport
from agent.crawl.store import CrawlStore
from agent.settings import Settings
from agent.storage.models import PortalLogin

log = logging.getLogger(__name__)

#: the reason, in a crawl's report, of the orgs a spent daily budget left unread
BUDGET_SPENT = "budget_spent"


class CrawlPoliteness:
    """The gates of one crawl's logins, and what their spent budgets left."""

    def __init__(
        self,
        store: CrawlStore,
        settings: Settings,
        crawl_slots: asyncio.Semaphore,
        *,
        today: date,
    ) -> None:
        self.store = store
        self.settings = settings
        self.crawl_slots = crawl_slots
        self.today = today
        self._portals: dict[tuple[str, str], PortalGate] = {}
        self._budgets: dict[int, LoginBudget] = {}
        #: orgs left for the next day, per login
        self.deferred: Counter[int] = Counter()

    def gate_for(self, row: PortalLogin) -> LoginGate:
        """The login's gate: its host's slots and pace, and its own budget."""
        assert row.id is not None
        login_pk = row.id
        limits = limits_for(row.portal, self.settings, base_url=row.base_url)
        host = urlsplit(row.base_url).netloc.lower()
        portal = self._portals.get((row.portal, host))
        if portal is None:
            pace = pace_for(host, limits.pace_per_s) if limits.pace_per_s is not None else None
            portal = self._portals[(row.portal, host)] = PortalGate(limits.concurrency, pace)
        budget = LoginBudget(
            limits.daily_budget,
            claim=lambda want: self.store.claim_requests(
                login_pk, self.today, want=want, limit=limits.daily_budget or 0
            ),
            count=lambda n: self.store.add_requests(login_pk, self.today, n),
        )
        self._budgets[login_pk] = budget
        return LoginGate(portal, budget, self.crawl_slots)

    def defer(self, login: LoginSession, report: CrawlReport) -> None:
        """One org of the login left for the next day."""
        self.deferred[login.id] += 1
        report.failed[BUDGET_SPENT] += 1

    def defer_known(
        self,
        login: LoginSession,
        report: CrawlReport,
        portal_org_id: str | None,
        skip: set[int],
    ) -> None:
        """Every org the login is known to hold (or the one asked for), but those in
        ``skip`` and those this crawl has read, left for the next day."""
        read = self.store.already_read(report.crawl_id)
        for org_pk in self.store.known_orgs(login.id, portal_org_id):
            if org_pk not in skip and org_pk not in read:
                self.deferred[login.id] += 1
                report.failed[BUDGET_SPENT] += 1

    def close(self, login: LoginSession, report: CrawlReport) -> None:
        """The login's part is over: unspent requests given back, deferrals kept."""
        budget = self._budgets.pop(login.id, None)
        if budget is not None:
            budget.close()
        left = self.deferred.get(login.id, 0)
        if left:
            log.info(
                "login %s (%s): daily request budget spent, %d orgs left for the next day",
                login.id,
                login.row.portal,
                left,
            )
            self.store.record_deferral(
                crawl_id=report.crawl_id, login_pk=login.id, day=self.today, orgs=left
            )
