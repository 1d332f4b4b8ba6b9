"""CSV keeps the codes scripts read, in the columns and order they always had, and adds
the words after them; who can remove a direct invite is never the practice."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers
from agent.clock import utcnow
from agent.domain import FindingClass, Portal
from agent.reports import evidence, exceptions
from agent.reports.common import ReportFormat, ReportScope
from agent.reports.findings import FIELDS, LABELLED, finding_lines, findings_csv, findings_json
from agent.reports.labels import DIRECT_INVITE
from agent.reports.words import label
from agent.services.findings import reconcile
from agent.services.scans import record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import Finding, Org
from tests.factories import DOMAIN
from tests.reports.conftest import AS_OF
from tests.reports.readback import open_book, read_csv
from tests.reports.states import AGENT_EMAIL, BEN, FORMULA_NAME, LEAVER_EMAIL, State, user

#: The reports' CSV columns before the words were added: scripts read them by position.
EXCEPTION_COLUMNS = [
    "Severity",
    "Class",
    "Person",
    "Email",
    "Client",
    "Client manager",
    "Portal",
    "Org",
    "Org id",
    "Role",
    "Extra permissions",
    "Status",
    "Who can remove it",
    "Why the client",
    "First seen (UTC)",
    "Last seen (UTC)",
    "Review",
    "Detail",
    "Finding id",
]
EVIDENCE_COLUMNS = [
    "Finished (UTC)",
    "Started (UTC)",
    "Portal",
    "Org",
    "Org id",
    "Client",
    "Source",
    "Status",
    "Reason",
    "Users captured",
    "Count the page showed",
    "Counts agree",
    "Detail",
    "Scan id",
    "Crawl id",
]
BEN_EMAIL = f"ben.ono@{DOMAIN}"


def _by_name(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    assert len(set(header)) == len(header)
    return [dict(zip(header, row, strict=True)) for row in body]


def test_report_csvs_keep_their_columns_and_add_words_for_each_code(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    with Session(engine) as session:
        exceptions.write_exceptions_report(session, tmp_path / "e.csv", fmt=ReportFormat.CSV)
        evidence.write_evidence_report(session, tmp_path / "v.csv", fmt=ReportFormat.CSV)
    for path, columns, coded in (
        (tmp_path / "e.csv", EXCEPTION_COLUMNS, exceptions.CODED),
        (tmp_path / "v.csv", EVIDENCE_COLUMNS, evidence.CODED),
    ):
        rows = read_csv(path)
        assert rows[0] == [*columns, *(f"{name} label" for name in coded)]
        body = _by_name(rows)
        assert body
        for row in body:
            for name in coded:
                code = row[name]
                assert row[f"{name} label"] == (label(code) if code else ""), (name, row)
    words = _by_name(read_csv(tmp_path / "e.csv"))
    assert {r["Class"] for r in words} >= {"leaver_access", "invited_direct"}
    assert {r["Class label"] for r in words} >= {"Leaver access", "Invited direct"}
    assert {r["Portal label"] for r in words} == {"Xero", "QuickBooks Online", "MYOB"}
    assert {r["Status label"] for r in words} == {"Active", "Invite pending", "Not in org"}
    assert {r["Who can remove it label"] for r in words} == {"Practice", "Client"}
    scans = _by_name(read_csv(tmp_path / "v.csv"))
    assert {r["Status label"] for r in scans} == {"OK", "Failed", "Suspect"}
    assert {r["Reason label"] for r in scans} == {"", "Timeout"}


def test_the_findings_csv_adds_a_label_for_each_coded_field(engine: Engine, state: State) -> None:
    with Session(engine) as session:
        lines = finding_lines(session, scope=ReportScope.of(None))
    rows = list(csv.reader(io.StringIO(findings_csv(lines, bom=False).decode("utf-8"))))
    assert rows[0] == [*FIELDS, *(f"{name}_label" for name in LABELLED)]
    body = _by_name(rows)
    assert len(body) == len(lines)
    missing = next(r for r in body if r["finding_class"] == "missing_expected")
    # the code as stored; the words say what it means for a grant never seen
    assert (missing["access_status"], missing["access_status_label"]) == ("active", "Not in org")
    for row in body:
        assert row["portal_label"] == label(row["portal"])
        assert row["finding_class_label"] == label(row["finding_class"])
        assert row["severity_label"] == label(row["severity"])
        assert row["removable_by_label"] == label(row["removable_by"])
        assert row["review_state_label"] == label(row["review_state"])
    assert {r["access_status_label"] for r in body} == {"Active", "Invite pending", "Not in org"}


def _direct_invite_the_practice_could_remove(engine: Engine, state: State) -> int:
    """Ben, active staff, shows up in +1 Bakery's Xero org without a grant: a direct
    invite, in the one org where the agent's login may remove users."""
    with session_scope(engine) as session:
        org = session.get(Org, state.org_ids["!AAA01"])
        assert org is not None
        assert org.id is not None
        users = (
            user(LEAVER_EMAIL, "FINANCIALADVISER", "MANAGE_USERS", name=FORMULA_NAME),
            user(f"ana.ruiz@{DOMAIN}", "FINANCIALADVISER", "MANAGE_USERS"),
            user("owner@plusone.example", "STANDARD", name="Olive Owner"),
            user(AGENT_EMAIL, "FINANCIALADVISER", "MANAGE_USERS", name="Access Robot"),
            user(BEN_EMAIL, "STANDARD", name=BEN),
        )
        record_ok_scan(
            session,
            org_id=org.id,
            started_at=utcnow(),
            result=OrgUsers(
                OrgRef(Portal.XERO, org.portal_org_id, org.name), users, len(users), "JSON total 5"
            ),
        )
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN], org_ids=[state.org_ids["!AAA01"]])
    with Session(engine) as session:
        finding = session.exec(
            select(Finding).where(
                col(Finding.org_id) == state.org_ids["!AAA01"],
                col(Finding.email) == BEN_EMAIL,
                col(Finding.resolved_at).is_(None),
            )
        ).one()
        # The scan's fact: the agent's login could take it away.
        assert (finding.finding_class, finding.removable_by) == (
            FindingClass.INVITED_DIRECT,
            "practice",
        )
        assert finding.id is not None
        return finding.id


