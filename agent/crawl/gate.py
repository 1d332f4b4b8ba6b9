"""What every request of a login passes before it reaches the portal.

A login's requests go out two ways: the scrapers' own (``agent.scrapers.http.send``,
which holds the context's gate, ``limit_requests``) and the pages its browser loads
(sign-in forms and the pages they lead to, which the context's route sends through
the same gate). Each request, in this order:

1. spends one of the login's daily budget (``LoginBudget``; a scraper request is
   refused with ``BudgetSpent`` when none is left, a page the browser already asked
   for is counted and let go, so a sign-in is never cut in half);
2. takes one of the portal host's slots (``concurrency``);
3. waits for its turn in the host's pace (``agent.crawl.pace``);
4. takes one of the crawl's own slots, its bound across every portal, and goes.

Slots are taken before the pace and the crawl's after it, so a request waiting for
its portal's turn never holds a slot another portal could use. Every answer is
shown to the pace: a 429 slows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError

from agent.crawl.pace import AdaptivePace, retry_after_of

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Request, Response, Route


class BudgetSpent(Exception):
    """The login's daily request budget is spent: its remaining orgs wait for the next day.

    Not a ``ScanFailure``: no scan failed, and nothing may record it as one.
    """


#: the most requests one claim takes from the database at once
MAX_CLAIM = 50


class LoginBudget:
    """One login's daily budget, claimed from the database a block at a time.

    ``claim(want)`` takes up to ``want`` requests of the day's budget (``0``: spent);
    ``count(n)`` counts ``n`` requests whatever the budget says (negative: gives back).
    """

    def __init__(
        self,
        limit: int | None,
        *,
        claim: Callable[[int], int],
        count: Callable[[int], None],
    ) -> None:
        self.limit = limit
        self._claim = claim
        self._count = count
        #: requests claimed and not yet spent
        self.held = 0
        self.spent = False
        #: requests this crawl sent on the budget (pages let go included)
        self.used = 0
        self._block = max(1, min(MAX_CLAIM, (limit or 0) // 20))

    def take(self, *, force: bool = False) -> None:
        """Spend one request, or raise ``BudgetSpent`` (``force``: count it and go)."""
        if self.limit is None:
            return
        if self.held == 0 and not self.spent:
            self.held = self._claim(self._block)
            self.spent = self.held == 0
        if self.held > 0:
            self.held -= 1
            self.used += 1
            return
        if not force:
            raise BudgetSpent(f"the login's {self.limit:,} requests for today are spent")
        self._count(1)
        self.used += 1

    def check(self) -> None:
        """Raise ``BudgetSpent`` unless at least one request can still be had."""
        if self.limit is None or self.held > 0:
            return
        if not self.spent:
            self.held = self._claim(self._block)
            self.spent = self.held == 0
        if self.spent:
            raise BudgetSpent(f"the login's {self.limit:,} requests for today are spent")

    def close(self) -> None:
        """Give back what was claimed and not spent."""
        if self.held:
            self._count(-self.held)
            self.held = 0


class PortalGate:
    """One portal host's slots and pace, shared by every login of it in a crawl."""

    def __init__(self, concurrency: int | None, pace: AdaptivePace | None) -> None:
        self.slots = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self.pace = pace


class LoginGate:
    """A login's requests: its budget, its portal's slots and pace, the crawl's slots."""

    def __init__(
        self, portal: PortalGate, budget: LoginBudget, crawl_slots: asyncio.Semaphore
    ) -> None:
        self.portal = portal
        self.budget = budget
        self.crawl_slots = crawl_slots

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Held while one scraper request is in flight; raises ``BudgetSpent`` first."""
        self.budget.take()
        slots = self.portal.slots
        async with slots if slots is not None else contextlib.nullcontext():
            if self.portal.pace is not None:
                await self.portal.pace.wait()
            async with self.crawl_slots:
                yield

    def answered(self, status: int, headers: Mapping[str, str]) -> None:
        """Show an answer to the pace (a 429 slows it)."""
        if self.portal.pace is not None:
            self.portal.pace.answered(status, retry_after_of(dict(headers)))

    async def watch_pages(self, context: BrowserContext) -> None:
        """Send the pages ``context``'s browser loads through the budget and the pace.

        Only when there is a budget or a pace to keep: routing every request through
        the driver costs a round trip each.
        """
        if self.portal.pace is None and self.budget.limit is None:
            return
        await context.route("**/*", self._route)
        context.on("request", self._redirected)
        context.on("response", self._response)

    async def _route(self, route: Route) -> None:
        self.budget.take(force=True)
        if self.portal.pace is not None:
            await self.portal.pace.wait()
        with contextlib.suppress(PlaywrightError):  # the page or context closed meanwhile
            await route.continue_()

    def _redirected(self, request: Request) -> None:
        """A redirect's next request is sent by the browser at once, past the route:
        it cannot be paced, but it is counted."""
        if request.redirected_from is not None:
            self.budget.take(force=True)

    def _response(self, response: Response) -> None:
        self.answered(response.status, response.headers)
