"""A small practice for API tests: two client managers, an unlinked org, four API users.

``Mia Manager`` manages Kōwhai Bakery (xero !kow01); ``Max Manager`` manages Rātā
Joinery (xero !rat01). Org !unl01 is linked to no client. Ben Brennan left the
practice and is still in all three orgs, so each org has a critical finding.

Users: ``Ada Admin`` (practice admin, all clients), ``Mia Manager`` (manager, the
clients she manages, by her own name), ``Max M.`` (manager, managed, through his
staff record "Max Manager"), ``Eve Employee`` (employee, selected: Rātā only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from agent.runtime import Runtime
from agent.security.pairing import exchange_pairing_code, issue_pairing_code
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from server.app import create_app
from server.config import ServerSettings
from tests.factories import DOMAIN, add_client, add_staff, api_users, ok_scan, org

BASE_URL = "http://127.0.0.1:8765"


@dataclass
class Practice:
    runtime: Runtime
    tokens: dict[str, str]
    user_ids: dict[str, int]
    client_ids: dict[str, int]
    staff_ids: dict[str, int]

    def client(self, who: str | None = None, **kwargs: object) -> TestClient:
        return api_client(self.runtime, self.tokens[who] if who else None, **kwargs)


def api_client(
    runtime: Runtime,
    token: str | None = None,
    *,
    server_settings: ServerSettings | None = None,
    enable_docs: bool = False,
    base_url: str = BASE_URL,
) -> TestClient:
    app = create_app(runtime, enable_docs=enable_docs, server_settings=server_settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, base_url=base_url, headers=headers)


def token_for(runtime: Runtime, user_id: int, label: str = "test") -> str:
    with session_scope(runtime.engine) as session:
        code = issue_pairing_code(session, user_id=user_id, actor="test").code
    with session_scope(runtime.engine) as session:
        issued = exchange_pairing_code(session, code, label=label)
    assert issued is not None
    return issued.token


def build_practice(runtime: Runtime) -> Practice:
    with session_scope(runtime.engine) as session:
        ben = add_staff(
            session, "Ben Brennan", f"ben@{DOMAIN}", status="left", left_on=date(2026, 3, 3)
        )
        ana = add_staff(session, "Ana Active", f"ana@{DOMAIN}")
        mia_staff = add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        max_staff = add_staff(session, "Max Manager", f"max@{DOMAIN}")
        kowhai = add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        rata = add_client(session, "Rātā Joinery", "max  manager", ("xero", "!rat01"))
        ok_scan(
            session,
            org(session, "!kow01", "Kōwhai Bakery Ltd"),
            [
                (f"ben@{DOMAIN}", "FINANCIALADVISER"),
                ("owner@kowhai.example", "STANDARD"),
                (f"ana@{DOMAIN}", "STANDARD"),
            ],
        )
        ok_scan(
            session,
            org(session, "!rat01", "Rātā Joinery Ltd"),
            [(f"ben@{DOMAIN}", "STANDARD"), ("boss@rata.example", "STANDARD")],
        )
        ok_scan(
            session, org(session, "!unl01", "Unlinked Holdings"), [(f"ben@{DOMAIN}", "STANDARD")]
        )
        reconcile(session, configured_domains=[DOMAIN])
        users = api_users(session, domain=DOMAIN, selected_client_id=rata.id)
        ids = {k: u.id for k, u in users.items()}
        clients = {"kowhai": kowhai.id, "rata": rata.id}
        staff = {"ben": ben.id, "ana": ana.id, "mia": mia_staff.id, "max": max_staff.id}
    tokens = {k: token_for(runtime, v) for k, v in ids.items()}
    return Practice(runtime, tokens, ids, clients, staff)  # type: ignore[arg-type]


@pytest.fixture
def practice(runtime: Runtime) -> Practice:
    return build_practice(runtime)