def test_a_direct_invite_is_never_the_practice_s_to_remove(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    finding_id = _direct_invite_the_practice_could_remove(engine, state)
    with Session(engine) as session:
        exceptions.write_exceptions_report(session, tmp_path / "e.csv", fmt=ReportFormat.CSV)
        exceptions.write_exceptions_report(session, tmp_path / "e.xlsx", as_of=AS_OF)
        lines = finding_lines(session, scope=ReportScope.of(None))
    [row] = [
        r for r in _by_name(read_csv(tmp_path / "e.csv")) if r["Finding id"] == str(finding_id)
    ]
    assert (row["Who can remove it"], row["Who can remove it label"]) == ("client", "Client")
    assert row["Why the client"] == DIRECT_INVITE
    sheet = open_book(tmp_path / "e.xlsx")["Exceptions"]
    [cells] = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[18] == finding_id]
    assert cells[1] == "Invited direct"
    assert cells[12:14] == ("Client", DIRECT_INVITE)
    direct = [line for line in lines if line.finding_class == FindingClass.INVITED_DIRECT]
    body = _by_name(list(csv.reader(io.StringIO(findings_csv(direct, bom=False).decode()))))
    assert len(body) == 4  # the three the practice holds, and this one
    assert {(r["removable_by"], r["removable_by_label"]) for r in body} == {("client", "Client")}
    assert {r["removable_reason"] for r in body if r["id"] == str(finding_id)} == {DIRECT_INVITE}
    assert all('"removable_by": "client"' in findings_json([line]).decode() for line in direct)
