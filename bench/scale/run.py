"""One round of the scale benchmark: workers, a database, a portal, and a stopwatch.

A round serves a saved world's xero portal from a process of its own (at the
latency asked for), opens a fresh database (a schema of its own on PostgreSQL, a
file on SQLite), stores the world's logins, starts ``workers`` real ``accessrecon
worker`` processes and waits until each is ready, then enqueues one scan request per
login (``agent.crawl.scan_queue.enqueue``, as the schedule and the API do) and times
until every request is done. Each worker's memory, every process it starts, is
sampled by a process of its own (``bench.scale.memory``).

A round that did not scan every org exactly once, or whose requests did not all
finish done, raises: a figure from a crawl that failed would be a figure of nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, func, text
from sqlmodel import Session, col, select

from agent.crawl.scan_queue import DONE, enqueue
from agent.domain import ScanStatus
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Scan, ScanRequest
from bench.portals import served_portals
from bench.scale.memory import PeakSampler, Sample
from sandbox.world import World

#: what ``accessrecon worker`` prints once it is ready for requests
READY = "waiting for scan requests"
#: the longest a worker may take to start, and a round to finish
START_TIMEOUT_S = 120.0
ROUND_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Round:
    workers: int
    orgs: int
    seconds: float
    memory: list[Sample]
    #: each request's start and end, in seconds from the first start
    spans: list[tuple[float, float]]

    @property
    def most_at_once(self) -> int:
        """The most requests that ran at the same time: what the workers overlapped."""
        edges = sorted([(a, 1) for a, _ in self.spans] + [(b, -1) for _, b in self.spans])
        running = most = 0
        for _, step in edges:
            running += step
            most = max(most, running)
        return most

    @property
    def mean_request_s(self) -> float:
        return sum(b - a for a, b in self.spans) / len(self.spans) if self.spans else 0.0

    @property
    def orgs_per_s(self) -> float:
        return self.orgs / self.seconds

    @property
    def peak_mb(self) -> float:
        """The largest worker's peak (each worker is a container of its own)."""
        return max(m.container_mb for m in self.memory)


@contextmanager
def fresh_database(database: str, directory: Path) -> Iterator[str]:
    """A new empty database: a file for ``sqlite``, or a new schema of the PostgreSQL
    database at the URL ``database`` (dropped afterwards)."""
    if database == "sqlite":
        yield f"sqlite:///{directory / f'scale-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    schema = f"bench_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database else "?"
    try:
        yield f"{database}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_round(
    world: World,
    world_file: Path,
    directory: Path,
    *,
    workers: int,
    database: str,
    latency_ms: float,
    concurrency: int | None,
    interval_s: float,
    files_every_s: float,
) -> Round:
    """Crawl every login of ``world`` with ``workers`` worker processes; time and memory."""
    data_dir = directory / f"data-{uuid.uuid4().hex[:8]}"
    with (
        fresh_database(database, directory) as url,
        served_portals(world_file, ["xero"], ["--latency-ms", str(latency_ms)]) as urls,
    ):
        runtime = Runtime(Settings(data_dir=data_dir, database_url_setting=url))
        login_ids = []
        with session_scope(runtime.engine) as session:
            for login in world.logins:
                summary = add_login(
                    session,
                    runtime.box,
                    portal="xero",
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=urls["xero"],
                    actor="bench",
                )
                login_ids.append(summary.id)
        env = {**os.environ, "DATABASE_URL": url, "ACCESSRECON_DATA_DIR": str(data_dir)}
        if concurrency is not None:
            env["ACCESSRECON_CRAWL_CONCURRENCY"] = str(concurrency)
        with _workers(workers, env, directory, interval_s, files_every_s) as samplers:
            started = time.perf_counter()
            with session_scope(runtime.engine) as session:
                ids = [
                    enqueue(session, requested_by="bench", source="schedule", login_id=login_id).id
                    for login_id in login_ids
                ]
            _wait_done(runtime, ids)
            seconds = time.perf_counter() - started
        memory = [sampler.peak for sampler in samplers]
        orgs = _check_scans(runtime, ids, expected=len(world.orgs))
        spans = _spans(runtime, ids)
        runtime.engine.dispose()
    return Round(workers=workers, orgs=orgs, seconds=seconds, memory=memory, spans=spans)


@contextmanager
def _workers(
    count: int, env: dict[str, str], directory: Path, interval_s: float, files_every_s: float
) -> Iterator[list[PeakSampler]]:
    """``count`` ready worker processes, each watched by a sampler; stopped afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    samplers: list[PeakSampler] = []
    logs = [directory / f"worker-{uuid.uuid4().hex[:8]}.log" for _ in range(count)]
    try:
        for log in logs:
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "accessrecon", "worker", "--poll", "0.5"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            procs.append(proc)
            sampler = PeakSampler(proc.pid, interval_s=interval_s, files_every_s=files_every_s)
            samplers.append(sampler.start())
        deadline = time.monotonic() + START_TIMEOUT_S
        for proc, log in zip(procs, logs, strict=True):
            while READY not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"a worker did not start: {log.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.2)
        yield samplers
    finally:
        for sampler in samplers:  # while the workers still run: see ``memory.watch``
            sampler.stop()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        failed = [log for proc, log in zip(procs, logs, strict=True) if proc.returncode != 0]
        for log in failed:
            print(f"a worker ended badly: {log.read_text(errors='replace')[-2000:]}", flush=True)
        for log in logs:
            log.unlink(missing_ok=True)


def _wait_done(runtime: Runtime, ids: list[int]) -> None:
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while True:
        with Session(runtime.engine) as session:
            statuses = session.exec(
                select(ScanRequest.status).where(col(ScanRequest.id).in_(ids))
            ).all()
        if all(status not in ("queued", "running") for status in statuses):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the scan requests did not finish in {ROUND_TIMEOUT_S:.0f} s")
        time.sleep(0.25)


def _spans(runtime: Runtime, ids: list[int]) -> list[tuple[float, float]]:
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(ScanRequest.started_at, ScanRequest.finished_at).where(
                col(ScanRequest.id).in_(ids)
            )
        ).all()
    times = [(a, b) for a, b in rows if a is not None and b is not None]
    if not times:
        return []
    first = min(a for a, _ in times)
    return [((a - first).total_seconds(), (b - first).total_seconds()) for a, b in times]


def _check_scans(runtime: Runtime, ids: list[int], *, expected: int) -> int:
    """The orgs scanned ok; raises unless every request is done and every org was
    scanned ok exactly once."""
    with Session(runtime.engine) as session:
        requests = session.exec(select(ScanRequest).where(col(ScanRequest.id).in_(ids))).all()
        not_done = [(r.id, r.status, r.detail) for r in requests if r.status != DONE]
        if not_done:
            raise RuntimeError(f"scan requests not done: {not_done[:5]}")
        scans, orgs = session.exec(
            select(func.count(col(Scan.id)), func.count(func.distinct(Scan.org_id))).where(
                Scan.status == ScanStatus.OK
            )
        ).one()
        failed = session.exec(
            select(func.count(col(Scan.id))).where(Scan.status != ScanStatus.OK)
        ).one()
    if failed or scans != expected or orgs != expected:
        raise RuntimeError(
            f"expected {expected} orgs scanned ok once each; {scans} ok scans of {orgs} "
            f"orgs, {failed} other scans"
        )
    return orgs
