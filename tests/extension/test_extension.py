"""The browser extension in a real Chromium, against the sandbox portals and the real server.

Each test looks at what a person would see (the toolbar badge, the banner, the row
labels, the popup) or at what reaches the server (scans with source ``extension``),
on orgs of its own in the rig's world (see ``harness``). Closed shadow roots cannot
be read from the page, which is the point of them; the tests read them the way
DevTools does, through the DOM domain of the DevTools protocol.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from agent.storage.models import ScanRequest
from sandbox.portals.common import update_settings
from tests.extension import harness
from tests.extension.conftest import Rig
from tests.extension.harness import (
    HOSTILE,
    HOSTILE_ORG,
    MYOB_A,
    MYOB_B,
    NEVER_SCANNED,
    QBO_A,
    QBO_B,
    QBO_C,
    SCREENSHOTS,
    STALE,
    UNKNOWN_XERO,
    extension_scans,
    shadow_classes,
    shadow_texts,
    wait_for,
)

pytestmark = pytest.mark.browser

RED = [198, 40, 40, 255]
ORANGE = [239, 108, 0, 255]
AMBER = [255, 179, 0, 255]
BLUE = [21, 101, 192, 255]
GREEN = [46, 125, 50, 255]
DIM = [97, 97, 97, 255]
GREY = [158, 158, 158, 255]
PURPLE = [106, 27, 154, 255]
WHITE = [255, 255, 255, 255]
BLACK = [0, 0, 0, 255]

BANNER = "accessrecon-banner"
LABEL = "accessrecon-label"
KEEP = "accessrecon's login: keep"


@pytest.fixture
def pages(rig: Rig) -> Iterator[list[Page]]:
    """Pages a test opens, closed afterwards (tabs are found by address: keep them unique)."""
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.close()


def open_page(rig: Rig, pages: list[Page], portal: str, path: str) -> Page:
    page = rig.open(portal, path)
    pages.append(page)
    return page


def open_popup(rig: Rig, pages: list[Page], tab: int) -> Page:
    page = rig.ext.new_page()
    pages.append(page)
    page.set_viewport_size({"width": 380, "height": 640})
    page.goto(rig.ext.url(f"popup.html?tab={tab}"))
    page.locator("body[data-state]").wait_for()
    return page


def banner_text(page: Page) -> str:
    texts = wait_for(lambda: shadow_texts(page, BANNER), what="the banner")
    assert len(texts) == 1
    return texts[0]


def labels(page: Page, count: int) -> list[str]:
    return wait_for(
        lambda: len(t := shadow_texts(page, LABEL)) == count and sorted(t),
        what=f"{count} row labels",
    )


def settle(rig: Rig, page: Page) -> None:
    """Wait until the content script has asked the worker (the badge is set), then a little."""
    wait_for(lambda: rig.ext.badge(rig.ext.tab_id(page))["text"], what="a badge")
    time.sleep(1.0)


# ------------------------------------------------------------------------------- badge


@pytest.mark.parametrize(
    ("portal", "path", "text", "colour", "text_colour", "says"),
    [
        ("xero", "/app/!crit1/homepage", "2", RED, WHITE, "2 open findings, worst critical"),
        ("xero", "/app/!high1/homepage", "1", ORANGE, WHITE, "1 open finding, worst high"),
        ("xero", "/app/!medm1/homepage", "1", AMBER, BLACK, "1 open finding, worst medium"),
        ("xero", "/app/!lowx1/homepage", "1", BLUE, WHITE, "1 open finding, worst low"),
        ("xero", "/app/!zero1/homepage", "0", GREEN, WHITE, "no open findings"),
        ("xero", f"/app/{STALE}/homepage", "1", DIM, WHITE, "may be out of date"),
        (
            "xero",
            "/app/!fail1/homepage",
            "!",
            PURPLE,
            WHITE,
            "the last scan failed (the login may not view users)",
        ),
        ("xero", f"/app/{NEVER_SCANNED}/homepage", "?", GREY, WHITE, "never been scanned"),
        (
            "xero",
            f"/app/{UNKNOWN_XERO}/homepage",
            "?",
            GREY,
            WHITE,
            "never been scanned (or is outside your clients)",
        ),
        ("qbo", f"/app/company/{QBO_A}/manageusers", "1", RED, WHITE, "worst critical"),
        ("myob", f"/business/{MYOB_A}/users", "1", RED, WHITE, "worst critical"),
    ],
    ids=[
        "critical",
        "high",
        "medium",
        "low",
        "none",
        "stale",
        "failed",
        "never-scanned",
        "unknown",
        "qbo",
        "myob",
    ],
)
def test_the_badge_shows_the_orgs_state(
    rig: Rig,
    pages: list[Page],
    portal: str,
    path: str,
    text: str,
    colour: list[int],
    text_colour: list[int],
    says: str,
) -> None:
    page = open_page(rig, pages, portal, path)
    badge = rig.ext.wait_badge(page, text)
    assert badge["color"] == colour
    assert badge["textColor"] == text_colour
    assert says in badge["title"]


def test_a_server_that_does_not_answer_shows_off(rig: Rig, pages: list[Page]) -> None:
    """Settings are read on every event: changing storage under the worker takes effect."""
    dead = f"http://127.0.0.1:{harness.free_port()}"
    rig.ext.worker.evaluate("server => chrome.storage.local.set({server})", dead)
    try:
        page = open_page(rig, pages, "xero", "/app/!crit1/homepage")
        badge = rig.ext.wait_badge(page, "off")
        assert badge["color"] == GREY
        assert "did not answer" in badge["title"]
        assert shadow_texts(page, BANNER) == []
    finally:
        rig.ext.worker.evaluate("server => chrome.storage.local.set({server})", rig.api)
    page.reload()
    rig.ext.wait_badge(page, "2")


@pytest.mark.parametrize(
    ("portal", "path"),
    [
        ("xero", "/myxero"),
        ("qbo", "/clients"),
        ("myob", "/businesses"),
    ],
)
def test_pages_outside_an_org_have_no_badge_and_no_banner(
    rig: Rig, pages: list[Page], portal: str, path: str
) -> None:
    page = open_page(rig, pages, portal, "/")  # the portal's own redirect to its org list
    page.wait_for_url(f"**{path}")
    time.sleep(1.0)
    assert rig.ext.badge(rig.ext.tab_id(page))["text"] == ""
    assert shadow_texts(page, BANNER) == []


def test_an_address_change_without_a_new_page_redraws_everything(
    rig: Rig, pages: list[Page]
) -> None:
    page = open_page(rig, pages, "xero", "/app/!high1/homepage")
    rig.ext.wait_badge(page, "1")
    assert banner_text(page)
    page.evaluate("() => history.pushState(null, '', '/myxero')")
    rig.ext.wait_badge(page, "")
    wait_for(lambda: shadow_texts(page, BANNER) == [], what="the banner to go")
    page.evaluate("() => history.pushState(null, '', '/app/!zero1/homepage')")
    assert rig.ext.wait_badge(page, "0")["color"] == GREEN


# ------------------------------------------------------------------------------ banner


def test_the_banner_says_who_should_not_be_there_as_text(rig: Rig, pages: list[Page]) -> None:
    """Each finding with who must act on it, and the agent's own login marked to keep."""
    dialogs = len(rig.ext.dialogs)
    page = open_page(rig, pages, "xero", "/app/!crit1/homepage")
    text = banner_text(page)
    robot = harness.org_of(rig.world, "xero", "!crit1").users[0].email
    assert text == (
        "accessrecon · 2 open findings▾"
        "Ben Brennan left on 3 Mar 2026 and still has Adviser access. "
        "The practice can remove it · "
        f"{HOSTILE} was invited directly by the client. "
        "Ask the client to remove it: the client invited them directly"
        f"{robot} is {KEEP}"
    )
    assert harness.shadow_roots(page, BANNER) == ["closed"]
    page.wait_for_timeout(500)
    assert harness.elements_named(page, "img") == 0
    assert harness.elements_named(page, "svg") == 0
    assert len(rig.ext.dialogs) == dialogs
    spacer = page.evaluate(
        "() => document.querySelector('accessrecon-banner').getBoundingClientRect().height"
    )
    assert spacer > 60, "the banner's host keeps room for it at the end of the page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "extension-banner.png"))


