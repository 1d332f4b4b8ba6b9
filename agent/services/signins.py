"""The agent's sign-ins: TOTP steps claimed across processes, and every outcome kept.

Two things about signing in outlive one process, so they live in the database:

* **The TOTP step last used per login** (``PortalLogin.totp_last_step``). A portal
  refuses a code already used in its 30-second step, and a second ``scan``, a
  worker and a re-scan may all sign in to one login within one step. Each claims
  its step with one conditional UPDATE; only the claim that moved the column
  forward may send that step's code, the others wait for the next step.
* **Each sign-in's outcome** (``SignInAttempt``, append-only). A login that cannot
  sign in on its first crawl has no org to hang a failed scan on, so without this
  row its failure would be seen nowhere. The command line (``login list``,
  ``scan``), the dashboard, the evidence report and the alerts read the latest
  outcome per login from here, and a *failure episode* (failed attempts since the
  last good one) is what an alert is sent once for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, func, or_, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.reports.words import moment
from agent.storage.models import PortalLogin, SignInAttempt
from agent.storage.widths import fit

if TYPE_CHECKING:
    from agent.scrapers.totp import StepClaim

SIGNED_IN = "ok"
FAILED = "failed"

_PORTAL_LOGIN = PortalLogin.__table__  # type: ignore[attr-defined]


def claim_totp_step(engine: Engine, login_id: int, step: int) -> bool:
    """Record ``step`` as the login's last used TOTP step, if no claim holds it or a later one.

    One statement, committed at once: two processes claiming the same step cannot
    both see their UPDATE change a row.
    """
    last = _PORTAL_LOGIN.c.totp_last_step
    with engine.begin() as connection:
        result = connection.execute(
            update(_PORTAL_LOGIN)
            .where(_PORTAL_LOGIN.c.id == login_id, or_(last.is_(None), last < step))
            .values(totp_last_step=step)
        )
        return bool(result.rowcount == 1)


def step_claim(engine: Engine, login_id: int) -> StepClaim:
    """The claim a scraper's sign-in uses for this login (off the event loop's thread)."""

    async def claim(step: int) -> bool:
        return await asyncio.to_thread(claim_totp_step, engine, login_id, step)

    return claim


def record_sign_in(
    session: Session,
    *,
    login_id: int,
    crawl_id: int | None,
    ok: bool,
    reason: str | None = None,
    detail: str = "",
) -> SignInAttempt:
    """Append one sign-in outcome."""
    attempt = SignInAttempt(
        login_id=login_id,
        crawl_id=crawl_id,
        at=utcnow(),
        status=SIGNED_IN if ok else FAILED,
        reason=None if ok else reason,
        detail=fit(detail, SignInAttempt.detail),
    )
    session.add(attempt)
    session.flush()
    return attempt


@dataclass(frozen=True, slots=True)
class LoginSignIn:
    """A login's latest sign-in, and since when it has been failing (if it is)."""

    login_id: int
    portal: str
    email: str
    label: str
    at: datetime
    ok: bool
    reason: str | None
    detail: str
    crawl_id: int | None
    #: the first failed attempt since the last good one: the failure episode
    failing_since: datetime | None = None
    episode: int | None = None

    @property
    def summary(self) -> str:
        """``failed 5 Dec 2026 10:00 UTC: portal_error (cannot reach …)`` or ``ok …``."""
        when = moment(self.at)
        if self.ok:
            return f"ok {when}"
        return f"failed {when}: {self.reason or 'unknown'}" + (
            f" ({self.detail})" if self.detail else ""
        )


def latest_sign_ins(
    session: Session, login_ids: Collection[int] | None = None
) -> dict[int, LoginSignIn]:
    """Each login's latest sign-in attempt, by login id (logins never tried are absent)."""
    latest = select(SignInAttempt.login_id, func.max(SignInAttempt.id).label("last_id")).group_by(
        col(SignInAttempt.login_id)
    )
    if login_ids is not None:
        latest = latest.where(col(SignInAttempt.login_id).in_(sorted(login_ids)))
    last = latest.subquery()
    rows = session.exec(
        select(SignInAttempt, PortalLogin)
        .join(last, and_(col(SignInAttempt.id) == last.c.last_id))
        .join(PortalLogin, col(PortalLogin.id) == col(SignInAttempt.login_id))
    ).all()
    failing = [a.login_id for a, _ in rows if a.status != SIGNED_IN]
    starts = _episode_starts(session, failing) if failing else {}
    result: dict[int, LoginSignIn] = {}
    for attempt, login in rows:
        start = starts.get(attempt.login_id)
        result[attempt.login_id] = LoginSignIn(
            login_id=attempt.login_id,
            portal=login.portal,
            email=login.email,
            label=login.label,
            at=attempt.at,
            ok=attempt.status == SIGNED_IN,
            reason=attempt.reason,
            detail=attempt.detail,
            crawl_id=attempt.crawl_id,
            failing_since=start.at if start else None,
            episode=start.id if start else None,
        )
    return result


def failing_logins(session: Session) -> list[LoginSignIn]:
    """Logins whose latest sign-in failed, oldest failure first."""
    return sorted(
        (s for s in latest_sign_ins(session).values() if not s.ok),
        key=lambda s: (s.failing_since or s.at, s.login_id),
    )


def sign_in_failures(
    session: Session, *, since: datetime | None = None
) -> list[tuple[SignInAttempt, PortalLogin]]:
    """Every failed sign-in attempt (at or after ``since``), newest first."""
    query = (
        select(SignInAttempt, PortalLogin)
        .join(PortalLogin, col(PortalLogin.id) == col(SignInAttempt.login_id))
        .where(SignInAttempt.status == FAILED)
        .order_by(col(SignInAttempt.at).desc(), col(SignInAttempt.id).desc())
    )
    if since is not None:
        query = query.where(col(SignInAttempt.at) >= since)
    return [(attempt, login) for attempt, login in session.exec(query)]


def _episode_starts(session: Session, login_ids: list[int]) -> dict[int, SignInAttempt]:
    """For failing logins, the first failed attempt after their last good one."""
    last_ok = dict(
        session.exec(
            select(SignInAttempt.login_id, func.max(SignInAttempt.id))
            .where(col(SignInAttempt.login_id).in_(login_ids), SignInAttempt.status == SIGNED_IN)
            .group_by(col(SignInAttempt.login_id))
        ).all()
    )
    starts: dict[int, SignInAttempt] = {}
    for login_id in login_ids:
        query = select(SignInAttempt).where(
            SignInAttempt.login_id == login_id, SignInAttempt.status == FAILED
        )
        if last_ok.get(login_id) is not None:
            query = query.where(col(SignInAttempt.id) > last_ok[login_id])
        first = session.exec(query.order_by(col(SignInAttempt.id))).first()
        if first is not None:
            starts[login_id] = first
    return starts
