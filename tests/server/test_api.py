"""The API's features: findings, reviews, people, scans, passive capture, imports, exports."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.crawl.scan_queue import claim_next, finish, record_progress
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding, Observation, Org, Scan, ScanRequest, Staff
from tests.server.conftest import Practice

DOMAIN = "harbourco.example"


def _audit(practice: Practice, action: str) -> list[AuditEvent]:
    with Session(practice.runtime.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            )
        )


# -- findings -------------------------------------------------------------------------


def test_findings_filter_and_page(practice: Practice) -> None:
    admin = practice.client("admin")
    everything = admin.get("/api/v1/findings").json()
    assert everything["total"] == len(everything["items"]) == 6
    assert everything["items"][0]["severity"] == "critical"  # worst first
    assert everything["next_offset"] is None
    # no agent login in any org: every access is the client's to remove, and says why
    assert {(i["removable_by"], i["removable_reason"]) for i in everything["items"]} == {
        ("client", "agent's login not in this org")
    }

    def ids(**params: object) -> set[str]:
        page = admin.get("/api/v1/findings", params=params).json()
        return {f"{i['portal_org_id']} {i['email']}" for i in page["items"]}

    assert ids(finding_class="leaver_access") == {
        f"!kow01 ben@{DOMAIN}",
        f"!rat01 ben@{DOMAIN}",
        f"!unl01 ben@{DOMAIN}",
    }
    assert ids(severity="info") == {"!kow01 owner@kowhai.example", "!rat01 boss@rata.example"}
    assert ids(finding_class=["leaver_access", "client_user"], client_manager="mia manager") == {
        f"!kow01 ben@{DOMAIN}",
        "!kow01 owner@kowhai.example",
    }
    assert ids(person=f"BEN@{DOMAIN}", portal="xero") == ids(finding_class="leaver_access")
    # any spelling of the mailbox: a plus-tag is dropped on every domain
    assert ids(person=f" Ben+Xero@{DOMAIN}") == ids(finding_class="leaver_access")
    assert ids(person="Boss+Books@Rata.example") == {"!rat01 boss@rata.example"}
    assert ids(person="brennan") == ids(finding_class="leaver_access")
    assert ids(staff_id=practice.staff_ids["ana"]) == {f"!kow01 ana@{DOMAIN}"}
    assert ids(text="Rātā") == {f"!rat01 ben@{DOMAIN}", "!rat01 boss@rata.example"}
    assert ids(text="100%_") == set()  # LIKE wildcards are literal
    assert ids(review_state="acknowledged") == set()
    assert ids(portal="qbo") == set()
    assert len(ids(problems_only="true")) == 4

    first = admin.get("/api/v1/findings", params={"limit": 4}).json()
    second = admin.get("/api/v1/findings", params={"limit": 4, "offset": 4}).json()
    assert (first["total"], len(first["items"]), first["next_offset"]) == (6, 4, 4)
    assert (len(second["items"]), second["next_offset"]) == (2, None)
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert admin.get("/api/v1/findings", params={"limit": 0}).status_code == 422
    assert admin.get("/api/v1/findings", params={"finding_class": "nope"}).status_code == 422


def test_a_review_decision_changes_state_and_is_audited(practice: Practice) -> None:
    mia = practice.client("mia")
    finding = mia.get("/api/v1/findings", params={"finding_class": "leaver_access"}).json()[
        "items"
    ][0]
    url = f"/api/v1/findings/{finding['id']}/review"
    no_expiry = mia.post(url, json={"decision": "accepted_risk", "reason": "handover"})
    assert no_expiry.status_code == 409
    until = (utcnow() + timedelta(days=30)).date().isoformat()
    accepted = mia.post(
        url, json={"decision": "accepted_risk", "reason": "handover", "until": until}
    )
    assert accepted.status_code == 200
    assert accepted.json()["review_state"] == "accepted_risk"
    assert accepted.json()["review_history"][-1]["actor"].startswith("Mia Manager")
    assert mia.post(url, json={"decision": "verified_removed"}).status_code == 409
    assert mia.post(url, json={"decision": "removal_requested"}).json()["review_state"] == (
        "removal_requested"
    )
    events = _audit(practice, "finding.reviewed")
    assert [e.detail["to"] for e in events] == ["accepted_risk", "removal_requested"]
    status = mia.get("/api/v1/orgs/xero/!kow01/status").json()
    # Ana's direct invite is still untouched.
    assert status["counts_by_review_state"] == {"removal_requested": 1, "open": 1}
    assert status["unreviewed_problems"] == 1
    client_user = mia.get("/api/v1/findings", params={"finding_class": "client_user"}).json()[
        "items"
    ][0]["id"]
    assert (
        mia.post(
            f"/api/v1/findings/{client_user}/review", json={"decision": "acknowledged"}
        ).status_code
        == 409
    )


def test_a_persons_access_lists_every_reachable_org_with_filters(practice: Practice) -> None:
    admin = practice.client("admin")
    ben = practice.staff_ids["ben"]
    found = admin.get("/api/v1/people", params={"q": "brenn"}).json()
    assert [p["name"] for p in found["items"]] == ["Ben Brennan"]
    assert found["items"][0]["emails"] == [f"ben@{DOMAIN}"]
    assert admin.get("/api/v1/people", params={"q": f"ana@{DOMAIN}"}).json()["total"] == 1
    assert admin.get("/api/v1/people", params={"status": "left"}).json()["total"] == 1
    body = admin.get(f"/api/v1/people/{ben}/access").json()
    assert body["person"]["status"] == "left"
    assert {o["portal_org_id"] for o in body["orgs"]} == {"!kow01", "!rat01", "!unl01"}
    by_manager = admin.get(
        f"/api/v1/people/{ben}/access", params={"client_manager": "Max Manager"}
    ).json()
    assert {o["portal_org_id"] for o in by_manager["orgs"]} == {"!rat01"}
    assert (
        admin.get(f"/api/v1/people/{ben}/access", params={"access_status": "pending"}).json()[
            "orgs"
        ]
        == []
    )
    assert (
        admin.get(f"/api/v1/people/{ben}/access", params={"finding_class": "managed"}).json()[
            "orgs"
        ]
        == []
    )
    assert admin.get("/api/v1/people/99999/access").status_code == 404


# -- scans ----------------------------------------------------------------------------


def test_a_rescan_is_queued_once_and_its_progress_followed(practice: Practice) -> None:
    max_client = practice.client("max")
    body = {"portal": "xero", "portal_org_id": "!rat01"}
    first = max_client.post("/api/v1/scan-requests", json=body)
    assert first.status_code == 202
    request_id = first.json()["id"]
    assert first.json()["status"] == "queued"
    again = max_client.post("/api/v1/scan-requests", json=body)
    assert again.json()["id"] == request_id  # no duplicate while queued
    with session_scope(practice.runtime.engine) as session:
        claimed = claim_next(session)
        assert claimed is not None
        assert claimed.id == request_id
        record_progress(session, request_id, done=1, failed=0, total=1)
    running = max_client.get(f"/api/v1/scan-requests/{request_id}").json()
    assert (running["status"], running["done"], running["total"]) == ("running", 1, 1)
    with session_scope(practice.runtime.engine) as session:
        finish(session, request_id, ok=True)
    assert max_client.get(f"/api/v1/scan-requests/{request_id}").json()["status"] == "done"
    assert [e.detail["scan_request_id"] for e in _audit(practice, "scan.requested")] == [
        request_id,
        request_id,
    ]
    assert max_client.post("/api/v1/scan-requests", json={"portal": "xero"}).status_code == 422
    assert (
        max_client.post(
            "/api/v1/scan-requests",
            json={"portal": "xero", "portal_org_id": "!rat01", "login_id": 1},
        ).status_code
        == 422
    )
    assert max_client.get("/api/v1/scan-requests/424242").status_code == 404


def test_an_admin_rescans_a_login(practice: Practice) -> None:
    admin = practice.client("admin")
    assert admin.post("/api/v1/scan-requests", json={"login_id": 7}).status_code == 404
    added = admin.post(
        "/api/v1/logins",
        json={
            "portal": "xero",
            "email": "agent@harbourco.example",
            "password": "pw",
            "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP",
            "base_url": "http://127.0.0.1:1",
        },
    )
    assert added.status_code == 201
    queued = admin.post("/api/v1/scan-requests", json={"login_id": added.json()["id"]})
    assert queued.status_code == 202
    with Session(practice.runtime.engine) as session:
        row = session.get(ScanRequest, queued.json()["id"])
        assert row is not None
        assert row.login_id == added.json()["id"]
        assert row.source == "api"


# -- passive capture ------------------------------------------------------------------


def _capture(org_id: str, users: list[dict], shown: int, name: str = "Kōwhai Bakery Ltd") -> dict:
    return {
        "portal": "xero",
        "portal_org_id": org_id,
        "org_name": name,
        "users": users,
        "shown_count": shown,
    }


def test_a_capture_is_recorded_as_an_extension_scan_and_reconciles_that_org(
    practice: Practice,
) -> None:
    mia = practice.client("mia")
    users = [
        {"email": "owner@kowhai.example", "name": "Owner", "role": "STANDARD"},
        {"email": f"ana@{DOMAIN}", "name": "Ana Active", "role": "STANDARD", "status": "pending"},
    ]
    response = mia.post("/api/v1/captures", json=_capture("!kow01", users, 2))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["user_count"] == 2
    # Ben is not in the capture, but only an agent scan may resolve: he stays, a scan waits.
    assert body["org"]["counts_by_class"]["leaver_access"] == 1
    assert body["not_shown"] == 1
    assert body["scan_request_id"] is not None
    assert body["org"]["pending_count"] == 1
    with Session(practice.runtime.engine) as session:
        scan = session.get(Scan, body["scan_id"])
        assert scan is not None
        assert (scan.source, scan.status, scan.reported_total) == ("extension", "ok", 2)
        assert (
            len(session.exec(select(Observation).where(Observation.scan_id == scan.id)).all()) == 2
        )
        open_leaver = session.exec(
            select(Org.portal_org_id)
            .join(Finding, col(Finding.org_id) == col(Org.id))
            .where(Finding.finding_class == "leaver_access", col(Finding.resolved_at).is_(None))
        ).all()
    assert sorted(open_leaver) == ["!kow01", "!rat01", "!unl01"]
    assert _audit(practice, "scan.captured")[0].detail["ok"] is True


def test_a_capture_whose_rows_disagree_with_the_page_is_a_failed_scan(practice: Practice) -> None:
    mia = practice.client("mia")
    one = [{"email": "owner@kowhai.example", "name": "Owner", "role": "STANDARD"}]
    for users, shown in ((one, 3), ([], 5), (one + one, 2)):
        response = mia.post("/api/v1/captures", json=_capture("!kow01", users, shown))
        assert response.status_code == 422
        assert "failed scan" in response.json()["detail"]
        with Session(practice.runtime.engine) as session:
            scan = session.get(Scan, response.json()["scan_id"])
            assert scan is not None
            assert (scan.source, scan.status, scan.reason) == (
                "extension",
                "failed",
                "layout_changed",
            )
    # A failed capture resolves nothing: Ben is still there.
    status = mia.get("/api/v1/orgs/xero/!kow01/status").json()
    assert status["counts_by_class"]["leaver_access"] == 1
    assert status["last_scan_failed"] is True


def test_an_empty_capture_is_accepted_only_when_the_page_says_zero(practice: Practice) -> None:
    admin = practice.client("admin")
    response = admin.post("/api/v1/captures", json=_capture("!new01", [], 0, "New Org"))
    assert response.status_code == 201
    assert response.json()["org"]["name"] == "New Org"
    assert response.json()["org"]["never_scanned"] is False
    assert admin.post("/api/v1/captures", json=_capture("!new02", [], -1)).status_code == 422
    assert admin.post("/api/v1/captures", json=_capture("!new03", [], 0, "")).status_code == 422


def test_a_capture_that_drops_to_nobody_is_held_as_suspect_until_confirmed(
    practice: Practice,
) -> None:
    """The crawler's rule for extension captures too: one empty list is held, and even
    once confirmed, a capture resolves nothing: it queues the agent scan that may."""
    mia = practice.client("mia")
    before = mia.get("/api/v1/orgs/xero/!kow01/status").json()
    assert before["counts_by_class"]["leaver_access"] == 1
    first = mia.post("/api/v1/captures", json=_capture("!kow01", [], 0))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "suspect"
    assert first.json()["org"]["counts_by_class"]["leaver_access"] == 1
    assert first.json()["scan_request_id"] is not None
    second = mia.post("/api/v1/captures", json=_capture("!kow01", [], 0))
    assert second.json()["status"] == "ok"
    assert second.json()["org"]["counts_by_class"]["leaver_access"] == 1
    assert second.json()["not_shown"] == 3
    assert second.json()["scan_request_id"] == first.json()["scan_request_id"]


# -- imports --------------------------------------------------------------------------


def test_an_import_upload_is_committed_or_refused_with_every_row_error(practice: Practice) -> None:
    admin = practice.client("admin")
    good = (
        f"name,emails,status,left_on,practice_role\n"
        f"Ben Brennan,ben@{DOMAIN},left,2026-03-03,employee\n"
        f"Ana Active,ana@{DOMAIN},active,,employee\n"
        f"Mia Manager,mia@{DOMAIN},active,,manager\n"
        f"Max Manager,max@{DOMAIN},active,,manager\n"
        f"Nia New,nia@{DOMAIN},active,,employee\n"
    ).encode()
    response = admin.post("/api/v1/imports/staff", files={"file": ("roster.csv", good)})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    assert response.json()["sha256"] == hashlib.sha256(good).hexdigest()
    bad = (
        b"name,emails,status,left_on\n"
        b"No Email,,active,\n"
        b"Bad Status,bad@harbourco.example,wandering,\n"
        b"Left Early,early@harbourco.example,left,\n"
    )
    refused = admin.post("/api/v1/imports/staff", files={"file": ("../../etc/roster.csv", bad)})
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [e["row"] for e in errors] == [2, 3, 4]
    assert {e["file"] for e in errors} == {"roster.csv"}
    with Session(practice.runtime.engine) as session:
        names = set(session.exec(select(Staff.name)))
    assert "Nia New" in names
    assert "Bad Status" not in names
    assert (
        admin.post("/api/v1/imports/staff", files={"file": ("roster.txt", good)}).status_code == 422
    )
    assert admin.post("/api/v1/imports/nope", files={"file": ("r.csv", good)}).status_code == 422
    assert [e.actor for e in _audit(practice, "import.staff")] == ["Ada Admin (user #1)"]


# -- exports and the audit log ---------------------------------------------------------


def test_every_export_is_audited_with_who_scope_rows_and_digest(practice: Practice) -> None:
    mia = practice.client("mia")
    csv_response = mia.post("/api/v1/exports/findings.csv", json={"problems_only": True})
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    xlsx = mia.post("/api/v1/exports/leaver.xlsx", json={"person": "Ben Brennan"})
    assert xlsx.status_code == 200
    assert mia.post("/api/v1/exports/leaver.xlsx", json={"person": "Nobody"}).status_code == 404
    (csv_event,) = _audit(practice, "export.findings_csv")
    (xlsx_event,) = _audit(practice, "export.leaver_xlsx")
    assert csv_event.actor == "Mia Manager (user #2)"
    assert csv_event.detail["sha256"] == hashlib.sha256(csv_response.content).hexdigest()
    assert csv_event.detail["scope"] == "managed"
    assert csv_event.detail["client_ids"] == [practice.client_ids["kowhai"]]
    assert csv_event.detail["rows"] == 2  # Ben's leaver access and Ana's direct invite
    assert xlsx_event.detail["sha256"] == hashlib.sha256(xlsx.content).hexdigest()
    assert xlsx_event.detail["rows"] == 1


def test_csv_exports_are_formula_safe(practice: Practice) -> None:
    admin = practice.client("admin")
    capture = _capture(
        "!new04",
        [
            {
                "email": "=cmd|' /C calc'!A0@evil.example",
                "name": '=HYPERLINK("http://evil")',
                "role": "+1",
            }
        ],
        1,
        "@SUM(1)",
    )
    assert admin.post("/api/v1/captures", json=capture).status_code == 201
    content = admin.post("/api/v1/exports/findings.csv", json={"text": "evil"}).content
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["name"].startswith("'=")
    assert rows[0]["email"].startswith("'=")
    assert rows[0]["org_name"].startswith("'@")


def test_admins_read_and_export_the_audit_log(practice: Practice) -> None:
    admin = practice.client("admin")
    page = admin.get("/api/v1/audit", params={"limit": 3}).json()
    assert page["total"] >= 8  # users added, pairings
    assert len(page["items"]) == 3
    assert admin.get("/api/v1/audit", params={"action": "auth.signed_in"}).json()["total"] == 4
    exported = admin.post("/api/v1/audit/export", json={"action": "auth"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r["action"] for r in rows} >= {
        "auth.user_added",
        "auth.signed_in",
        "auth.pairing_code_issued",
    }
    (event,) = _audit(practice, "export.audit_csv")
    assert event.detail["sha256"] == hashlib.sha256(exported.content).hexdigest()


def test_logins_never_return_their_secrets(practice: Practice) -> None:
    admin = practice.client("admin")
    body = {
        "portal": "xero",
        "email": "agent@harbourco.example",
        "password": "pw-SECRET-1",
        "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP",
        "label": "main",
    }
    added = admin.post("/api/v1/logins", json=body)
    assert added.status_code == 201
    listed = admin.get("/api/v1/logins")
    for response in (added, listed):
        assert "pw-SECRET-1" not in response.text
        assert "JBSWY3DPEHPK3PXP" not in response.text
    assert set(listed.json()[0]) == {"id", "portal", "base_url", "email", "label", "has_session"}
    bad = admin.post("/api/v1/logins", json={**body, "totp_secret": "not base32!"})
    assert bad.status_code == 422
    login_id = added.json()["id"]
    assert admin.request("DELETE", f"/api/v1/logins/{login_id}", json={}).status_code == 204
    assert admin.get("/api/v1/logins").json() == []
    actions = [e.action for e in _audit(practice, "login.add")] + [
        e.action for e in _audit(practice, "login.remove")
    ]
    assert actions == ["login.add", "login.remove"]
