"""Passive captures raise findings but never clear them; only an agent scan resolves.

A capture is a user list posted by whoever holds a token, so a forged one that
leaves a leaver out must not make the leaver's finding go away: the finding stays
open, says when a capture did not show it, and an agent scan of the org is queued.
A capture that raises a critical finding is alerted like a crawl's.
Everything goes through the HTTP API on the practice of ``tests/server/conftest.py``
(Ben Brennan, a leaver, is in !kow01, !rat01 and !unl01).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from agent.domain import ScanStatus
from agent.runtime import Runtime
from agent.services.alerts import send_alerts
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from agent.storage.models import AlertSent, Finding, Org, Scan, ScanRequest, Staff
from tests.extension.harness import pairing_code
from tests.factories import DOMAIN, capture, grant, ok_scan, org
from tests.server.conftest import BASE_URL, Practice, api_client
from tests.webhook import webhook_sink

OWNER = {"email": "owner@kowhai.example", "name": "Owner", "role": "STANDARD"}
ANA = {"email": f"ana@{DOMAIN}", "name": "Ana Active", "role": "STANDARD"}
BEN = {"email": f"ben@{DOMAIN}", "name": "Ben Brennan", "role": "FINANCIALADVISER"}


def _capture(
    org_id: str, users: list[dict], *, portal: str = "xero", name: str = "Kōwhai Bakery Ltd"
) -> dict:
    return {
        "portal": portal,
        "portal_org_id": org_id,
        "org_name": name,
        "users": users,
        "shown_count": len(users),
    }


def _ben_on(practice: Practice, org_id: str) -> Finding:
    with Session(practice.runtime.engine) as session:
        found = session.exec(
            select(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
            .where(Org.portal_org_id == org_id, Finding.email == f"ben@{DOMAIN}")
        ).one()
    return found


def _agent_scan(practice: Practice, org_id: str, users: list[tuple[str, str]]) -> None:
    with session_scope(practice.runtime.engine) as session:
        ok_scan(session, org(session, org_id), users)
        reconcile(session, configured_domains=[DOMAIN], org_ids=[_org_id(session, org_id)])


def _org_id(session: Session, portal_org_id: str) -> int:
    found = session.exec(select(Org.id).where(Org.portal_org_id == portal_org_id)).one()
    assert found is not None
    return found


def test_a_forged_capture_leaving_a_leaver_out_resolves_nothing_and_queues_a_scan(
    practice: Practice,
) -> None:
    mia = practice.client("mia")
    before = _ben_on(practice, "!kow01")
    answer = mia.post("/api/v1/captures", json=_capture("!kow01", [OWNER, ANA]))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert body["not_shown"] == 1
    assert body["org"]["counts_by_class"]["leaver_access"] == 1

    ben = _ben_on(practice, "!kow01")
    assert ben.resolved_at is None
    assert ben.finding_class == "leaver_access"
    assert ben.last_seen_at == before.last_seen_at, "a capture that missed him did not see him"
    assert ben.capture_missing_at is not None
    day = f"{ben.capture_missing_at:%Y-%m-%d}"

    shown = mia.get(f"/api/v1/findings/{ben.id}").json()
    assert shown["resolved_at"] is None
    assert shown["capture_missing_at"] is not None
    assert shown["capture_note"] == f"not seen in a capture on {day}, awaiting a scan"
    listed = {f["id"]: f for f in mia.get("/api/v1/findings").json()["items"]}
    assert listed[ben.id]["capture_note"] == shown["capture_note"]

    with Session(practice.runtime.engine) as session:
        queued = session.exec(
            select(ScanRequest).where(
                ScanRequest.portal == "xero", ScanRequest.portal_org_id == "!kow01"
            )
        ).all()
    assert [(q.id, q.status, q.source) for q in queued] == [
        (body["scan_request_id"], "queued", "capture")
    ]

    # The dashboard's finding page says the same.
    dashboard = api_client(practice.runtime)
    dashboard.follow_redirects = False
    signed = dashboard.post(
        "/dashboard/login",
        data={"code": pairing_code(practice.runtime, practice.user_ids["mia"])},
        headers={"Origin": BASE_URL},
    )
    assert signed.status_code == 303
    page = dashboard.get(f"/dashboard/findings/{ben.id}")
    assert page.status_code == 200
    assert f"not seen in a capture on {day}, awaiting a scan" in page.text


def test_only_an_ok_agent_scan_clears_the_mark_and_resolves(practice: Practice) -> None:
    mia = practice.client("mia")
    assert mia.post("/api/v1/captures", json=_capture("!kow01", [OWNER, ANA])).status_code == 201
    # A second capture without him changes nothing either.
    assert mia.post("/api/v1/captures", json=_capture("!kow01", [ANA, OWNER])).status_code == 201
    assert _ben_on(practice, "!kow01").resolved_at is None

    # An agent scan that still shows him: the mark goes, the finding stays.
    _agent_scan(
        practice,
        "!kow01",
        [
            (f"ben@{DOMAIN}", "FINANCIALADVISER"),
            ("owner@kowhai.example", "STANDARD"),
            (f"ana@{DOMAIN}", "STANDARD"),
        ],
    )
    ben = _ben_on(practice, "!kow01")
    assert (ben.resolved_at, ben.capture_missing_at) == (None, None)
    assert mia.get(f"/api/v1/findings/{ben.id}").json()["capture_note"] is None

    # Captures again without him, then an agent scan without him: resolved, mark cleared.
    assert mia.post("/api/v1/captures", json=_capture("!kow01", [OWNER, ANA])).status_code == 201
    assert _ben_on(practice, "!kow01").capture_missing_at is not None
    _agent_scan(
        practice, "!kow01", [("owner@kowhai.example", "STANDARD"), (f"ana@{DOMAIN}", "STANDARD")]
    )
    ben = _ben_on(practice, "!kow01")
    assert ben.resolved_at is not None
    assert ben.capture_missing_at is None
    shown = mia.get(f"/api/v1/findings/{ben.id}").json()
    assert (shown["capture_note"], shown["capture_missing_at"]) == (None, None)


def test_a_capture_raises_a_new_finding_and_may_not_lower_one(practice: Practice) -> None:
    admin = practice.client("admin")
    # Ana is not granted !rat01 and shows up: a capture may raise that.
    raised = admin.post(
        "/api/v1/captures",
        json=_capture(
            "!rat01",
            [BEN, ANA, {"email": "boss@rata.example", "name": "Boss", "role": "STANDARD"}],
            name="Rātā Joinery Ltd",
        ),
    )
    assert raised.status_code == 201, raised.text
    assert raised.json()["org"]["counts_by_class"]["invited_direct"] == 1

    # Granted !rat01 as an adviser, Ana's access is then drift; a capture may not undo it.
    with session_scope(practice.runtime.engine) as session:
        staff = session.get_one(Staff, practice.staff_ids["ana"])
        grant(session, staff, "xero", "!rat01", "FINANCIALADVISER")
        reconcile(session, configured_domains=[DOMAIN])
    with Session(practice.runtime.engine) as session:
        drift = session.exec(
            select(Finding).where(
                Finding.email == f"ana@{DOMAIN}", Finding.finding_class == "role_drift"
            )
        ).one()
    as_granted = dict(ANA, role="FINANCIALADVISER")
    again = admin.post(
        "/api/v1/captures",
        json=_capture(
            "!rat01",
            [BEN, as_granted, {"email": "boss@rata.example", "name": "Boss", "role": "STANDARD"}],
            name="Rātā Joinery Ltd",
        ),
    )
    assert again.status_code == 201, again.text
    with Session(practice.runtime.engine) as session:
        kept = session.get_one(Finding, drift.id)
    assert (kept.finding_class, kept.resolved_at) == ("role_drift", None)
    # An agent scan showing the same is trusted to lower it.
    _agent_scan(
        practice,
        "!rat01",
        [
            (f"ben@{DOMAIN}", "STANDARD"),
            (f"ana@{DOMAIN}", "FINANCIALADVISER"),
            ("boss@rata.example", "STANDARD"),
        ],
    )
    with Session(practice.runtime.engine) as session:
        assert session.get_one(Finding, drift.id).finding_class == "managed"


def test_employees_may_not_post_captures(practice: Practice) -> None:
    eve = practice.client("eve")  # an employee whose scope holds Rātā
    assert eve.get("/api/v1/orgs/xero/!rat01/status").status_code == 200
    refused = eve.post("/api/v1/captures", json=_capture("!rat01", [OWNER]))
    assert refused.status_code == 403
    assert "practice admins, partners and managers" in refused.json()["detail"]
    # Refused before anything is read or written, bad body or not.
    assert eve.post("/api/v1/captures", json={"portal": "xero"}).status_code == 403
    with Session(practice.runtime.engine) as session:
        assert session.exec(select(Scan).where(Scan.source == "extension")).all() == []
    assert _ben_on(practice, "!rat01").capture_missing_at is None


def test_org_ids_must_be_their_portals(practice: Practice) -> None:
    admin = practice.client("admin")
    bad = [
        ("xero", "kow01"),
        ("xero", "!kow1"),
        ("xero", "!kow012"),
        ("xero", "!kow-1"),
        ("qbo", "123456789"),
        ("qbo", "12345678901234567890"),
        ("qbo", "12345abcde"),
        ("myob", "not-a-uuid"),
        ("myob", "!kow01"),
        ("qbo", "!kow01"),
    ]
    for portal, org_id in bad:
        answer = admin.post(
            "/api/v1/captures", json=_capture(org_id, [OWNER], portal=portal, name="X")
        )
        assert answer.status_code == 422, (portal, org_id, answer.text)
    for portal, org_id in [
        ("qbo", "1234567890"),
        ("qbo", "1234567890123456789"),
        ("xero", "!AbC12"),
    ]:
        answer = admin.post(
            "/api/v1/captures", json=_capture(org_id, [OWNER], portal=portal, name="New")
        )
        assert answer.status_code == 201, (portal, org_id, answer.text)
    upper = "3F2B8C1E-5D4A-4C6B-9E2F-7A1B0C9D8E6F"
    answer = admin.post(
        "/api/v1/captures", json=_capture(upper, [OWNER], portal="myob", name="Mānuka")
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["org"]["portal_org_id"] == upper.lower()
    with Session(practice.runtime.engine) as session:
        stored = set(session.exec(select(Org.portal_org_id)))
    assert {"!AbC12", upper.lower()} <= stored
    assert upper not in stored
    # Xero ids are case-sensitive: !KOW01 is not Mia's !kow01, so it is not in her scope.
    mia = practice.client("mia")
    assert mia.post("/api/v1/captures", json=_capture("!KOW01", [OWNER])).status_code == 403


def test_a_captured_org_name_never_renames_a_known_org(practice: Practice) -> None:
    admin = practice.client("admin")
    answer = admin.post(
        "/api/v1/captures", json=_capture("!kow01", [BEN, OWNER, ANA], name="Pay Here Ltd")
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["org"]["name"] == "Kōwhai Bakery Ltd"
    with Session(practice.runtime.engine) as session:
        kept = session.exec(select(Org.name).where(Org.portal_org_id == "!kow01")).one()
    assert kept == "Kōwhai Bakery Ltd"
    fresh = admin.post("/api/v1/captures", json=_capture("!new09", [OWNER], name="Fresh Ltd"))
    assert fresh.json()["org"]["name"] == "Fresh Ltd"


def test_a_capture_suspect_does_not_confirm_an_agent_scans_drop(practice: Practice) -> None:
    """The suspect rule's second sighting must come from the agent, not from a capture."""
    mia = practice.client("mia")
    held = mia.post("/api/v1/captures", json=_capture("!kow01", []))
    assert held.json()["status"] == "suspect"
    with session_scope(practice.runtime.engine) as session:
        drop = capture(session, org(session, "!kow01"), [])
    assert drop.status is ScanStatus.SUSPECT
    assert _ben_on(practice, "!kow01").resolved_at is None


