"""The status the extension reads names the agent's own logins in the org, to keep.

Reconcile never classifies the agent's logins, so they are not among the answer's
people; without ``agent_logins`` the extension could not label the robot account on a
users page, and someone tidying the org would remove it (and with it the org's
scans). Real databases, the real app; no browser needed.
"""

from __future__ import annotations

import pyotp
from sqlmodel import Session

from agent.capture import OrgRef
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.secrets import SecretBox
from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.services.scans import upsert_org
from agent.storage.db import session_scope
from tests.factories import DOMAIN, add_client, add_staff, ok_scan, org
from tests.server.conftest import api_client, token_for

LISTING = f"robot.xero@{DOMAIN}"
SECOND = f"Robot.Two@{DOMAIN}"
ELSEWHERE = f"robot.three@{DOMAIN}"


def _login(session: Session, box: SecretBox, portal: str, email: str) -> int:
    added = add_login(
        session,
        box,
        portal=portal,
        email=email,
        password="pw",
        totp_secret=pyotp.random_base32(),
        base_url="http://127.0.0.1:1",
    )
    return int(added.id)


def test_the_status_names_the_agents_logins_in_the_org(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        listing = _login(session, runtime.box, "xero", LISTING)
        _login(session, runtime.box, "xero", SECOND)
        _login(session, runtime.box, "xero", ELSEWHERE)
        _login(
            session, runtime.box, "qbo", f"robot.two@{DOMAIN}"
        )  # another portal's login: not this org's
        add_staff(session, "Ben Brennan", f"ben@{DOMAIN}", status="left")
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"), ("xero", "!oth01"))
        kowhai = upsert_org(session, OrgRef("xero", "!kow01", "Kōwhai Bakery"), login_id=listing)
        # the second login is in the org under another spelling; the third is not in it
        ok_scan(
            session,
            kowhai,
            [
                (LISTING, "FINANCIALADVISER"),
                (SECOND.lower(), "STANDARD"),
                (f"ben@{DOMAIN}", "STANDARD"),
            ],
        )
        ok_scan(session, org(session, "!oth01", "Other Ltd"), [(f"ben@{DOMAIN}", "STANDARD")])
        reconcile(session, configured_domains=[DOMAIN])
        admin = add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="t")
    client = api_client(runtime, token_for(runtime, admin.id))

    body = client.get("/api/v1/orgs/xero/!kow01/status").json()
    assert body["agent_logins"] == [SECOND, LISTING], "sorted, as each login is spelt"
    assert {p["email"] for p in body["people"]} == {f"ben@{DOMAIN}"}, "logins are not people"

    slim = client.get("/api/v1/orgs/xero/!kow01/status", params={"include_people": "false"})
    assert slim.json()["agent_logins"] == []

    other = client.get("/api/v1/orgs/xero/!oth01/status").json()
    assert other["agent_logins"] == [], "no login lists it and its scan shows none"
