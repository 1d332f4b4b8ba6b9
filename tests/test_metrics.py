"""Metrics for Prometheus: the server's /metrics over HTTP, and a worker's own port.

The server's page is read from a real uvicorn on loopback and parsed with
prometheus-client's own parser; its figures are held to the database's tables. A
caller from another address cannot be made over loopback, so the refusal is checked
through the app's ASGI interface with that caller's address (the same check reads
the same field behind uvicorn). The worker's port is read from a real
``accessrecon worker`` process after it ran a crawl of a sandbox portal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlmodel import Session, col, select

from agent.crawl.scan_queue import DONE, claim_next, enqueue
from agent.crawl.worker import Worker
from agent.domain import FailureReason
from agent.metrics import process
from agent.metrics.access import allowed_networks, may_scrape
from agent.metrics.database import DatabaseCollector
from agent.metrics.port import MetricsPort, UnsafeMetricsBind, guarded_app, resolve_metrics_bind
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.users import principal_of
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.services.signins import record_sign_in
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Org, PortalLogin, RemovalItem, Scan, ScanRequest
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer
from server.app import create_app
from tests.browser_loop import BrowserLoop
from tests.extension.harness import free_port
from tests.factories import agent_login, failed_scan, ok_scan, org
from tests.server.conftest import build_practice

WORKER = (sys.executable, "-m", "accessrecon", "worker")

Series = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Series:
    """Each sample's value by sample name and labels, as Prometheus would read the page."""
    series: Series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            series.setdefault(sample.name, {})[key] = sample.value
    return series


def by(series: Series, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    return {
        tuple(dict(key)[label] for label in labels): value
        for key, value in series.get(name, {}).items()
    }


@contextmanager
def served(runtime: Runtime) -> Iterator[str]:
    """The product's app on a real loopback port, as ``accessrecon serve`` serves it."""
    port = free_port()
    with PortalServer(create_app(runtime, port=port), port=port):
        yield f"http://127.0.0.1:{port}"


def scrape(base: str) -> Series:
    response = httpx.get(f"{base}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def scan_table(runtime: Runtime) -> Counter[tuple[str, ...]]:
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Org.portal, Scan.status, Scan.reason)
            .select_from(Scan)
            .join(Org, col(Org.id) == col(Scan.org_id))
        ).all()
    return Counter((portal, status, reason or "") for portal, status, reason in rows)


def worker_value(name: str, **labels: str) -> float:
    return process.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.browser
def test_after_a_crawl_the_page_parses_and_holds_the_scan_tables_totals(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    world = generate_world(31, staff=6, orgs_per_portal=3, users_per_org=3, portals=("xero",))
    ok_before = worker_value("accessrecon_worker_scans_total", status="ok", reason="")
    done_before = worker_value("accessrecon_worker_scan_requests_total", outcome="done")
    crawls_before = worker_value("accessrecon_worker_crawl_duration_seconds_count")
    with PortalServer(create_portal_app("xero", world)) as portal:
        login = world.logins_of("xero")[0]
        with session_scope(runtime.engine) as session:
            summary = add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            )
            enqueue(session, requested_by="test", source="api", login_id=summary.id)
        ran = browser_loop.run(lambda browser: Worker(runtime, browser=browser).run_pending())
    assert ran == 1
    with session_scope(runtime.engine) as session:
        first = session.exec(select(Org).order_by(col(Org.id))).first()
        assert first is not None
        failed_scan(session, first, FailureReason.LAYOUT_CHANGED)
        record_sign_in(session, login_id=summary.id, crawl_id=None, ok=False, reason="login_failed")
    with served(runtime) as base:
        series = scrape(base)
    expected = scan_table(runtime)
    assert expected[("xero", "ok", "")] == len(world.orgs)
    assert expected[("xero", "failed", "layout_changed")] == 1
    assert by(series, "accessrecon_scans_total", "portal", "status", "reason") == expected
    failures = by(series, "accessrecon_sign_in_failures_total", "portal", "login_id", "reason")
    assert failures == {("xero", str(summary.id), "login_failed"): 1}
    with Session(runtime.engine) as session:
        crawl = session.exec(select(Crawl)).one()
    assert crawl.finished_at is not None
    durations = by(series, "accessrecon_last_crawl_duration_seconds", "portal")
    assert durations == {("all",): (crawl.finished_at - crawl.started_at).total_seconds()}
    assert by(series, "accessrecon_scan_queue_depth", "status") == {("queued",): 0, ("running",): 0}
    # the crawl ran in this process: its worker's figures are on the server's page too
    ok_now = ok_before + len(world.orgs)
    assert worker_value("accessrecon_worker_scans_total", status="ok", reason="") == ok_now
    assert worker_value("accessrecon_worker_scan_requests_total", outcome="done") == done_before + 1
    assert worker_value("accessrecon_worker_crawl_duration_seconds_count") == crawls_before + 1
    worker_scans = by(series, "accessrecon_worker_scans_total", "status", "reason")
    assert worker_scans[("ok", "")] == ok_now
    assert series["process_resident_memory_bytes"][()] > 0


