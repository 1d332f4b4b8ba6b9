"""The rig the extension tests and the extension benchmark stand on.

Everything is real: the three sandbox portals and the accessrecon server listen on
127.0.0.1 ports, the database is migrated and filled through the product's own
imports and crawler, and Chromium runs the unpacked extension from ``extension/``
(a persistent context is the only way Chromium loads an extension). The world is
written out by hand, not generated, so each org shows exactly one case the badge,
banner or capture must get right:

======== ========================================== ================================
org      who is in it                                what the extension must show
======== ========================================== ================================
!crit1   a leaver, a staff member invited direct     ``2`` red; hostile name as text
         whose name is ``<img src=x onerror=...>``
!high1   a staff member invited by the client        ``1`` orange
!medm1   a staff member with another role than       ``1`` amber
         granted
!lowx1   a grant whose user is missing               ``1`` blue
!zero1   only managed access and client users        ``0`` green, no banner
!stal1   a leaver; last ok scan 10 days old          ``1`` grey (stale)
!fail1   the agent may not view users                ``!`` (last scan failed)
!nevr1   listed by the agent, never scanned          ``?``
!capt1   managed only; the capture test adds a       ``0``, then ``1`` orange
         direct invitee
qbo A    leaver on the Users tab                     ``1`` red; labels on both tabs
qbo B    empty Users tab; capture test adds to        capture joins both tabs
         Accounting firms
qbo C    30 users: page 1 shows 1-25 of 30          never captured
myob A   leaver among 24 cards (20 shown at first)   ``1`` red
myob B   managed only; capture test adds a person    captured after scrolling
======== ========================================== ================================

The browser signs in to the portals as the agent's own login through a session the
sandbox mints directly (the crawler signs in with TOTP in its own browser; sharing
the login's codes between two browsers would make them wait for fresh 30 s steps).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pyotp
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Worker as ServiceWorker
from sqlmodel import Session, select
from starlette.applications import Starlette

from agent.capture import OrgRef
from agent.crawl.browser import QUIET_FLAGS
from agent.crawl.scan_queue import enqueue
from agent.imports import ImportKind, run_import
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.pairing import format_code, issue_pairing_code
from agent.security.users import add_user
from agent.services.scans import find_org, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Scan
from sandbox.generate import write_world
from sandbox.portals import myob, qbo, xero
from sandbox.portals.common import runtime_of
from sandbox.serve import PortalServer
from sandbox.world import (
    World,
    WorldClient,
    WorldGrant,
    WorldLogin,
    WorldOrg,
    WorldStaff,
    WorldUser,
)
from server.app import create_app

EXTENSION_DIR = Path(__file__).resolve().parents[2] / "extension"
#: Screenshots go to a temporary folder; set ACCESSRECON_SCREENSHOTS (for example
#: to docs/screenshots) to keep them. Read once at import: the test environment
#: fixture clears ACCESSRECON_* variables and changes directory, so a relative
#: folder is resolved here.
SCREENSHOTS = Path(
    os.environ.get("ACCESSRECON_SCREENSHOTS") or tempfile.mkdtemp(prefix="accessrecon-screenshots-")
).resolve()

DOMAIN = "harbourco.example"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ORG = "Kōwhai Bakery & Co <svg onload=alert(2)>"
LEFT_ON = "2026-03-03"

QBO_A = "1234567890123"
QBO_B = "2345678901234"
QBO_C = "3456789012345"
MYOB_A = "3f2c9a4e-8b1d-4c6a-9e7f-0a1b2c3d4e5f"
MYOB_B = "7d1e0c3b-2a4f-4e8d-b6c5-9f8e7d6c5b4a"
UNKNOWN_XERO = "!unkn1"
NEVER_SCANNED = "!nevr1"
STALE = "!stal1"

#: Xero orgs the agent scans one by one while the rig is built (all but the
#: never-scanned one); QuickBooks and MYOB are crawled whole, login by login
SCANNED_XERO = ["!crit1", "!high1", "!medm1", "!lowx1", "!zero1", STALE, "!fail1", "!capt1"]

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], T],
    *,
    timeout_s: float = 15,
    interval_s: float = 0.05,
    what: str = "the condition",
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout_s} s waiting for {what} (last value: {value!r})"
            )
        time.sleep(interval_s)


# ------------------------------------------------------------------------------ world


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"u{self.n:04d}"


def _staff(
    name: str,
    local: str,
    status: str = "active",
    role: str = "employee",
    left_on: str | None = None,
) -> WorldStaff:
    return WorldStaff(
        staff_id=local,
        name=name,
        emails=[f"{local}@{DOMAIN}"],
        status=status,
        practice_role=role,
        left_on=left_on,
    )


def build_world() -> World:
    ids = _Ids()
    logins = {
        portal: WorldLogin(
            portal=portal,
            email=f"accessrecon.{portal}@{DOMAIN}",
            password=f"Sandbox-{portal}-pass-1",
            totp_secret=pyotp.random_base32(),
        )
        for portal in ("xero", "qbo", "myob")
    }
    staff = [
        _staff("Ben Brennan", "ben", status="left", left_on=LEFT_ON),
        _staff("Ana Active", "ana"),
        WorldStaff(
            staff_id="mallory",
            name=HOSTILE,
            emails=[f"mallory@{DOMAIN}"],
            status="active",
            practice_role="employee",
        ),
        _staff("Mia Manager", "mia", role="manager"),
        _staff("Max Manager", "max", role="manager"),
        _staff("Dee Drift", "dee"),
        _staff("Lou Low", "lou"),
        _staff("Nia New", "nia"),
    ]
    clients = [
        WorldClient("C1", "Kōwhai Bakery", "Mia Manager", "Mia Manager", 12000.0),
        WorldClient("C2", "Rātā Joinery", "Max Manager", "Mia Manager", 8000.0),
        WorldClient("C3", "Tōtara Group", "Mia Manager", "Mia Manager", 20000.0),
    ]

    def xu(
        first: str, last: str, email: str, role: str = "STANDARD", extras: list[str] | None = None
    ) -> WorldUser:
        return WorldUser(
            user_id=ids(),
            first_name=first,
            last_name=last,
            email=email,
            role=role,
            status="ACTIVE",
            extra_permissions=extras or [],
        )

    def robot(portal: str, **changes: Any) -> WorldUser:
        login = logins[portal]
        base: dict[str, Any] = {
            "xero": {
                "role": "FINANCIALADVISER",
                "status": "ACTIVE",
                "extra_permissions": ["MANAGE_USERS"],
            },
            "qbo": {
                "role": "Accountant",
                "status": "Active",
                "kind": "firms",
                "firm_name": "Harbour & Co",
            },
            "myob": {
                "role": "Online admin",
                "status": "ACTIVE",
                "kind": "Advisor",
                "myob_roles": ["Administrator"],
            },
        }[portal]
        return WorldUser(
            user_id=ids(),
            first_name="Access",
            last_name="Robot",
            email=login.email,
            **{**base, **changes},
        )

    def qu(first: str, last: str, email: str, role: str, tab: str = "users") -> WorldUser:
        return WorldUser(
            user_id=ids(),
            first_name=first,
            last_name=last,
            email=email,
            role=role,
            status="Active",
            kind=tab,
            firm_name="Harbour & Co" if tab == "firms" else None,
        )

    def mu(first: str, last: str, email: str, kind: str = "User") -> WorldUser:
        return WorldUser(
            user_id=ids(),
            first_name=first,
            last_name=last,
            email=email,
            role="File user",
            status="ACTIVE",
            kind=kind,
            myob_roles=["Invoicing"],
        )

    def crowd(make: Callable[..., WorldUser], n: int, domain: str, *args: str) -> list[WorldUser]:
        return [
            make(f"Client{i:02d}", "Person", f"person{i:02d}@{domain}", *args)
            for i in range(1, n + 1)
        ]

    ana = f"ana@{DOMAIN}"
    orgs = [
        WorldOrg(
            "xero",
            "!crit1",
            HOSTILE_ORG,
            [
                robot("xero"),
                xu("Ben", "Brennan", f"ben@{DOMAIN}", "FINANCIALADVISER"),
                xu(HOSTILE, "", f"mallory@{DOMAIN}"),
                xu("Ana", "Active", ana),
                xu("Olive", "Owner", "owner@kowhai.example"),
            ],
            client_id="C1",
        ),
        WorldOrg(
            "xero",
            "!high1",
            "Rātā Joinery Ltd",
            [robot("xero"), xu("Ana", "Active", ana), xu("Bo", "Boss", "boss@rata.example")],
            client_id="C2",
        ),
        WorldOrg(
            "xero",
            "!medm1",
            "Tōtara Trust",
            [robot("xero"), xu("Dee", "Drift", f"dee@{DOMAIN}", "FINANCIALADVISER")],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            "!lowx1",
            "Tōtara Holdings",
            [robot("xero"), xu("Hana", "Holder", "hana@totara.example")],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            "!zero1",
            "Pōhutukawa Cafe",
            [robot("xero"), xu("Ana", "Active", ana), xu("Cy", "Cafe", "cy@cafe.example")],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            STALE,
            "Stale Stores",
            [robot("xero"), xu("Ben", "Brennan", f"ben@{DOMAIN}")],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            "!fail1",
            "Locked Ledgers",
            [
                robot("xero", role="READONLY", extra_permissions=[]),
                xu("Lo", "Locke", "lo@locked.example"),
            ],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            NEVER_SCANNED,
            "Never Scanned Ltd",
            [robot("xero"), xu("Ana", "Active", ana)],
            client_id="C3",
        ),
        WorldOrg(
            "xero",
            "!capt1",
            "Capture Co",
            [robot("xero"), xu("Ana", "Active", ana), xu("Kit", "Client", "kit@capture.example")],
            client_id="C3",
        ),
        WorldOrg(
            "qbo",
            QBO_A,
            "Kauri Accounting Ltd",
            [
                qu("Paula", "Primary", "paula@kauri.example", "Primary admin"),
                qu("Ben", "Brennan", f"ben@{DOMAIN}", "Company admin"),
                robot("qbo"),
                qu("Ana", "Active", ana, "Accountant", "firms"),
            ],
            client_id="C1",
        ),
        WorldOrg(
            "qbo",
            QBO_B,
            "Mataī Motors",
            [robot("qbo"), qu("Ana", "Active", ana, "Accountant", "firms")],
            client_id="C3",
        ),
        WorldOrg(
            "qbo",
            QBO_C,
            "Rimu Retail",
            [robot("qbo"), *crowd(qu, 30, "rimu.example", "Standard all access")],
            client_id="C3",
        ),
        WorldOrg(
            "myob",
            MYOB_A,
            "Harakeke Homes",
            [
                robot("myob"),
                *crowd(mu, 22, "harakeke.example"),
                mu("Ben", "Brennan", f"ben@{DOMAIN}", "Advisor"),
            ],
            client_id="C1",
        ),
        WorldOrg(
            "myob",
            MYOB_B,
            "Tī Kōuka Tours",
            [robot("myob"), *crowd(mu, 22, "tikouka.example"), mu("Ana", "Active", ana, "Advisor")],
            client_id="C3",
        ),
    ]
    grants = [
        WorldGrant(ana, "xero", "!crit1", "STANDARD"),
        WorldGrant(ana, "xero", "!zero1", "STANDARD"),
        WorldGrant(ana, "xero", "!capt1", "STANDARD"),
        WorldGrant(ana, "xero", NEVER_SCANNED, "STANDARD"),
        WorldGrant(f"dee@{DOMAIN}", "xero", "!medm1", "STANDARD"),
        WorldGrant(f"lou@{DOMAIN}", "xero", "!lowx1", "STANDARD"),
        WorldGrant(ana, "qbo", QBO_A, "Accountant"),
        WorldGrant(ana, "qbo", QBO_B, "Accountant"),
        WorldGrant(ana, "myob", MYOB_B, "File user"),
    ]
    return World(
        seed=0,
        practice_name="Harbour & Co",
        practice_domains=[DOMAIN],
        staff=staff,
        clients=clients,
        orgs=orgs,
        logins=list(logins.values()),
        grants=grants,
        truth=[],
    )


def org_of(world: World, portal: str, org_id: str) -> WorldOrg:
    return next(o for o in world.orgs if o.portal == portal and o.org_id == org_id)


def newcomer(portal: str, name: str = "Nia New", email: str = f"nia@{DOMAIN}") -> WorldUser:
    """A staff member the client invites while a test watches (no grant: invited direct)."""
    first, last = name.split(" ", 1)
    if portal == "xero":
        return WorldUser(
            user_id=f"new-{email}",
            first_name=first,
            last_name=last,
            email=email,
            role="STANDARD",
            status="ACTIVE",
        )
    if portal == "qbo":
        return WorldUser(
            user_id=f"new-{email}",
            first_name=first,
            last_name=last,
            email=email,
            role="Accountant",
            status="Active",
            kind="firms",
            firm_name="Harbour & Co",
        )
    return WorldUser(
        user_id=f"new-{email}",
        first_name=first,
        last_name=last,
        email=email,
        role="File user",
        status="ACTIVE",
        kind="Advisor",
        myob_roles=["Invoicing"],
    )


# ---------------------------------------------------------------------------- servers


@dataclass
class Portals:
    apps: dict[str, Starlette]
    urls: dict[str, str]

    def url(self, portal: str, path: str) -> str:
        return self.urls[portal] + path


@contextmanager
def serve_portals(world: World) -> Iterator[Portals]:
    makers = {"xero": xero.create_app, "qbo": qbo.create_app, "myob": myob.create_app}
    with ExitStack() as stack:
        apps: dict[str, Starlette] = {}
        urls: dict[str, str] = {}
        for portal, make in makers.items():
            apps[portal] = make(world)
            urls[portal] = stack.enter_context(PortalServer(apps[portal])).base_url
        yield Portals(apps, urls)


@contextmanager
def serve_api(runtime: Runtime) -> Iterator[str]:
    """The accessrecon server on a free loopback port; the Host allow-list names that port."""
    port = free_port()
    app = create_app(runtime, port=port)
    with PortalServer(app, port=port):
        yield f"http://127.0.0.1:{port}"


def session_cookie(portals: Portals, portal: str, email: str) -> dict[str, Any]:
    """A signed-in session for ``email``, minted by the sandbox itself (no TOTP step)."""
    rt = runtime_of(portals.apps[portal])
    login = rt.directory.login(email)
    assert login is not None
    pending = rt.sessions.begin(rt.now(), None, None)
    pending.login = login
    session = rt.sessions.sign_in(pending, rt.now())
    port = portals.urls[portal].rsplit(":", 1)[1]
    return {
        "name": f"{portal}_session_{port}",
        "value": session.token,
        "url": portals.urls[portal],
        "httpOnly": True,
        "sameSite": "Lax",
    }


# ----------------------------------------------------------------------------- database


def seed(
    runtime: Runtime, world: World, portals: Portals, directory: Path, run_worker: Callable[[], int]
) -> int:
    """Imports, logins, a scan of every org but one, then the stale org aged.

    Returns the id of the API user ``Ada Admin`` (practice admin, all clients).
    """
    files = write_world(world, directory)
    for kind, path in (
        (ImportKind.STAFF, files.staff),
        (ImportKind.CLIENTS, files.clients),
        (ImportKind.ACCESS, files.access),
    ):
        run_import(runtime.engine, kind, path, practice_domains=world.practice_domains)
    with session_scope(runtime.engine) as session:
        for login in world.logins:
            added = add_login(
                session,
                runtime.box,
                portal=login.portal,
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portals.urls[login.portal],
            )
            if login.portal != "xero":
                enqueue(session, requested_by="test", source="test", login_id=added.id)
        for org_id in SCANNED_XERO:
            enqueue(
                session, requested_by="test", source="test", portal="xero", portal_org_id=org_id
            )
        admin = add_user(
            session, name="Ada Admin", role="practice_admin", scope="all", actor="test"
        )
    run_worker()
    with session_scope(runtime.engine) as session:
        never = org_of(world, "xero", NEVER_SCANNED)
        upsert_org(session, OrgRef("xero", never.org_id, never.name), login_id=None)
        age_scans(session, "xero", STALE, timedelta(days=10))
    return admin.id


def age_scans(session: Session, portal: str, org_id: str, by: timedelta) -> None:
    """Move an org's scans back in time, so its last ok scan is older than the threshold."""
    org = find_org(session, portal, org_id)
    assert org is not None
    for scan in session.exec(select(Scan).where(Scan.org_id == org.id)):
        scan.started_at -= by
        scan.finished_at -= by
        session.add(scan)


