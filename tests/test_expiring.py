"""The expiring list: access ends and accepted risks in one date order, cut to the scope.

``T`` is the day the list is read. Kōwhai (!kow01) is Mia's client, Rātā (!rat01)
Max's; !unl01 is linked to no client. Ben left and is in Kōwhai and Rātā; Ana and
Dee are staff with grants that end; Gus is an unknown practice address.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.principal import ClientScope
from agent.security.scope import Scope
from agent.services.expiring import ExpiringItem, expiring
from agent.services.findings import reconcile
from agent.services.review import accept_risk, reopen
from agent.storage.db import session_scope
from agent.storage.models import Finding, Org
from tests.factories import DOMAIN, add_client, add_staff, api_users, ok_scan, org
from tests.server.conftest import api_client, token_for

T = date(2027, 1, 10)
BEN, ANA, DEE, LOU, GUS = (f"{n}@{DOMAIN}" for n in ("ben", "ana", "dee", "lou", "gus"))


def _finding(session: Session, org_id: str, email: str) -> int:
    found = session.exec(
        select(Finding.id)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(Org.portal_org_id == org_id, Finding.email == email)
    ).one()
    assert found is not None
    return found


def _access_file(path: Path) -> Path:
    rows = [
        [ANA, "xero", "!kow01", "STANDARD", (T + timedelta(days=10)).isoformat()],
        [ANA, "xero", "!rat01", "STANDARD", (T - timedelta(days=3)).isoformat()],
        [ANA, "xero", "!unl01", "STANDARD", (T + timedelta(days=5)).isoformat()],
        [DEE, "xero", "!rat01", "STANDARD", (T + timedelta(days=40)).isoformat()],
        [LOU, "xero", "!kow01", "STANDARD", (T - timedelta(days=5)).isoformat()],
        [DEE, "xero", "!kow01", "STANDARD", ""],
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["staff_email", "portal", "org_id", "role", "until"])
        writer.writerows(rows)
    return path


def _world(runtime: Runtime, tmp_path: Path) -> dict[str, int]:
    from agent.imports import run_import

    engine = runtime.engine
    with session_scope(engine) as session:
        add_staff(session, "Ben Brennan", BEN, status="left", left_on=date(2026, 3, 3))
        add_staff(session, "Ana Active", ANA)
        add_staff(session, "Dee Drift", DEE)
        add_staff(session, "Lou Low", LOU)
        add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        add_staff(session, "Max Manager", f"max@{DOMAIN}")
        kowhai = add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        rata = add_client(session, "Rātā Joinery", "Max Manager", ("xero", "!rat01"))
    run_import(
        engine,
        "access",
        _access_file(tmp_path / "access.csv"),
        practice_domains=[DOMAIN],
        actor="Pat Admin (user #9)",
    )
    with session_scope(engine) as session:
        ok_scan(
            session,
            org(session, "!kow01", "Kōwhai Bakery Ltd"),
            [(BEN, "STANDARD"), (ANA, "STANDARD"), (GUS, "STANDARD"), (DEE, "STANDARD")],
        )
        ok_scan(
            session,
            org(session, "!rat01", "Rātā Joinery Ltd"),
            [(BEN, "STANDARD"), (ANA, "STANDARD"), (DEE, "STANDARD"), (GUS, "STANDARD")],
        )
        ok_scan(session, org(session, "!unl01", "Unlinked Holdings"), [(ANA, "STANDARD")])
        before = T - timedelta(days=10)
        reconcile(session, configured_domains=[DOMAIN], today=before)
        accept = {
            ("!kow01", BEN): (T + timedelta(days=20), "year-end handover"),
            ("!rat01", BEN): (T - timedelta(days=2), "closing the books"),
            ("!kow01", GUS): (T + timedelta(days=60), "auditor"),
            ("!rat01", GUS): (T + timedelta(days=4), "temporary help"),
        }
        for (org_id, email), (until, reason) in accept.items():
            accept_risk(
                session,
                _finding(session, org_id, email),
                actor="Mia Manager" if org_id == "!kow01" else "Max Manager",
                reason=reason,
                expires_on=until,
                today=before,
            )
        # A person reopened this one: no acceptance stands, so it is not expiring.
        reopen(session, _finding(session, "!rat01", GUS), actor="Max Manager", reason="no")
        # The day: Rātā's acceptance of Ben has expired and reopens; Ana's grant there ended.
        reconcile(session, configured_domains=[DOMAIN], today=T)
        assert kowhai.id is not None
        assert rata.id is not None
        return {"kowhai": kowhai.id, "rata": rata.id}


def _rows(items: list[ExpiringItem]) -> list[tuple[str, str, str, int, str]]:
    return [(i.kind.value, i.portal_org_id, i.email, i.days_left, i.by) for i in items]


def test_both_kinds_in_date_order_with_ended_ones_still_there(
    runtime: Runtime, tmp_path: Path
) -> None:
    _world(runtime, tmp_path)
    with Session(runtime.engine) as session:
        items = expiring(session, Scope(ClientScope.ALL, None), today=T)
        assert _rows(items) == [
            ("access_end", "!rat01", ANA, -3, "Pat Admin (user #9)"),
            ("accepted_risk", "!rat01", BEN, -2, "Max Manager"),
            ("access_end", "!unl01", ANA, 5, "Pat Admin (user #9)"),
            ("access_end", "!kow01", ANA, 10, "Pat Admin (user #9)"),
            ("accepted_risk", "!kow01", BEN, 20, "Mia Manager"),
        ]
        first, risk = items[0], items[1]
        assert first.expired
        assert (first.client, first.client_manager, first.org_name) == (
            "Rātā Joinery",
            "Max Manager",
            "Rātā Joinery Ltd",
        )
        assert (first.name, first.role, first.reason) == ("Ana Active", "STANDARD", "")
        assert (risk.name, risk.reason, risk.ends_on) == (
            "ben",
            "closing the books",
            T - timedelta(days=2),
        )
        assert items[2].client is None
        # Lou's grant ended but Lou was never there; Dee's ends past the horizon; Gus's
        # acceptance on Kōwhai expires past it too.
        assert _rows(expiring(session, Scope(ClientScope.ALL, None), days=40, today=T))[-1] == (
            "access_end",
            "!rat01",
            DEE,
            40,
            "Pat Admin (user #9)",
        )
        assert [
            i.days_left for i in expiring(session, Scope(ClientScope.ALL, None), days=0, today=T)
        ] == [-3, -2]
        # Once the access is gone, an ended item leaves the list.
        ok_scan(session, session.exec(select(Org).where(Org.portal_org_id == "!rat01")).one(), [])
        reconcile(session, configured_domains=[DOMAIN], today=T)
        assert [
            i.portal_org_id for i in expiring(session, Scope(ClientScope.ALL, None), today=T)
        ] == [
            "!unl01",
            "!kow01",
            "!kow01",
        ]


def test_the_list_is_cut_to_the_callers_clients(runtime: Runtime, tmp_path: Path) -> None:
    clients = _world(runtime, tmp_path)
    with Session(runtime.engine) as session:
        mia = expiring(session, Scope(ClientScope.MANAGED, frozenset({clients["kowhai"]})), today=T)
        rata = expiring(session, Scope(ClientScope.SELECTED, frozenset({clients["rata"]})), today=T)
        nobody = expiring(session, Scope(ClientScope.SELECTED, frozenset()), today=T)
    assert {i.portal_org_id for i in mia} == {"!kow01"}
    assert len(mia) == 2
    assert {i.portal_org_id for i in rata} == {"!rat01"}
    assert nobody == []


def _near_world(runtime: Runtime, tmp_path: Path) -> dict[str, int]:
    """Grants ending three days from the real today (the API and the command read the
    clock): Ana on Kōwhai and on Rātā, and Lou's far in the future."""
    from agent.imports import run_import

    soon = (utcnow().date() + timedelta(days=3)).isoformat()
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ana Active", ANA)
        add_staff(session, "Lou Low", LOU)
        add_staff(session, "Max Manager", f"max@{DOMAIN}")
        kowhai = add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!kow01"))
        rata = add_client(session, "Rātā Joinery", "Max Manager", ("xero", "!rat01"))
        assert kowhai.id is not None
        assert rata.id is not None
        ids = {"kowhai": kowhai.id, "rata": rata.id}
    (tmp_path / "near.csv").write_text(
        "staff_email,portal,org_id,role,until\n"
        f"{ANA},xero,!kow01,STANDARD,{soon}\n"
        f"{ANA},xero,!rat01,STANDARD,{soon}\n"
        f"{LOU},xero,!kow01,STANDARD,2999-01-01\n",
        encoding="utf-8",
    )
    run_import(runtime.engine, "access", tmp_path / "near.csv", practice_domains=[DOMAIN])
    return ids