def test_queue_depth_follows_an_enqueue_and_a_claim(runtime: Runtime) -> None:
    with served(runtime) as base:
        assert by(scrape(base), "accessrecon_scan_queue_depth", "status") == {
            ("queued",): 0,
            ("running",): 0,
        }
        with session_scope(runtime.engine) as session:
            enqueue(session, requested_by="test", source="api", portal="xero", portal_org_id="!a1")
            enqueue(session, requested_by="test", source="api", portal="myob", portal_org_id="x")
        assert by(scrape(base), "accessrecon_scan_queue_depth", "status") == {
            ("queued",): 2,
            ("running",): 0,
        }
        with session_scope(runtime.engine) as session:
            assert claim_next(session) is not None
        assert by(scrape(base), "accessrecon_scan_queue_depth", "status") == {
            ("queued",): 1,
            ("running",): 1,
        }


def test_removal_items_are_counted_by_portal_and_state(runtime: Runtime) -> None:
    build_practice(runtime)
    with session_scope(runtime.engine) as session:
        plan_removals(
            session, principal_of(session, "Ada Admin"), PlanRequest(person="Ben Brennan")
        )
    with Session(runtime.engine) as session:
        states = Counter(("xero", item.state) for item in session.exec(select(RemovalItem)))
    assert sum(states.values()) == 3
    with served(runtime) as base:
        assert by(scrape(base), "accessrecon_removal_items", "portal", "state") == states


def _client(runtime: Runtime, address: str) -> TestClient:
    return TestClient(create_app(runtime), base_url="http://127.0.0.1:8765", client=(address, 4000))


def test_a_caller_from_another_address_is_refused_unless_its_network_is_allowed(
    runtime: Runtime,
) -> None:
    refused = _client(runtime, "203.0.113.9").get("/metrics")
    assert refused.status_code == 403
    assert "ACCESSRECON_METRICS_ALLOW" in refused.json()["detail"]
    assert "accessrecon_" not in refused.text
    assert _client(runtime, "127.0.0.1").get("/metrics").status_code == 200
    runtime.settings.metrics_allow = ["203.0.113.0/24"]
    allowed = _client(runtime, "203.0.113.9").get("/metrics")
    assert allowed.status_code == 200
    assert "accessrecon_scan_queue_depth" in parse(allowed.text)
    assert _client(runtime, "198.51.100.4").get("/metrics").status_code == 403
    # not part of the API: no token asked, nothing in the OpenAPI schema
    assert "/metrics" not in create_app(runtime, enable_docs=True).openapi()["paths"]


def test_who_may_scrape() -> None:
    networks = allowed_networks(["10.0.0.0/24", "fd00::7"])
    assert may_scrape("127.0.0.1", ())
    assert may_scrape("::1", ())
    assert may_scrape("::ffff:127.0.0.1", ())
    assert may_scrape("10.0.0.200", networks)
    assert may_scrape("fd00::7", networks)
    assert not may_scrape("10.0.1.1", networks)
    assert not may_scrape("fd00::8", networks)
    assert not may_scrape("testclient", networks), "an address that is none is refused"
    assert not may_scrape(None, networks)


def test_the_allow_list_setting_is_read_as_the_readme_writes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCESSRECON_METRICS_ALLOW", "10.0.0.7, 10.0.0.0/24")
    assert Settings().metrics_allow == ["10.0.0.7/32", "10.0.0.0/24"]
    monkeypatch.setenv("ACCESSRECON_METRICS_ALLOW", "10.0.0.7,prometheus.lan")
    with pytest.raises(ValidationError, match=r"'prometheus\.lan' is not an IP address or network"):
        Settings()