def test_an_org_without_findings_gets_no_banner(rig: Rig, pages: list[Page]) -> None:
    page = open_page(rig, pages, "xero", "/app/!zero1/homepage")
    settle(rig, page)
    assert shadow_texts(page, BANNER) == []


def test_a_folded_banner_stays_folded_on_every_page_of_that_org(
    rig: Rig, pages: list[Page]
) -> None:
    page = open_page(rig, pages, "xero", "/app/!lowx1/homepage")
    assert "Lou Low" in banner_text(page)
    x, y = harness.shadow_node_box(page, BANNER, lambda n: n.get("localName") == "button")
    page.mouse.click(x, y)
    wait_for(
        lambda: "collapsed" in shadow_classes(page, BANNER, "section")[0], what="the banner to fold"
    )
    other = open_page(rig, pages, "xero", "/app/!lowx1/settings/users")
    wait_for(lambda: shadow_classes(other, BANNER, "section"), what="the banner")
    assert "collapsed" in shadow_classes(other, BANNER, "section")[0]
    elsewhere = open_page(rig, pages, "xero", "/app/!medm1/homepage")
    wait_for(lambda: shadow_classes(elsewhere, BANNER, "section"), what="the banner")
    assert "collapsed" not in shadow_classes(elsewhere, BANNER, "section")[0]


