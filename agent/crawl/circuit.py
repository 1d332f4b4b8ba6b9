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
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    threshold: int = 6
    cooldown_s: float = 30.0
    clock: Callable[[], float] = field(default=time.monotonic)
    _failures: int = 0
    _opened_at: float | None = None
    _probing: bool = False

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