def test_a_capture_that_raises_a_critical_finding_alerts_it_once(practice: Practice) -> None:
    """Ben, a leaver, in an org no crawl has read: the capture alerts him as a crawl would."""
    with webhook_sink() as (received, url):
        alerting = Runtime(practice.runtime.settings.model_copy(update={"alert_webhook_url": url}))
        try:
            with session_scope(alerting.engine) as session:  # what earlier crawls raised
                assert send_alerts(session, alerting.settings).failed == []
            received.clear()
            admin = api_client(alerting, practice.tokens["admin"])
            fresh = _capture("!new09", [BEN, OWNER], name="Fresh Ltd")
            for _ in range(2):  # the second capture raises nothing new: nothing is sent
                answer = admin.post("/api/v1/captures", json=fresh)
                assert answer.status_code == 201, answer.text
        finally:
            alerting.engine.dispose()
    assert [
        (p["client_manager"], [(f["class"], f["org_id"], f["email"]) for f in p["findings"]])
        for p in received
    ] == [("(no client manager)", [("leaver_access", "!new09", f"ben@{DOMAIN}")])]
    ben = _ben_on(practice, "!new09")
    with Session(practice.runtime.engine) as session:
        sent = session.exec(select(AlertSent).where(AlertSent.finding_id == ben.id)).all()
    assert [(a.channel, a.recipient) for a in sent] == [("webhook", url)]