# -------------------------------------------------------------------------- row labels


def test_each_row_of_a_users_page_gets_its_class_beside_the_email(
    rig: Rig, pages: list[Page]
) -> None:
    dialogs = len(rig.ext.dialogs)
    page = open_page(rig, pages, "xero", "/app/!crit1/settings/users")
    assert labels(page, 5) == ["Client user", "Invited direct", "Leaver access", "Managed", KEEP]
    assert set(harness.shadow_roots(page, LABEL)) == {"closed"}
    cells = page.locator("table tbody tr td:first-child")
    hostile = cells.filter(has_text="mallory@")
    assert hostile.inner_text().splitlines() == [HOSTILE, "mallory@harbourco.example"], (
        "the portal's own text is left as it was"
    )
    assert harness.elements_named(page, "img") == 0
    assert len(rig.ext.dialogs) == dialogs
    page.set_viewport_size({"width": 1100, "height": 900})  # the banner below the table
    page.screenshot(path=str(SCREENSHOTS / "extension-row-labels.png"))


def test_quickbooks_rows_are_labelled_on_both_tabs(rig: Rig, pages: list[Page]) -> None:
    users = open_page(rig, pages, "qbo", f"/app/company/{QBO_A}/manageusers?tab=users")
    assert labels(users, 2) == ["Client user", "Leaver access"]
    firms = open_page(rig, pages, "qbo", f"/app/company/{QBO_A}/manageusers?tab=firms")
    assert labels(firms, 2) == ["Managed", KEEP], "the agent's own login is on the firms tab"


def test_myob_cards_are_labelled_as_they_load(rig: Rig, pages: list[Page]) -> None:
    page = open_page(rig, pages, "myob", f"/business/{MYOB_A}/users")
    first = labels(page, 20)  # 20 cards, one of them the agent's own login (to keep)
    assert set(first) == {"Client user", KEEP}, "Ben's card has not loaded yet"
    for _ in range(10):
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(150)
    assert "Leaver access" in labels(page, 24)


# ------------------------------------------------------------------------------- popup


def test_the_popup_shows_the_org_its_client_and_findings(rig: Rig, pages: list[Page]) -> None:
    dialogs = len(rig.ext.dialogs)
    tab = open_page(rig, pages, "xero", "/app/!crit1/homepage")
    rig.ext.wait_badge(tab, "2")
    popup = open_popup(rig, pages, rig.ext.tab_id(tab))
    assert popup.locator("h1").inner_text() == HOSTILE_ORG
    facts = popup.locator("dl.facts").inner_text()
    assert "Kōwhai Bakery" in facts
    assert "Mia Manager" in facts
    assert "Last good scan" in facts
    assert re.search(r"\(\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC\)", facts), facts
    robot = harness.org_of(rig.world, "xero", "!crit1").users[0].email
    assert f"accessrecon's login{robot}: keep" in facts.replace("\n", "").replace("\t", "")
    assert popup.get_by_role("heading", name="2 open findings").is_visible()
    items = popup.locator("ul.findings li").all_inner_texts()
    assert len(items) == 2
    for text in (
        "Leaver access",
        "Ben Brennan",
        "Open",
        "3 Mar 2026",
        "The practice can remove it",
    ):
        assert text in items[0]
    for text in ("Invited direct", HOSTILE, "Open", "Ask the client to remove it"):
        assert text in items[1]
    assert popup.locator("p.others").inner_text() == "Also: 1 managed, 1 client user"
    link = popup.get_by_role("link", name="Open in dashboard")
    assert link.get_attribute("href") == f"{rig.api}/dashboard/orgs/xero/!crit1"
    assert "Signed in as Ada Admin (practice admin)" in popup.locator("footer").inner_text()
    assert popup.locator("img").count() == 0
    assert len(rig.ext.dialogs) == dialogs
    token = rig.ext.storage()["token"]
    assert token not in popup.content()
    popup.locator("body").screenshot(path=str(SCREENSHOTS / "extension-popup.png"))


