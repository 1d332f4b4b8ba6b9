"""The extension's org ids follow the agent's rules: the shared cases, in the real Chromium.

``extension/lib/org-id.js`` must answer every case of ``tests/cases/org_ids.json``
exactly as ``agent/orgid.py`` does (``tests/test_org_ids.py``), and an org read off
a page's address must be that id in its stored form. Only the extension is needed
(no portals, no server), so this module launches its own Chromium rather than the
shared rig.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from agent.orgid import ID_SHAPES
from tests.extension import harness

pytestmark = pytest.mark.browser

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "cases" / "org_ids.json").read_text("utf-8")
)["cases"]
LABELS = {"xero": "Xero", "qbo": "QuickBooks", "myob": "MYOB"}
#: where each portal's users page names the org (SPEC.md)
USERS_PAGES = {
    "xero": "/app/{}/settings/users",
    "qbo": "/app/company/{}/manageusers",
    "myob": "/business/{}/users",
}


@pytest.fixture(scope="module")
def page(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    ext = harness.launch_extension(chromium_path, tmp_path_factory.mktemp("org-ids"))
    try:
        opened = ext.new_page()
        opened.goto(ext.url("options.html"))
        yield opened
    finally:
        ext.close()


def test_the_extension_answers_every_case_as_the_agent_does(page: Page) -> None:
    answers = page.evaluate(
        """async cases => {
            const {parseOrgId, OrgIdError} = await import('/lib/org-id.js');
            return cases.map(({portal, input}) => {
                try {
                    return {canonical: parseOrgId(portal, input)};
                } catch (error) {
                    return {error: error.message, known: error instanceof OrgIdError};
                }
            });
        }""",
        [{"portal": c["portal"], "input": c["input"]} for c in CASES],
    )
    wrong = []
    for case, answer in zip(CASES, answers, strict=True):
        if "canonical" in case:
            ok = answer == {"canonical": case["canonical"]}
        else:
            ok = (
                answer.get("known") is True
                and case["error"] in answer["error"]
                and (
                    case["portal"] not in LABELS or f"{LABELS[case['portal']]} " in answer["error"]
                )
            )
        if not ok:
            wrong.append(f"{case} -> {answer}")
    assert wrong == []


def test_the_extension_knows_the_same_shapes(page: Page) -> None:
    shapes = page.evaluate("async () => ({...(await import('/lib/org-id.js')).ID_SHAPES})")
    assert shapes == {portal.value: shape for portal, shape in ID_SHAPES.items()}


def test_an_org_read_off_an_address_is_its_stored_id(page: Page) -> None:
    """Every id SPEC allows, as a portal writes it in a users page's address."""
    written = sorted({(c["portal"], c["canonical"]) for c in CASES if "canonical" in c})
    addresses = [
        (f"http://127.0.0.1:5000{USERS_PAGES[portal].format(org_id)}", [portal, org_id, True])
        for portal, org_id in written
    ]
    addresses += [
        (
            f"http://127.0.0.1:5000{USERS_PAGES['myob'].format(org_id.upper())}",
            ["myob", org_id, True],
        )
        for portal, org_id in written
        if portal == "myob"
    ]
    addresses += [
        (f"http://127.0.0.1:5000/app/%21{org_id[1:]}/homepage", ["xero", org_id, False])
        for portal, org_id in written
        if portal == "xero"
    ]
    found = page.evaluate(
        """async urls => {
            const {detectOrg} = await import('/lib/orgs.js');
            return urls.map((url) => {
                const org = detectOrg(url);
                return org ? [org.portal, org.orgId, org.usersPage] : null;
            });
        }""",
        [url for url, _ in addresses],
    )
    assert found == [expected for _, expected in addresses]