def pairing_code(runtime: Runtime, user_id: int) -> str:
    with session_scope(runtime.engine) as session:
        return format_code(issue_pairing_code(session, user_id=user_id, actor="test").code)


def extension_scans(runtime: Runtime, portal: str, org_id: str) -> list[Scan]:
    """The org's scans recorded from passive capture (source ``extension``)."""
    with Session(runtime.engine) as session:
        org = find_org(session, portal, org_id)
        if org is None:
            return []
        return list(
            session.exec(select(Scan).where(Scan.org_id == org.id, Scan.source == "extension"))
        )


# ---------------------------------------------------------------------------- extension


@dataclass
class Extension:
    """Chromium with the unpacked extension, driven through Playwright's sync API."""

    playwright: Playwright
    context: BrowserContext
    worker: ServiceWorker
    dialogs: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.worker.url.split("/")[2]

    def url(self, path: str) -> str:
        return f"chrome-extension://{self.id}/{path}"

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        return page

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def tab_id(self, page: Page) -> int:
        """Chrome's tab id of ``page`` (found by its address, which must be unique)."""
        url = page.url
        tabs = self.worker.evaluate(
            "url => chrome.tabs.query({}).then(ts => ts.filter(t => t.url === url).map(t => t.id))",
            url,
        )
        assert len(tabs) == 1, f"{len(tabs)} tabs show {url}"
        return int(tabs[0])

    def badge(self, tab_id: int) -> dict[str, Any]:
        """``{text, color: [r, g, b, a], textColor, title}`` of a tab's badge."""
        result: dict[str, Any] = self.worker.evaluate(
            """async tabId => ({
                text: await chrome.action.getBadgeText({tabId}),
                color: await chrome.action.getBadgeBackgroundColor({tabId}),
                textColor: await chrome.action.getBadgeTextColor({tabId}),
                title: await chrome.action.getTitle({tabId}),
            })""",
            tab_id,
        )
        return result

    def wait_badge(self, page: Page, text: str, timeout_s: float = 15) -> dict[str, Any]:
        tab = self.tab_id(page)
        return wait_for(
            lambda: (b := self.badge(tab))["text"] == text and b,
            timeout_s=timeout_s,
            what=f"the badge {text!r} on {page.url}",
        )

    def storage(self, area: str = "local") -> dict[str, Any]:
        result: dict[str, Any] = self.worker.evaluate(f"() => chrome.storage.{area}.get(null)")
        return result

    def options_page(self) -> Page:
        """The options page, once it has drawn the current settings."""
        page = self.new_page()
        page.goto(self.url("options.html"))
        page.locator("body[data-paired]").wait_for(state="attached")
        return page

    def set_server(self, server: str) -> None:
        page = self.options_page()
        page.get_by_label("Address of the accessrecon server on this computer").fill(server)
        page.get_by_role("button", name="Save").click()
        page.get_by_text(f"Saved: {server}").wait_for()
        page.close()

    def pair(self, code: str) -> Page:
        """Pair through the options page, as a person would; returns the open page."""
        page = self.options_page()
        page.get_by_label("Pairing code").fill(code)
        page.get_by_role("button", name="Pair", exact=True).click()
        page.locator("#pair-status").filter(has_text="aired").wait_for()
        return page

    def close(self) -> None:
        self.context.close()
        self.playwright.stop()


