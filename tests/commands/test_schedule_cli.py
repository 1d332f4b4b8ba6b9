"""``accessrecon schedule``, run as a person would: the practice's time zone unless another
is named, the next run in the one date format, a bad zone refused with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from accessrecon.commands.ops import schedule_app
from agent.crawl.scheduling import ScheduleError, list_schedules
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.settings import Settings
from agent.storage.db import session_scope

# The wiring accessrecon/cli.py uses.
app = typer.Typer()
app.add_typer(schedule_app, name="schedule")


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[tuple[Runtime, int]]:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    monkeypatch.setenv("ACCESSRECON_TIMEZONE", "Pacific/Auckland")
    runtime = Runtime(Settings())
    with session_scope(runtime.engine) as session:
        summary = add_login(
            session,
            runtime.box,
            portal="xero",
            email="agent@harbourco.example",
            password="pw",
            totp_secret="JBSWY3DPEHPK3PXP",
        )
    yield runtime, summary.id
    runtime.engine.dispose()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_schedule_is_in_the_practices_time_zone_unless_another_is_named(
    login: tuple[Runtime, int],
) -> None:
    runtime, login_id = login
    code, out = run("schedule", "set", str(login_id), "0 6 * * 1-5")
    assert code == 0, out
    assert "(Pacific/Auckland), next run " in out
    assert out.rstrip().endswith(" UTC"), "the next run in the one date format"
    assert "+13:00" not in out
    assert "-" not in out.split("next run")[1]
    [schedule] = list_schedules(runtime)
    assert schedule.timezone == "Pacific/Auckland"
    assert schedule.next_run_at is not None
    # 06:00 in Auckland (summer time, +13:00) is 17:00 UTC the day before
    assert "17:00 UTC" in out

    code, out = run("schedule", "set", str(login_id), "30 7 * * *", "--timezone", "Europe/London")
    assert code == 0, out
    assert "(Europe/London)" in out
    assert "07:30 UTC" in out
    code, out = run("schedule", "list")
    assert code == 0, out
    assert "Europe/London" in out
    assert "Pacific/Auckland" not in out


def test_a_zone_that_is_not_one_is_refused_and_nothing_is_stored(
    login: tuple[Runtime, int],
) -> None:
    runtime, login_id = login
    args = ["schedule", "set", str(login_id), "0 6 * * *", "--timezone", "Mars/Olympus"]
    result = CliRunner().invoke(app, args)
    # accessrecon.cli.main prints a ScheduleError as one line and exits 1
    assert isinstance(result.exception, ScheduleError)
    assert "'Mars/Olympus' is not a time zone" in str(result.exception)
    assert list_schedules(runtime) == []
