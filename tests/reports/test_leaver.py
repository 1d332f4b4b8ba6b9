"""The leaver report: a summary, then each client manager's own clients to call, in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal
from agent.imports import run_import
from agent.reports.common import NO_MANAGER, UNLINKED_CLIENT, ReportFormat
from agent.reports.labels import DIRECT_INVITE
from agent.reports.leaver import (
    COLUMNS,
    CSV_HEADER,
    SUMMARY_COLUMNS,
    PersonNotFound,
    leaver_rows,
    write_leaver_report,
)
from agent.services.findings import reconcile
from agent.services.scans import record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Client, ClientOrgLink, Staff
from sandbox.generate import generate_world, write_world
from tests.factories import DOMAIN
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import (
    AGENT_EMAIL,
    ANA,
    BEN,
    FORMULA_NAME,
    LEAVER_EMAIL,
    SUM_MANAGER,
    State,
)

WHO = f"{FORMULA_NAME} (left 3 Mar 2026)"
ACTIVE = AccessStatus.ACTIVE
NOT_IN_ORG = "accessrecon's login is not a user of this org"
ANA_EMAIL = f"ana.ruiz@{DOMAIN}"


def _write(engine: Engine, who: str, path: Path, **kwargs) -> int:
    with Session(engine) as session:
        _, count = write_leaver_report(session, who, path, as_of=AS_OF, **kwargs)
    return count


def _column(title: str) -> int:
    return [c.title for c in COLUMNS].index(title)


def test_a_sheet_per_manager_with_the_clients_to_call_in_words(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "leaver.xlsx"
    assert _write(engine, LEAVER_EMAIL, out) == 3
    book = open_book(out)
    assert book.sheetnames == ["Summary", SUM_MANAGER, ANA, NO_MANAGER]

    summary = book["Summary"]
    assert summary["A1"].value == f"Leaver report: {WHO}"
    assert summary["A2"].value == "As of 24 Nov 2026 09:30 UTC"
    assert summary["A3"].value == "Scope: all clients and orgs linked to no client"
    body = framed(summary, SUMMARY_COLUMNS)
    assert body == [
        [SUM_MANAGER, 1, 0, 1, 0, 0, 0, SUM_MANAGER],
        [ANA, 1, 1, 0, 0, 0, 0, ANA],
        [NO_MANAGER, 1, 0, 1, 0, 0, 1, NO_MANAGER],
    ]
    assert summary["H5"].hyperlink.location == f"'{SUM_MANAGER}'!A1"
    assert [c.value for c in summary[8]][:7] == ["Total", 3, 1, 2, 0, 0, 1]
    assert summary["A8"].font.b

    ana = framed(book[ANA], COLUMNS)
    assert ana == [
        [
            "+1 Bakery",
            "Plus One Bakery Ltd",
            "Xero",
            "!AAA01",
            None,  # neither archived nor unlinked
            LEAVER_EMAIL,
            "Adviser",
            "Manage users",
            "Active",
            "Leaver access",
            "Practice",
            None,  # no reason: the practice can
            ana[0][12],
            None,  # the portal showed no last login
            "=cmd|' /C calc'!A0",
        ]
    ]
    assert isinstance(ana[0][12], datetime)
    assert book[ANA]["J5"].fill.fgColor.rgb == "FFFFC7CE"  # the class, in red

    dairy = framed(book[SUM_MANAGER], COLUMNS)
    assert [r[2:5] + r[6:12] for r in dairy] == [
        [
            "Xero",
            "!BBB02",
            None,
            "Read only",
            None,
            "Active",
            "Leaver access",
            "Client",
            NOT_IN_ORG,
        ]
    ]
    unlinked = framed(book[NO_MANAGER], COLUMNS)
    assert [(r[0], r[3], r[4], r[10], r[11]) for r in unlinked] == [
        (
            UNLINKED_CLIENT,
            "!EEE05",
            "Org linked to no client",
            "Client",
            NOT_IN_ORG,
        )
    ]


def test_every_sheet_names_the_person_and_when_they_left(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "leaver.xlsx"
    _write(engine, LEAVER_EMAIL, out)
    book = open_book(out)
    assert book[ANA]["A1"].value == f"{WHO}: access on {ANA}'s clients"
    assert book[NO_MANAGER]["A1"].value == f"{WHO}: orgs with no client manager"
    for ws in book.worksheets:
        # Printed: landscape, one page wide, the header row on every page, and the
        # title (with who and when) at the top of every page.
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1)
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$4:$4"
        assert WHO in ws.oddHeader.left.text


def test_possible_matches_and_pending_invitations_are_listed(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ana.xlsx"
    assert _write(engine, ANA, out) == 4
    book = open_book(out)
    assert book.sheetnames == ["Summary", ANA, BEN]
    assert book["Summary"]["A1"].value == f"Leaver report: {ANA} (Active)"
    rows = framed(book[ANA], COLUMNS)
    assert sorted((r[2], r[3], r[8], r[9]) for r in rows) == [
        ("QuickBooks Online", "4620816365", "Invite pending", "Invited direct"),
        ("Xero", "!AAA01", "Active", "Managed"),
    ]
    assert rows[[r[3] for r in rows].index("4620816365")][6:8] == ["Company admin", "Manage users"]
    ben = framed(book[BEN], COLUMNS)
    assert sorted((r[5], r[9]) for r in ben) == [
        ("ana.r@home.example", "Probable match"),
        (ANA_EMAIL, "Invited direct"),
    ]
    summary = [[c.value for c in row] for row in book["Summary"].iter_rows(min_row=5, max_row=6)]
    assert [r[:7] for r in summary] == [[ANA, 2, 1, 1, 1, 0, 0], [BEN, 2, 0, 2, 0, 1, 0]]


def test_archived_clients_and_unlinked_orgs_are_flagged_on_the_row(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ben.xlsx"
    _write(engine, BEN, out)
    book = open_book(out)
    flags = {
        r[0]: r[4] for ws in book.worksheets[1:] for r in framed(ws, COLUMNS) if r[0] is not None
    }
    assert flags["Old Mill"] == "Archived client"
    assert flags[UNLINKED_CLIENT] == "Org linked to no client"
    assert flags["Kōwhai Bakery"] is None
    summary = {r[0]: r[6] for r in framed(book["Summary"], SUMMARY_COLUMNS)}
    assert summary == {ANA: 1, BEN: 0, NO_MANAGER: 1}  # Old Mill is Ana's client


def _direct_invite_org(engine: Engine) -> datetime:
    """A client of Ben's whose org the agent's login may manage, where Ana was invited
    directly (the portal shows her last login) and the leaver still is; reconciled."""
    last_login = datetime(2026, 10, 5, 9, 48, tzinfo=UTC)
    with session_scope(engine) as session:
        client = Client(
            external_id="C-HARBOUR",
            name="Harbour Cafe",
            client_manager=BEN,
            contact_email="accounts@harbourcafe.example",
            contact_name="Aroha Ngata",
        )
        session.add(client)
        session.flush()
        assert client.id is not None
        session.add(ClientOrgLink(client_id=client.id, portal="xero", portal_org_id="!HHH08"))
        ref = OrgRef(Portal.XERO, "!HHH08", "Harbour Cafe Ltd")
        org = upsert_org(session, ref, login_id=None)
        users = (
            PortalUser(AGENT_EMAIL, "Access Robot", "FINANCIALADVISER", ACTIVE, ("MANAGE_USERS",)),
            PortalUser(ANA_EMAIL, "Ana Ruiz", "STANDARD", ACTIVE, last_login=last_login),
            PortalUser(LEAVER_EMAIL, "Leaver", "STANDARD", ACTIVE),
        )
        record_ok_scan(
            session, org_id=org.id, started_at=utcnow(), result=OrgUsers(ref, users, 3, "3 users")
        )
    with session_scope(engine) as session:
        reconcile(session, configured_domains=[DOMAIN])
    return last_login


def test_a_direct_invite_is_never_the_practices_to_remove(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    last_login = _direct_invite_org(engine)
    with Session(engine) as session:
        ana = session.get(Staff, state.staff_ids[ANA])
        assert ana is not None
        row = next(r for r in leaver_rows(session, ana) if r.org_id == "!HHH08")
    # The agent's login could remove her there, but the client invited her.
    assert (row.finding_class, row.removable_by, row.removable_reason) == (
        "invited_direct",
        "client",
        DIRECT_INVITE,
    )
    assert row.last_login == last_login

    out = tmp_path / "ana.xlsx"
    _write(engine, ANA, out)
    book = open_book(out)
    harbour = [r for r in framed(book[BEN], COLUMNS) if r[3] == "!HHH08"]
    assert len(harbour) == 1
    cells = harbour[0]
    assert cells[_column("Who can remove it")] == "Client"
    assert cells[_column("Why the client")] == DIRECT_INVITE
    assert cells[_column("Last login (portal)")] == datetime(2026, 10, 5, 9, 48)
    assert cells[_column("Client contact")] == "Aroha Ngata\naccounts@harbourcafe.example"
    summary = {r[0]: r[1:4] for r in framed(book["Summary"], SUMMARY_COLUMNS)}
    assert summary[BEN] == [3, 0, 3]  # the summary counts the rows as they read

    # The leaver on the same org is the practice's to remove: the rule is the class's.
    leaver = tmp_path / "leaver.xlsx"
    _write(engine, LEAVER_EMAIL, leaver)
    rows = [r for r in framed(open_book(leaver)[BEN], COLUMNS) if r[3] == "!HHH08"]
    assert [r[_column("Who can remove it")] for r in rows] == ["Practice"]


def test_cut_to_a_scope_only_shows_its_clients(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "cut.xlsx"
    count = _write(
        engine,
        LEAVER_EMAIL,
        out,
        scope=state.clients_of(ANA),
        scope_label=f"clients managed by {ANA}",
    )
    assert count == 1
    book = open_book(out)
    assert book.sheetnames == ["Summary", ANA]
    assert book[ANA]["A3"].value == f"Scope: clients managed by {ANA} (3 clients)"
    assert [r[3] for r in framed(book[ANA], COLUMNS)] == ["!AAA01"]


def test_someone_on_no_org_gets_a_report_that_says_so(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "none.xlsx"
    assert _write(engine, LEAVER_EMAIL, out, scope=set()) == 0
    book = open_book(out)
    assert book.sheetnames == ["Summary"]
    notes = [c.value for c in book["Summary"]["A"] if c.value]
    assert "This person can reach no org in this scope." in notes


def test_the_csv_keeps_the_codes_and_adds_their_words(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "leaver.csv"
    assert _write(engine, LEAVER_EMAIL, out, fmt=ReportFormat.CSV) == 3
    rows = read_csv(out)
    assert rows[0] == list(CSV_HEADER)
    # The columns the file always had, in their order, before and between the new ones.
    old = [
        "Client manager",
        "Client",
        "Org",
        "Portal",
        "Org id",
        "Email",
        "Role",
        "Extra permissions",
        "Status",
        "Class",
        "Who can remove it",
        "Why the client",
        "Last seen (UTC)",
        "Client contact",
    ]
    assert [t for t in rows[0] if t in old] == old
    assert [r[0] for r in rows[1:]] == ["'" + SUM_MANAGER, ANA, NO_MANAGER]
    record = dict(zip(rows[0], rows[2], strict=True))
    assert record["Client"] == "'+1 Bakery"
    assert (record["Portal"], record["Portal label"]) == ("xero", "Xero")
    assert (record["Status"], record["Status label"]) == ("active", "Active")
    assert (record["Class"], record["Class label"]) == ("leaver_access", "Leaver access")
    assert (record["Who can remove it"], record["Who can remove it label"]) == (
        "practice",
        "Practice",
    )
    assert record["Client contact"] == "'=cmd|' /C calc'!A0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", record["Last seen (UTC)"])
    unlinked = dict(zip(rows[0], rows[3], strict=True))
    assert (unlinked["Flag"], unlinked["Flag label"]) == ("unlinked_org", "Org linked to no client")


def test_an_unknown_or_ambiguous_person_is_refused(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    with pytest.raises(PersonNotFound, match="no staff member"):
        _write(engine, "nobody@harbourco.example", tmp_path / "x.xlsx")
    with pytest.raises(PersonNotFound, match="several staff"):
        _write(engine, "n", tmp_path / "x.xlsx")  # Ana Ruiz, Ben Ono
    with pytest.raises(PersonNotFound, match="no person given"):
        _write(engine, "  ", tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_the_demo_worlds_clients_carry_a_contact_the_import_keeps(
    engine: Engine, tmp_path: Path
) -> None:
    """The demo's client list has a contact person and address per client, as a
    practice's export does, and the clients import stores both for the report."""
    world = generate_world(7)
    files = write_world(world, tmp_path / "world")
    run_import(engine, "clients", files.clients, practice_domains=world.practice_domains)
    with Session(engine) as session:
        stored = {c.external_id: c for c in session.exec(select(Client))}
    assert set(stored) == {c.client_id for c in world.clients}
    for client in world.clients:
        assert client.contact_name
        assert client.contact_email
        held = stored[client.client_id]
        assert (held.contact_name, held.contact_email) == (
            client.contact_name,
            client.contact_email,
        )
