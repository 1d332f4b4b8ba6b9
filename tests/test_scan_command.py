"""``accessrecon scan`` tells the truth in its exit code, in one line on stderr.

Non-zero when an org's scan failed, when nothing was read, when ``--org`` names an
org no login lists (``not_listed``), and at once, before any browser, when ``--org``
is not an id of the portal's format. A scan run again after failures resumes the
crawl and reads only what failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from agent.capture import OrgRef
from agent.domain import FailureReason, Portal, ScanStatus
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.scans import upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Org, PortalLogin, Scan
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer

pytestmark = [pytest.mark.browser, pytest.mark.long]


def _scan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", "scan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    line = result.stderr.strip()
    assert line.count("\n") == 0, result.stderr
    assert line.startswith("accessrecon: ")
    return line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--org", "x7Kp2"), "not an org id of any portal"),
        (("--portal", "xero", "--org", "x7Kp2"), "did you mean !x7Kp2?"),
        (("--portal", "qbo", "--org", "12345"), "is not a QuickBooks org id"),
        (("--portal", "myob", "--org", "3f2b8c1e-5d4a"), "is not a MYOB org id"),
        (("--portal", "sage", "--org", "!x7Kp2"), "is not a portal"),
    ],
)
def test_a_malformed_org_is_refused_before_any_browser_or_database(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(tmp_path / "fresh"),
        "ACCESSRECON_CHROMIUM_PATH": str(tmp_path / "no-such-chromium"),
    }
    line = _one_line(_scan(env, *args))
    assert says in line
    assert not (tmp_path / "fresh").exists(), "nothing was opened for a malformed id"


def test_failed_and_unread_orgs_exit_non_zero_and_the_next_scan_reads_only_those(
    runtime: Runtime,
) -> None:
    world = generate_world(
        59, staff=6, orgs_per_portal=3, users_per_org=3, portals=("xero", "myob")
    )
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
    }
    with ExitStack() as stack:
        servers = {}
        for login in world.logins:
            server = stack.enter_context(PortalServer(create_portal_app(login.portal, world)))
            servers[login.portal] = server
            with session_scope(runtime.engine) as session:
                add_login(
                    session,
                    runtime.box,
                    portal=login.portal,
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=server.base_url,
                )
        for server in servers.values():
            update_settings(server.app, layout_version=2)  # type: ignore[arg-type]
        nothing = _one_line(_scan(env))
        assert "no org was read: 6 of 6 org scans failed (6 layout_changed)" in nothing

        update_settings(servers["xero"].app, layout_version=1)  # type: ignore[arg-type]
        partly = _scan(env)
        assert "(resumed)" in partly.stdout
        assert "3 of 6 org scans failed (3 layout_changed)" in _one_line(partly)

        update_settings(servers["myob"].app, layout_version=1)  # type: ignore[arg-type]
        whole = _scan(env)
        assert whole.returncode == 0, whole.stderr
        assert whole.stderr == ""
        assert "(resumed)" in whole.stdout
    with Session(runtime.engine) as session:
        crawls = list(session.exec(select(Crawl)))
        scans = list(session.exec(select(Scan, Org).join(Org).order_by(col(Scan.id))))
    assert [c.status for c in crawls] == ["finished"]
    # 6 failed, then all 6 again (3 read), then only the 3 myob orgs still unread
    assert len(scans) == 6 + 6 + 3
    assert {o.portal for _, o in scans[12:]} == {"myob"}
    assert all(s.status == ScanStatus.OK for s, _ in scans[12:])


def test_an_org_no_login_lists_is_not_listed_not_a_portal_error(runtime: Runtime) -> None:
    world = generate_world(61, staff=6, orgs_per_portal=2, users_per_org=3, portals=("xero",))
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
    }
    login = world.logins_of("xero")[0]
    with PortalServer(create_portal_app("xero", world)) as server:
        with session_scope(runtime.engine) as session:
            add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=server.base_url,
            )
            login_id = session.exec(select(PortalLogin.id)).one()
            # an org this login listed once, since removed from its list
            upsert_org(session, OrgRef(Portal.XERO, "!gone1", "Gone Ltd"), login_id=login_id)
        unknown = _one_line(_scan(env, "--org", "!zzzzz"))
        gone = _one_line(_scan(env, "--org", "!gone1"))
        listed = _scan(env, "--org", world.orgs[0].org_id)
    assert "org !zzzzz is not in this login's org list (not_listed)" in unknown
    assert "org !gone1 is not in this login's org list (not_listed)" in gone
    assert listed.returncode == 0, listed.stderr
    with Session(runtime.engine) as session:
        scans = list(session.exec(select(Scan, Org).join(Org).order_by(col(Scan.id))))
    assert [(o.portal_org_id, s.status, s.reason) for s, o in scans] == [
        ("!gone1", ScanStatus.FAILED, FailureReason.NOT_LISTED),
        (world.orgs[0].org_id, ScanStatus.OK, None),
    ]
