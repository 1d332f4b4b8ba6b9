"""A world written out by hand for the removal tests, and how a test removes and reads.

Every line SPEC.md's "Removing a user" draws is in it once: xero viewers with and
without Manage users (and Manage users on Read only, which grants nothing), a
subscriber, pending and declined invitations; qbo viewers as Company admin, as the
practice's Accountant on the firms tab and as Primary admin, with a primary admin,
the practice's own and another firm's entries; myob viewers as Online admin, by the
Administrator role and without either, with advisors the owner added and others.
Each test gets its own copy, since removals change it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.world import World, WorldLogin, WorldOrg
from tests.sandbox.test_portals import EMAIL, PASSWORD, SECRETS, Portal, person, viewer

X_MAIN, X_NO_MANAGE, X_READ_ONLY, X_STANDARD = "!Rem01", "!Rem02", "!Rem03", "!Rem04"
Q_ADMIN, Q_FIRM, Q_PRIMARY, Q_NONE = "4000000001", "4000000002", "4000000003", "4000000004"
M_ADMIN = "a1b2c3d4-0000-4000-8000-000000000001"
M_ROLE = "a1b2c3d4-0000-4000-8000-000000000002"
M_NONE = "a1b2c3d4-0000-4000-8000-000000000003"
SECOND = "second.login@practice.example"
PRACTICE_FIRM, OTHER_FIRM = "Practice & Co <Ltd>", "Other & Co"
#: ids of users added only to be removed, one per try of a fault test
FILLERS = [f"u{n}" for n in range(100, 124)]


def fillers(role: str, status: str, **extra: Any) -> list[Any]:
    return [person(int(uid[1:]), role, status, **extra) for uid in FILLERS]


def build() -> World:
    firm = {"kind": "firms"}
    orgs = [
        WorldOrg(
            "xero",
            X_MAIN,
            "Main & Sons <Ltd>",
            [
                viewer(1, "FINANCIALADVISER", "ACTIVE", extra_permissions=["MANAGE_USERS"]),
                person(2, "STANDARD", "ACTIVE", is_subscriber=True),
                person(3, "STANDARD", "ACTIVE", first_name="Zoë", last_name="O'Brien"),
                person(4, "READONLY", "PENDING"),
                person(5, "INVOICEONLY", "DECLINED"),
                person(6, "STANDARD", "ACTIVE", email=SECOND),
                *fillers("STANDARD", "ACTIVE"),
            ],
        ),
        WorldOrg(
            "xero",
            X_NO_MANAGE,
            "No Manage Ltd",
            [viewer(11, "FINANCIALADVISER", "ACTIVE"), person(12, "STANDARD", "ACTIVE")],
        ),
        WorldOrg(
            "xero",
            X_READ_ONLY,
            "Read Only Ltd",
            [
                viewer(21, "READONLY", "ACTIVE", extra_permissions=["MANAGE_USERS"]),
                person(22, "STANDARD", "ACTIVE"),
            ],
        ),
        WorldOrg(
            "xero",
            X_STANDARD,
            "Standard Ltd",
            [
                viewer(31, "STANDARD", "ACTIVE", extra_permissions=["MANAGE_USERS"]),
                person(32, "CASHBOOKCLIENT", "ACTIVE"),
            ],
        ),
        WorldOrg(
            "qbo",
            Q_ADMIN,
            "Admin Co",
            [
                viewer(40, "Company admin", "Active", kind="users"),
                person(41, "Primary admin", "Active", kind="users"),
                person(42, "Standard all access", "Active", kind="users"),
                person(43, "Reports only", "Invited", kind="users"),
                person(44, "Accountant", "Active", firm_name=PRACTICE_FIRM, **firm),
                person(45, "Accountant", "Active", firm_name=OTHER_FIRM, **firm),
                *fillers("Standard all access", "Active", kind="users"),
            ],
        ),
        WorldOrg(
            "qbo",
            Q_FIRM,
            "Firm Co",
            [
                viewer(50, "Accountant", "Active", firm_name=PRACTICE_FIRM, **firm),
                person(51, "Primary admin", "Active", kind="users"),
                person(52, "Standard all access", "Active", kind="users"),
                person(53, "Accountant", "Active", firm_name=PRACTICE_FIRM, **firm),
                person(54, "Accountant", "Active", firm_name=OTHER_FIRM, **firm),
                person(55, "Accountant", "Invited", firm_name=PRACTICE_FIRM, **firm),
            ],
        ),
        WorldOrg(
            "qbo",
            Q_PRIMARY,
            "Primary Co",
            [
                viewer(60, "Primary admin", "Active", kind="users"),
                person(61, "Accountant", "Active", firm_name=OTHER_FIRM, **firm),
                person(62, "Company admin", "Active", kind="users"),
            ],
        ),
        WorldOrg(
            "qbo",
            Q_NONE,
            "Limited Co",
            [
                viewer(70, "Standard all access", "Active", kind="users"),
                person(71, "Reports only", "Active", kind="users"),
            ],
        ),
        WorldOrg(
            "myob",
            M_ADMIN,
            "Admin Business & Co",
            [
                viewer(80, "Online admin", "ACTIVE", kind="Advisor", myob_roles=["Administrator"]),
                person(81, "File user", "ACTIVE", kind="User", myob_roles=["Sales"]),
                person(82, "Online admin", "ACTIVE", kind="Advisor", added_by_owner=True),
                person(83, "Online admin", "ACTIVE", kind="Advisor"),
                person(
                    84,
                    "File user",
                    "INVITED",
                    kind="User",
                    invite_expires_at="2025-06-20T00:00:00+00:00",
                ),
                *fillers("File user", "ACTIVE", kind="User", myob_roles=["Sales"]),
            ],
        ),
        WorldOrg(
            "myob",
            M_ROLE,
            "Role Business",
            [
                viewer(90, "File user", "ACTIVE", kind="User", myob_roles=["Administrator"]),
                person(91, "File user", "ACTIVE", kind="User"),
            ],
        ),
        WorldOrg(
            "myob",
            M_NONE,
            "No Admin Business",
            [
                viewer(95, "File user", "ACTIVE", kind="User", myob_roles=["Invoicing"]),
                person(96, "Online admin", "ACTIVE", kind="User"),
            ],
        ),
    ]
    logins = [WorldLogin(p, EMAIL, PASSWORD, SECRETS[p]) for p in ("xero", "qbo", "myob")]
    logins.append(WorldLogin("xero", SECOND, PASSWORD, SECRETS["xero"]))
    return World(0, "Practice & Co", ["practice.example"], [], [], orgs, logins, [], [])


def token_in(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


USERS_PAGE = {
    "xero": "/app/{}/settings/users",
    "qbo": "/app/company/{}/manageusers",
    "myob": "/business/{}/users",
}
JSON = {"Accept": "application/json"}


@dataclass
class Remover:
    """Removes and reads as a client of one portal, SPEC's way."""

    portal: Portal
    client: httpx.Client

    @property
    def name(self) -> str:
        return self.portal.name

    def page(self, org_id: str, query: str = "") -> str:
        answer = self.client.get(USERS_PAGE[self.name].format(org_id) + query)
        assert answer.status_code == 200, answer.text
        return answer.text

    def token(self, org_id: str) -> str:
        """A CSRF token of this session, from the page that offers removal."""
        if self.name == "qbo" and org_id == Q_FIRM:
            return token_in(self.page(org_id, "?tab=firms"))
        return token_in(self.page(org_id))

    def remove(
        self, org_id: str, user_id: str, token: str | None, **headers: str
    ) -> httpx.Response:
        """One removal request; qbo's asks for JSON unless ``headers`` say otherwise."""
        sent = {"X-CSRF-Token": token} if token is not None else {}
        if self.name == "xero":
            path = f"/api/orgs/{org_id}/users/{user_id}/remove"
            return self.client.post(path, headers={**sent, **headers})
        if self.name == "myob":
            path = f"/api/businesses/{org_id}/users/{user_id}"
            return self.client.delete(path, headers={**sent, **headers})
        form = {"csrf_token": token} if token is not None else {}
        path = f"/app/company/{org_id}/manageusers/{user_id}/delete"
        return self.client.post(path, data=form, headers={**JSON, **headers})

    def removed(self, answer: httpx.Response, user_id: str) -> bool:
        """Whether ``answer`` is SPEC's success for removing ``user_id``."""
        if self.name == "xero":
            return answer.status_code == 200 and answer.json() == {"removed": user_id}
        if self.name == "myob":
            return answer.status_code == 204 and answer.content == b""
        location = answer.headers.get("location", "")
        return answer.status_code == 303 and f"removed={user_id}" in location

    def listing(self, org_id: str) -> tuple[list[str], int]:
        """The user ids an org lists and the count it states, read as a scraper would."""
        if self.name == "xero":
            body = self.client.get(f"/api/orgs/{org_id}/users").json()
            return [u["userId"] for u in body["users"]], body["total"]
        if self.name == "myob":
            path = f"/api/businesses/{org_id}/users?page=1&pageSize=50"
            body = self.client.get(path).json()
            shown = re.search(r"Showing \d+ of (\d+)", self.page(org_id))
            assert shown
            assert int(shown.group(1)) == body["total"]
            return [u["id"] for u in body["items"]], body["total"]
        ids: list[str] = []
        total = 0
        for tab in ("users", "firms"):
            number, more = 1, True
            while more:
                page = self.page(org_id, f"?tab={tab}&page={number}")
                ids += re.findall(r'<tr data-user-id="([^"]+)">', page)
                count = re.search(r"\d+-\d+ of (\d+)", page)
                total += int(count.group(1)) if count and number == 1 else 0
                number, more = number + 1, 'rel="next"' in page
        return ids, total