def test_rescan_from_the_popup_updates_badge_and_banner(rig: Rig, pages: list[Page]) -> None:
    tab = open_page(rig, pages, "xero", f"/app/{STALE}/homepage")
    assert rig.ext.wait_badge(tab, "1")["color"] == DIM
    assert "Last scanned 10 days ago" in banner_text(tab)
    popup = open_popup(rig, pages, rig.ext.tab_id(tab))
    popup.get_by_role("button", name="Re-scan now").click()
    popup.get_by_text("Queued: waiting for the accessrecon worker").wait_for()
    with Session(rig.runtime.engine) as session:
        queued = session.exec(
            select(ScanRequest).where(
                ScanRequest.portal_org_id == STALE, ScanRequest.status == "queued"
            )
        ).all()
    assert len(queued) == 1
    assert rig.run_worker() == 1
    badge = wait_for(
        lambda: (b := rig.ext.badge(rig.ext.tab_id(tab)))["color"] == RED and b,
        what="the badge to turn red",
    )
    assert (badge["text"], badge["title"].split(" · ")[0]) == (
        "1",
        "accessrecon: 1 open finding, worst critical",
    )
    wait_for(lambda: "Last scanned" not in banner_text(tab), what="the banner to redraw")
    popup.get_by_text("Scan finished.").wait_for()
    # the facts are drawn again from the fresh status, a moment after the message
    wait_for(
        lambda: popup.locator("dl.facts").inner_text().count("just now") == 1 or None,
        what="the popup's facts to say the scan was just now",
    )


# ----------------------------------------------------------------------- passive capture


def test_a_complete_xero_list_is_captured_and_reconciled(rig: Rig, pages: list[Page]) -> None:
    home = open_page(rig, pages, "xero", "/app/!capt1/homepage")
    rig.ext.wait_badge(home, "0")
    harness.org_of(rig.world, "xero", "!capt1").users.append(harness.newcomer("xero"))
    page = open_page(rig, pages, "xero", "/app/!capt1/settings/users")
    scans = wait_for(
        lambda: extension_scans(rig.runtime, "xero", "!capt1"), what="a scan from the extension"
    )
    assert len(scans) == 1
    assert (scans[0].status, scans[0].user_count, scans[0].reported_total) == ("ok", 4, 4)
    assert rig.ext.wait_badge(page, "1")["color"] == ORANGE
    assert "Nia New was invited directly by the client" in banner_text(page)
    assert {"Invited direct", KEEP} <= set(labels(page, 4)), "redrawn with the login to keep"


def test_quickbooks_is_captured_once_both_tabs_were_seen(rig: Rig, pages: list[Page]) -> None:
    harness.org_of(rig.world, "qbo", QBO_B).users.append(harness.newcomer("qbo"))
    users = open_page(rig, pages, "qbo", f"/app/company/{QBO_B}/manageusers?tab=users")
    users.get_by_text("No users to show").wait_for()
    settle(rig, users)
    assert extension_scans(rig.runtime, "qbo", QBO_B) == [], "one tab is not the whole org"
    users.goto(rig.portals.url("qbo", f"/app/company/{QBO_B}/manageusers?tab=firms"))
    scans = wait_for(
        lambda: extension_scans(rig.runtime, "qbo", QBO_B), what="a scan from the extension"
    )
    assert (scans[0].status, scans[0].user_count, scans[0].reported_total) == ("ok", 3, 3)
    assert rig.ext.wait_badge(users, "1")["color"] == ORANGE


def test_a_list_not_wholly_on_screen_is_never_sent(rig: Rig, pages: list[Page]) -> None:
    firms = open_page(rig, pages, "qbo", f"/app/company/{QBO_C}/manageusers?tab=firms")
    settle(rig, firms)
    users = open_page(rig, pages, "qbo", f"/app/company/{QBO_C}/manageusers?tab=users")
    users.get_by_text("1-25 of 30").wait_for()
    settle(rig, users)
    assert extension_scans(rig.runtime, "qbo", QBO_C) == []


