"""The pace of requests to one portal host: spaced out, slowed by a 429, recovering slowly.

Every request to a portal host first takes its departure time from the host's pace:
requests leave at most ``rate`` a second, with a burst of ``BURST_S`` seconds' worth
(half a second's worth: enough to send the requests of a round together, and to
make up for a moment the crawl itself was slow, too little to look like a flood;
none while a 429 has slowed it). The schedule is kept as one number, the time the next request
may leave (the generic cell rate algorithm), so taking a departure needs no lock
and works across event loops.

A portal's real limit may sit below the configured pace. A 429 says so: the pace
halves (once per episode: the other requests already in flight answer 429 too),
and nothing leaves before the portal's ``Retry-After`` has passed. The pace then
recovers by a tenth of the configured rate after each ``RECOVER_AFTER_S`` of
answers without a 429: additive increase, multiplicative decrease, so a crawl
settles just under what the portal takes instead of hammering it.

One pace per host and configured rate, for the whole process: two crawls in one
process (a scheduled crawl beside a re-scan) share it, and what a portal taught one
crawl the next one keeps. Two processes pace apart; their daily budget is shared.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: the burst a pace allows, in seconds of its rate (at least one request)
BURST_S = 0.5
#: calm needed before each step of recovery, and the step (a share of the configured rate)
RECOVER_AFTER_S = 5.0
RECOVER_STEP = 0.1
#: the slowest a run of 429s can bring a pace to, as a share of its configured rate
SLOWEST = 1 / 64
#: the pause after a 429 that names no Retry-After
DEFAULT_PAUSE_S = 1.0


@dataclass
class AdaptivePace:
    """``configured`` requests a second to one host, slowed by 429s."""

    configured: float
    clock: Callable[[], float] = field(default=time.monotonic)
    rate: float = 0.0
    #: 429s that slowed the pace, and 429s answered in all
    slowdowns: int = 0
    rate_limited: int = 0
    _next: float = 0.0
    _paused_until: float = 0.0
    _calm_since: float = 0.0

    def __post_init__(self) -> None:
        if self.configured <= 0:
            raise ValueError("a pace must be above 0 requests a second")
        self.rate = self.configured

    def departure(self) -> float:
        """Reserve the next departure; the seconds to wait before sending."""
        now = self.clock()
        interval = 1.0 / self.rate
        # no burst while the portal is known to want less
        tolerance = 0.0 if self.slowed else max(0.0, BURST_S - interval)
        start = max(self._next, now)
        leave = max(now, start - tolerance, self._paused_until)
        self._next = max(start, leave) + interval
        return leave - now

    async def wait(self) -> None:
        """Wait for this request's turn; for a new one if a 429 came meanwhile (its turn
        was given by a pace the portal has just refused)."""
        while True:
            seen = self.rate_limited
            delay = self.departure()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.rate_limited == seen:
                return

    def answered(self, status: int, retry_after: float | None) -> None:
        """Learn from an answer: a 429 slows the pace, calm lets it recover."""
        now = self.clock()
        if status == 429:
            self.rate_limited += 1
            pause = retry_after if retry_after is not None else DEFAULT_PAUSE_S
            if now >= self._paused_until:  # a new episode, not its echo
                self.rate = max(self.configured * SLOWEST, self.rate / 2)
                self.slowdowns += 1
            self._paused_until = max(self._paused_until, now + max(0.0, pause))
            self._next = max(self._next, self._paused_until)
            self._calm_since = self._paused_until
            return
        if self.rate < self.configured and now - self._calm_since >= RECOVER_AFTER_S:
            self.rate = min(self.configured, self.rate + self.configured * RECOVER_STEP)
            self._calm_since = now

    @property
    def slowed(self) -> bool:
        return self.rate < self.configured


_paces: dict[tuple[str, float], AdaptivePace] = {}


def pace_for(host: str, rate: float) -> AdaptivePace:
    """The process's pace for ``host`` at ``rate`` requests a second, made on first use."""
    key = (host, rate)
    pace = _paces.get(key)
    if pace is None:
        pace = _paces[key] = AdaptivePace(rate)
    return pace


def retry_after_of(headers: dict[str, str]) -> float | None:
    """A ``Retry-After`` of seconds, or ``None`` (absent, or a date this does not read)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
