"""The pace and the budget on their own: a clock moved by hand, a real database.

The pace's arithmetic is checked with an injected clock (no sleeping); the daily
budget's claims with threads that each hold an engine of their own, as processes
would, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agent.crawl.gate import BudgetSpent, LoginBudget
from agent.crawl.pace import RECOVER_AFTER_S, AdaptivePace, retry_after_of
from agent.security.logins import add_login
from agent.security.secrets import SecretBox
from agent.services.request_budget import add_requests, claim_requests, used_on
from agent.storage.db import make_engine, session_scope

DAY = date(2026, 12, 6)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def departures(pace: AdaptivePace, clock: Clock, count: int) -> list[float]:
    """When ``count`` requests taken back to back would leave, each sent on time."""
    leaving = []
    for _ in range(count):
        clock.now += pace.departure()
        leaving.append(clock.now)
    return leaving


def test_requests_leave_at_the_pace_after_a_half_second_burst() -> None:
    clock = Clock()
    pace = AdaptivePace(10.0, clock=clock)
    leaving = departures(pace, clock, 26)
    assert leaving[:5] == [100.0] * 5  # the burst: half a second's worth
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(leaving[4:])]
    assert set(gaps) == {0.1}  # then one every tenth of a second
    assert leaving[-1] - leaving[0] == pytest.approx(2.1)


def test_a_429_halves_the_pace_once_an_episode_and_holds_requests_for_retry_after() -> None:
    clock = Clock()
    pace = AdaptivePace(8.0, clock=clock)
    departures(pace, clock, 10)
    pace.answered(429, 3.0)
    for _ in range(3):  # the echo: requests in flight when it came
        pace.answered(429, 3.0)
    assert (pace.rate, pace.slowdowns, pace.rate_limited) == (4.0, 1, 4)
    refused_at = clock.now
    leaving = departures(pace, clock, 5)
    assert leaving[0] >= refused_at + 3.0  # nothing before Retry-After
    assert [round(b - a, 9) for a, b in itertools.pairwise(leaving)] == [0.25] * 4
    clock.now += 10
    pace.answered(429, None)  # a new episode, without Retry-After: a second's pause
    assert pace.rate == 2.0
    assert pace.slowdowns == 2
    assert pace.departure() == pytest.approx(1.0)


def test_the_pace_recovers_slowly_and_never_past_what_was_configured() -> None:
    clock = Clock()
    pace = AdaptivePace(10.0, clock=clock)
    pace.answered(429, 1.0)
    assert pace.rate == 5.0
    rates = []
    for _ in range(12):
        clock.now += RECOVER_AFTER_S
        pace.answered(200, None)
        rates.append(pace.rate)
    assert rates[:5] == pytest.approx([5.0, 6.0, 7.0, 8.0, 9.0])  # a tenth each 5 s
    assert max(rates) == 10.0
    assert rates[-1] == 10.0
    pace.answered(200, None)
    assert pace.rate == 10.0


def test_retry_after_is_read_as_seconds_or_not_at_all() -> None:
    assert retry_after_of({"retry-after": "7"}) == 7.0
    assert retry_after_of({"retry-after": " 1.5 "}) == 1.5
    assert retry_after_of({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert retry_after_of({}) is None


@pytest.fixture
def login_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        summary = add_login(
            session,
            SecretBox([Fernet.generate_key()]),
            portal="xero",
            email="agent@harbourco.example",
            password="pw",
            totp_secret="JBSWY3DPEHPK3PXP",
            base_url="https://go.xero.com",
        )
    return summary.id


def test_claims_from_several_processes_never_spend_more_than_the_budget(
    engine: Engine, database_url: str, login_id: int
) -> None:
    limit, granted, lock = 500, [], threading.Lock()

    def claimant() -> None:
        own = make_engine(database_url)  # a connection pool of its own, as a process has
        try:
            while (got := claim_requests(own, login_id, DAY, want=7, limit=limit)) > 0:
                with lock:
                    granted.append(got)
        finally:
            own.dispose()

    threads = [threading.Thread(target=claimant) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(granted) == limit == used_on(engine, login_id, DAY)
    assert claim_requests(engine, login_id, DAY, want=1, limit=limit) == 0
    assert used_on(engine, login_id, date(2026, 12, 7)) == 0  # a new day, a new budget


def test_a_login_budget_claims_blocks_gives_back_the_rest_and_counts_forced_requests(
    engine: Engine, login_id: int
) -> None:
    budget = LoginBudget(
        100,
        claim=lambda want: claim_requests(engine, login_id, DAY, want=want, limit=100),
        count=lambda n: add_requests(engine, login_id, DAY, n),
    )
    for _ in range(3):
        budget.take()
    assert used_on(engine, login_id, DAY) == 5  # one block of 100 // 20
    budget.close()
    assert used_on(engine, login_id, DAY) == 3
    add_requests(engine, login_id, DAY, 96)
    spent = LoginBudget(
        100,
        claim=lambda want: claim_requests(engine, login_id, DAY, want=want, limit=100),
        count=lambda n: add_requests(engine, login_id, DAY, n),
    )
    spent.take()
    with pytest.raises(BudgetSpent):
        spent.take()
    spent.take(force=True)  # a page the browser asked for: counted, let go
    assert used_on(engine, login_id, DAY) == 101
    with pytest.raises(BudgetSpent):
        spent.check()
