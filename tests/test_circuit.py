"""The per-portal circuit breaker opens, fails fast, probes and closes."""

from __future__ import annotations

from agent.crawl.circuit import CircuitBreaker


class FakeClock:
    """A clock the test moves by hand; the breaker's only dependency on time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_then_probes_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failed()
    assert not breaker.is_open
    breaker.failed()
    assert breaker.is_open
    assert not breaker.allow()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.failed()  # the probe failed: open again for a full cooldown
    clock.now = 15
    assert not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
    breaker.succeeded()
    assert not breaker.is_open
    assert breaker.allow()


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=2)
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert not breaker.is_open
