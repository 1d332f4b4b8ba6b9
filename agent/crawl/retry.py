"""How hard the crawl tries: attempts, backoff and the sign-ins one org may cost.

A portal's transient faults (5xx, timeouts, 429) are retried; a rejected password
or code never is. The numbers and the wait between tries are policy, kept in one
place so the engine reads as the order of its work and the policy can be read and
tuned on its own.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from agent.capture import RateLimited, ScanFailure, TransientFailure

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")

MAX_ATTEMPTS = 5
MAX_SIGN_INS_PER_ORG = 2
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
#: A sign-in is a walk of five or six requests, any of which a flaky portal may
#: fail, and a login that cannot sign in reads none of its orgs: it gets more tries
#: than one page read, with short waits between them (Retry-After still holds).
SIGN_IN_ATTEMPTS = 10
SIGN_IN_BACKOFF_MAX_S = 4.0


def backoff(state: RetryCallState, cap: float = BACKOFF_MAX_S) -> float:
    """Exponential backoff with full jitter, never sooner than the portal's Retry-After."""
    exponential = min(cap, BACKOFF_BASE_S * 2 ** (state.attempt_number - 1))
    wait = random.uniform(0, exponential)
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        wait = max(wait, exc.retry_after)
    return wait


def reason_of(state: RetryCallState) -> str:
    exc = state.outcome.exception() if state.outcome else None
    return exc.reason if isinstance(exc, ScanFailure) else "unknown"


async def retrying(
    call: Callable[[], Awaitable[T]], *, retries: Counter[str], sign_in: bool = False
) -> T:
    """``call``, retried with backoff while it fails transiently; each retry counted
    in ``retries`` by its reason. A sign-in gets more, shorter tries than a read."""

    def count(state: RetryCallState) -> None:
        retries[reason_of(state)] += 1

    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(TransientFailure),
        stop=stop_after_attempt(SIGN_IN_ATTEMPTS if sign_in else MAX_ATTEMPTS),
        wait=(lambda state: backoff(state, SIGN_IN_BACKOFF_MAX_S)) if sign_in else backoff,
        reraise=True,
        before_sleep=count,
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover
