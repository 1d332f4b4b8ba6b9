"""Many workers on PostgreSQL: three ``accessrecon worker`` processes share 30 logins.

Each login is a procrastinate job locked by the login, so the three crawl different
logins side by side and never one login twice at once. One worker is killed with
SIGKILL in the middle of a crawl: after the stall timeout another worker takes its
job up and resumes the same crawl, so every org of every login is scanned exactly
once, whichever worker read it.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from agent.capture import OrgRef
from agent.clock import utcnow
from agent.crawl.scan_queue import ACTIVE, DONE, enqueue
from agent.domain import Portal, ScanStatus
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.scans import upsert_org_ids
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Org, PortalLogin, Scan, ScanRequest
from sandbox.logins import split_world as split_logins
from sandbox.portals import xero
from sandbox.serve import PortalServer
from sandbox.world import World
from tests.conftest import DATABASES, fresh_database

POSTGRESQL = [kind for kind in DATABASES if kind == "postgresql"]
LOGINS = 30
ORGS_PER_LOGIN = 100
WORKERS = 3
#: small, so the killed worker's job is taken up within seconds (not so small that a
#: worker slowed by a loaded machine looks dead)
STALL_S = 8
#: the three orgs re-scanned on their own, beside their login's crawl
ORG_RESCANS = 3

STARTED = re.compile(r"scan request (\d+) (started|resumed) \(worker [^:]+:(\d+),")


def split_world(seed: int) -> World:
    """One xero portal where each of ``LOGINS`` logins sees its own ``ORGS_PER_LOGIN`` orgs."""
    return split_logins(
        seed,
        logins=LOGINS,
        orgs_per_login=ORGS_PER_LOGIN,
        users=1,
        staff=4,
        login_role=("FINANCIALADVISER", ["MANAGE_USERS"]),
    )


def wait_for(
    check: Callable[[], bool], *, timeout_s: float, what: str, state: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout_s:.0f} s waiting for {what}:\n{state()}"
            )
        time.sleep(0.25)


def started_by(log: Path) -> list[tuple[int, str]]:
    """(request id, started or resumed) for each job a worker's log shows, in order."""
    text_ = log.read_text(errors="replace") if log.exists() else ""
    return [(int(m[1]), m[2]) for m in STARTED.finditer(text_)]


def requests(runtime: Runtime) -> list[ScanRequest]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(ScanRequest).order_by(col(ScanRequest.id))))


def spans_overlap(spans: list[tuple[datetime, datetime]]) -> bool:
    ordered = sorted(spans)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


@pytest.mark.long
@pytest.mark.browser
@pytest.mark.timeout(420)  # about 2.5 minutes on 2 loaded CPUs; the waits below bound it
@pytest.mark.parametrize("kind", POSTGRESQL)
def test_three_workers_share_thirty_logins_and_a_killed_one_loses_nothing(
    kind: str, tmp_path: Path, chromium_path: str
) -> None:
    world = split_world(41)
    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    workers: list[subprocess.Popen[bytes]] = []
    with (
        fresh_database(kind, tmp_path) as url,
        PortalServer(xero.create_app(world)) as portal,
    ):
        runtime = Runtime(
            Settings(
                data_dir=tmp_path / "data",
                database_url_setting=url,
                practice_domains=world.practice_domains,
            )
        )
        logins: dict[str, int] = {}
        with session_scope(runtime.engine) as session:
            for login in world.logins:
                summary = add_login(
                    session,
                    runtime.box,
                    portal="xero",
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=portal.base_url,
                )
                logins[login.email] = summary.id
        orgs_of: dict[int, set[str]] = defaultdict(set)
        for index, org in enumerate(world.orgs):
            orgs_of[logins[world.logins[index // ORGS_PER_LOGIN].email]].add(org.org_id)
        # a few orgs already listed, so their re-scans are read through their login
        rescanned = {n: world.orgs[n * ORGS_PER_LOGIN + 7] for n in range(ORG_RESCANS)}
        with session_scope(runtime.engine) as session:
            for n, org in rescanned.items():
                ref = OrgRef(portal=Portal.XERO, portal_org_id=org.org_id, name=org.name)
                upsert_org_ids(session, [ref], login_id=logins[world.logins[n].email])
        with session_scope(runtime.engine) as session:
            for login_id in logins.values():
                enqueue(session, requested_by="test", source="schedule", login_id=login_id)
            for org in rescanned.values():
                enqueue(
                    session,
                    requested_by="test",
                    source="extension",
                    portal="xero",
                    portal_org_id=org.org_id,
                )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
            "ACCESSRECON_WORKER_STALL_S": str(STALL_S),
        }
        victim = -1
        try:
            for log in logs:
                with log.open("wb") as out:
                    workers.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "accessrecon", "worker", "--poll", "0.5"],
                            env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=out,
                        )
                    )

            def mid_crawl() -> tuple[int, int] | None:
                """(worker index, request id) of a worker well into a login's crawl."""
                by_id = {r.id: r for r in requests(runtime)}
                for n, log in enumerate(logs):
                    started = started_by(log)
                    if not started:
                        continue
                    request = by_id[started[-1][0]]
                    if (
                        request.login_id is not None
                        and request.status == "running"
                        and 10 <= request.done <= ORGS_PER_LOGIN - 30
                    ):
                        return n, started[-1][0]
                return None

            def state() -> str:
                rows = [
                    f"{r.id} {r.status} {r.done}/{r.total} {r.detail}" for r in requests(runtime)
                ]
                tails = [log.read_text(errors="replace")[-1500:] for log in logs]
                return "\n".join([*rows, *tails])

            wait_for(
                lambda: mid_crawl() is not None,
                timeout_s=90,
                what="a crawl under way",
                state=state,
            )
            found = mid_crawl()
            assert found is not None
            victim, victim_request = found
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(timeout=10)
            killed_at = utcnow()
            done_when_killed = {r.id: r.status for r in requests(runtime)}
            assert done_when_killed[victim_request] == "running"

            wait_for(
                lambda: all(r.status not in ACTIVE for r in requests(runtime)),
                timeout_s=240,
                what="every request to finish",
                state=state,
            )
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
        for n, worker in enumerate(workers):
            if n != victim:
                assert worker.returncode == 0, logs[n].read_text(errors="replace")

        finished = requests(runtime)
        assert [r.status for r in finished] == [DONE] * (LOGINS + ORG_RESCANS), [
            (r.id, r.status, r.detail) for r in finished
        ]
        with Session(runtime.engine) as session:
            scans = session.exec(select(Scan, Org.portal_org_id).join(Org)).all()
            login_of = {row.id: row.email for row in session.exec(select(PortalLogin))}
            waiting = session.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
            ).scalar()
        assert waiting == 0, "every job succeeded (and procrastinate deleted it)"
        by_crawl: dict[int | None, list[tuple[Scan, str]]] = defaultdict(list)
        for scan, org_id in scans:
            by_crawl[scan.crawl_id].append((scan, org_id))

        # every login's crawl read each of its orgs exactly once, all ok
        for request in finished:
            read = by_crawl[request.crawl_id]
            counts = Counter(org_id for _, org_id in read)
            assert all(scan.status == ScanStatus.OK for scan, _ in read)
            assert set(counts.values()) == {1}, f"request {request.id}: an org read twice"
            if request.login_id is not None:
                assert set(counts) == orgs_of[request.login_id], login_of[request.login_id]
                assert request.done == request.total == ORGS_PER_LOGIN
            else:
                assert set(counts) == {request.portal_org_id}
        assert len(scans) == LOGINS * ORGS_PER_LOGIN + ORG_RESCANS

        # no login was crawled by two jobs at once: its crawls' spans never overlap
        spans: dict[int | None, list[tuple[datetime, datetime]]] = defaultdict(list)
        for read in by_crawl.values():
            login_ids = {scan.login_id for scan, _ in read}
            assert len(login_ids) == 1
            starts = [scan.started_at for scan, _ in read]
            ends = [scan.finished_at for scan, _ in read]
            spans[login_ids.pop()].append((min(starts), max(ends)))
        for n in range(ORG_RESCANS):
            assert len(spans[logins[world.logins[n].email]]) == 2
        for login_id, crawl_spans in spans.items():
            assert not spans_overlap(crawl_spans), login_of[login_id]

        # the killed worker's login: its half kept, the rest read by another worker
        victim_row = next(r for r in finished if r.id == victim_request)
        halves = by_crawl[victim_row.crawl_id]
        before = [scan for scan, _ in halves if scan.finished_at <= killed_at]
        after = [scan for scan, _ in halves if scan.started_at >= killed_at]
        assert before, "the killed worker had finished some scans"
        assert after, "another worker finished the login"
        assert len(before) + len(after) == ORGS_PER_LOGIN, "no scan spans the kill"
        rescuers = [
            n
            for n, log in enumerate(logs)
            if n != victim and (victim_request, "resumed") in started_by(log)
        ]
        assert len(rescuers) == 1, [log.read_text(errors="replace")[-2000:] for log in logs]
        ran = {n for n, log in enumerate(logs) if started_by(log)}
        assert ran == set(range(WORKERS)), "the three workers shared the logins"
        runtime.engine.dispose()
