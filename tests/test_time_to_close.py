"""Time to close leaver access: first seen, removal requested, verified removed, by the clock.

Ben and Cara left; both are found in Kōwhai (Mia's client), Rātā (Max's) and an
unlinked org. The findings' times are then set to the days each case stands for,
counted back from ``NOW``, the clock every call is given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.domain import ReviewState
from agent.security.principal import ClientScope
from agent.security.scope import Scope
from agent.services.findings import reconcile
from agent.services.review import record_transition
from agent.services.time_to_close import TimeToClose, leaver_access_times, time_to_close
from agent.storage.db import session_scope
from agent.storage.models import ClientRequest, Finding, Org, RemovalItem, RemovalPlan
from tests.factories import DOMAIN, add_client, add_staff, ok_scan, org

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
BEN, CARA, ANA = (f"{n}@{DOMAIN}" for n in ("ben", "cara", "ana"))
ALL = Scope(ClientScope.ALL, None)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def _world(engine: Engine) -> dict[str, int]:
    """Returns the finding ids by ``org:person`` and the two clients' ids."""
    with session_scope(engine) as session:
        add_staff(session, "Ben Brennan", BEN, status="left", left_on=date(2026, 3, 3))
        add_staff(session, "Cara Lee", CARA, status="left", left_on=date(2026, 5, 5))
        add_staff(session, "Ana Active", ANA)
        kowhai = add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        rata = add_client(session, "Rātā Joinery", "Max Manager", ("xero", "!rat01"))
        everyone = [(BEN, "STANDARD"), (CARA, "STANDARD"), (ANA, "STANDARD")]
        for org_id in ("!kow01", "!rat01", "!unl01"):
            ok_scan(session, org(session, org_id, org_id), everyone)
        reconcile(session, configured_domains=[DOMAIN])
        ids: dict[str, int] = {"kowhai": kowhai.id or 0, "rata": rata.id or 0}
        for finding, target in session.exec(
            select(Finding, Org).join(Org, col(Org.id) == col(Finding.org_id))
        ):
            assert finding.id is not None
            ids[f"{target.portal_org_id}:{finding.email.split('@')[0]}"] = finding.id
        return ids


def _times(
    session: Session, finding_id: int, first: float, resolved: float | None = None
) -> Finding:
    finding = session.get(Finding, finding_id)
    assert finding is not None
    finding.first_seen_at = _days(first)
    finding.resolved_at = None if resolved is None else _days(resolved)
    session.add(finding)
    return finding


def _plan(session: Session, finding: Finding, created: float, verified: float | None) -> None:
    plan = RemovalPlan(created_at=_days(created), proposed_by="Mia Manager")
    session.add(plan)
    session.flush()
    assert plan.id is not None
    session.add(
        RemovalItem(
            plan_id=plan.id,
            finding_id=finding.id,
            org_id=finding.org_id,
            identity=finding.identity,
            action="remove",
            state="verified" if verified is not None else "planned",
            verified_at=None if verified is None else _days(verified),
        )
    )


def _history(engine: Engine) -> dict[str, int]:
    ids = _world(engine)
    with session_scope(engine) as session:
        # Open: Ben in Kōwhai for 3 days (a plan from an earlier episode does not count),
        # in Rātā for 20 (removal requested 10 days ago), unlinked for 100.
        ben_kow = _times(session, ids["!kow01:ben"], 3)
        _plan(session, ben_kow, 40, None)
        ben_rat = _times(session, ids["!rat01:ben"], 20)
        record_transition(
            session, ben_rat, ReviewState.REMOVAL_REQUESTED, actor="Max Manager", at=_days(10)
        )
        _times(session, ids["!unl01:ben"], 100)
        # Closed: Cara in Kōwhai, planned 25 days ago and verified 21 (the scan resolved
        # it a day later): 9 days. In Rātā, asked of the client 48 days ago and seen
        # gone 46: 4 days. Unlinked, closed 120 days ago: outside the 90.
        cara_kow = _times(session, ids["!kow01:cara"], 30, resolved=20)
        _plan(session, cara_kow, 25, 21)
        cara_rat = _times(session, ids["!rat01:cara"], 50, resolved=45)
        session.add(
            ClientRequest(
                client_id=ids["rata"],
                org_id=cara_rat.org_id,
                finding_id=cara_rat.id,
                identity=cara_rat.identity,
                requested_by="Max Manager",
                requested_at=_days(48),
                seen_removed_at=_days(46),
            )
        )
        _times(session, ids["!unl01:cara"], 200, resolved=120)
    return ids


def test_each_leaver_access_has_its_three_times(engine: Engine) -> None:
    ids = _history(engine)
    with Session(engine) as session:
        times = {t.finding_id: t for t in leaver_access_times(session, ALL)}
    assert set(times) == {
        ids[k]
        for k in (
            "!kow01:ben",
            "!rat01:ben",
            "!unl01:ben",
            "!kow01:cara",
            "!rat01:cara",
            "!unl01:cara",
        )
    }, "only leaver access, open or resolved"
    ben_kow = times[ids["!kow01:ben"]]
    assert (ben_kow.removal_requested_at, ben_kow.verified_removed_at) == (None, None)
    assert ben_kow.is_open
    assert times[ids["!rat01:ben"]].removal_requested_at == _days(10)
    cara_kow = times[ids["!kow01:cara"]]
    assert (cara_kow.removal_requested_at, cara_kow.verified_removed_at) == (_days(25), _days(21))
    assert cara_kow.time_to_close == timedelta(days=9)
    cara_rat = times[ids["!rat01:cara"]]
    assert (cara_rat.removal_requested_at, cara_rat.verified_removed_at) == (_days(48), _days(46))
    unl = times[ids["!unl01:cara"]]
    assert (unl.removal_requested_at, unl.verified_removed_at) == (None, _days(120))


def _buckets(summary: TimeToClose) -> list[int]:
    return [n for _, n in summary.open_by_age]


def test_open_leaver_access_by_age_and_the_median_over_90_days(engine: Engine) -> None:
    _history(engine)
    with Session(engine) as session:
        summary = time_to_close(session, ALL, now=NOW)
        assert _buckets(summary) == [1, 1, 0, 1]
        assert summary.open_total == 3
        assert summary.closed == 2
        assert summary.median == timedelta(days=6.5)

        # Eighty days on, nothing closed within the window: no median; the open ones aged.
        later = time_to_close(session, ALL, now=NOW + timedelta(days=80))
        assert _buckets(later) == [0, 0, 1, 2]
        assert (later.closed, later.median) == (0, None)

        # Seven days is the first bucket; eight the second.
        assert _buckets(time_to_close(session, ALL, now=NOW + timedelta(days=4)))[:2] == [1, 1]
        assert _buckets(time_to_close(session, ALL, now=NOW + timedelta(days=5)))[:2] == [0, 2]


def test_the_figures_are_cut_to_the_callers_clients(engine: Engine) -> None:
    ids = _history(engine)
    with Session(engine) as session:
        mia = time_to_close(
            session, Scope(ClientScope.MANAGED, frozenset({ids["kowhai"]})), now=NOW
        )
        eve = time_to_close(session, Scope(ClientScope.SELECTED, frozenset({ids["rata"]})), now=NOW)
        nobody = time_to_close(session, Scope(ClientScope.SELECTED, frozenset()), now=NOW)
    assert (_buckets(mia), mia.closed, mia.median) == ([1, 0, 0, 0], 1, timedelta(days=9))
    assert (_buckets(eve), eve.closed, eve.median) == ([0, 1, 0, 0], 1, timedelta(days=4))
    assert (_buckets(nobody), nobody.closed, nobody.median) == ([0, 0, 0, 0], 0, None)
