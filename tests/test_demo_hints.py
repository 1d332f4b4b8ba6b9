"""What the demo tells a newcomer to do next works when they do it, as they would.

The demo runs as a person starts it (the ``accessrecon`` a set-up leaves in ``.venv``,
not on PATH), and each line it prints is pasted into a fresh shell as it is: one that
has its own ideas about the database (``DATABASE_URL``) and sits in another directory.
The served demo is then paired the way it says, the extension through its real options
page in Chromium and the dashboard through its sign-in form, and ``/dashboard/`` must
answer in one hop.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.extension import harness

pytestmark = [pytest.mark.browser, pytest.mark.long]

#: the console script a set-up installs beside the virtual environment's Python
ACCESSRECON = Path(sys.executable).parent / "accessrecon"
SMALL = ("--staff", "6", "--orgs", "2", "--users", "4")


def shell_env(tmp_path: Path) -> dict[str, str]:
    """A fresh terminal: no ACCESSRECON_ settings, no venv on PATH, another database named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSRECON_")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'someone-elses.db'}"
    if "ACCESSRECON_CHROMIUM_PATH" in os.environ:
        env["ACCESSRECON_CHROMIUM_PATH"] = os.environ["ACCESSRECON_CHROMIUM_PATH"]
    return env


def pasted(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def after(prefix: str, output: str) -> str:
    """The rest of the one line of ``output`` that starts with ``prefix``."""
    found = [line for line in output.splitlines() if line.startswith(prefix)]
    assert len(found) == 1, f"no single line starting {prefix!r} in:\n{output}"
    return found[0].removeprefix(prefix)


def test_the_findings_line_works_when_pasted(tmp_path: Path) -> None:
    env = shell_env(tmp_path)
    demo = subprocess.run(
        [str(ACCESSRECON), "demo", "--no-serve", "--data-dir", "demo", *SMALL],
        env=env,
        cwd=tmp_path,  # a relative --data-dir: the printed line still names it whole
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    line = after("look at the findings: ", demo.stdout)
    assert line.startswith(f"ACCESSRECON_DATA_DIR={tmp_path / 'demo'} ")
    assert f"{ACCESSRECON} findings --problems" in line
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = pasted(line, env, elsewhere)
    assert listed.returncode == 0, listed.stderr
    header, first, *_rest, last = listed.stdout.splitlines()
    assert header.split()[:3] == ["id", "severity", "class"]
    assert first.split()[0].isdigit()
    assert re.fullmatch(r"\d+ findings; act on one by its id: .*", last), last
    assert not (tmp_path / "someone-elses.db").exists(), "the pasted line reads the demo's data"


@dataclass
class Served:
    output: str
    base: str


@pytest.fixture
def served_demo(tmp_path: Path) -> Iterator[Served]:
    port = harness.free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [str(ACCESSRECON), "demo", "--port", str(port), *SMALL],
            env={**shell_env(tmp_path), "ACCESSRECON_DATA_DIR": str(tmp_path / "data")},
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert demo.poll() is None, log.read_text()
                return False

        harness.wait_for(up, timeout_s=240, interval_s=0.5, what="the demo to serve")
        yield Served(log.read_text(), base)
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=90)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()


def test_the_served_demo_answers_and_pairs_as_it_says(
    served_demo: Served, tmp_path: Path, chromium_path: str
) -> None:
    output, base = served_demo.output, served_demo.base
    dashboard = after("* the dashboard: open ", output)
    assert dashboard.startswith(f"{base}/dashboard/ and sign in with the code ")
    dashboard_code = dashboard.rsplit(" ", 1)[1]

    # /dashboard/ and /dashboard: the sign-in page in one hop, never a chain
    for path in ("/dashboard/", "/dashboard"):
        first = httpx.get(f"{base}{path}")
        assert first.status_code == 303, (path, first.status_code)
        assert first.headers["location"].startswith("/dashboard/login")
        assert httpx.get(f"{base}{first.headers['location']}").status_code == 200

    # the dashboard, signed in with the printed code
    with httpx.Client(base_url=base, headers={"Origin": base}) as browser:
        signed = browser.post("/dashboard/login", data={"code": dashboard_code, "next": ""})
        assert signed.status_code == 303, signed.text
        home = browser.get("/dashboard/")
        assert home.status_code == 200
        assert "demo admin" in home.text

    # the extension, step by step as printed
    extension = after("* the browser extension: ", output)
    folder = re.search(r"press 'Load unpacked' and pick (\S+); ", extension)
    server = re.search(r"set the server address to (\S+) and press Save", extension)
    code = re.search(r"type the pairing code (\S+) and press Pair", extension)
    assert folder, extension
    assert server, extension
    assert code, extension
    assert Path(folder.group(1)) == harness.EXTENSION_DIR
    assert server.group(1) == base
    ext = harness.launch_extension(chromium_path, tmp_path / "profile")
    try:
        ext.set_server(server.group(1))
        options = ext.pair(code.group(1))
        options.get_by_text("Paired: signed in as demo admin (practice admin).").wait_for()
        assert ext.storage()["token"].startswith("art_")
    finally:
        ext.close()

    # another code, from the printed command, in a fresh shell elsewhere
    again = pasted(
        after("* each code works once, within 5 minutes; for another: ", output),
        shell_env(tmp_path),
        tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "Pairing code for demo admin: " in again.stdout
    health = after("* the API: ", output).split()[0]
    assert httpx.get(health).json()["status"] == "ok"


def test_the_demo_names_this_accessrecon_the_way_a_shell_finds_it() -> None:
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from accessrecon.demo import cli_invocation; "
            "sys.argv[0] = sys.argv[1]; print(cli_invocation())",
            str(ACCESSRECON),
        ],
        env={**os.environ, "PATH": f"{ACCESSRECON.parent}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "accessrecon", "on PATH: its name is enough"