def test_myob_is_captured_after_scrolling_to_the_end(rig: Rig, pages: list[Page]) -> None:
    harness.org_of(rig.world, "myob", MYOB_B).users.append(harness.newcomer("myob"))
    page = open_page(rig, pages, "myob", f"/business/{MYOB_B}/users")
    page.get_by_text("Showing 20 of 25").wait_for()
    settle(rig, page)
    assert extension_scans(rig.runtime, "myob", MYOB_B) == [], "20 of 25 is not the list"
    for _ in range(10):
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(150)
    page.get_by_text("Showing 25 of 25").wait_for()
    scans = wait_for(
        lambda: extension_scans(rig.runtime, "myob", MYOB_B), what="a scan from the extension"
    )
    assert (scans[0].status, scans[0].user_count) == ("ok", 25)
    assert rig.ext.wait_badge(page, "1")["color"] == ORANGE


def test_an_unknown_layout_sends_nothing_and_labels_nothing(rig: Rig, pages: list[Page]) -> None:
    update_settings(rig.portals.apps["xero"], layout_version=2)
    try:
        page = open_page(rig, pages, "xero", "/app/!high1/settings/users")
        page.locator("main[data-state='loaded']").wait_for()
        settle(rig, page)
        assert shadow_texts(page, LABEL) == []
        assert extension_scans(rig.runtime, "xero", "!high1") == []
    finally:
        update_settings(rig.portals.apps["xero"], layout_version=1)


def test_passive_capture_can_be_turned_off(rig: Rig, pages: list[Page]) -> None:
    options = rig.ext.options_page()
    pages.append(options)
    box = options.get_by_label("Record the user list I am viewing on an org's users page")
    box.wait_for()
    wait_for(box.is_checked, what="passive capture on by default")
    box.uncheck()
    wait_for(lambda: rig.ext.storage().get("passiveCapture") is False, what="the setting")
    try:
        page = open_page(rig, pages, "xero", "/app/!medm1/settings/users")
        assert labels(page, 2) == ["Role drift", KEEP]
        time.sleep(1.0)
        assert extension_scans(rig.runtime, "xero", "!medm1") == []
    finally:
        box.check()
        wait_for(lambda: rig.ext.storage().get("passiveCapture") is True, what="the setting")


# ------------------------------------------------------------------ pairing and refusal


def test_pairing_keeps_the_token_in_the_worker_only(rig: Rig, pages: list[Page]) -> None:
    rig.ensure_paired()
    token = rig.ext.storage()["token"]
    assert token.startswith("art_")
    options = rig.ext.options_page()
    pages.append(options)
    options.get_by_text("Paired: signed in as Ada Admin (practice admin).").wait_for()
    assert token not in options.content()
    options.screenshot(path=str(SCREENSHOTS / "extension-options.png"), full_page=True)
    options.get_by_label("Pairing code").fill("WRNG-CODE")
    options.get_by_role("button", name="Pair", exact=True).click()
    options.get_by_text("that pairing code is wrong, expired or used up").wait_for()
    assert rig.ext.storage()["token"] == token, "a failed pairing keeps the current one"

    portal = open_page(rig, pages, "xero", "/app/!crit1/homepage")
    rig.ext.wait_badge(portal, "2")
    read = harness.evaluate_in_content_script(
        portal,
        "chrome.storage.local.get(null).then(v => JSON.stringify(v), e => 'refused: ' + e.message)",
    )
    assert str(read).startswith("refused"), read
    tab = rig.ext.tab_id(portal)
    for message in (
        {"type": "popup-status", "tabId": tab},
        {"type": "pair", "code": "X"},
        {"type": "settings-get"},
    ):
        answer = harness.evaluate_in_content_script(
            portal, f"chrome.runtime.sendMessage({json.dumps(message)})"
        )
        assert answer == {"error": "refused"}, message
    assert (
        portal.evaluate(
            "() => Boolean(window.chrome && chrome.runtime && chrome.runtime.sendMessage)"
        )
        is False
    )