def test_the_api_answers_in_scope_and_refuses_a_bad_horizon(
    runtime: Runtime, tmp_path: Path
) -> None:
    clients = _near_world(runtime, tmp_path)
    with session_scope(runtime.engine) as session:
        users = api_users(session, domain=DOMAIN, selected_client_id=clients["rata"])
    tokens = {who: token_for(runtime, u.id) for who, u in users.items()}
    seen = {}
    for who in ("admin", "mia", "eve"):
        with api_client(runtime, tokens[who]) as client:
            answer = client.get("/api/v1/expiring")
            assert answer.status_code == 200
            body = answer.json()
            assert body["days"] == 30
            assert body["today"] == utcnow().date().isoformat()
            seen[who] = [(i["portal_org_id"], i["email"], i["days_left"]) for i in body["items"]]
    assert seen["admin"] == [("!kow01", ANA, 3), ("!rat01", ANA, 3)]
    assert seen["mia"] == [("!kow01", ANA, 3)]
    assert seen["eve"] == [("!rat01", ANA, 3)]
    with api_client(runtime, tokens["admin"]) as admin:
        [item] = admin.get("/api/v1/expiring").json()["items"][:1]
        assert item["kind"] == "access_end"
        assert item["client"] == "Kōwhai Bakery"
        assert item["expired"] is False
        assert admin.get("/api/v1/expiring", params={"days": 2}).json()["items"] == []
        assert admin.get("/api/v1/expiring", params={"days": -1}).status_code == 422
        assert admin.get("/api/v1/expiring", params={"days": 3651}).status_code == 422
    with api_client(runtime) as anonymous:
        assert anonymous.get("/api/v1/expiring").status_code == 401


def _cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", "expiring", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_command_lists_and_refuses_a_bad_horizon(runtime: Runtime, tmp_path: Path) -> None:
    _near_world(runtime, tmp_path)
    listed = _cli(runtime)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("Ana Active") == 2
    assert "Lou Low" not in listed.stdout
    assert "in 3d" in listed.stdout
    assert "2 ending" in listed.stdout
    empty = _cli(runtime, "--days", "2")
    assert empty.returncode == 0, empty.stderr
    assert "nothing ends within 2 days" in empty.stdout
    bad = _cli(runtime, "--days", "-4")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "accessrecon: --days -4: use a whole number of days from 0 to 3650"
    assert bad.stdout == ""
