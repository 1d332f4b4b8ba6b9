"""The admins' pages in a real Chromium: the schedule picker (and the schedule running on
what it made), users added and tokens revoked from the Users page.

The practice is ``tests.dashboard.world``'s, with its one Xero login.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from pydantic import ValidationError
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.crawl.scheduling import _store, job_id, list_schedules, running_scheduler
from agent.security.audit import list_events
from agent.security.tokens import hash_secret
from agent.settings import Settings
from agent.storage.models import ApiToken, AppUser, AppUserClient, Client, ScanRequest
from tests.dashboard.conftest import Dashboard

ZONE = "Pacific/Auckland"


def _events(dash: Dashboard, action: str) -> list[tuple[str, dict[str, object]]]:
    with Session(dash.runtime.engine) as session:
        return [(e.actor, e.detail) for e in list_events(session, action=action, limit=None).events]


def _admin(dash: Dashboard) -> str:
    return f"Ada Admin (user #{dash.world.user_ids['admin']})"


def _csrf(page: Page) -> str:
    token = page.locator('form[action="/dashboard/logout"] input[name="csrf"]').get_attribute(
        "value"
    )
    return token or ""


# -- schedules --------------------------------------------------------------------------


def test_the_picker_makes_weekdays_at_seven_and_the_schedule_runs_on_it(dash: Dashboard) -> None:
    login = dash.world.login_id
    settings = dash.runtime.settings
    settings.timezone = ZONE  # the practice's time zone, as ACCESSRECON_TIMEZONE sets it
    try:
        page = dash.page("admin")
        page.goto("/dashboard/schedules")
        expect(page.locator("#practice-zone")).to_have_text(ZONE)
        row = page.locator(f'tr[data-login="{login}"]')
        expect(row.get_by_label(re.compile("Time zone for"))).to_have_value(ZONE)
        row.get_by_label(re.compile("How often for")).select_option("daily")
        row.get_by_label(re.compile("Time of day for")).fill("06:30")
        expect(row.get_by_label(re.compile("Cron for"))).to_have_value("30 6 * * *")
        row.get_by_label(re.compile("How often for")).select_option("weekdays")
        row.get_by_label(re.compile("Time of day for")).fill("07:00")
        # the live preview, before anything is sent
        expect(row.get_by_label(re.compile("Cron for"))).to_have_value("0 7 * * 1-5")
        expect(row.locator('[data-field="preview"]')).to_have_text(
            f"Makes 0 7 * * 1-5: weekdays at 07:00, {ZONE} time."
        )
        dash.screenshot(page, "schedule-picker")
        row.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Schedule saved")
        expect(row.locator('[data-field="words"]')).to_have_text(f"Weekdays at 07:00, {ZONE} time")
        expect(row).to_contain_text("0 7 * * 1-5")
        page.close()
    finally:
        settings.timezone = "UTC"

    (schedule,) = list_schedules(dash.runtime)
    assert (schedule.login_id, schedule.cron, schedule.timezone) == (login, "0 7 * * 1-5", ZONE)
    [(actor, detail)] = _events(dash, "schedule.set")
    assert actor == _admin(dash)
    assert detail == {"login_id": login, "cron": "0 7 * * 1-5", "timezone": ZONE}

    # It fires on weekdays at 07:00 in Auckland: after a Friday's run, the next is Monday's.
    with _store(dash.runtime.engine) as store:
        job = store.lookup_job(job_id(login))
        friday_noon = datetime(2027, 3, 5, 12, 0, tzinfo=ZoneInfo(ZONE))
        upcoming = job.trigger.get_next_fire_time(None, friday_noon)
        assert upcoming == datetime(2027, 3, 8, 7, 0, tzinfo=ZoneInfo(ZONE))
        job._modify(next_run_time=utcnow().replace(microsecond=0))  # due now
        store.update_job(job)

    # And it runs: a due schedule queues a crawl of the login, then waits for the next 07:00.
    with running_scheduler(dash.runtime):
        deadline = time.monotonic() + 15
        queued: list[ScanRequest] = []
        while time.monotonic() < deadline and not queued:
            time.sleep(0.2)
            with Session(dash.runtime.engine) as session:
                queued = list(
                    session.exec(
                        select(ScanRequest).where(
                            ScanRequest.login_id == login,
                            ScanRequest.requested_by == "schedule",
                            ScanRequest.status == "queued",
                        )
                    )
                )
    assert [r.source for r in queued] == ["schedule"]
    (schedule,) = list_schedules(dash.runtime)
    assert schedule.next_run_at is not None
    local = schedule.next_run_at.astimezone(ZoneInfo(ZONE))
    assert (local.hour, local.minute, local.weekday() < 5) == (7, 0, True)
    assert schedule.next_run_at > datetime.now(UTC)


def test_a_cron_written_by_hand_is_kept_and_a_bad_time_changes_nothing(dash: Dashboard) -> None:
    login = dash.world.login_id
    page = dash.page("admin")
    page.goto("/dashboard/schedules")
    row = page.locator(f'tr[data-login="{login}"]')
    row.get_by_label(re.compile("Cron for")).fill("15 18 * * 6")  # by hand: the picker follows
    expect(row.get_by_label(re.compile("How often for"))).to_have_value("cron")
    expect(row.locator('[data-field="preview"]')).to_contain_text("as written")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Schedule saved")
    (schedule,) = list_schedules(dash.runtime)
    assert schedule.cron == "15 18 * * 6"
    saved = len(_events(dash, "schedule.set"))

    refused = page.request.post(
        f"/dashboard/schedules/{login}",
        form={"csrf": _csrf(page), "how": "weekdays", "at": "25:00"},
        headers={"Origin": dash.base},
    )
    assert refused.status == 422
    assert "is not a time of day" in refused.text()
    (schedule,) = list_schedules(dash.runtime)
    assert schedule.cron == "15 18 * * 6"
    assert len(_events(dash, "schedule.set")) == saved
    page.close()


# -- users and tokens -------------------------------------------------------------------


def test_an_admin_adds_a_user_who_then_signs_in(dash: Dashboard) -> None:
    with Session(dash.runtime.engine) as session:
        rata = session.exec(select(Client.id).where(Client.name == "Rātā Joinery")).one()
    page = dash.page("admin")
    page.goto("/dashboard/users")
    form = page.locator("#add-user")
    form.get_by_role("textbox", name=re.compile("^Name")).fill("Rua Reviewer")
    form.get_by_label("Role").select_option("manager")
    form.get_by_label("Clients they may see").select_option("selected")
    form.get_by_label("Selected clients").select_option(str(rata))
    form.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("status")).to_contain_text("Rua Reviewer was added")
    row = page.locator("#users tr", has_text="Rua Reviewer")
    expect(row).to_contain_text("Selected clients")
    expect(row).to_contain_text("1 client")
    dash.screenshot(page, "users")

    with Session(dash.runtime.engine) as session:
        user = session.exec(select(AppUser).where(AppUser.name == "Rua Reviewer")).one()
        clients = session.exec(
            select(AppUserClient.client_id).where(AppUserClient.user_id == user.id)
        ).all()
    assert (user.role, user.scope, list(clients)) == ("manager", "selected", [rata])
    added = [d for a, d in _events(dash, "auth.user_added") if d["name"] == "Rua Reviewer"]
    assert len(added) == 1
    assert [a for a, d in _events(dash, "auth.user_added") if d["name"] == "Rua Reviewer"] == [
        _admin(dash)
    ]

    row.get_by_role("button", name="Show a pairing code").click()
    code = page.locator("#pairing-code").inner_text()
    page.close()
    other = dash.context().new_page()
    other.goto("/dashboard/login")
    other.get_by_label("Pairing code").fill(code)
    other.get_by_role("button", name="Sign in").click()
    expect(other.locator(".who-name")).to_have_text("Rua Reviewer")
    other.goto("/dashboard/orgs")
    expect(other.locator("#orgs tbody tr")).to_have_count(1)
    other.context.close()


def test_a_bad_user_is_refused_whole_and_only_admins_add_users(dash: Dashboard) -> None:
    with Session(dash.runtime.engine) as session:
        before = len(session.exec(select(AppUser)).all())
    events = len(_events(dash, "auth.user_added"))
    page = dash.page("admin")
    page.goto("/dashboard/users")
    form = page.locator("#add-user")
    form.get_by_role("textbox", name=re.compile("^Name")).fill("Mia Manager")  # taken
    form.get_by_label("Role").select_option("employee")
    form.get_by_label("Clients they may see").select_option("all")
    form.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("alert")).to_contain_text("already a user named 'Mia Manager'")
    expect(page.get_by_role("alert")).to_contain_text("nobody was added")
    expect(form.get_by_label("Role")).to_have_value("employee")  # what was typed stays
    form.get_by_role("textbox", name=re.compile("^Name")).fill("Sel Nobody")
    form.get_by_label("Clients they may see").select_option("selected")
    form.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("alert")).to_contain_text("needs at least one client")
    page.close()

    mia = dash.page("mia")
    refused = mia.request.post(
        "/dashboard/users",
        form={"csrf": _csrf(mia), "name": "Sneaky", "role": "practice_admin", "scope": "all"},
        headers={"Origin": dash.base},
    )
    assert refused.status == 403
    mia.close()
    with Session(dash.runtime.engine) as session:
        assert len(session.exec(select(AppUser)).all()) == before
    assert len(_events(dash, "auth.user_added")) == events


def test_an_admin_revokes_a_token_and_that_sign_in_ends(dash: Dashboard) -> None:
    max_page = dash.sign_in("max")
    with Session(dash.runtime.engine) as session:
        token = session.exec(
            select(ApiToken)
            .where(
                ApiToken.user_id == dash.world.user_ids["max"],
                col(ApiToken.revoked_at).is_(None),
            )
            .order_by(col(ApiToken.id).desc())
        ).first()
    assert token is not None

    page = dash.page("admin")
    page.goto("/dashboard/users")
    tokens = page.locator("#tokens")
    expect(tokens.locator(f'tr[data-token="{token.id}"]')).to_contain_text("Max M.")
    expect(tokens.locator(f'tr[data-token="{token.id}"]')).to_contain_text("Dashboard sign-in")
    # no token without the form's own token
    forged = page.request.post(
        f"/dashboard/users/tokens/{token.id}/revoke",
        form={"csrf": "0" * 64},
        headers={"Origin": dash.base},
    )
    assert forged.status == 403
    tokens.get_by_role("button", name=f"Revoke token {token.id} of Max M.").click()
    expect(page.get_by_role("status")).to_contain_text(f"Max M.'s token {token.id}")
    expect(page.locator(f'#tokens tr[data-token="{token.id}"]')).to_have_count(0)
    page.close()

    with Session(dash.runtime.engine) as session:
        revoked = session.get(ApiToken, token.id)
        assert revoked is not None
        assert revoked.revoked_at is not None
    revocations = [a for a, d in _events(dash, "auth.token_revoked") if d["token_id"] == token.id]
    assert revocations == [_admin(dash)]
    max_page.goto("/dashboard/findings")
    assert "/dashboard/login" in max_page.url, "the revoked sign-in is over"
    max_page.context.close()


def test_only_admins_revoke_tokens(dash: Dashboard) -> None:
    # a token of its own: the other tests of this practice may have revoked theirs
    with Session(dash.runtime.engine) as session:
        live = ApiToken(
            user_id=dash.world.user_ids["admin"],
            token_hash=hash_secret("tok_only-admins-revoke"),
            label="a browser to keep",
        )
        session.add(live)
        session.commit()
        session.refresh(live)
    mia = dash.page("mia")
    refused = mia.request.post(
        f"/dashboard/users/tokens/{live.id}/revoke",
        form={"csrf": _csrf(mia)},
        headers={"Origin": dash.base},
    )
    assert refused.status == 403
    mia.close()
    with Session(dash.runtime.engine) as session:
        still = session.get(ApiToken, live.id)
        assert still is not None
        assert still.revoked_at is None


def test_a_practice_time_zone_that_is_not_one_is_named_at_start() -> None:
    with pytest.raises(ValidationError, match="ACCESSRECON_TIMEZONE: 'Mars/Olympus' is not a time"):
        Settings(timezone="Mars/Olympus")
    assert Settings(timezone=" Pacific/Auckland ").timezone == "Pacific/Auckland"