def launch_extension(chromium_path: str, profile: Path) -> Extension:
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path,
            headless=True,
            viewport={"width": 1100, "height": 720},
            args=[
                *QUIET_FLAGS,
                f"--disable-extensions-except={EXTENSION_DIR}",
                f"--load-extension={EXTENSION_DIR}",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
            ],
        )
    except Exception:
        playwright.stop()
        raise
    worker = (
        context.service_workers[0]
        if context.service_workers
        else context.wait_for_event("serviceworker")
    )
    return Extension(playwright, context, worker)


def sign_in_everywhere(ext: Extension, world: World, portals: Portals) -> None:
    ext.context.add_cookies(
        [
            session_cookie(portals, login.portal, login.email)  # type: ignore[list-item]
            for login in world.logins
        ]
    )


# ------------------------------------------------------------------------ closed shadows


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for key in ("children", "shadowRoots"):
        for child in node.get(key, []):
            yield from _walk(child)
    if "contentDocument" in node:
        yield from _walk(node["contentDocument"])


def dom_tree(page: Page) -> dict[str, Any]:
    """The whole DOM, closed shadow roots included (DevTools can see them; pages cannot)."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree: dict[str, Any] = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
        return tree["root"]
    finally:
        cdp.detach()


def _text(node: dict[str, Any]) -> str:
    return "".join(n.get("nodeValue", "") for n in _walk(node) if n.get("nodeType") == 3)


def shadow_texts(page: Page, host: str) -> list[str]:
    """The text inside each closed shadow root hosted by a ``host`` element."""
    texts = []
    for node in _walk(dom_tree(page)):
        if node.get("localName") == host:
            texts.append("".join(_text(root) for root in node.get("shadowRoots", [])))
    return texts


def shadow_roots(page: Page, host: str) -> list[str]:
    """The mode (``closed``/``open``) of each shadow root hosted by ``host`` elements."""
    return [
        root.get("shadowRootType", "")
        for node in _walk(dom_tree(page))
        if node.get("localName") == host
        for root in node.get("shadowRoots", [])
    ]


def elements_named(page: Page, name: str) -> int:
    """How many ``name`` elements exist anywhere, shadow roots included."""
    return sum(1 for n in _walk(dom_tree(page)) if n.get("localName") == name)


def shadow_node_box(
    page: Page, host: str, predicate: Callable[[dict[str, Any]], bool]
) -> tuple[float, float]:
    """The centre of the first node inside a ``host``'s closed shadow root that matches."""
    for node in _walk(dom_tree(page)):
        if node.get("localName") != host:
            continue
        for root in node.get("shadowRoots", []):
            for inner in _walk(root):
                if predicate(inner):
                    cdp = page.context.new_cdp_session(page)
                    try:
                        quad = cdp.send(
                            "DOM.getBoxModel", {"backendNodeId": inner["backendNodeId"]}
                        )["model"]
                    finally:
                        cdp.detach()
                    xs, ys = quad["content"][0::2], quad["content"][1::2]
                    return sum(xs) / 4, sum(ys) / 4
    raise AssertionError(f"no matching node inside <{host}>")


