"""The compose deployment: a valid compose file whose services' commands really run.

No Docker engine runs here, so the compose file is checked against the compose
specification's JSON schema, and its services' commands are run natively, with the
environment it gives them, against the test database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import yaml
from sqlmodel import Session, select

from agent.crawl.scan_queue import DONE, enqueue
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.storage.db import session_scope
from agent.storage.models import Scan, ScanRequest
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def native(command: list[str]) -> list[str]:
    """A compose command as this machine runs it: the console script via this Python."""
    assert command[0] == "accessrecon", command
    return [sys.executable, "-m", "accessrecon", *command[1:]]


def test_the_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    result = validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["server"]["ports"] = {"api": 8765}  # not a list: must be refused
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert validate(tmp_path / "broken.yml").returncode != 0


def test_the_compose_file_has_the_services_a_practice_needs() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "server", "worker"}
    for name in ("server", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "data:/data" in services[name]["volumes"], "the key file must be shared"
    assert services["server"]["ports"] == ["127.0.0.1:8765:8765"], "loopback only on the host"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "chromium" in dockerfile
    assert "pip install ." in dockerfile


def test_the_worker_service_can_be_scaled() -> None:
    """``docker compose up --scale worker=4``: nothing in the worker service is one of a
    kind, and each copy waits for a healthy database."""
    compose = yaml.safe_load(COMPOSE.read_text())
    worker = compose["services"]["worker"]
    for unique in ("container_name", "ports", "hostname"):
        assert unique not in worker, f"{unique} would stop a second worker from starting"
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert worker["restart"] == "unless-stopped", "a worker that dies comes back"
    assert worker["init"] is True, "Chromium's helpers are reaped"
    assert worker["command"] == ["accessrecon", "worker"]
    assert "scale worker=4" in COMPOSE.read_text(), "the compose file says how"


def test_the_worker_service_command_runs_queued_scans(runtime: Runtime, tmp_path: Path) -> None:
    """Two copies of the worker service's command, as ``--scale worker=2`` runs them,
    share the queue: every request done, every org scanned once."""
    compose = yaml.safe_load(COMPOSE.read_text())
    service = compose["services"]["worker"]
    env = {
        **os.environ,
        **{k: str(v) for k, v in service["environment"].items()},
        "DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
    }
    world = generate_world(
        23, staff=5, orgs_per_portal=2, users_per_org=2, portals=("myob", "xero")
    )
    with ExitStack() as stack:
        requests = []
        for login in world.logins:
            portal = stack.enter_context(PortalServer(create_portal_app(login.portal, world)))
            with session_scope(runtime.engine) as session:
                summary = add_login(
                    session,
                    runtime.box,
                    portal=login.portal,
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=portal.base_url,
                )
                requests.append(
                    enqueue(session, requested_by="test", source="api", login_id=summary.id).id
                )
        workers = [
            subprocess.Popen(
                [*native(service["command"]), "--poll", "0.2"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 120
            statuses: list[str | None] = []
            while time.monotonic() < deadline and statuses != [DONE] * len(requests):
                time.sleep(0.3)
                with Session(runtime.engine) as session:
                    rows = [session.get(ScanRequest, r) for r in requests]
                    statuses = [row.status if row else None for row in rows]
            assert statuses == [DONE] * len(requests), statuses
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            errors = [worker.communicate(timeout=30)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    with Session(runtime.engine) as session:
        scans = list(session.exec(select(Scan)))
    assert sorted(s.org_id for s in scans) == sorted({s.org_id for s in scans})
    assert len(scans) == len(world.orgs)


def test_the_server_service_command_serves_the_api(runtime: Runtime) -> None:
    """The server service's command, as compose runs it, answers on the published port."""
    compose = yaml.safe_load(COMPOSE.read_text())
    service = compose["services"]["server"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        **{k: str(v) for k, v in service["environment"].items()},
        "DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_PORT": str(port),
    }
    server = subprocess.Popen(
        native(service["command"]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and health is None:
            assert server.poll() is None, server.communicate()[1]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.3)
        expected = (
            "postgresql" if runtime.settings.database_url.startswith("postgresql") else "sqlite"
        )
        assert health == {"status": "ok", "database": expected}
        refused = httpx.get(f"http://127.0.0.1:{port}/api/v1/findings", timeout=5)
        assert refused.status_code == 401, "the API needs a token even in a container"
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err
    assert "not loopback, by explicit override" in err
