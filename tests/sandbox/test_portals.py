"""The sandbox portals keep SPEC.md's contract, checked over real HTTP.

Scrapers are written against the contract, not against this implementation, so these
tests pin every point of it on all three portals: sign-in texts and flows, lockout,
``next``, sessions, 404s, permissions, pagination, layout 2, rate limit, faults and
escaping. Each portal runs on a real socket with a clock the test controls, so
sessions, lockouts and TOTP steps end on demand instead of in real time. The world is
written out by hand (plus a loop of filler companies) so every boundary the contract
names is present once: 0, 1, 25 and 26 users on a qbo tab, 60 myob users, two xero
orgs whose codes differ only in case, hostile names everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.portals import create_portal_app
from sandbox.portals.common import (
    VARIANT_JSON_EXTRAS,
    PortalSettings,
    runtime_of,
    update_settings,
)
from sandbox.serve import PortalServer
from sandbox.world import World, WorldLogin, WorldOrg, WorldUser

START = 1_750_000_000.0  # 2025-06-15T15:06:40Z
HOSTILE = "<img src=x onerror=alert(1)>"
PORTALS = ("xero", "qbo", "myob")
EMAIL = "robot@practice.example"
PASSWORD = "horse & <battery> 'staple' = 🐴"
SECRETS = {
    "xero": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "qbo": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "myob": "JBSWY3DPEHPK3PXP",  # the classic 80-bit secret: shorter than pyotp now allows
}

XERO_MAIN, XERO_TWIN, XERO_SOLO, XERO_FOREIGN = "!Ab3De", "!aB3dE", "!Solo1", "!Zz9Yy"
QBO_BIG, QBO_EXACT, QBO_FIRM_ONLY = "1234567890", "5555555555", "9876543210123"
QBO_ALONE, QBO_LIMITED, QBO_FOREIGN = "3333333333", "1111111111", "2222222222"
QBO_FILLERS = 47
MYOB_BIG = "6f1c3a52-0d2e-4c61-9a57-1b2f3c4d5e6f"
MYOB_ALONE = "0b5e1f0e-7a7c-4a57-8f43-2f4f3b0c9d11"
MYOB_NO_ADMIN = "5a3d2c1b-9e8f-4a7b-b6c5-d4e3f2a1b0c9"
MYOB_FOREIGN = "e2d1c0b9-a8f7-4e6d-8c5b-4a3f2e1d0c9b"
MAIN_ORG = {"xero": XERO_MAIN, "qbo": QBO_BIG, "myob": MYOB_BIG}
FOREIGN_ORG = {"xero": XERO_FOREIGN, "qbo": QBO_FOREIGN, "myob": MYOB_FOREIGN}
NO_PERMISSION_ORG = {"xero": XERO_TWIN, "qbo": QBO_LIMITED, "myob": MYOB_NO_ADMIN}

#: one TLS context for every client: building one per client costs a tenth of a second
TLS = ssl.create_default_context()


@dataclass(frozen=True)
class Paths:
    login: str
    mfa: str
    home: str
    users_page: str  # format with the org id
    users_json: str | None


PATHS = {
    "xero": Paths(
        "/identity/user/login",
        "/identity/user/login/two-step",
        "/myxero",
        "/app/{}/settings/users",
        "/api/orgs/{}/users",
    ),
    "qbo": Paths("/signin", "/signin/verify", "/clients", "/app/company/{}/manageusers", None),
    "myob": Paths(
        "/account/login",
        "/account/mfa",
        "/businesses",
        "/business/{}/users",
        "/api/businesses/{}/users",
    ),
}


def totp_at(portal: str, moment: float) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s), written out apart from the portal's own code."""
    secret = SECRETS[portal]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, int(moment // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def person(n: int, role: str, status: str, **extra: Any) -> WorldUser:
    return WorldUser(
        user_id=f"u{n}",
        first_name=extra.pop("first_name", f"Person{n}"),
        last_name=extra.pop("last_name", "Client"),
        email=extra.pop("email", f"person{n}@client.example"),
        role=role,
        status=status,
        **extra,
    )


def viewer(n: int, role: str, status: str, **extra: Any) -> WorldUser:
    return person(n, role, status, first_name="Access", last_name="Robot", email=EMAIL, **extra)


def xero_orgs() -> list[WorldOrg]:
    main = [
        viewer(
            1,
            "FINANCIALADVISER",
            "ACTIVE",
            extra_permissions=["MANAGE_USERS"],
            is_subscriber=True,
            last_login_utc=iso(START - 3600),
            logins_this_week=4,
        ),
        person(
            2,
            "STANDARD",
            "ACTIVE",
            first_name="Zoë",
            last_name="O'Brien 🎉",
            email="zoe.o'brien@client.example",
            two_step=False,
            extra_permissions=["PAYROLL_ADMIN", "BANK_ACCOUNT_ADMIN"],
        ),
        person(3, "READONLY", "PENDING", first_name=HOSTILE, last_name="Doe & Sons"),
        person(4, "INVOICEONLY", "DECLINED", last_name="a=b"),
    ]
    return [
        WorldOrg("xero", XERO_MAIN, f"Smith & O'Neil {HOSTILE}", main),
        WorldOrg(
            "xero",
            XERO_TWIN,
            f"Smith & O'Neil {HOSTILE}",
            [viewer(5, "READONLY", "ACTIVE"), person(6, "STANDARD", "ACTIVE")],
        ),
        WorldOrg("xero", XERO_SOLO, "Solo Ltd", [viewer(7, "STANDARD", "ACTIVE")]),
        WorldOrg("xero", XERO_FOREIGN, "Not Ours Ltd", [person(8, "STANDARD", "ACTIVE")]),
    ]


def qbo_orgs() -> list[WorldOrg]:
    def staff(first: int, count: int) -> list[WorldUser]:
        return [
            person(first + i, "Standard all access", "Active", kind="users") for i in range(count)
        ]

    firm = person(
        900,
        "Accountant",
        "Invited",
        kind="firms",
        firm_name=f"Ledger & Co {HOSTILE}",
        first_name=HOSTILE,
        last_name="O'Hara",
    )
    orgs = [
        WorldOrg(
            "qbo",
            QBO_BIG,
            f"Big Co {HOSTILE}",
            [viewer(10, "Company admin", "Active", kind="users"), *staff(11, 25), firm],
        ),
        WorldOrg(
            "qbo",
            QBO_EXACT,
            "Exact Co",
            [viewer(40, "Primary admin", "Active", kind="users"), *staff(41, 24)],
        ),
        WorldOrg(
            "qbo",
            QBO_FIRM_ONLY,
            "Firm Only Co",
            [viewer(70, "Accountant", "Active", kind="firms", firm_name="Practice")],
        ),
        WorldOrg(
            "qbo", QBO_ALONE, "Alone Co", [viewer(71, "Primary admin", "Active", kind="users")]
        ),
        WorldOrg(
            "qbo",
            QBO_LIMITED,
            "Limited Co",
            [viewer(72, "Standard all access", "Active", kind="users"), *staff(73, 2)],
        ),
        WorldOrg("qbo", QBO_FOREIGN, "Not Ours Co", staff(80, 3)),
    ]
    orgs += [
        WorldOrg(
            "qbo",
            f"70000000{i:02d}",
            f"Filler {i:02d}",
            [viewer(1000 + i, "Primary admin", "Active", kind="users")],
        )
        for i in range(QBO_FILLERS)
    ]
    return orgs


def myob_orgs() -> list[WorldOrg]:
    big = [viewer(100, "Online admin", "ACTIVE", kind="Advisor", myob_roles=["Administrator"])]
    big.append(
        person(
            101,
            "File user",
            "INVITED",
            kind="User",
            myob_roles=["Sales", "Payroll"],
            invite_expires_at=iso(START + 2.5 * 86400),
        )
    )
    big.append(
        person(
            102,
            "File user",
            "ACTIVE",
            kind="Advisor",
            first_name=HOSTILE,
            last_name="O'Neil & Co",
            myob_roles=["Invoicing"],
            added_by_owner=True,
        )
    )
    big += [
        person(103 + i, "File user", "ACTIVE", kind="User", myob_roles=["Sales"]) for i in range(57)
    ]
    return [
        WorldOrg("myob", MYOB_BIG, f"Big Business {HOSTILE}", big, serial_number="612345678901"),
        WorldOrg(
            "myob",
            MYOB_ALONE,
            "Alone Business",
            [viewer(200, "File user", "ACTIVE", kind="User", myob_roles=["Administrator"])],
            serial_number="612345678902",
        ),
        WorldOrg(
            "myob",
            MYOB_NO_ADMIN,
            "No Admin Business",
            [
                viewer(201, "File user", "ACTIVE", kind="User", myob_roles=["Invoicing"]),
                person(202, "Online admin", "ACTIVE", kind="User"),
            ],
        ),
        WorldOrg("myob", MYOB_FOREIGN, "Not Ours Business", [person(203, "File user", "ACTIVE")]),
    ]


def build_world() -> World:
    return World(
        seed=0,
        practice_name="Harbour & Co",
        practice_domains=["practice.example"],
        staff=[],
        clients=[],
        orgs=[*xero_orgs(), *qbo_orgs(), *myob_orgs()],
        logins=[WorldLogin(p, EMAIL, PASSWORD, SECRETS[p]) for p in PORTALS],
        grants=[],
        truth=[],
    )


class FakeClock:
    """The portal's notion of now, moved by the test."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Portal:
    """One running sandbox portal and the ways a test talks to it."""

    name: str
    world: World
    server: PortalServer
    clock: FakeClock
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        app: Starlette = self.server.app  # type: ignore[assignment]
        return app

    @property
    def paths(self) -> Paths:
        return PATHS[self.name]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def settings(self, **changes: Any) -> PortalSettings:
        return update_settings(self.app, **changes)

    def client(self, **kwargs: Any) -> httpx.Client:
        client = httpx.Client(
            base_url=self.base_url, timeout=kwargs.pop("timeout", 5.0), verify=TLS, **kwargs
        )
        self.clients.append(client)
        return client

    def code(self) -> str:
        return totp_at(self.name, self.clock.now)

    def fresh_code(self) -> str:
        """A code from a step no earlier sign-in has used."""
        self.clock.advance(30)
        return self.code()

    def submit_password(
        self,
        client: httpx.Client,
        *,
        email: str = EMAIL,
        password: str = PASSWORD,
        next_url: str | None = None,
    ) -> httpx.Response:
        extra = {"next": next_url} if next_url is not None else {}
        if self.name == "qbo":
            first = client.post("/signin", data={"identifier": email, **extra})
            assert first.status_code == 303, first.text
            assert first.headers["location"] == "/signin/password"
            return client.post("/signin/password", data={"password": password})
        return client.post(self.paths.login, data={"email": email, "password": password, **extra})

    def submit_code(self, client: httpx.Client, code: str) -> httpx.Response:
        return client.post(self.paths.mfa, data={"code": code})

    def sign_in(
        self, client: httpx.Client | None = None, *, next_url: str | None = None
    ) -> tuple[httpx.Client, httpx.Response]:
        """Password and a fresh code; returns the client and the final redirect."""
        client = client or self.client()
        first = self.submit_password(client, next_url=next_url)
        assert first.status_code == 303, first.text
        assert first.headers["location"] == self.paths.mfa
        done = self.submit_code(client, self.fresh_code())
        assert done.status_code == 303, done.text
        return client, done

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()


def start(world: World, name: str, **settings: Any) -> Portal:
    app = create_portal_app(name, world, PortalSettings(**settings))
    clock = FakeClock()
    runtime_of(app).clock = clock
    return Portal(name, world, PortalServer(app).start(), clock)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def portals(world: World) -> Iterator[dict[str, Portal]]:
    """One long-lived server per portal, for tests that change no settings."""
    running = {name: start(world, name) for name in PORTALS}
    yield running
    for portal in running.values():
        portal.close()


@pytest.fixture
def fresh(world: World) -> Iterator[Callable[..., Portal]]:
    """Start a portal of its own for a test that changes settings or state."""
    started: list[Portal] = []

    def make(name: str, **settings: Any) -> Portal:
        portal = start(world, name, **settings)
        started.append(portal)
        return portal

    yield make
    for portal in started:
        portal.close()


WRONG_PASSWORD = {
    "xero": "Your email or password is incorrect",
    "qbo": "Incorrect password. Try again or reset it.",
    "myob": "Incorrect email or password.",
}
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def visible_text(page: str) -> str:
    """What a person reads on a page: tags, scripts and styles gone, entities decoded."""
    stripped = re.sub(r"(?s)<script.*?</script>|<style.*?</style>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", stripped)).split())


def users_url(portal: Portal, org_id: str) -> str:
    return portal.paths.users_page.format(org_id)


def json_url(portal: Portal, org_id: str) -> str:
    assert portal.paths.users_json is not None
    return portal.paths.users_json.format(org_id)


def labelled_inputs(page: str) -> dict[str, str]:
    """``{label text: input id}`` for every ``<label for>`` whose input exists."""
    found = {}
    for target, label in re.findall(r'<label for="([^"]+)">([^<]+)</label>', page):
        if f'<input id="{target}"' in page:
            found[html.unescape(label)] = target
    return found


def without_token(page: str) -> str:
    """A page with its CSRF token blanked: every page that offers removal gets a fresh one."""
    return re.sub(r'(<meta name="csrf-token" content=")[^"]*"', r'\1"', page)


def buttons(page: str) -> list[str]:
    return [html.unescape(b) for b in re.findall(r"<button[^>]*>([^<]+)</button>", page)]


# --------------------------------------------------------------------------- sign-in


SIGN_IN_FORMS = {
    "xero": ({"Email address", "Password"}, "Log in", "Authentication code", "Confirm"),
    "qbo": ({"Email or user ID"}, "Continue", "Verification code", "Continue"),
    "myob": ({"Email", "Password"}, "Sign in", "Code from your authenticator app", "Verify"),
}


@pytest.mark.parametrize("name", PORTALS)
def test_sign_in_pages_label_their_inputs_and_buttons(portals, name):
    portal = portals[name]
    client = portal.client()
    first_labels, first_button, code_label, code_button = SIGN_IN_FORMS[name]
    page = client.get(portal.paths.login)
    assert page.status_code == 200
    assert set(labelled_inputs(page.text)) == first_labels
    assert buttons(page.text) == [first_button]
    if name == "qbo":
        client.post("/signin", data={"identifier": EMAIL})
        password_page = client.get("/signin/password")
        assert set(labelled_inputs(password_page.text)) == {"Password"}
        assert buttons(password_page.text) == ["Sign in"]
        client.post("/signin/password", data={"password": PASSWORD})
    else:
        client.post(portal.paths.login, data={"email": EMAIL, "password": PASSWORD})
    mfa = client.get(portal.paths.mfa)
    assert mfa.status_code == 200
    assert set(labelled_inputs(mfa.text)) == {code_label}
    assert buttons(mfa.text) == [code_button]


@pytest.mark.parametrize("name", PORTALS)
def test_sign_in_lands_on_the_org_list_with_an_httponly_portal_cookie(portals, name):
    portal = portals[name]
    client, done = portal.sign_in()
    assert done.headers["location"] == portal.paths.home
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{name}_session_{portal.server.port}=")
    assert "HttpOnly" in cookie
    assert client.get(portal.paths.home).status_code == 200


@pytest.mark.parametrize("name", PORTALS)
def test_wrong_password_says_so_and_does_not_reach_the_code_step(portals, name):
    portal = portals[name]
    client = portal.client()
    wrong = portal.submit_password(client, password=PASSWORD + "x")
    assert wrong.status_code == 200
    assert WRONG_PASSWORD[name] in visible_text(wrong.text)
    assert portal.submit_code(client, portal.fresh_code()).headers["location"] == portal.paths.login
    portal.sign_in()  # a right password resets the count of wrong ones


@pytest.mark.parametrize("name", PORTALS)
def test_wrong_codes_stay_on_the_code_step_and_never_lock(portals, name):
    portal = portals[name]
    client = portal.client()
    assert portal.submit_password(client).status_code == 303
    good = portal.fresh_code()
    for wrong in [f"{(int(good) + 1) % 1_000_000:06d}", "abcdef", "", "1234567"] * 2:
        page = portal.submit_code(client, wrong)
        assert page.status_code == 200
        assert "That code is incorrect" in visible_text(page.text)
    done = portal.submit_code(client, good)
    assert done.status_code == 303
    assert done.headers["location"] == portal.paths.home


@pytest.mark.parametrize("name", PORTALS)
def test_a_used_code_is_refused_within_its_step(portals, name):
    portal = portals[name]
    first = portal.client()
    portal.submit_password(first)
    code = portal.fresh_code()
    assert portal.submit_code(first, code).status_code == 303
    second = portal.client()
    portal.submit_password(second)
    refused = portal.submit_code(second, code)
    assert refused.status_code == 200
    assert "That code is incorrect" in visible_text(refused.text)
    assert portal.submit_code(second, portal.fresh_code()).status_code == 303


@pytest.mark.parametrize("name", PORTALS)
def test_codes_allow_one_step_of_drift_and_no_more(portals, name):
    portal = portals[name]
    portal.clock.advance(300)
    for offset, accepted in ((-60, False), (-30, True), (30, True)):
        client = portal.client()
        portal.submit_password(client)
        answer = portal.submit_code(client, totp_at(name, portal.clock.now + offset))
        assert (answer.status_code == 303) is accepted, (offset, answer.text)
    portal.clock.advance(60)  # past the step just used ahead of time


@pytest.mark.parametrize("name", PORTALS)
def test_the_fifth_wrong_password_in_a_row_locks_the_email(fresh, name):
    portal = fresh(name)
    client = portal.client()
    for _ in range(4):
        portal.submit_password(client, password="wrong")
    portal.sign_in()  # not in a row any more
    for i in range(4):
        page = portal.submit_password(client, password=f"wrong {i}")
        assert page.status_code == 200
        assert WRONG_PASSWORD[name] in visible_text(page.text)
    locked = portal.submit_password(client, password="wrong again")
    assert locked.status_code == 429
    assert "Too many attempts" in visible_text(locked.text)
    assert "retry-after" not in locked.headers
    right = portal.submit_password(portal.client(), email=f"  {EMAIL.upper()}", password=PASSWORD)
    assert right.status_code == 429
    assert "Too many attempts" in visible_text(right.text)
    portal.clock.advance(899)
    assert portal.submit_password(portal.client()).status_code == 429
    portal.clock.advance(2)
    portal.sign_in()


@pytest.mark.parametrize("name", PORTALS)
def test_next_is_followed_when_it_belongs_to_the_portal(portals, name):
    portal = portals[name]
    target = users_url(portal, MAIN_ORG[name])
    if name == "qbo":
        target += "?tab=firms&page=1"
    bounced = portal.client().get(target)
    assert bounced.status_code == 302
    location = urlsplit(bounced.headers["location"])
    assert location.path == portal.paths.login
    given = parse_qs(location.query)["next"][0]
    assert unquote(given) == unquote(target)
    login_page = portal.client().get(bounced.headers["location"])
    assert f'name="next" value="{html.escape(given)}"' in login_page.text

    client, done = portal.sign_in(next_url=given)
    assert unquote(done.headers["location"]) == unquote(target)
    assert client.get(done.headers["location"]).status_code == 200
    _, done = portal.sign_in(next_url=portal.base_url + target)
    assert unquote(done.headers["location"]) == unquote(target)


@pytest.mark.parametrize("name", PORTALS)
@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1:1/x",
        "relative/path",
    ],
)
def test_next_pointing_elsewhere_is_ignored(portals, name, foreign):
    portal = portals[name]
    _, done = portal.sign_in(next_url=foreign)
    assert done.headers["location"] == portal.paths.home


# -------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("name", PORTALS)
def test_without_a_session_pages_redirect_and_json_answers_401(portals, name):
    portal = portals[name]
    client = portal.client(cookies={f"{name}_session_{portal.server.port}": "forged"})
    page = client.get(portal.paths.home)
    assert page.status_code == 302
    assert page.headers["location"] == f"{portal.paths.login}?next=%2F{portal.paths.home[1:]}"
    asked_json = client.get(portal.paths.home, headers={"Accept": "application/json"})
    assert asked_json.status_code == 401
    assert asked_json.json() == {"error": "session_expired"}
    if portal.paths.users_json:
        api = client.get(json_url(portal, MAIN_ORG[name]))
        assert api.status_code == 401
        assert api.json() == {"error": "session_expired"}
    if name == "xero":
        assert client.get("/api/myxero/orgs").json() == {"error": "session_expired"}


@pytest.mark.parametrize("name", PORTALS)
def test_session_lifetime_counts_from_sign_in_not_from_activity(fresh, name):
    portal = fresh(name, session_lifetime_s=100)
    client, _ = portal.sign_in()
    for step in (40, 40, 19):
        portal.clock.advance(step)
        assert client.get(portal.paths.home).status_code == 200
    portal.clock.advance(1)
    assert client.get(portal.paths.home).status_code == 302
    if portal.paths.users_json:
        assert client.get(json_url(portal, MAIN_ORG[name])).status_code == 401


@pytest.mark.parametrize("name", PORTALS)
def test_session_ends_after_n_requests_when_asked(fresh, name):
    portal = fresh(name, session_expiry_requests=3)
    client, _ = portal.sign_in()
    for _ in range(3):
        assert client.get(portal.paths.home).status_code == 200
    assert client.get(portal.paths.home).status_code == 302
    portal.settings(session_expiry_requests=None)
    again, _ = portal.sign_in()
    for _ in range(5):
        assert again.get(portal.paths.home).status_code == 200


def test_requests_that_fail_still_count_towards_session_expiry(fresh):
    portal = fresh("myob", session_expiry_requests=3, seed=2)
    client, _ = portal.sign_in()
    portal.settings(error_rate=1.0)
    assert all(client.get(portal.paths.home).status_code >= 500 for _ in range(3))
    portal.settings(error_rate=0.0)
    assert client.get(portal.paths.home).status_code == 302


def test_cookies_of_portals_on_one_host_never_mix(portals):
    jar = httpx.Cookies()
    for portal in portals.values():
        client, _ = portal.sign_in()
        jar.update(client.cookies)
    assert len(jar) == 3
    with httpx.Client(cookies=jar, verify=TLS) as shared:
        for portal in portals.values():
            page = shared.get(portal.base_url + portal.paths.home)
            assert page.status_code == 200, portal.name


# ------------------------------------------------------------------ orgs and permission


@pytest.mark.parametrize("name", PORTALS)
def test_orgs_the_login_is_not_a_user_of_answer_404(portals, name):
    portal = portals[name]
    client, _ = portal.sign_in()
    for org_id in (FOREIGN_ORG[name], "0", "!nope1"):
        assert client.get(users_url(portal, org_id)).status_code == 404
        if portal.paths.users_json:
            api = client.get(json_url(portal, org_id))
            assert api.status_code == 404
            assert api.json() == {"error": "not_found"}


@pytest.mark.parametrize("name", PORTALS)
def test_a_role_that_cannot_view_users_gets_the_permission_page(portals, name):
    portal = portals[name]
    client, _ = portal.sign_in()
    org_id = NO_PERMISSION_ORG[name]
    page = client.get(users_url(portal, org_id))
    assert page.status_code == 200
    assert "You don't have permission to view users" in visible_text(page.text)
    assert f'data-org-id="{html.escape(org_id)}"' in page.text
    if portal.paths.users_json:
        api = client.get(json_url(portal, org_id))
        assert api.status_code == 403
        assert api.json() == {"error": "no_permission"}


@pytest.mark.parametrize("name", PORTALS)
def test_every_users_page_names_the_org_it_shows(portals, name):
    portal = portals[name]
    client, _ = portal.sign_in()
    org = next(o for o in portal.world.orgs if o.org_id == MAIN_ORG[name])
    page = client.get(users_url(portal, org.org_id)).text
    assert f'<main id="{"manage-users" if name == "qbo" else "users-page"}"' in page
    assert f'data-org-id="{html.escape(org.org_id)}"' in page
    assert f'<h1 class="org-name">{html.escape(org.name)}</h1>' in page


# ------------------------------------------------------------------------------ xero


def test_xero_org_list_json_lists_only_the_logins_orgs(portals):
    portal = portals["xero"]
    client, _ = portal.sign_in()
    orgs = client.get("/api/myxero/orgs").json()["orgs"]
    assert [o["shortCode"] for o in orgs] == [XERO_MAIN, XERO_TWIN, XERO_SOLO]
    assert orgs[0] == {
        "shortCode": XERO_MAIN,
        "name": f"Smith & O'Neil {HOSTILE}",
        "role": "FINANCIALADVISER",
        "isSubscriber": True,
    }
    page = client.get("/myxero").text
    assert "Solo Ltd" not in page  # the table is drawn in the browser from the JSON
    assert 'data-orgs-url="/api/myxero/orgs"' in page


def test_xero_users_json_follows_the_contract(portals):
    portal = portals["xero"]
    client, _ = portal.sign_in()
    body = client.get("/api/orgs/%21Ab3De/users").json()
    assert body == client.get("/api/orgs/!Ab3De/users").json()
    assert body["total"] == 4
    assert len(body["users"]) == 4
    keys = {
        "userId",
        "firstName",
        "lastName",
        "email",
        "role",
        "extraPermissions",
        "status",
        "twoStep",
        "lastLoginUtc",
        "loginsThisWeek",
        "isSubscriber",
    }
    assert all(set(u) == keys for u in body["users"])
    me, zoe, hostile, declined = body["users"]
    assert me["email"] == EMAIL
    assert me["extraPermissions"] == ["MANAGE_USERS"]
    assert me["lastLoginUtc"] == iso(START - 3600)
    assert me["isSubscriber"] is True
    assert zoe["extraPermissions"] == ["PAYROLL_ADMIN", "BANK_ACCOUNT_ADMIN"]
    assert zoe["twoStep"] is False
    assert zoe["lastLoginUtc"] is None
    assert zoe["lastName"] == "O'Brien 🎉"
    assert (hostile["firstName"], hostile["status"]) == (HOSTILE, "PENDING")
    assert (declined["role"], declined["status"]) == ("INVOICEONLY", "DECLINED")
    solo = client.get(f"/api/orgs/{XERO_SOLO}/users").json()
    assert solo["total"] == 1
    assert solo["users"][0]["email"] == EMAIL


def test_xero_short_codes_are_case_sensitive(portals):
    portal = portals["xero"]
    client, _ = portal.sign_in()
    assert client.get(f"/api/orgs/{XERO_MAIN}/users").status_code == 200
    assert client.get(f"/api/orgs/{XERO_TWIN}/users").status_code == 403
    assert client.get("/api/orgs/!AB3DE/users").status_code == 404


def test_xero_users_page_draws_its_table_in_the_browser(portals):
    portal = portals["xero"]
    client, _ = portal.sign_in()
    page = client.get("/app/%21Ab3De/settings/users").text
    assert "<h2>Users</h2>" in page
    assert 'data-users-url="/api/orgs/!Ab3De/users"' in page
    assert "zoe.o" not in page
    assert "innerHTML" not in page
    assert "setTimeout" in page  # the table arrives 0.2-1 s after the page
    for text in (
        "Two-step authentication",
        "Logins this week",
        "Adviser",
        "Manage users",
        "Bank account admin",
        "Never",
        "Not enabled",
        '" users"',
    ):
        assert text in page
    home = client.get(f"/app/{XERO_MAIN}/homepage").text
    assert f'href="/app/{XERO_MAIN}/settings/users">Users</a>' in home


# ------------------------------------------------------------------------------- qbo


def rows(page: str) -> int:
    return page.count("<tr data-user-id=")


def test_qbo_users_tab_shows_25_rows_a_page(portals):
    portal = portals["qbo"]
    client, _ = portal.sign_in()
    base = f"/app/company/{QBO_BIG}/manageusers"
    first = client.get(base).text
    assert without_token(first) == without_token(client.get(base + "?tab=users&page=1").text)
    assert rows(first) == 25
    assert "1-25 of 26" in visible_text(first)
    assert re.search(
        r'<th scope="col">Name</th><th scope="col">Email</th>'
        r'<th scope="col">User type</th><th scope="col">Status</th>'
        r'<th scope="col">Action</th>',  # the viewer is a Company admin
        first,
    )
    assert re.search(r'<a href="[^"]*tab=users[^"]*" aria-current="page">Users</a>', first)
    assert re.search(r'<a href="[^"]*tab=firms[^"]*">Accounting firms</a>', first)
    next_link = re.search(r'<a href="([^"]+)" rel="next">Next</a>', first)
    assert next_link
    second = client.get(html.unescape(next_link.group(1))).text
    assert rows(second) == 1
    assert "26-26 of 26" in visible_text(second)
    assert ">Next</a>" not in second
    assert client.get(base + "?tab=users&page=3").status_code == 404
    assert client.get(base + "?tab=users&page=0").status_code == 404
    assert client.get(base + "?tab=admins").status_code == 404


def test_qbo_firms_tab_lists_firm_rows(portals):
    portal = portals["qbo"]
    client, _ = portal.sign_in()
    page = client.get(f"/app/company/{QBO_BIG}/manageusers?tab=firms").text
    assert re.search(
        r'<th scope="col">Firm</th><th scope="col">Name</th>'
        r'<th scope="col">Email</th><th scope="col">Status</th>',
        page,
    )
    assert rows(page) == 1
    assert "1-1 of 1" in visible_text(page)
    assert f"Ledger &amp; Co {ESCAPED}" in page
    assert ">Invited</td>" in page


@pytest.mark.parametrize(
    ("org_id", "tab", "expected"),
    [
        (QBO_EXACT, "users", "1-25 of 25"),
        (QBO_EXACT, "firms", "No accounting firms"),
        (QBO_ALONE, "users", "1-1 of 1"),
        (QBO_FIRM_ONLY, "users", "No users to show"),
        (QBO_FIRM_ONLY, "firms", "1-1 of 1"),
    ],
)
def test_qbo_tab_boundaries(portals, org_id, tab, expected):
    portal = portals["qbo"]
    client, _ = portal.sign_in()
    page = client.get(f"/app/company/{org_id}/manageusers?tab={tab}&page=1").text
    assert expected in visible_text(page)
    assert ">Next</a>" not in page
    if expected.startswith("No "):
        assert rows(page) == 0
        assert "<table" not in page


def test_qbo_client_list_shows_50_a_page(portals):
    portal = portals["qbo"]
    client, _ = portal.sign_in()
    first = client.get("/clients").text
    assert re.search(r'<th scope="col">Client</th><th scope="col">Status</th>', first)
    links = re.findall(r'<a href="/app/company/(\d+)/manageusers">', first)
    assert len(links) == 50
    assert QBO_FOREIGN not in links
    assert f"Big Co {ESCAPED}" in first
    assert '<a href="/clients?page=2" rel="next">Next</a>' in first
    second = client.get("/clients?page=2").text
    assert len(re.findall(r'<a href="/app/company/(\d+)/manageusers">', second)) == 2
    assert ">Next</a>" not in second
    assert "51-52 of 52" in visible_text(second)
    assert client.get("/clients?page=3").status_code == 404


# ------------------------------------------------------------------------------ myob


def test_myob_users_page_shows_20_cards_then_says_how_many(portals):
    portal = portals["myob"]
    client, _ = portal.sign_in()
    page = client.get(f"/business/{MYOB_BIG}/users").text
    text = visible_text(page)
    assert "<h2>Users and permissions</h2>" in page
    assert page.count("<article ") == 20
    assert "Showing 20 of 60" in text
    assert 'data-next-page="2"' in page
    assert "No users yet" not in text
    viewer_card = re.search(
        r'<article [^>]*aria-labelledby="(user-1-name)"[^>]*>'
        r'<h3 id="\1">Access Robot</h3>',
        page,
    )
    assert viewer_card
    for line in (
        f"Email: {EMAIL}",
        "Access: Advisor",
        "User type: Online admin",
        "Roles: Administrator",
        "Roles: Sales, Payroll",
        "Access: User",
        "User type: File user",
        "Invited Expires in 3 days",
    ):
        assert line in text
    assert f'<h3 id="user-3-name">{ESCAPED} O&#x27;Neil &amp; Co</h3>' in page


def test_myob_users_json_pages_and_caps_page_size(portals):
    portal = portals["myob"]
    client, _ = portal.sign_in()
    url = f"/api/businesses/{MYOB_BIG}/users"

    def get(**params):
        return client.get(url, params=params)

    first = get(page=1, pageSize=20).json()
    assert set(first) == {"items", "total", "page"}
    assert (len(first["items"]), first["total"], first["page"]) == (20, 60, 1)
    assert set(first["items"][0]) == {
        "id",
        "name",
        "email",
        "access",
        "userType",
        "roles",
        "status",
        "inviteExpiresAt",
        "addedBy",
    }
    assert first["items"][1]["status"] == "INVITED"
    assert first["items"][1]["inviteExpiresAt"] == iso(START + 2.5 * 86400)
    assert first["items"][0]["access"] == "Advisor"
    assert [len(get(page=k, pageSize=20).json()["items"]) for k in (2, 3, 4)] == [20, 20, 0]
    assert len(get().json()["items"]) == 20
    capped = get(page=1, pageSize=100).json()
    assert len(capped["items"]) == 50
    assert len(get(page=2, pageSize=100).json()["items"]) == 10
    rest = get(page=2, pageSize=50).json()["items"]
    assert len({i["id"] for i in capped["items"] + rest}) == 60
    for bad in ({"page": 0}, {"pageSize": 0}, {"page": "x"}, {"pageSize": "-3"}):
        answer = get(**bad)
        assert answer.status_code == 400
        assert answer.json() == {"error": "bad_request"}
    assert client.get(f"/api/businesses/{MYOB_BIG.upper()}/users").status_code == 200


def test_myob_viewer_alone_sees_own_card_and_no_users_yet(portals):
    portal = portals["myob"]
    client, _ = portal.sign_in()
    page = client.get(f"/business/{MYOB_ALONE}/users").text
    text = visible_text(page)
    assert "No users yet" in text
    assert "Showing 1 of 1" in text
    assert page.count("<article ") == 1
    assert "Access Robot" in text


def test_myob_business_list_links_each_business_with_its_serial(portals):
    portal = portals["myob"]
    client, _ = portal.sign_in()
    page = client.get("/businesses").text
    assert (
        f'<a href="/business/{MYOB_BIG}/users">Big Business {ESCAPED}</a> '
        '<span class="serial">Serial number: 612345678901</span>'
    ) in page
    assert f'<a href="/business/{MYOB_NO_ADMIN}/users">No Admin Business</a>' in page
    assert MYOB_FOREIGN not in page


# -------------------------------------------------------------------------- layout 2


@pytest.mark.parametrize("name", PORTALS)
def test_layout_2_renames_the_users_markup_and_json_only(portals, fresh, name):
    old = portals[name]
    portal = fresh(name, layout_version=2)
    assert portal.client().get(portal.paths.login).text == old.client().get(old.paths.login).text
    client, _ = portal.sign_in()
    old_client, _ = old.sign_in()
    page = client.get(users_url(portal, MAIN_ORG[name])).text
    assert 'data-layout="2"' in page or name == "qbo"
    if name == "xero":
        body = client.get(json_url(portal, XERO_MAIN)).json()
        assert set(body) == {"count", "members"}
        assert body["count"] == 4
        old_keys = {"userId", "firstName", "lastName", "email", "role", "status", "twoStep"}
        assert not old_keys & set(body["members"][0])
        assert client.get("/api/myxero/orgs").json() == old_client.get("/api/myxero/orgs").json()
    elif name == "qbo":
        assert "<table" not in page
        assert "<th" not in page
        assert page.count('<li class="person"') == 25
        assert "1-25 of 26" in visible_text(page)
        clients = client.get("/clients").text
        assert clients == old_client.get("/clients").text
    else:
        assert "<article" not in page
        assert page.count('<li class="member-tile"') == 20
        assert "Showing 20 of 60" in visible_text(page)
        body = client.get(json_url(portal, MYOB_BIG)).json()
        assert set(body) == {"results", "count", "pageNumber"}
        assert not {"id", "name", "email", "status"} & set(body["results"][0])
        assert client.get("/businesses").text == old_client.get("/businesses").text
    portal.settings(layout_version=1)
    if portal.paths.users_json:
        assert "total" in client.get(json_url(portal, MAIN_ORG[name])).json()
    assert "<table" in client.get(users_url(portal, QBO_BIG)).text or name != "qbo"


# ----------------------------------------------------------------- rate limit, faults


@pytest.mark.parametrize("name", PORTALS)
def test_rate_limit_answers_429_with_retry_after(fresh, name):
    portal = fresh(name, rate_limit_per_s=2)
    client = portal.client()
    answers = [client.get(portal.paths.login) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    limited = answers[2]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many requests" in visible_text(limited.text)
    as_json = client.get(portal.paths.home, headers={"Accept": "application/json"})
    assert as_json.status_code == 429
    assert as_json.json() == {"error": "rate_limited"}
    assert int(as_json.headers["retry-after"]) >= 1
    portal.settings(rate_limit_per_s=None)
    assert client.get(portal.paths.login).status_code == 200


@pytest.mark.parametrize("name", PORTALS)
def test_error_rate_answers_500_502_503(fresh, name):
    portal = fresh(name, error_rate=1.0, seed=7)
    client = portal.client()
    statuses = {client.get(portal.paths.login).status_code for _ in range(20)}
    assert statuses <= {500, 502, 503}
    assert len(statuses) >= 2
    portal.settings(error_rate=0.0)
    assert client.get(portal.paths.login).status_code == 200


@pytest.mark.parametrize("name", PORTALS)
def test_some_errors_come_after_the_code_step_was_carried_out(fresh, name):
    portal = fresh(name, seed=3)
    seen = set()
    for _ in range(12):
        client = portal.client()
        assert portal.submit_password(client).status_code == 303
        code = portal.fresh_code()
        portal.settings(error_rate=1.0)
        failed = portal.submit_code(client, code)
        portal.settings(error_rate=0.0)
        assert failed.status_code in {500, 502, 503}
        retry = portal.submit_code(client, code)
        if retry.headers.get("location") == portal.paths.home:
            seen.add("refused before the work")
            continue
        # carried out: the sign-in under way is spent, and so is its code
        assert retry.headers["location"] == portal.paths.login
        again = portal.client()
        portal.submit_password(again)
        assert "That code is incorrect" in visible_text(portal.submit_code(again, code).text)
        seen.add("failed after the work")
    assert seen == {"refused before the work", "failed after the work"}


@pytest.mark.parametrize("name", PORTALS)
def test_timeouts_never_complete_the_response(fresh, name):
    portal = fresh(name, timeout_rate=1.0, seed=11)
    client = portal.client(timeout=0.15)
    statuses: list[int] = []

    def read_login_page() -> None:
        with client.stream("GET", portal.paths.login) as response:
            statuses.append(response.status_code)  # the headers came
            response.read()

    for _ in range(6):
        with pytest.raises(httpx.TimeoutException):
            read_login_page()
    assert 0 < len(statuses) < 6  # some stalled before the headers, some after
    assert set(statuses) == {200}
    portal.settings(timeout_rate=0.0)
    assert client.get(portal.paths.login).status_code == 200


def test_server_stops_promptly_with_responses_left_hanging(fresh):
    portal = fresh("xero", timeout_rate=1.0, seed=1)
    sockets = []
    for _ in range(4):
        sock = socket.create_connection(("127.0.0.1", portal.server.port))
        sock.sendall(b"GET /identity/user/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sockets.append(sock)
    time.sleep(0.2)
    began = time.monotonic()
    portal.server.stop()
    assert time.monotonic() - began < 3
    for sock in sockets:
        sock.close()


def test_latency_delays_every_answer(fresh):
    portal = fresh("qbo", latency_ms=150, jitter_ms=50)
    client = portal.client()
    began = time.monotonic()
    assert client.get(portal.paths.login).status_code == 200
    assert 0.15 <= time.monotonic() - began < 2


# -------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("name", "paths"),
    [
        ("xero", [f"/app/{XERO_MAIN}/homepage", f"/app/{XERO_MAIN}/settings/users"]),
        (
            "qbo",
            [
                "/clients",
                f"/app/company/{QBO_BIG}/manageusers?tab=firms",
                f"/app/company/{QBO_BIG}/manageusers",
            ],
        ),
        ("myob", ["/businesses", f"/business/{MYOB_BIG}/users"]),
    ],
)
def test_hostile_names_are_escaped_everywhere(portals, name, paths):
    portal = portals[name]
    client, _ = portal.sign_in()
    for path in paths:
        page = client.get(path).text
        assert "<img" not in page, path
        assert "onerror=alert(1)&gt;" in page, path
    if name == "xero":
        users = client.get(f"/api/orgs/{XERO_MAIN}/users")
        assert users.headers["content-type"].startswith("application/json")
        assert HOSTILE in {u["firstName"] for u in users.json()["users"]}
    if name == "qbo":
        page = client.get(f"/app/company/{QBO_BIG}/manageusers?tab=firms").text
        assert f"<td>{ESCAPED} O&#x27;Hara</td>" in page


def test_a_hostile_identifier_is_echoed_as_text(portals):
    portal = portals["qbo"]
    client = portal.client()
    client.post("/signin", data={"identifier": HOSTILE + "\"'&"})
    page = client.get("/signin/password").text
    assert f"{ESCAPED}&quot;&#x27;&amp;" in page
    assert "<img" not in page


# -------------------------------------------------------------- settings and serving


@pytest.mark.parametrize(
    "bad",
    [
        {"error_rate": 1.5},
        {"timeout_rate": -0.1},
        {"error_rate": 0.6, "timeout_rate": 0.6},
        {"layout_version": 3},
        {"rate_limit_per_s": 0},
        {"lockout_after": 0},
        {"session_expiry_requests": 0},
        {"latency_ms": -1},
    ],
)
def test_settings_refuse_impossible_values(bad):
    with pytest.raises(ValueError):  # noqa: PT011 - each message names its field
        PortalSettings(**bad)


def test_python_m_sandbox_serve_serves_one_portal(world, tmp_path):
    saved = tmp_path / "world.json"
    world.save(saved)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--world",
            str(saved),
            "--portal",
            "qbo",
            "--port",
            "0",
            "--error-rate",
            "0",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert url, line + (process.stderr.read() if process.poll() is not None else "")
        page = httpx.get(url.group(1) + "/signin", timeout=5)
        assert page.status_code == 200
        assert "Email or user ID" in page.text
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


# --------------------------------------------------------------------------- browser


def browser_sign_in_steps(portal: Portal) -> list[tuple[str, str | None]]:
    """``(label, value)`` to fill, ``(button, None)`` to press, in order."""
    first_labels, first_button, code_label, code_button = SIGN_IN_FORMS[portal.name]
    values = {
        "Email address": EMAIL,
        "Email": EMAIL,
        "Email or user ID": EMAIL,
        "Password": PASSWORD,
    }
    steps: list[tuple[str, str | None]] = [(label, values[label]) for label in sorted(first_labels)]
    steps.append((first_button, None))
    if portal.name == "qbo":
        steps += [("Password", PASSWORD), ("Sign in", None)]
    steps += [(code_label, "code"), (code_button, None)]
    return steps


async def browser_sign_in(page, portal: Portal) -> None:
    await page.goto(portal.base_url + portal.paths.login)
    for target, value in browser_sign_in_steps(portal):
        if value is None:
            await page.get_by_role("button", name=target, exact=True).click()
            await page.wait_for_load_state()
        else:
            text = portal.fresh_code() if value == "code" else value
            await page.get_by_label(target, exact=True).fill(text)
    await page.wait_for_url(portal.base_url + portal.paths.home)


@pytest.mark.browser
def test_xero_tables_are_drawn_from_json_in_chromium(browser_loop, portals):
    portal = portals["xero"]

    async def work(browser):
        context = await browser.new_context()
        dialogs = []
        try:
            page = await context.new_page()
            page.on("dialog", lambda d: dialogs.append(d.message))
            await browser_sign_in(page, portal)
            await page.locator("#org-list[data-state=loaded]").wait_for()
            links = await page.get_by_role("link").all_inner_texts()
            headers = await page.get_by_role("columnheader").all_inner_texts()
            await page.get_by_role("link", name="Solo Ltd").click()
            await page.get_by_role("link", name="Users", exact=True).click()
            await page.locator("#users-page[data-state=loaded]").wait_for()
            solo = await page.locator("#user-count").inner_text()
            await page.goto(portal.base_url + f"/app/{XERO_MAIN}/settings/users")
            await page.locator("#users-page[data-state=loaded]").wait_for()
            table = {
                "count": await page.locator("#user-count").inner_text(),
                "headers": await page.get_by_role("columnheader").all_inner_texts(),
                "rows": [
                    await row.get_by_role("cell").all_inner_texts()
                    for row in await page.get_by_role("row").all()
                ][1:],
                "images": await page.locator("img").count(),
            }
            portal.settings(layout_version=2)
            try:
                await page.reload()
                await page.locator("#users-page[data-state=loaded]").wait_for()
                v2 = (
                    await page.locator("table").count(),
                    await page.get_by_role("listitem").count(),
                )
            finally:
                portal.settings(layout_version=1)
            return links, headers, solo, table, v2, dialogs
        finally:
            await context.close()

    links, headers, solo, table, v2, dialogs = browser_loop.run(work, timeout=60)
    assert links.count(f"Smith & O'Neil {HOSTILE}") == 2  # two orgs may share a name
    assert "Solo Ltd" in links
    assert headers == ["Organisation", "Your role", "Subscriber"]
    assert solo == "1 users"
    assert table["count"] == "4 users"
    assert table["headers"][:6] == [
        "Name",
        "Permissions",
        "Two-step authentication",
        "Status",
        "Last login",
        "Logins this week",
    ]
    me, zoe, hostile, declined = table["rows"]
    assert me[0] == f"Access Robot\n{EMAIL}"
    assert me[1] == "Adviser\nManage users"
    assert me[2:5] == ["Enabled", "Active", "2025-06-15 14:06 UTC"]
    assert zoe[1:5] == [
        "Standard\nPayroll admin\nBank account admin",
        "Not enabled",
        "Active",
        "Never",
    ]
    assert hostile[0].startswith(f"{HOSTILE} Doe & Sons")
    assert hostile[1:4] == ["Read only", "Enabled", "Pending"]
    assert declined[1] == "Invoice only"
    assert declined[3] == "Declined"
    assert table["images"] == 0
    assert v2 == (0, 4)
    assert dialogs == []


@pytest.mark.browser
def test_myob_cards_load_as_the_list_is_scrolled_in_chromium(browser_loop, portals):
    portal = portals["myob"]

    async def work(browser):
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await browser_sign_in(page, portal)
            await page.get_by_role("link", name=f"Big Business {HOSTILE}").click()
            cards = page.get_by_role("article")
            first = await cards.count()
            for _ in range(10):
                if await page.locator("#users-page[data-state=complete]").count():
                    break
                await cards.last.scroll_into_view_if_needed()
                await page.wait_for_timeout(150)
            return (
                first,
                await cards.count(),
                await page.locator("#showing").inner_text(),
                await page.get_by_role("article", name=f"{HOSTILE} O'Neil & Co").count(),
                await page.get_by_role("article", name="Person159 Client", exact=True).count(),
            )
        finally:
            await context.close()

    first, total, showing, hostile, last = browser_loop.run(work, timeout=60)
    assert (first, total, showing) == (20, 60, "Showing 60 of 60")
    assert (hostile, last) == (1, 1)


# ---------------------------------------------------------------------- markup variant


def without_unknown_keys(value: Any, also: frozenset[str] = frozenset()) -> Any:
    """``value`` with the variant's unknown keys (and ``also``) taken out, at every depth."""
    if isinstance(value, dict):
        return {
            k: without_unknown_keys(v, also)
            for k, v in value.items()
            if k not in VARIANT_JSON_EXTRAS and k not in also
        }
    if isinstance(value, list):
        return [without_unknown_keys(v, also) for v in value]
    return value


def every_object(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            if inner not in VARIANT_JSON_EXTRAS.values():
                yield from every_object(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from every_object(inner)


def test_the_variant_is_off_by_default(portals):
    assert PortalSettings().markup_variant is False
    client, _ = portals["qbo"].sign_in()
    page = client.get(f"/app/company/{QBO_BIG}/manageusers").text
    # the remove controls are there either way, in SPEC's column order
    assert table_rows(page)[0] == ["Name", "Email", "User type", "Status", "Action"]
    assert "<h2>Manage users</h2>" in page
    xero_client, _ = portals["xero"].sign_in()
    assert "_links" not in xero_client.get(f"/api/orgs/{XERO_MAIN}/users").text


JSON_ANSWERS = {
    "xero": [
        "/api/myxero/orgs",
        f"/api/orgs/{XERO_MAIN}/users",
        f"/api/orgs/{XERO_TWIN}/users",
        f"/api/orgs/{XERO_FOREIGN}/users",
    ],
    "qbo": [f"/app/company/{QBO_FOREIGN}/manageusers"],
    "myob": [
        f"/api/businesses/{MYOB_BIG}/users?page=2&pageSize=20",
        f"/api/businesses/{MYOB_NO_ADMIN}/users",
        f"/api/businesses/{MYOB_BIG}/users?page=x",
    ],
}


@pytest.mark.parametrize("name", PORTALS)
def test_the_variant_adds_unknown_keys_to_every_json_object_and_changes_nothing_else(
    portals, fresh, name
):
    plain = portals[name]
    portal = fresh(name, markup_variant=True)
    client, _ = portal.sign_in()
    plain_client, _ = plain.sign_in()
    accept = {"Accept": "application/json"}
    for path in JSON_ANSWERS[name]:
        answer = client.get(path, headers=accept)
        expected = plain_client.get(path, headers=accept)
        assert answer.status_code == expected.status_code, path
        body = answer.json()
        assert without_unknown_keys(body) == expected.json(), path
        objects = list(every_object(body))
        assert objects
        assert all(set(VARIANT_JSON_EXTRAS) <= set(o) for o in objects), path
        assert answer.headers["content-length"] == str(len(answer.content))
    # the answers of the session check and the rate limit too
    signed_out = portal.client().get(JSON_ANSWERS[name][0], headers=accept)
    assert signed_out.status_code == 401
    assert without_unknown_keys(signed_out.json()) == {"error": "session_expired"}
    assert "_links" in signed_out.json()
    portal.settings(rate_limit_per_s=0.001)
    limited = [client.get(JSON_ANSWERS[name][0], headers=accept) for _ in range(2)][-1]
    assert limited.status_code == 429
    assert without_unknown_keys(limited.json()) == {"error": "rate_limited"}
    assert "deprecated" in limited.json()


def cells_of(row: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c))
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
    ]


def table_rows(page: str) -> list[list[str]]:
    return [cells_of(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", page)]


def test_the_qbo_variant_reorders_columns_adds_action_links_and_drops_the_company_name(fresh):
    portal = fresh("qbo", markup_variant=True)
    client, _ = portal.sign_in()
    plain = portal.world  # the same world, read through the plain markup below
    base = f"/app/company/{QBO_BIG}/manageusers"
    first = client.get(base).text
    big = next(o for o in plain.orgs if o.org_id == QBO_BIG)
    rows = table_rows(first)
    assert rows[0] == ["Email", "Status", "Name", "Action", "User type"]
    assert rows[1] == [EMAIL, "Active", "Access Robot", "", "Company admin"]  # not oneself
    assert rows[2] == [
        "person11@client.example",
        "Active",
        "Person11 Client",
        "Delete Person11 Client",
        "Standard all access",
    ]
    assert len(rows) == 26
    assert f'<a href="{base}/u11/delete">Delete Person11 Client</a>' in first
    assert "Big Co" not in first
    assert html.escape(big.name) not in first
    assert "<title>Manage users · QuickBooks</title>" in first
    assert "Manage users</h2>" not in first
    assert re.search(
        r'<nav class="pager"[^>]*><span>1-25 of 26</span> <a [^>]*>Next</a></nav>', first
    )
    tokens = {
        re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get(base).text).group(1)
        for _ in range(2)
    }
    assert len(tokens) == 2
    assert re.search(r'<a href="[^"]*tab=firms[^"]*">Accounting firms</a>', first)
    # a Company admin may not remove from the firms tab: no Action column, no token
    firms = client.get(base + "?tab=firms").text
    assert table_rows(firms)[0] == ["Name", "Status", "Email", "Firm"]
    assert "csrf-token" not in firms
    # an accountant: nothing to remove on Users, its own firm's entries on firms
    solo = f"/app/company/{QBO_FIRM_ONLY}/manageusers"
    empty_users = client.get(solo).text
    assert table_rows(empty_users) == [
        ["Email", "Status", "Name", "User type"],
        ["No users to show"],
    ]
    assert '<td colspan="4">No users to show</td>' in empty_users
    assert table_rows(client.get(solo + "?tab=firms").text) == [
        ["Name", "Status", "Action", "Email", "Firm"],
        ["Access Robot", "Active", "", EMAIL, "Practice"],
    ]
    # the primary admin may remove firms: an empty firms table still has the column
    exact_firms = client.get(f"/app/company/{QBO_EXACT}/manageusers?tab=firms").text
    assert '<td colspan="5">No accounting firms</td>' in exact_firms
    limited = client.get(f"/app/company/{QBO_LIMITED}/manageusers").text
    assert "You don't have permission to view users" in visible_text(limited)
    assert "Limited Co" not in limited


def test_the_qbo_variant_client_list_orders_columns_otherwise(fresh):
    portal = fresh("qbo", markup_variant=True)
    client, _ = portal.sign_in()
    first = client.get("/clients").text
    rows = table_rows(first)
    assert rows[0] == ["Status", "Client", "Go to"]
    assert rows[1] == ["Active", f"Big Co {HOSTILE}", "Manage users"]
    assert first.count(f'<a href="/app/company/{QBO_BIG}/manageusers">') == 2
    assert "<h1>Clients</h1>" not in first
    assert '<a href="/clients?page=2" rel="next">Next</a>' in first
    assert len(table_rows(client.get("/clients?page=2").text)) == 3


def test_the_xero_variant_offers_removal_only_to_a_viewer_who_may_remove(fresh):
    portal = fresh("xero", markup_variant=True)
    client, _ = portal.sign_in()
    main = client.get(f"/app/{XERO_MAIN}/settings/users").text
    assert 'data-can-remove="1" data-viewer-id="u1"' in main
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', main)
    assert "<title>Users |" not in main
    assert "<h2>Users</h2>" in main  # SPEC's heading stays
    solo = client.get(f"/app/{XERO_SOLO}/settings/users").text  # Standard, no Manage users
    assert "data-can-remove" not in solo
    assert '<meta name="csrf-token"' not in solo
    assert "My Xero</h1>" not in client.get("/myxero").text


def test_the_myob_variant_lists_businesses_under_another_heading(fresh, portals):
    portal = fresh("myob", markup_variant=True)
    client, _ = portal.sign_in()
    page = client.get("/businesses").text
    assert "<h1>Businesses</h1>" not in page
    assert "Businesses" not in visible_text(page)
    assert f'<a href="/business/{MYOB_BIG}/users">Big Business {ESCAPED}</a>' in page
    assert "612345678901" in visible_text(page)
    assert MYOB_FOREIGN not in page


def test_the_myob_variant_cards_offer_removal_but_not_of_owner_added_advisors(fresh):
    portal = fresh("myob", markup_variant=True)
    client, _ = portal.sign_in()
    page = client.get(f"/business/{MYOB_BIG}/users").text
    text = visible_text(page)
    assert 'data-can-remove="1" data-viewer-id="u100"' in page
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)
    cards = re.findall(r"<article .*?</article>", page)
    assert len(cards) == 20
    assert "<button" not in cards[0]  # the viewer's own card
    assert "Remove access for Person101 Client</button>" in cards[1]
    # u102, an advisor, was added by the business owner
    assert "<p>Added by the business owner</p>" in cards[2]
    assert "<button" not in cards[2]
    assert sum("<button" in card for card in cards) == 18
    assert "Users and permissions" in text
    body = client.get(f"/api/businesses/{MYOB_BIG}/users?page=1&pageSize=50").json()
    added = {item["id"]: item["addedBy"] for item in body["items"]}
    assert added["u102"] == "owner"
    assert set(added.values()) == {"owner", "user"}
    assert list(added.values()).count("owner") == 1
    alone = client.get(f"/business/{MYOB_ALONE}/users").text  # an Administrator, alone
    assert "No users yet" in visible_text(alone)
    assert "<button" not in alone


@pytest.mark.browser
def test_the_variant_remove_buttons_are_drawn_in_chromium(browser_loop, fresh):
    xero_portal = fresh("xero", markup_variant=True)
    myob_portal = fresh("myob", markup_variant=True)

    async def work(browser):
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await browser_sign_in(page, xero_portal)
            await page.goto(xero_portal.base_url + f"/app/{XERO_MAIN}/settings/users")
            await page.locator("#users-page[data-state=loaded]").wait_for()
            xero_buttons = await page.get_by_role("button").all_inner_texts()
            xero_headers = await page.get_by_role("columnheader").all_inner_texts()
            await browser_sign_in(page, myob_portal)
            await page.goto(myob_portal.base_url + f"/business/{MYOB_BIG}/users")
            cards = page.get_by_role("article")
            for _ in range(10):
                if await page.locator("#users-page[data-state=complete]").count():
                    break
                await cards.last.scroll_into_view_if_needed()
                await page.wait_for_timeout(150)
            return (
                xero_buttons,
                xero_headers,
                await cards.count(),
                await page.get_by_role("button", name="Remove access for").count(),
                await page.get_by_text("Added by the business owner").count(),
            )
        finally:
            await context.close()

    xero_buttons, xero_headers, cards, myob_buttons, owner_added = browser_loop.run(
        work, timeout=60
    )
    # the viewer is the subscriber too: neither gets a button
    assert xero_buttons == [
        "Remove Zoë O'Brien 🎉",
        f"Remove {HOSTILE} Doe & Sons",
        "Remove Person4 a=b",
    ]
    assert xero_headers[:6] == [
        "Name",
        "Permissions",
        "Two-step authentication",
        "Status",
        "Last login",
        "Logins this week",
    ]
    assert (cards, myob_buttons, owner_added) == (60, 58, 1)