def test_without_a_token_the_extension_says_so_and_the_server_refuses(
    rig: Rig, pages: list[Page]
) -> None:
    rig.ensure_paired()
    token = rig.ext.storage()["token"]
    options = rig.ext.options_page()
    pages.append(options)
    options.get_by_role("button", name="Unpair this browser").click()
    options.get_by_text("Unpaired; the token was revoked on the server.").wait_for()
    assert "token" not in rig.ext.storage()
    try:
        page = open_page(rig, pages, "xero", "/app/!crit1/homepage")
        badge = rig.ext.wait_badge(page, "pair")
        assert badge["color"] == GREY
        assert "not paired" in badge["title"]
        time.sleep(0.5)
        assert shadow_texts(page, BANNER) == []
        popup = open_popup(rig, pages, rig.ext.tab_id(page))
        assert "not paired with an accessrecon server" in popup.locator("main").inner_text()
        assert popup.get_by_role("button", name="Pair this browser").is_visible()
        status = f"{rig.api}/api/v1/orgs/xero/!crit1/status"
        assert httpx.get(status).status_code == 401
        revoked = httpx.get(status, headers={"Authorization": f"Bearer {token}"})
        assert revoked.status_code == 401
    finally:
        rig.ensure_paired()
    page.reload()
    rig.ext.wait_badge(page, "2")


# ----------------------------------------------------------------------- org detection


DETECTION = [
    ("http://127.0.0.1:5000/app/!x7Kp2/settings/users", ["xero", "!x7Kp2", True]),
    ("http://localhost:5000/app/%21x7Kp2/homepage", ["xero", "!x7Kp2", False]),
    ("https://go.xero.com/app/!qKTbB/dashboard", ["xero", "!qKTbB", False]),
    ("https://go.xero.com/app/!qKTb/dashboard", None),
    ("https://go.xero.com/app/company/1234567890/manageusers", None),
    (
        "http://127.0.0.1:5000/app/company/1234567890/manageusers?tab=firms",
        ["qbo", "1234567890", True],
    ),
    (
        "https://app.qbo.intuit.com/app/company/1234567890123456789/homepage",
        ["qbo", "1234567890123456789", False],
    ),
    ("https://app.qbo.intuit.com/app/company/123456789/homepage", None),
    (
        "https://app.myob.com/business/3F2C9A4E-8B1D-4C6A-9E7F-0A1B2C3D4E5F/users",
        ["myob", "3f2c9a4e-8b1d-4c6a-9e7f-0a1b2c3d4e5f", True],
    ),
    ("http://go.xero.com/app/!x7Kp2/homepage", None),
    ("https://go.xero.com.evil.example/app/!x7Kp2/homepage", None),
    ("https://evil.example/app/!x7Kp2/homepage", None),
    ("http://127.0.0.1:8765/dashboard/orgs/xero/!x7Kp2", None),
    ("http://127.0.0.1:5000/myxero", None),
]


def test_orgs_are_detected_from_the_address(rig: Rig, pages: list[Page]) -> None:
    page = rig.ext.new_page()
    pages.append(page)
    page.goto(rig.ext.url("options.html"))
    found = page.evaluate(
        """async cases => {
            const {detectOrg} = await import('/lib/orgs.js');
            return cases.map(([url]) => {
                const org = detectOrg(url);
                return org ? [org.portal, org.orgId, org.usersPage] : null;
            });
        }""",
        [[url] for url, _ in DETECTION],
    )
    assert found == [expected for _, expected in DETECTION]
    hinted = page.evaluate(
        """async () => {
            const {detectOrg} = await import('/lib/orgs.js');
            const hint = {qboRealmId: '1234567890'};
            return [detectOrg('https://app.qbo.intuit.com/app/homepage', hint),
                    detectOrg('https://go.xero.com/app/homepage', hint),
                    detectOrg('http://127.0.0.1:5000/app/homepage', hint),
                    detectOrg('https://app.qbo.intuit.com/app/homepage', {qboRealmId: 'x1'})];
        }"""
    )
    assert hinted == [
        {"portal": "qbo", "orgId": "1234567890", "usersPage": False},
        None,
        None,
        None,
    ]


def test_only_the_extension_may_call_the_server(rig: Rig) -> None:
    """The server's gate: the pinned extension's origin passes, a web page's does not."""
    token = rig.ext.storage()["token"]
    status = f"{rig.api}/api/v1/orgs/xero/!crit1/status"
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        httpx.get(
            status, headers={**headers, "Origin": f"chrome-extension://{rig.ext.id}"}
        ).status_code
        == 200
    )
    assert (
        httpx.get(status, headers={**headers, "Origin": "https://evil.example"}).status_code == 403
    )
