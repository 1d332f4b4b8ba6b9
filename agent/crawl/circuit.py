"""A circuit breaker per portal: stop hammering a portal that keeps failing.

After ``threshold`` org captures in a row fail with transient faults (each already
retried with backoff), the circuit opens: further captures on that portal fail at
once with ``portal_error`` instead of waiting out their own retries, until
``cooldown_s`` has passed; then one capture is let through as a probe, and its
outcome closes or re-opens the circuit. Failing fast is honest: the scans are
recorded as failed with the reason, never as empty.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from agent.capture import PortalError, TransientFailure

T = TypeVar("T")


@dataclass
class CircuitBreaker:
    threshold: int = 6
    cooldown_s: float = 30.0
    clock: Callable[[], float] = field(default=time.monotonic)
    _failures: int = 0
    _opened_at: float | None = None
    _probing: bool = False

    async def call(self, capture: Callable[[], Awaitable[T]]) -> T:
        """``capture``, if the circuit lets it through.

        A success closes the circuit and a transient fault counts toward opening it;
        any other failure (a rejected sign-in, a missing permission) is not the
        portal being down, and changes nothing.
        """
        if not self.allow():
            raise PortalError(
                f"not tried: {self.consecutive_failures} scans in a row failed on this "
                "portal, so the crawler is waiting before it tries again"
            )
        try:
            result = await capture()
        except TransientFailure:
            self.failed()
            raise
        self.succeeded()
        return result

    def allow(self) -> bool:
        """Whether a capture may go to the portal now."""
        if self._opened_at is None:
            return True
        if self._probing or self.clock() - self._opened_at < self.cooldown_s:
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self.clock()
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    @property
    def consecutive_failures(self) -> int:
        return self._failures
