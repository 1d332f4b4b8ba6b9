"""``accessrecon demo``: the whole product on a generated world, on this machine.

It generates a small world, starts its imitation portals, imports the practice's
files, crawls every portal through a real Chromium and reconciles (the one crawl
path, ``agent.crawl.pipeline``), prints what it found beside the world's ground
truth, writes the leaver report, the access matrix and the workload report, and
serves the API and the dashboard with the scheduler and a scan worker (so re-scans
from the extension or the dashboard reach the sandbox). A practice-admin user is
created, with one pairing code for the dashboard and one for the extension (a code
works once). Everything lives in the demo's own data directory, apart from real data;
its invented findings are never alerted, whatever alert channels the environment
configures.

What it prints for a newcomer to do next (``next_steps``) is meant to be pasted into
another terminal as it is: each command names the demo's data directory and this
very ``accessrecon`` (its full path unless the shell finds it by name), and the line
is printed whole, never wrapped at the terminal's width.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
from collections import Counter
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table

from accessrecon.commands.scan import ready_to_crawl
from accessrecon.console import console, crawl_progress, crawl_summary, findings_table, say
from agent.clock import utcnow
from agent.crawl.pipeline import crawl_and_settle
from agent.filemodes import private_dir
from agent.imports import ImportKind, PracticeRole, run_import
from agent.reconcile.identity import normalise_email
from agent.reports.leaver import write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.words import label
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

#: The unpacked extension, beside the package in a clone of the repository.
EXTENSION_DIR = Path(__file__).resolve().parents[1] / "extension"
#: What the demo's admin user is called: the name ``--as`` takes.
DEMO_ADMIN = "demo admin"


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
    directory = (data_dir or base.data_dir / "demo").absolute()
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

        ready_to_crawl(runtime, None)  # a missing Chromium is said before the progress bar
        with crawl_progress() as progress:
            crawled = asyncio.run(crawl_and_settle(runtime, progress=progress, every_org=True))
        console.print(crawl_summary(crawled.report))
        console.print(findings_table(crawled.settled.findings.open_by_class))
        _compare_with_truth(runtime, world)
        _write_reports(runtime, world, directory)
        paste = data_prefix(settings, env_database=base.database_url_setting is not None)
        if serve:
            _serve(runtime, world, paste)
        else:
            say(f"look at the findings: {paste} {cli_invocation()} findings --problems")


def _write_reports(runtime: Runtime, world: World, directory: Path) -> None:
    leaver = _leaver_to_report(world)
    with session_scope(runtime.engine) as session:
        if leaver is not None:
            out = directory / "leaver-report.xlsx"
            person, count = write_leaver_report(session, leaver, out)
            say(f"leaver report for {person.name}: {count} orgs, written to {out}")
        matrix = write_matrix_report(session, directory / "access-matrix.xlsx")
        say(f"access matrix: {matrix.rows} staff rows, written to {matrix.path}")
        workload = write_workload_report(session, directory / "workload.xlsx")
        say(f"workload report: {workload.rows} rows, written to {workload.path}")


def _serve(runtime: Runtime, world: World, paste: str) -> None:
    """Serve with the scheduler and a worker, saying how to sign in and pair the extension."""
    from accessrecon.background import background_services
    from accessrecon.serving import serve_forever

    settings = runtime.settings
    with session_scope(runtime.engine) as session:
        admin = add_user(
            session,
            name=DEMO_ADMIN,
            role=PracticeRole.PRACTICE_ADMIN,
            scope=ClientScope.ALL,
            actor="demo",
        )
        assert admin.id is not None
        dashboard_code = issue_pairing_code(session, user_id=admin.id, actor="demo").code
        extension_code = issue_pairing_code(session, user_id=admin.id, actor="demo").code
    org = world.orgs[0]
    for line in next_steps(
        base_url=f"http://{settings.host}:{settings.port}",
        paste=paste,
        cli=cli_invocation(),
        dashboard_code=format_code(dashboard_code),
        extension_code=format_code(extension_code),
        status_path=f"/api/v1/orgs/{org.portal}/{org.org_id}/status",
        leaver=_leaver_to_report(world),
    ):
        say(line)
    with background_services(runtime):
        serve_forever(runtime)


def cli_invocation() -> str:
    """How a shell runs this same accessrecon: by name when PATH finds this one, else by
    its full path (a virtual environment that is not activated), else through Python."""
    started = Path(sys.argv[0])
    if started.name != "accessrecon":  # python -m accessrecon
        return f"{shlex.quote(sys.executable)} -m accessrecon"
    program = started.absolute()
    found = shutil.which("accessrecon")
    if found and Path(found).resolve() == program.resolve():
        return "accessrecon"
    return shlex.quote(str(program))


def data_prefix(settings: Settings, *, env_database: bool) -> str:
    """The environment a pasted command needs to read the demo's data, not the real data.

    The data directory always; the database too when the environment names one (it
    would win over the directory's SQLite file, and the demo never uses it).
    """
    prefix = f"ACCESSRECON_DATA_DIR={shlex.quote(str(settings.data_dir))}"
    if env_database:
        prefix += f" ACCESSRECON_DATABASE_URL={shlex.quote(settings.database_url)}"
    return prefix


def next_steps(
    *,
    base_url: str,
    paste: str,
    cli: str,
    dashboard_code: str,
    extension_code: str,
    status_path: str,
    leaver: str | None,
    today: date | None = None,
) -> list[str]:
    """What a newcomer does next, each command ready to paste into another terminal."""
    due = (today or utcnow().date()) + timedelta(days=30)
    run = f"{paste} {cli}"
    extension = EXTENSION_DIR if (EXTENSION_DIR / "manifest.json").is_file() else None
    lines = [
        "",
        "Next, while this serves (paste each command into another terminal as it is):",
        f"* the findings: {run} findings --problems",
        f"* the dashboard: open {base_url}/dashboard/ and sign in with the code {dashboard_code}",
        "* the browser extension: in Chrome open chrome://extensions, turn on Developer "
        "mode, press 'Load unpacked' and pick "
        + (str(extension) if extension else "the extension/ folder of the repository")
        + "; then open the extension's options (Details, Extension options), set the "
        f"server address to {base_url} and press Save, type the pairing code "
        f"{extension_code} and press Pair",
        f"* each code works once, within 5 minutes; for another: {run} pair",
        f"* the API: {base_url}/api/v1/health answers without a token; "
        f"{base_url}{status_path} needs the extension's token",
    ]
    if leaver is not None:
        lines.append(
            f"* close the access of {leaver}: the dashboard's People page ('Remove everything "
            f"the practice can'), or {run} remove plan --as {shlex.quote(DEMO_ADMIN)} "
            f"--person {shlex.quote(leaver)}; another practice admin approves it ("
            f"{run} users add NAME --role practice_admin --scope all), or the demo admin "
            "alone with ACCESSRECON_SINGLE_ADMIN_SELF_APPROVAL=true"
        )
    lines += [
        f"* review everyone's access by client manager: {run} campaign start "
        f"'Demo review' --due {due.isoformat()} --as {shlex.quote(DEMO_ADMIN)} (the "
        "dashboard's Reviews page shows it)",
        "serving until Ctrl-C",
    ]
    return lines


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
        table.add_row(label(cls), str(len(want)), str(len(have)), str(len(want & have)))
    console.print(table)
    agree = sum(1 for k, v in expected.items() if got.get(k) == v)
    console.print(
        f"{agree} of {len(expected)} expected findings agree; "
        f"{len(set(got) - set(expected))} findings not in the ground truth"
    )
