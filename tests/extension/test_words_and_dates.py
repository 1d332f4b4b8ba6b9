"""The extension's words: dates that read the same in every browser, the dashboard's labels,
who must act, and the agent's own login marked to keep.

The worker's modules are plain ES modules, so they run here in a real Chromium page
(served from ``extension/`` under a made-up origin) with the locale and time zone of an
office in the United States and one in Germany: the words must not change with either.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Route

from agent.reports.labels import reason_words, who_can_remove
from agent.reports.words import LABELS
from tests.browser_loop import BrowserLoop
from tests.extension.harness import EXTENSION_DIR

pytestmark = pytest.mark.browser

ORIGIN = "http://extension.test"
TYPES = {".js": "text/javascript", ".html": "text/html"}

#: (locale, time zone): the same answer must read the same in both offices
OFFICES = [("en-US", "America/Los_Angeles"), ("de-DE", "Europe/Berlin")]

SCANNED_AT = "2026-12-05T23:30:00Z"  # already 6 Dec in Berlin, still 5 Dec in Los Angeles
STATUS: dict[str, Any] = {
    "name": "Kōwhai Bakery",
    "client": "Kōwhai Bakery",
    "client_manager": "Mia Manager",
    "client_archived": False,
    "last_ok_scan_at": SCANNED_AT,
    "last_scan_at": SCANNED_AT,
    "last_scan_status": "ok",
    "last_scan_reason": None,
    "stale": False,
    "never_scanned": False,
    "last_scan_failed": False,
    "worst_severity": "critical",
    "open_problems": 2,
    "people_count": 4,
    "pending_count": 0,
    "people": [
        {
            "email": "ben@harbourco.example",
            "name": "Ben Brennan",
            "finding_class": "leaver_access",
            "severity": "critical",
            "review_state": "open",
            "access_status": "active",
            "role": "FINANCIALADVISER",
            "removable_by": "practice",
            "removable_reason": "",
            "detail": "Ben Brennan left on 2026-03-03 and still has Adviser access",
            "finding_id": 11,
        },
        {
            "email": "bo@harbourco.example",
            "name": "Bo Boss",
            "finding_class": "invited_direct",
            "severity": "high",
            "review_state": "accepted_risk",
            "access_status": "active",
            "role": "STANDARD",
            "removable_by": "client",
            "removable_reason": "subscriber",
            "detail": "Bo Boss was invited directly by the client",
            "finding_id": 12,
        },
        {
            "email": "olive@kowhai.example",
            "name": "Olive Owner",
            "finding_class": "client_user",
            "severity": "info",
            "review_state": "open",
            "access_status": "active",
            "role": "STANDARD",
            "removable_by": "client",
            "removable_reason": "subscriber",
            "detail": "",
            "finding_id": 13,
        },
    ],
    "client_requests": [
        {
            "email": "bo@harbourco.example",
            "name": "Bo Boss",
            "requested_at": "2026-12-06T00:10:00+00:00",
        }
    ],
    "agent_logins": ["robot@harbourco.example"],
}


async def _serve_extension(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0].lstrip("/") or "index.html"
    if path == "index.html":
        await route.fulfill(
            body="<!doctype html><title>extension modules</title>",
            status=200,
            content_type="text/html",
        )
        return
    file = (EXTENSION_DIR / path).resolve()
    if EXTENSION_DIR not in file.parents or not file.is_file():
        await route.fulfill(status=404, body="")
        return
    await route.fulfill(
        body=file.read_bytes(), status=200, content_type=TYPES.get(file.suffix, "text/plain")
    )


def in_office(browser_loop: BrowserLoop, locale: str, zone: str, script: str) -> Any:
    """Run ``script`` (an async function's body) in a page of the given locale and zone."""

    async def work(browser: Browser) -> Any:
        context = await browser.new_context(locale=locale, timezone_id=zone)
        try:
            await context.route(f"{ORIGIN}/**", _serve_extension)
            page = await context.new_page()
            await page.goto(f"{ORIGIN}/index.html")
            assert await page.evaluate("() => navigator.language") == locale
            return await page.evaluate(f"async () => {{ {script} }}")
        finally:
            await context.close()

    return browser_loop.run(work)


@pytest.mark.parametrize(("locale", "zone"), OFFICES)
def test_dates_read_the_same_whatever_the_browsers_locale(
    browser_loop: BrowserLoop, locale: str, zone: str
) -> None:
    written = in_office(
        browser_loop,
        locale,
        zone,
        """
        const d = await import('/lib/dates.js');
        const local = new Date(Date.UTC(2026, 11, 5, 23, 30)).toLocaleString();
        return {
            local,
            days: [d.day('2026-12-05'), d.day('2026-03-03T00:00:00Z'), d.day(''),
                   d.day('2026-02-30'), d.day('not a date'), d.day(null)],
            moments: [d.moment('2026-12-05T14:05:00+00:00'), d.moment('2026-12-05T23:30:00Z'),
                      d.moment('2026-12-06T01:05:00+13:00'), d.moment('2026-12-05'),
                      d.moment(undefined)],
            text: d.readableDates('left on 2026-03-03, seen 2026-12-05; not 2026-13-01'),
        };
        """,
    )
    assert written["days"] == ["5 Dec 2026", "3 Mar 2026", "", "", "", ""]
    assert written["moments"] == [
        "5 Dec 2026 14:05 UTC",
        "5 Dec 2026 23:30 UTC",
        "5 Dec 2026 12:05 UTC",
        "5 Dec 2026",
        "",
    ]
    assert written["text"] == "left on 3 Mar 2026, seen 5 Dec 2026; not 2026-13-01"
    # the browser's own formatting does differ between the two offices: the point of it
    expected_local = {"en-US": "12/5/2026", "de-DE": "6.12.2026"}[locale]
    assert expected_local in written["local"]


@pytest.mark.parametrize(("locale", "zone"), OFFICES)
def test_the_popup_and_banner_say_dates_who_acts_and_the_login_to_keep(
    browser_loop: BrowserLoop, locale: str, zone: str
) -> None:
    shown = in_office(
        browser_loop,
        locale,
        zone,
        f"""
        const display = await import('/worker/display.js');
        const state = {{kind: 'org', status: {json.dumps(STATUS)}}};
        const org = {{portal: 'xero', orgId: '!kow01', usersPage: true}};
        const settings = {{server: 'http://127.0.0.1:8765', user: null}};
        return {{
            popup: display.popupView(org, state, settings),
            page: display.contentDisplay(org, state, {{collapsed: false, passiveCapture: true}}),
        }};
        """,
    )
    popup, page = shown["popup"], shown["page"]
    assert popup["status"]["lastOkScanWhen"] == "5 Dec 2026 23:30 UTC"
    assert popup["status"]["agentLogins"] == ["robot@harbourco.example"]
    ben, bo = popup["findings"]
    assert (ben["label"], ben["review"]) == ("Leaver access", "Open")
    assert ben["detail"] == "Ben Brennan left on 3 Mar 2026 and still has Adviser access"
    assert ben["removableBy"] == "The practice can remove it"
    assert (bo["review"], bo["clientAskedOn"]) == ("Accepted risk", "6 Dec 2026")
    assert bo["removableBy"] == "Only the client can remove it: subscriber"

    banner = page["banner"]
    assert banner["items"] == [
        {
            "sentence": "Ben Brennan left on 3 Mar 2026 and still has Adviser access",
            "who": "The practice can remove it",
        },
        {
            "sentence": "Bo Boss was invited directly by the client (accepted risk)",
            "who": "Only the client can remove it: subscriber",
        },
    ]
    assert banner["requested"] == ["Bo Boss: removal requested from the client on 6 Dec 2026"]
    assert banner["keep"] == ["robot@harbourco.example is accessrecon's login: keep"]
    labels = {label["email"]: (label["label"], label["severity"]) for label in page["labels"]}
    assert labels == {
        "ben@harbourco.example": ("Leaver access", "critical"),
        "bo@harbourco.example": ("Invited direct", "high"),
        "olive@kowhai.example": ("Client user", "info"),
        "robot@harbourco.example": ("accessrecon's login: keep", "keep"),
    }


def test_class_and_review_words_are_the_dashboards(browser_loop: BrowserLoop) -> None:
    tables = in_office(
        browser_loop,
        "en-US",
        "UTC",
        """
        const marks = await import('/lib/marks.js');
        return {classes: marks.CLASS_LABELS, reviews: marks.REVIEW_LABELS};
        """,
    )
    for table in (tables["classes"], tables["reviews"]):
        for code, words in table.items():
            assert LABELS[code] == words, code


WHO_CASES = [
    ("leaver_access", "practice", ""),
    ("leaver_access", "client", "subscriber"),
    ("invited_direct", "practice", ""),
    ("invited_direct", "client", "agent lacks Manage users"),
    ("unknown_practice_user", "client", "primary admin"),
]

#: each case as the status API sends it: the stored reason and its words
WHO_CASES_SENT = [(*case, reason_words(case[2])) for case in WHO_CASES]


def test_who_must_act_is_what_every_report_says(browser_loop: BrowserLoop) -> None:
    said = in_office(
        browser_loop,
        "en-US",
        "UTC",
        f"""
        const display = await import('/worker/display.js');
        return {json.dumps(WHO_CASES_SENT)}.map(
            ([finding_class, removable_by, removable_reason, removable_reason_words]) =>
            display.whoCanRemove(
                {{finding_class, removable_by, removable_reason, removable_reason_words}}));
        """,
    )
    for (finding_class, by, reason), words in zip(WHO_CASES, said, strict=True):
        expected = who_can_remove(finding_class, by, reason)
        if expected.by == "practice":
            assert words == "The practice can remove it", finding_class
        else:
            assert words.endswith(f"remove it: {reason_words(expected.reason)}"), words
            assert "client" in words.split(":")[0].lower()


LOCALE_FORMATTING = re.compile(
    r"toLocale(Date|Time)?String\(|Intl\.(DateTimeFormat|RelativeTimeFormat)|toDateString\("
)


@pytest.mark.parametrize(
    "source",
    sorted(EXTENSION_DIR.rglob("*.js")),
    ids=lambda p: p.relative_to(EXTENSION_DIR).as_posix(),
)
def test_no_date_is_formatted_in_the_browsers_locale(source: Path) -> None:
    found = LOCALE_FORMATTING.search(source.read_text("utf-8"))
    assert found is None, f"{source.name} formats in the browser's locale: {found.group(0)}"