def test_scan_totals_are_kept_between_scrapes_and_stay_the_tables(runtime: Runtime) -> None:
    now = [datetime(2026, 11, 2, 9, 0, tzinfo=UTC)]
    collector = DatabaseCollector(runtime.engine, clock=lambda: now[0], grace=timedelta(minutes=2))

    def totals() -> dict[tuple[str, ...], float]:
        families = {f.name: f for f in collector.collect()}
        return {
            (s.labels["portal"], s.labels["status"], s.labels["reason"]): s.value
            for s in families["accessrecon_scans"].samples
        }

    with session_scope(runtime.engine) as session:
        kowhai = org(session, "!kow01")
        ok_scan(session, kowhai, [("ana@harbourco.example", "STANDARD")])
        failed_scan(session, kowhai)
    assert totals() == scan_table(runtime)
    assert collector.scans.settled_through == 0, "nothing is settled before its grace"
    with session_scope(runtime.engine) as session:
        failed_scan(session, org(session, "!rat01"), FailureReason.RATE_LIMITED)
    now[0] += timedelta(minutes=3)
    assert totals() == scan_table(runtime)
    assert collector.scans.settled_through == 2, "the ids seen three minutes ago are settled"
    with session_scope(runtime.engine) as session:
        ok_scan(session, org(session, "!rat01"), [])
    now[0] += timedelta(minutes=3)
    assert totals() == scan_table(runtime)
    assert collector.scans.settled_through == 3
    assert sum(totals().values()) == 4


def test_sign_in_failures_count_failures_only(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        agent_login(session)
        login = session.exec(select(PortalLogin)).one()
        assert login.id is not None
        for ok, reason in ((True, None), (False, "mfa_failed"), (False, "mfa_failed")):
            record_sign_in(session, login_id=login.id, crawl_id=None, ok=ok, reason=reason)
    families = {f.name: f for f in DatabaseCollector(runtime.engine).collect()}
    samples = families["accessrecon_sign_in_failures"].samples
    assert [(s.labels, s.value) for s in samples] == [
        ({"portal": "xero", "login_id": str(login.id), "reason": "mfa_failed"}, 2)
    ]


def test_the_worker_port_serves_this_process_to_loopback_only() -> None:
    with pytest.raises(UnsafeMetricsBind, match="ACCESSRECON_METRICS_ALLOW"):
        resolve_metrics_bind("0.0.0.0", [])  # noqa: S104
    assert resolve_metrics_bind("0.0.0.0", ["10.0.0.0/24"]) == "0.0.0.0"  # noqa: S104
    assert resolve_metrics_bind("localhost", []) == "127.0.0.1"
    with MetricsPort("127.0.0.1", 0, []) as port:
        answer = httpx.get(port.url, timeout=10)
        assert answer.status_code == 200
        series = parse(answer.text)
        assert "accessrecon_worker_crawls_in_progress" in series
        assert "accessrecon_scans_total" not in series, "the database is counted by the server"
        assert httpx.get(port.url.replace("/metrics", "/other"), timeout=10).status_code == 404
    statuses: list[str] = []
    body = guarded_app(())(
        {"REMOTE_ADDR": "203.0.113.9", "PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"},
        lambda status, _headers: statuses.append(status),
    )
    assert statuses == ["403 Forbidden"]
    assert b"accessrecon_" not in b"".join(body)


def test_the_worker_refuses_a_metrics_address_no_one_may_scrape(tmp_path: Path) -> None:
    data = tmp_path / "refused"
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(data),
        "ACCESSRECON_WORKER_METRICS_HOST": "0.0.0.0",  # noqa: S104
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [*WORKER, "--metrics-port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "refusing to serve the worker's metrics on 0.0.0.0" in result.stderr
    assert not (data / "accessrecon.db").exists(), "the database is not touched"


@pytest.mark.browser
def test_a_worker_process_serves_its_metrics_and_counts_its_run(runtime: Runtime) -> None:
    world = generate_world(23, staff=5, orgs_per_portal=2, users_per_org=2, portals=("myob",))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
    }
    with PortalServer(create_portal_app("myob", world)) as portal:
        login = world.logins[0]
        with session_scope(runtime.engine) as session:
            summary = add_login(
                session,
                runtime.box,
                portal="myob",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            )
            request = enqueue(session, requested_by="test", source="api", login_id=summary.id)
        worker = subprocess.Popen(
            [*WORKER, "--poll", "0.2", "--metrics-port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            status = None
            while time.monotonic() < deadline and status != DONE:
                assert worker.poll() is None, worker.communicate()[1]
                time.sleep(0.3)
                with Session(runtime.engine) as session:
                    row = session.get(ScanRequest, request.id)
                    status = row.status if row else None
            assert status == DONE
            series = scrape(f"http://127.0.0.1:{port}")
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    requests = by(series, "accessrecon_worker_scan_requests_total", "outcome")
    assert requests == {("done",): 1, ("failed",): 0}
    scans = by(series, "accessrecon_worker_scans_total", "status", "reason")
    assert scans == {("ok", ""): len(world.orgs)}
    assert series["accessrecon_worker_crawl_duration_seconds_count"][()] == 1
    assert series["accessrecon_worker_crawls_in_progress"][()] == 0
    assert series["process_resident_memory_bytes"][()] > 0
    assert "accessrecon_scans_total" not in series
