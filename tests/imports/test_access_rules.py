"""The access import's reconciliation rules: MYOB's user type and Roles, and grants to
aliases written with a plus-tag; each checked through the database into reconcile."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from agent.domain import AccessStatus, FindingClass, Portal
from agent.imports import ImportRejected, import_access, import_staff
from agent.reconcile import OrgFacts, PracticeIndex, SeenUser, classify_org
from agent.services.reconcile_inputs import load_practice
from agent.storage.db import session_scope
from agent.storage.models import IntendedAccess, Staff

DOMAINS = ["practice.example"]
ORG_1 = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e61"
ORG_2 = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e62"
ORG_3 = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e63"
STAFF_ROWS = [
    ["Anna Smith", "anna@practice.example; anna.smith@gmail.example", "active", ""],
    ["Ben Chen", "ben@practice.example; ben.chen+work@mailbox.example", "active", ""],
    ["Cara Lee", "cara@practice.example; cara.lee@gmail.example", "left", "2025-03-03"],
]
ACCESS_HEADER = ["staff_email", "portal", "org_id", "role", "extra_permissions"]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def roster(engine: Engine, tmp_path: Path) -> Engine:
    path = write_csv(tmp_path / "staff.csv", ["name", "emails", "status", "left_on"], STAFF_ROWS)
    with session_scope(engine) as session:
        import_staff(session, path, practice_domains=DOMAINS)
    return engine


def load_access(engine: Engine, tmp_path: Path, rows: Sequence[Sequence[str]]) -> None:
    path = write_csv(tmp_path / "access.csv", ACCESS_HEADER, rows)
    with session_scope(engine) as session:
        import_access(session, path, practice_domains=DOMAINS)


def grants(engine: Engine) -> dict[tuple[str, str, str], tuple[str, list[str]]]:
    with session_scope(engine) as session:
        names = {s.id: s.name for s in session.exec(select(Staff))}
        return {
            (names[g.staff_id], g.portal, g.portal_org_id): (g.role, g.extra_permissions)
            for g in session.exec(select(IntendedAccess))
        }


def reconcile(engine: Engine, org: OrgFacts, users: list[SeenUser]) -> dict[str, FindingClass]:
    """The org's classes, from the grants and roster as stored (the scan's path)."""
    with session_scope(engine) as session:
        practice = load_practice(session, frozenset(DOMAINS))
    return {
        c.identity: c.finding_class for c in classify_org(PracticeIndex.build(practice), org, users)
    }


def test_a_myob_row_names_a_user_type_roles_or_both(roster: Engine, tmp_path: Path) -> None:
    load_access(
        roster,
        tmp_path,
        [
            ["anna@practice.example", "myob", ORG_1, "Online admin; Administrator, Payroll", ""],
            ["anna@practice.example", "myob", ORG_2, "Administrator, Payroll", "Invoicing"],
            ["anna@practice.example", "myob", ORG_3, "", "Accountant; payroll; Payroll"],
            ["ben@practice.example", "myob", ORG_1, "File user", ""],
            ["ben@practice.example", "myob", ORG_2, "Accountant", "online admin"],
            ["ben@practice.example", "xero", "!x7Kp2", "Adviser", "Manage users"],
        ],
    )
    assert grants(roster) == {
        ("Anna Smith", "myob", ORG_1): ("Online admin", ["Administrator", "Payroll"]),
        ("Anna Smith", "myob", ORG_2): ("", ["Administrator", "Payroll", "Invoicing"]),
        ("Anna Smith", "myob", ORG_3): ("", ["Accountant", "payroll"]),
        ("Ben Chen", "myob", ORG_1): ("File user", []),
        ("Ben Chen", "myob", ORG_2): ("online admin", ["Accountant"]),
        ("Ben Chen", "xero", "!x7Kp2"): ("Adviser", ["Manage users"]),
    }


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["anna@practice.example", "myob", ORG_1, "", ""], "a value is required"),
        (
            ["anna@practice.example", "myob", ORG_1, "Online admin; File user", "Payroll"],
            "more than one MYOB user type",
        ),
        (["anna@practice.example", "xero", "!x7Kp2", "", "Manage users"], "a value is required"),
    ],
)
def test_a_row_without_what_its_portal_needs_is_refused(
    roster: Engine, tmp_path: Path, row: list[str], reason: str
) -> None:
    with pytest.raises(ImportRejected) as caught:
        load_access(roster, tmp_path, [row])
    (error,) = caught.value.errors
    assert (error.row, error.column) == (2, "role")
    assert reason in error.reason
    assert grants(roster) == {}


MYOB = OrgFacts(Portal.MYOB, ORG_1, "Summit Dental", client_name="Summit Dental")


def test_a_myob_grant_of_roles_only_is_compared_on_roles_only(
    roster: Engine, tmp_path: Path
) -> None:
    load_access(
        roster,
        tmp_path,
        [
            ["anna@practice.example", "myob", ORG_1, "Administrator, Payroll", ""],
            ["ben@practice.example", "myob", ORG_1, "Online admin", ""],
        ],
    )
    as_granted = [
        SeenUser(
            "anna@practice.example",
            "Anna Smith",
            "File user",
            AccessStatus.ACTIVE,
            ("payroll", "Administrator"),
        ),
        SeenUser(
            "ben@practice.example", "Ben Chen", "Online admin", AccessStatus.ACTIVE, ("Banking",)
        ),
    ]
    assert reconcile(roster, MYOB, as_granted) == {
        "anna@practice.example": FindingClass.MANAGED,
        "ben@practice.example": FindingClass.MANAGED,
    }
    drifted = [
        SeenUser(
            "anna@practice.example", "Anna Smith", "Online admin", AccessStatus.ACTIVE, ("Payroll",)
        ),
        SeenUser(
            "ben@practice.example", "Ben Chen", "File user", AccessStatus.ACTIVE, ("Administrator",)
        ),
    ]
    assert reconcile(roster, MYOB, drifted) == {
        "anna@practice.example": FindingClass.ROLE_DRIFT,
        "ben@practice.example": FindingClass.ROLE_DRIFT,
    }


XERO = OrgFacts(Portal.XERO, "!x7Kp2", "Kowhai Joinery", client_name="Kowhai Joinery")


def test_a_grant_to_an_alias_spelt_with_a_plus_tag_is_that_persons(
    roster: Engine, tmp_path: Path
) -> None:
    """The access file may write an alias with a tag the roster does not have, or
    without the one it has: either way the grant is the person's, seen as managed,
    and the person's primary address is not reported missing."""
    load_access(
        roster,
        tmp_path,
        [
            ["Anna.Smith+Books@Gmail.example", "xero", "!x7Kp2", "Standard", ""],
            ["ben.chen@mailbox.example", "xero", "!x7Kp2", "Standard", ""],
        ],
    )
    assert set(grants(roster)) == {("Anna Smith", "xero", "!x7Kp2"), ("Ben Chen", "xero", "!x7Kp2")}
    seen = [
        SeenUser("anna.smith@gmail.example", "Anna Smith", "STANDARD", AccessStatus.ACTIVE),
        SeenUser(" BEN.CHEN+ledger@mailbox.example", "Ben Chen", "STANDARD", AccessStatus.PENDING),
        SeenUser("Cara.Lee+old@GMAIL.example", "Cara Lee", "STANDARD", AccessStatus.ACTIVE),
    ]
    assert reconcile(roster, XERO, seen) == {
        "anna.smith@gmail.example": FindingClass.MANAGED,
        "ben.chen@mailbox.example": FindingClass.MANAGED,
        "cara.lee@gmail.example": FindingClass.LEAVER_ACCESS,
    }
