"""``accessrecon demo``: the whole product on a generated world, on this machine.

It generates a small world, starts its imitation portals, imports the practice's
files, crawls every portal through a real Chromium and reconciles (the one crawl
path, ``agent.crawl.pipeline``), prints what it found beside the world's ground
truth, writes the leaver report, the access matrix and the workload report, and
serves the API and the dashboard with the scheduler and a scan worker (so re-scans
from the extension or the dashboard reach the sandbox). A practice-admin user is
created and a pairing code printed for the extension and the dashboard. Everything
lives in the demo's own data directory, apart from real data; its invented findings
are never alerted, whatever alert channels the environment configures.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from rich.table import Table

from accessrecon.console import console, crawl_progress, crawl_summary, findings_table
from agent.crawl.pipeline import crawl_and_settle
from agent.filemodes import private_dir
from agent.imports import ImportKind, PracticeRole, run_import
from agent.reconcile.identity import normalise_email
from agent.reports.leaver import write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.workload import write_workload_report
from agent.runtime import Runtime
from agent.scrapers.registry import registered_portals
from agent.security.logins import SignInMethod, add_login
from agent.security.pairing import format_code, issue_pairing_code
from agent.security.principal import ClientScope
from agent.security.users import add_user
from agent.services.finding_lists import open_findings
from agent.settings import Settings
from agent.storage.db import session_scope
from sandbox.generate import generate_world, write_world
from sandbox.portals import create_portal_app
from sandbox.serve import PortalServer
from sandbox.world import MFA_EMAIL, World


def run_demo(
    *,
    data_dir: Path | None,
    seed: int,
    staff: int,
    orgs: int,
    users: int,
    serve: bool,
    port: int | None,
) -> None:
    base = Settings()
    directory = data_dir or base.data_dir / "demo"
    if directory.exists():
        console.print(f"starting afresh in {directory}")
        shutil.rmtree(directory)
    private_dir(directory)  # the demo's data directory, private like the real one
    portals = tuple(p.value for p in registered_portals())
    world = generate_world(
        seed, staff=staff, orgs_per_portal=orgs, users_per_org=users, portals=portals
    )
    files = write_world(world, directory / "world")
    console.print(
        f"world {seed}: {len(world.staff)} staff, {len(world.orgs)} orgs in "
        f"{', '.join(portals)}; files in {files.world.parent}"
    )
    settings = Settings(
        data_dir=directory,
        database_url_setting=None,
        practice_domains=world.practice_domains,
        port=port or base.port,
        host=base.host,
        chromium_path=base.chromium_path,
        secret_key=None,
        alert_webhook_url=None,
        smtp_host=None,
    )
    runtime = Runtime(settings)

    with ExitStack() as stack:
        for portal in portals:
            server = stack.enter_context(PortalServer(create_portal_app(portal, world)))
            login = world.logins_of(portal)[0]
            # a login signing in by e-mailed code needs a person: 'accessrecon login connect'
            by_person = login.mfa == MFA_EMAIL
            with session_scope(runtime.engine) as session:
                add_login(
                    session,
                    runtime.box,
                    portal=portal,
                    email=login.email,
                    password="" if by_person else login.password,
                    totp_secret="" if by_person else login.totp_secret,
                    base_url=server.base_url,
                    label=f"sandbox {portal}",
                    actor="demo",
                    method=SignInMethod.INTERACTIVE if by_person else SignInMethod.TOTP,
                )
            console.print(f"sandbox {portal} portal at {server.base_url}")
        for kind, path in (
            (ImportKind.STAFF, files.staff),
            (ImportKind.CLIENTS, files.clients),
            (ImportKind.ACCESS, files.access),
        ):
            result = run_import(
                runtime.engine,
                kind,
                path,
                practice_domains=settings.practice_domains,
                actor="demo",
                max_rows=settings.import_max_rows,
            )
            console.print(f"imported {result.rows} {kind.value} rows from {path.name}")

        with crawl_progress() as progress:
            crawled = asyncio.run(crawl_and_settle(runtime, progress=progress, every_org=True))
        console.print(crawl_summary(crawled.report))
        console.print(findings_table(crawled.settled.findings.open_by_class))
        _compare_with_truth(runtime, world)
        _write_reports(runtime, world, directory)
        if serve:
            _serve(runtime, world, directory)


def _write_reports(runtime: Runtime, world: World, directory: Path) -> None:
    leaver = _leaver_to_report(world)
    with session_scope(runtime.engine) as session:
        if leaver is not None:
            out = directory / "leaver-report.xlsx"
            person, count = write_leaver_report(session, leaver, out)
            console.print(f"leaver report for {person.name}: {count} orgs, written to {out}")
        matrix = write_matrix_report(session, directory / "access-matrix.xlsx")
        console.print(f"access matrix: {matrix.rows} staff rows, written to {matrix.path}")
        workload = write_workload_report(session, directory / "workload.xlsx")
        console.print(f"workload report: {workload.rows} rows, written to {workload.path}")


def _serve(runtime: Runtime, world: World, directory: Path) -> None:
    """Serve with the scheduler and a worker, and print a code to pair the extension."""
    from accessrecon.background import background_services
    from accessrecon.serving import serve_forever

    settings = runtime.settings
    with session_scope(runtime.engine) as session:
        admin = add_user(
            session,
            name="demo admin",
            role=PracticeRole.PRACTICE_ADMIN,
            scope=ClientScope.ALL,
            actor="demo",
        )
        issued = issue_pairing_code(session, user_id=admin.id, actor="demo")
    base = f"http://{settings.host}:{settings.port}"
    org = world.orgs[0]
    console.print(
        f"pairing code for the extension and the dashboard: "
        f"[bold]{format_code(issued.code)}[/] (valid 5 minutes; "
        "'accessrecon pair' prints another)"
    )
    console.print(
        f"dashboard: {base}/dashboard/   API: {base}/api/v1 "
        f"(e.g. /api/v1/orgs/{org.portal}/{org.org_id}/status with a token)"
    )
    leaver = _leaver_to_report(world)
    if leaver is not None:
        console.print(
            f"close the access of {leaver}: the dashboard's People page ('Remove everything the "
            "practice can'), or in another terminal with ACCESSRECON_DATA_DIR="
            f"{directory}: accessrecon remove plan --as 'demo admin' --person '{leaver}'; "
            "a second user approves ('accessrecon users add'), or the demo admin alone with "
            "ACCESSRECON_SINGLE_ADMIN_SELF_APPROVAL=true",
            markup=False,
            highlight=False,
        )
    console.print(
        "review everyone's access by client manager: accessrecon campaign start 'Demo review' "
        "--due YYYY-MM-DD --as 'demo admin' (the dashboard's Reviews page shows it)",
        markup=False,
        highlight=False,
    )
    console.print("serving until Ctrl-C")
    with background_services(runtime):
        serve_forever(runtime)


def _leaver_to_report(world: World) -> str | None:
    """The leaver with the most access in the world, to show a full report."""
    seen = Counter(t.email.casefold() for t in world.truth if t.finding_class == "leaver_access")
    best: tuple[int, str] | None = None
    for person in world.leavers():
        count = sum(seen[normalise_email(e, world.practice_domains)] for e in person.emails)
        count += sum(seen[e.casefold()] for e in person.emails)
        if best is None or count > best[0]:
            best = (count, person.emails[0])
    return best[1] if best else None


def _compare_with_truth(runtime: Runtime, world: World) -> None:
    """Show the findings beside the world's ground truth, class by class."""
    domains = world.practice_domains
    expected = {
        (t.portal, t.org_id, normalise_email(t.email, domains)): t.finding_class
        for t in world.truth
    }
    with session_scope(runtime.engine) as session:
        rows = open_findings(session)
    got = {
        (r.portal, r.portal_org_id, normalise_email(r.email, domains)): r.finding_class
        for r in rows
    }
    table = Table(title="Findings against the world's ground truth")
    for column in ("class", "expected", "found", "agree"):
        table.add_column(column, justify="left" if column == "class" else "right")
    classes = sorted(set(expected.values()) | set(got.values()))
    for cls in classes:
        want = {k for k, v in expected.items() if v == cls}
        have = {k for k, v in got.items() if v == cls}
        table.add_row(cls, str(len(want)), str(len(have)), str(len(want & have)))
    console.print(table)
    agree = sum(1 for k, v in expected.items() if got.get(k) == v)
    console.print(
        f"{agree} of {len(expected)} expected findings agree; "
        f"{len(set(got) - set(expected))} findings not in the ground truth"
    )
