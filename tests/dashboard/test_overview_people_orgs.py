"""What a person reads on the overview, People, a person's page, Orgs and an org's page.

The overview opens with who should not be where (critical and high, most urgent first),
a person's page lists exactly the leaver workbook's rows, People counts the orgs each
person can still reach the same way, Orgs puts problems first, headings name the person
and the org, and no page writes "1 crawls" or an ISO date. Each page is looked at 1366
and 1024 pixels wide and must fit the narrower one without scrolling sideways.

The practice is ``tests.dashboard.world``'s; numbers below are read off it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from agent.reports.common import ReportScope
from agent.reports.leaver import leaver_rows
from agent.reports.totals import open_totals
from agent.security.scope import resolve_scope
from agent.security.users import principal_of
from agent.storage.models import Staff
from server.dashboard.charts import CrawlPoint, trend
from tests.dashboard.conftest import Dashboard
from tests.dashboard.world import HOSTILE, QBO_CAFE

DOMAIN = "harbourco.example"
WIDTHS = (1366, 1024)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
#: a count of one written with a plural noun: "1 crawls", "1 orgs", "1 days"
ONE_PLURAL = re.compile(
    r"(?<![\d,.])1 (crawl|org|day|hour|finding|problem|person|people|user|scan|row|item|client)s?\b"
)


def _one_plurals(text: str) -> list[str]:
    return [m.group(0) for m in ONE_PLURAL.finditer(text) if m.group(0).endswith(("s", "people"))]


def _words(page: Page) -> str:
    """What a person reads on the page; ``<code>`` (a command or a file's format) aside."""
    return str(
        page.evaluate(
            """() => {
                const copy = document.body.cloneNode(true);
                copy.querySelectorAll("code").forEach((c) => c.remove());
                document.body.appendChild(copy);
                copy.style.position = "absolute";
                const text = copy.innerText;
                copy.remove();
                return text;
            }"""
        )
    )


def _scope_ids(dash: Dashboard, who: str) -> frozenset[int] | None:
    with Session(dash.runtime.engine) as session:
        return resolve_scope(session, principal_of(session, dash.world.user_ids[who])).client_ids


def _reach(dash: Dashboard, name: str, who: str = "admin") -> set[tuple[str, str]]:
    """The orgs the leaver workbook lists for ``name``, as the viewer ``who`` may see them."""
    scope = _scope_ids(dash, who)
    with Session(dash.runtime.engine) as session:
        staff = session.get(Staff, dash.world.staff_ids[name])
        assert staff is not None
        return {(r.portal, r.org_id) for r in leaver_rows(session, staff, scope=scope)}


def _orgs_shown(page: Page) -> set[tuple[str, str]]:
    rows = page.locator("#reach tbody tr")
    found = [str(rows.nth(i).get_attribute("data-org")) for i in range(rows.count())]
    return {(portal, org_id) for portal, org_id in (f.split("/", 1) for f in found)}


def _look(dash: Dashboard, page: Page, path: str, name: str) -> str:
    """Open ``path`` at both widths; it must fit 1024 pixels. Returns the page's text."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 860})
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        dash.screenshot(page, f"{name}-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px window"
    return page.locator("body").inner_text()


# -- the overview -----------------------------------------------------------------------


def test_the_overview_names_the_people_with_critical_and_high_findings_first(
    dash: Dashboard,
) -> None:
    page = dash.page("admin")
    _look(dash, page, "/dashboard", "overview-people")
    rows = page.locator("#urgent-people tbody tr")
    names = [rows.nth(i).locator("td").first.locator("a").inner_text() for i in range(4)]
    # Ben (critical) first; then the direct invites and the unknown address, longest open
    # first: Nia since the first crawl, the hostile-named invitee since the third, the
    # unknown practice address since the fourth.
    assert names == ["Ben Brennan", "Nia New", HOSTILE, "Ghost Writer"]
    assert rows.count() == 4
    assert [rows.nth(i).get_attribute("data-severity") for i in range(4)] == [
        "critical",
        "high",
        "high",
        "high",
    ]
    ben = rows.nth(0)
    expect(ben.locator('[data-field="orgs"]')).to_have_text("4")
    expect(ben).to_contain_text("left 3 Mar 2026")
    expect(ben).to_contain_text("Leaver access")
    first_seen = ben.locator('[data-field="first-seen"]').inner_text()
    crawl_day = (datetime.now(UTC) - timedelta(days=6, hours=2)).date()
    assert first_seen.startswith(f"{crawl_day.day} {crawl_day:%b %Y}"), first_seen
    assert "open 6 days" in first_seen
    expect(page.locator("#urgent-count")).to_contain_text("4 people with open critical or high")
    # each name leads to where that person is dealt with
    assert ben.locator("a").get_attribute("href") == (
        f"/dashboard/people/{dash.world.staff_ids['Ben Brennan']}"
    )
    ghost = rows.nth(3).locator("a")
    assert ghost.get_attribute("href") == f"/dashboard/findings?q=ghost%40{DOMAIN}"
    # the list comes before the tiles, and OK and Info are drawn smaller than problems
    assert (
        page.locator("#urgent").bounding_box()["y"]
        < (  # type: ignore[index]
            page.locator('a[data-severity="critical"]').bounding_box()["y"]  # type: ignore[index]
        )
    )
    big = page.locator('a[data-severity="critical"] .tile-count').bounding_box()
    small = page.locator('a[data-severity="info"] .tile-count').bounding_box()
    assert big is not None
    assert small is not None
    assert small["height"] < big["height"] * 0.75
    page.close()

    mia = dash.page("mia")  # her clients: Ben on Kōwhai only, Nia on Mānuka, the invitee
    rows = mia.locator("#urgent-people tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Ben Brennan")
    expect(rows.nth(0).locator('[data-field="orgs"]')).to_have_text("1")
    expect(mia.locator("#urgent")).not_to_contain_text("Ghost Writer")
    mia.close()


def test_the_overviews_totals_are_the_reports_totals(dash: Dashboard) -> None:
    for who in ("admin", "mia", "eve"):
        scope = ReportScope.of(_scope_ids(dash, who))
        with Session(dash.runtime.engine) as session:
            totals = open_totals(session, scope=scope)
        page = dash.page(who)
        tiles = {
            s: int(page.locator(f'a[data-severity="{s}"] .tile-count').inner_text())
            for s in ("critical", "high", "medium", "low")
        }
        assert tiles == {s: totals.findings.by_severity.get(s, 0) for s in tiles}, who
        expect(page.locator("#totals")).to_contain_text(
            f"need{'s' if totals.findings.total == 1 else ''} action, on "
            f"{totals.clients_with_findings} of {totals.clients} client"
        )
        assert page.locator("#totals").inner_text().startswith(f"{totals.findings.total} finding")
        page.close()


def test_the_trend_has_one_scale_per_chart(dash: Dashboard) -> None:
    page = dash.page("admin")
    expect(page.locator("#trend")).to_have_text("Trend over the last 6 crawls")
    problems = page.locator("#trend-problems svg")
    scans = page.locator("#trend-scans svg")
    expect(problems.locator("circle.trend-dot")).to_have_count(6)
    expect(problems.locator("rect")).to_have_count(0)
    expect(scans.locator("circle")).to_have_count(0)
    expect(scans.locator("rect.bar-failed")).to_have_count(2)
    # one axis each: every tick on the left, and the problems' axis reaches the most open
    for chart in (problems, scans):
        anchors = chart.locator("text.axis[text-anchor='end']")
        assert anchors.count() >= 2
    top = max(int(t) for t in problems.locator("text.axis[text-anchor='end']").all_text_contents())
    assert 13 <= top < 26, "the line's axis is near its largest value (13 open problems)"
    for label in problems.locator("text.axis[text-anchor='middle']").all_text_contents():
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", label), label
    expect(page.locator("#trend-summary")).to_contain_text("12 open problems after the latest")
    page.close()


def test_a_trend_reads_with_one_crawl_and_with_fifty() -> None:
    start = datetime(2026, 10, 1, 6, tzinfo=UTC)
    assert trend([CrawlPoint(start, 55, 11, 0)]) is None, "one crawl is a sentence, not a chart"
    points = [CrawlPoint(start + timedelta(days=i), 55 - i % 7, 11, i % 3) for i in range(50)]
    drawn = trend(points)
    assert drawn is not None
    problems, scans = drawn.problems, drawn.scans
    assert len(problems.dots) == 50
    assert len(scans.bars) == 100
    for chart in (problems, scans):
        assert 2 <= len(chart.labels) <= 6, "dates never crowd the axis"
        assert chart.labels[-1][1] == "19 Nov 2026", "the latest crawl is always dated"
        assert all(x <= chart.width for x, _, _ in chart.labels)
    bottom = problems.top + problems.plot_height
    assert all(problems.top <= d.y <= bottom for d in problems.dots)
    assert problems.ticks[-1].value == 60, "55 open problems against 60, not 100"
    assert scans.ticks[-1].value == 15
    assert min(d.y for d in problems.dots) < problems.top + problems.plot_height * 0.2
    assert "1 Oct 2026 06:00 UTC: 55 open problems" in problems.dots[0].title


# -- people ----------------------------------------------------------------------------


def test_a_persons_page_lists_the_leaver_workbooks_rows(dash: Dashboard) -> None:
    page = dash.page("admin")
    ben = dash.world.staff_ids["Ben Brennan"]
    _look(dash, page, f"/dashboard/people/{ben}", "person-ben")
    assert page.title() == "Ben Brennan — left 3 Mar 2026 · accessrecon"
    expect(page.locator("h1")).to_have_text("Ben Brennan — left 3 Mar 2026")
    shown = _orgs_shown(page)
    assert shown == _reach(dash, "Ben Brennan")
    assert shown == {
        ("xero", "!kow01"),
        ("xero", "!rat01"),
        ("xero", "!old01"),
        ("xero", "!unl01"),
    }
    expect(page.locator("#reach-count")).to_have_text("4 orgs in your scope")

    ana = dash.world.staff_ids["Ana Active"]
    page.goto(f"/dashboard/people/{ana}")
    expect(page.locator("h1")).to_have_text("Ana Active")
    shown = _orgs_shown(page)
    # the workbook's rows include the private address that may be hers (a probable match)
    assert shown == _reach(dash, "Ana Active")
    assert ("myob", "3f2c9a4e-8b1d-4c6a-9e7f-0a1b2c3d4e5f") in shown
    expect(page.locator("#reach")).to_contain_text("anna.active@gmail.example")
    page.close()

    mia = dash.page("mia")
    mia.goto(f"/dashboard/people/{ben}")
    rows = mia.locator("#reach tbody tr")
    expect(rows).to_have_count(1)
    assert {("xero", "!kow01")} == _reach(dash, "Ben Brennan", "mia")
    assert rows.first.get_attribute("data-org") == "xero/!kow01"
    mia.close()


def test_people_shows_how_many_orgs_each_person_can_still_reach(dash: Dashboard) -> None:
    page = dash.page("admin")
    text = _look(dash, page, "/dashboard/people", "people")
    counts = {}
    for name, staff_id in dash.world.staff_ids.items():
        cell = page.locator(f'tr[data-staff="{staff_id}"] [data-field="reach"]')
        counts[name] = int(cell.inner_text())
        assert counts[name] == len(_reach(dash, name)), name
    assert counts["Ben Brennan"] == 4
    assert counts["Mia Manager"] == 0
    assert "8 people on the roster" in text
    page.goto("/dashboard/people?q=ben")
    expect(page.locator("#people-count")).to_have_text("1 person on the roster matches")
    page.close()

    mia = dash.page("mia")  # her scope: Ben reaches one of her clients
    mia.goto("/dashboard/people")
    cell = mia.locator(
        f'tr[data-staff="{dash.world.staff_ids["Ben Brennan"]}"] [data-field="reach"]'
    )
    expect(cell).to_have_text("1")
    mia.close()


# -- orgs ------------------------------------------------------------------------------


def test_orgs_come_problems_first_and_an_org_is_named_with_its_portal(dash: Dashboard) -> None:
    page = dash.page("admin")
    _look(dash, page, "/dashboard/orgs", "orgs")
    rows = page.locator("#orgs tbody tr")
    order = [str(rows.nth(i).get_attribute("data-org")) for i in range(rows.count())]
    ranks = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    worst = []
    for i in range(rows.count()):
        badge = rows.nth(i).locator('[data-field="problems"] .sev')
        worst.append(ranks[(badge.inner_text()).lower()] if badge.count() else 9)
    assert worst == sorted(worst), "worst problems first"
    assert order[:4] == ["xero/!kow01", "xero/!rat01", "xero/!unl01", "xero/!old01"]
    assert order[4] == "xero/!fai01", "then high: a direct invite, on an org that failed"
    # no problems last, and of those the one never read before the one read recently
    assert order[-2:] == ["xero/!nev01", f"qbo/{QBO_CAFE}"]

    _look(dash, page, f"/dashboard/orgs/qbo/{QBO_CAFE}", "org-cafe")
    assert page.title() == "Pōhutukawa Café (QuickBooks Online) · accessrecon"
    expect(page.locator("h1")).to_have_text("Pōhutukawa Café (QuickBooks Online)")
    _look(dash, page, "/dashboard/orgs/xero/!kow01", "org-kowhai")
    expect(page.locator("h1")).to_have_text("Kōwhai Bakery Ltd (Xero)")
    # the leaver's detail was written with an ISO date; it reads as every date does
    expect(page.locator("#org-people")).to_contain_text("left on 3 Mar 2026")
    expect(page.locator("#org-scans")).to_contain_text("the portal said 4 users; 4 read")
    page.close()


# -- words and dates on every page ------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "eve"])
def test_no_page_writes_1_crawls_or_an_iso_date(dash: Dashboard, who: str) -> None:
    page = dash.page(who)
    ben = dash.world.staff_ids["Ben Brennan"]
    paths = [
        "/dashboard",
        "/dashboard/people",
        f"/dashboard/people/{ben}",
        "/dashboard/orgs",
        "/dashboard/orgs/xero/!rat01",
        "/dashboard/scans",
        "/dashboard/removals",
        "/dashboard/review",
        "/dashboard/expiring",
    ]
    if who == "admin":
        paths += [
            "/dashboard/orgs/xero/!kow01",
            "/dashboard/orgs/xero/!fai01",
            "/dashboard/imports",
        ]
    seen = []
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        text = _words(page) + " " + page.title()
        assert not ISO_DATE.findall(text), (path, ISO_DATE.findall(text))
        assert not _one_plurals(text), (path, _one_plurals(text))
        seen.append(text)
    if who == "eve":
        # Eve sees one client: her overview counts one org, in the singular
        assert "1 org in your scope" in seen[0]
    page.close()