def attributes(node: dict[str, Any]) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def shadow_classes(page: Page, host: str, tag: str) -> list[str]:
    """The class attribute of each ``tag`` element inside ``host``'s shadow roots."""
    found = []
    for node in _walk(dom_tree(page)):
        if node.get("localName") == host:
            for root in node.get("shadowRoots", []):
                found.extend(
                    attributes(n).get("class", "") for n in _walk(root) if n.get("localName") == tag
                )
    return found


def evaluate_in_content_script(page: Page, expression: str) -> Any:
    """Run ``expression`` in the extension's content-script world of ``page`` (via DevTools)."""
    cdp = page.context.new_cdp_session(page)
    contexts: list[dict[str, Any]] = []
    cdp.on("Runtime.executionContextCreated", lambda e: contexts.append(e["context"]))
    try:
        cdp.send("Runtime.enable")
        wait_for(
            lambda: [
                c
                for c in contexts
                if c.get("origin", "").startswith("chrome-extension://")
                or c.get("name") == "accessrecon"
            ],
            timeout_s=5,
            what="the content script's world",
        )
        world = next(
            c
            for c in contexts
            if c.get("name") == "accessrecon"
            or c.get("origin", "").startswith("chrome-extension://")
        )
        answer = cdp.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "contextId": world["id"],
                "awaitPromise": True,
                "returnByValue": True,
            },
        )
        if "exceptionDetails" in answer:
            return {
                "exception": answer["exceptionDetails"]
                .get("exception", {})
                .get("description", answer["exceptionDetails"].get("text", ""))
            }
        return answer["result"].get("value")
    finally:
        cdp.detach()


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXTENSION_DIR / "manifest.json").read_text("utf-8"))
    return data
