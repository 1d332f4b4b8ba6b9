"""Sign-in by an e-mailed code (SPEC.md): the code page, the outbox, once only, 10 minutes.

Every portal runs on a real socket with a clock the test moves, so a code expires on
demand; the outbox is read over HTTP as a person reads their mailbox.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from sandbox.generate import generate_world, write_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import runtime_of
from sandbox.serve import PortalServer
from sandbox.world import World, WorldLogin

PORTALS = ("xero", "qbo", "myob")
START = 1_750_000_000.0
WRONG_CODE = "That code is incorrect"
#: (password page, code page, code button, where a signed-in login lands)
PAGES = {
    "xero": ("/identity/user/login", "/identity/user/login/two-step", "Confirm", "/myxero"),
    "qbo": ("/signin/password", "/signin/verify", "Continue", "/clients"),
    "myob": ("/account/login", "/account/mfa", "Verify", "/businesses"),
}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    name: str
    login: WorldLogin
    server: PortalServer
    clock: Clock

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, timeout=5.0)

    def password(self, client: httpx.Client) -> httpx.Response:
        """The password step; the answer is the redirect to the code page."""
        if self.name == "qbo":
            first = client.post("/signin", data={"identifier": self.login.email})
            assert first.status_code == 303, first.text
        path = PAGES[self.name][0]
        data = {"password": self.login.password}
        if self.name != "qbo":
            data["email"] = self.login.email
        answer = client.post(path, data=data)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == PAGES[self.name][1]
        return answer

    def code_page(self, client: httpx.Client) -> str:
        page = client.get(PAGES[self.name][1])
        assert page.status_code == 200
        return page.text

    def submit(self, client: httpx.Client, code: str) -> httpx.Response:
        return client.post(PAGES[self.name][1], data={"code": code})

    def outbox(self, email: str | None = None) -> list[dict[str, str]]:
        with self.client() as client:
            answer = client.get("/_outbox", params={"email": email or self.login.email})
        assert answer.status_code == 200
        codes: list[dict[str, str]] = answer.json()["codes"]
        return codes


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(
        5, staff=6, orgs_per_portal=1, users_per_org=2, email_code_portals=PORTALS
    )


@pytest.fixture
def running(world: World, request: pytest.FixtureRequest) -> Iterator[Running]:
    name = request.param
    app = create_portal_app(name, world)
    clock = Clock()
    runtime_of(app).clock = clock
    with PortalServer(app) as server:
        yield Running(name, world.logins_of(name)[0], server, clock)


def labelled(page: str) -> set[str]:
    return set(re.findall(r'<label for="[^"]+">([^<]+)</label>', page))


def buttons(page: str) -> list[str]:
    return re.findall(r"<button[^>]*>([^<]+)</button>", page)


def test_default_worlds_sign_in_by_totp_and_an_option_asks_for_email_codes(
    world: World, tmp_path: Path
) -> None:
    default = generate_world(5, staff=6, orgs_per_portal=1, users_per_org=2)
    assert {lg.mfa for lg in default.logins} == {"totp"}
    assert all(lg.totp_secret for lg in default.logins)
    assert {lg.mfa for lg in world.logins} == {"email"}
    assert not any(lg.totp_secret for lg in world.logins)
    # the option changes the logins only
    assert [o.org_id for o in default.orgs] == [o.org_id for o in world.orgs]
    assert default.truth == world.truth
    files = write_world(world, tmp_path / "world")
    assert World.load(files.world).logins == world.logins
    with pytest.raises(ValueError, match="not among the portals"):
        generate_world(5, staff=6, portals=("xero",), email_code_portals=("qbo",))


def test_the_world_file_accepts_an_email_login_and_refuses_an_unknown_method(
    world: World,
) -> None:
    data = json.loads(world.to_json())
    old = dict(data["logins"][0])
    del old["mfa"]  # a world saved before e-mailed codes existed
    old["totp_secret"] = "JBSWY3DPEHPK3PXP"
    data["logins"][0] = old
    assert World.from_dict(data).logins[0].mfa == "totp"
    data["logins"][0] = {**old, "mfa": "sms"}
    with pytest.raises(ValueError, match="mfa must be one of totp, email, not 'sms'"):
        World.from_dict(data)
    data["logins"][0] = {**old, "mfa": "totp", "totp_secret": ""}
    with pytest.raises(ValueError, match="needs a totp_secret"):
        World.from_dict(data)


@pytest.mark.parametrize("running", PORTALS, indirect=True)
def test_the_code_page_asks_for_the_emailed_code_with_the_totp_pages_button(
    running: Running,
) -> None:
    with running.client() as client:
        assert running.outbox() == []
        running.password(client)
        page = running.code_page(client)
    assert labelled(page) == {"Code we emailed you"}
    assert buttons(page) == [PAGES[running.name][2]]
    sent = running.outbox(running.login.email.upper())  # the address as any case
    assert [set(s) for s in sent] == [{"code", "sentAt"}]
    assert re.fullmatch(r"\d{6}", sent[0]["code"])
    assert datetime.fromisoformat(sent[0]["sentAt"]).timestamp() == START


@pytest.mark.parametrize("running", PORTALS, indirect=True)
def test_a_code_signs_in_once_and_a_wrong_code_stays_on_the_page(running: Running) -> None:
    with running.client() as client:
        running.password(client)
        running.code_page(client)
        code = running.outbox()[0]["code"]
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        refused = running.submit(client, wrong)
        assert refused.status_code == 200
        assert WRONG_CODE in refused.text
        assert "Code we emailed you" in refused.text
        done = running.submit(client, code)
        assert done.status_code == 303
        assert done.headers["location"] == PAGES[running.name][3]
        assert client.get(PAGES[running.name][3]).status_code == 200
    with running.client() as again:
        running.password(again)
        running.code_page(again)
        assert len(running.outbox()) == 2, "every sign-in is sent a code of its own"
        reused = running.submit(again, code)
        assert reused.status_code == 200
        assert WRONG_CODE in reused.text, "a code signs in once"
        newest = running.outbox()[0]["code"]
        assert running.submit(again, newest).status_code == 303


@pytest.mark.parametrize("running", ["xero"], indirect=True)
def test_a_code_expires_after_ten_minutes(running: Running) -> None:
    with running.client() as client:
        running.password(client)
        running.code_page(client)
        code = running.outbox()[0]["code"]
        running.clock.now += 599
        assert running.code_page(client)  # reloading the page sends nothing new
        assert len(running.outbox()) == 1
        running.clock.now += 1
        expired = running.submit(client, code)
        assert WRONG_CODE in expired.text
    with running.client() as client:
        running.password(client)
        running.code_page(client)
        fresh = running.outbox()
        assert [s["code"] for s in fresh[1:]] == [code], "newest first"
        running.clock.now += 599
        assert running.submit(client, fresh[0]["code"]).status_code == 303


@pytest.mark.parametrize("running", ["myob"], indirect=True)
def test_the_outbox_needs_an_address_and_totp_logins_get_no_code(
    running: Running, world: World
) -> None:
    with running.client() as client:
        assert client.get("/_outbox").status_code == 400
        assert client.get("/_outbox", params={"email": "nobody@else.example"}).json() == {
            "codes": []
        }
    totp_world = generate_world(5, staff=6, orgs_per_portal=1, users_per_org=2)
    login = totp_world.logins_of("myob")[0]
    with (
        PortalServer(create_portal_app("myob", totp_world)) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0) as client,
    ):
        client.post("/account/login", data={"email": login.email, "password": login.password})
        page = client.get("/account/mfa").text
        assert labelled(page) == {"Code from your authenticator app"}
        outbox = client.get("/_outbox", params={"email": login.email}).json()
    assert outbox == {"codes": []}
