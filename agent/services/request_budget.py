"""A portal login's daily request budget, counted in the database for every process.

Real portals notice an account that makes far more requests in a day than a person
would, so each login may spend only so many a day (``agent.crawl.polite``). The
count lives here, one row per login and day (UTC), so a scheduled crawl, a re-scan
from the dashboard and a second ``scan`` in another terminal all draw on it.

A crawl does not write once per request: it claims a block of requests with one
conditional UPDATE (only a claim that found the count it read may add to it, so two
processes cannot both take the last requests), spends the block as it goes, and
gives back what it did not spend when the login's part of the crawl ends. A process
killed with a block in hand loses it for the day: the count errs on the side of the
portal. Requests that must go whatever the budget says (a sign-in page the browser
asks for) are added after the fact with ``add_requests``.

A crawl that ran out leaves the login's remaining orgs for the next day; what it
left is kept as a ``BudgetDeferral`` of that crawl, which the crawl store reads to
resume the crawl the next day rather than start a new one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.clock import utcnow
from agent.storage.models import BudgetDeferral, RequestBudget

_BUDGET = RequestBudget.__table__  # type: ignore[attr-defined]
_DEFERRAL = BudgetDeferral.__table__  # type: ignore[attr-defined]
#: a claim that keeps losing its race to other processes gives up after this many tries
_CLAIM_TRIES = 20


def used_on(engine: Engine, login_id: int, day: date) -> int:
    """The requests ``login_id`` has claimed on ``day``, by every process."""
    with engine.connect() as connection:
        used = connection.execute(
            select(_BUDGET.c.used).where(_BUDGET.c.login_id == login_id, _BUDGET.c.day == day)
        ).scalar()
    return int(used or 0)


def claim_requests(engine: Engine, login_id: int, day: date, *, want: int, limit: int) -> int:
    """Take up to ``want`` requests of the login's ``limit`` for ``day``; how many were had.

    ``0`` means the day's budget is spent. Each try is one statement that adds to the
    count only if it still holds what was read, so concurrent claims never overspend.
    """
    if want < 1:
        raise ValueError("a claim must want at least one request")
    for _ in range(_CLAIM_TRIES):
        seen = _count_or_create(engine, login_id, day)
        granted = min(want, limit - seen)
        if granted <= 0:
            return 0
        with engine.begin() as connection:
            result = connection.execute(
                update(_BUDGET)
                .where(_BUDGET.c.login_id == login_id, _BUDGET.c.day == day, _BUDGET.c.used == seen)
                .values(used=seen + granted, updated_at=utcnow())
            )
        if result.rowcount == 1:
            return granted
    return 0


def add_requests(engine: Engine, login_id: int, day: date, count: int) -> None:
    """Count ``count`` requests (negative: give back unspent ones) whatever the budget."""
    if count == 0:
        return
    _count_or_create(engine, login_id, day)
    with engine.begin() as connection:
        connection.execute(
            update(_BUDGET)
            .where(_BUDGET.c.login_id == login_id, _BUDGET.c.day == day)
            .values(used=_BUDGET.c.used + count, updated_at=utcnow())
        )


def record_deferral(engine: Engine, *, crawl_id: int, login_id: int, day: date, orgs: int) -> None:
    """Keep that ``crawl_id`` left ``orgs`` of the login's orgs unread for ``day``'s budget."""
    with engine.begin() as connection:
        connection.execute(
            insert(_DEFERRAL).values(
                crawl_id=crawl_id, login_id=login_id, day=day, orgs=orgs, at=utcnow()
            )
        )


def _count_or_create(engine: Engine, login_id: int, day: date) -> int:
    """The day's count for the login, its row created at 0 when there is none yet."""
    with engine.connect() as connection:
        used = connection.execute(
            select(_BUDGET.c.used).where(_BUDGET.c.login_id == login_id, _BUDGET.c.day == day)
        ).scalar()
    if used is not None:
        return int(used)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(_BUDGET).values(login_id=login_id, day=day, used=0, updated_at=utcnow())
            )
    except IntegrityError:  # another process made the row first: read it
        return _count_or_create(engine, login_id, day)
    return 0
