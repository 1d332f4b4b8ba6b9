"""Classification rules, one test per rule of DESIGN.md's table and its notes."""

from __future__ import annotations

from datetime import date

import pytest

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reconcile import (
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
    classify_all,
    normalise_email,
)

DOMAIN = "harbourco.example"
ANNA = StaffMember(
    1, "Anna Ashby", StaffStatus.ACTIVE, ("anna.ashby@harbourco.example", "anna@mailbox.example")
)
BEN = StaffMember(
    2, "Ben Brennan", StaffStatus.LEFT, ("ben.brennan@harbourco.example",), left_on=date(2026, 3, 3)
)
CHLOE = StaffMember(3, "Chloé Chen", StaffStatus.ON_LEAVE, ("chloe.chen@harbourco.example",))
ROBOT = "accessrecon.xero@harbourco.example"
ORG = OrgFacts(Portal.XERO, "!abc12", "Kōwhai Bakery", client_name="Kōwhai Bakery")


def practice(*grants: Grant) -> Practice:
    return Practice(
        domains=frozenset({DOMAIN}),
        staff=(ANNA, BEN, CHLOE),
        agent_emails=frozenset({ROBOT}),
        grants=grants,
    )


def grant(
    staff: StaffMember, role: str = "FINANCIALADVISER", *extras: str, org: OrgFacts = ORG
) -> Grant:
    return Grant(staff.id, org.portal, org.portal_org_id, role, tuple(extras))


def user(
    email: str,
    role: str = "FINANCIALADVISER",
    status: AccessStatus = AccessStatus.ACTIVE,
    *extras: str,
) -> SeenUser:
    return SeenUser(
        email=email,
        name=email.split("@")[0],
        role=role,
        status=status,
        extra_permissions=tuple(extras),
    )


def classes(p: Practice, users: list[SeenUser], org: OrgFacts = ORG) -> dict[str, FindingClass]:
    return {c.identity: c.finding_class for c in classify_all(p, [(org, users)])}


def test_granted_access_seen_as_granted_is_managed() -> None:
    got = classes(practice(grant(ANNA)), [user("anna.ashby@harbourco.example")])
    assert got == {"anna.ashby@harbourco.example": FindingClass.MANAGED}


def test_leaver_is_leaver_access_even_where_granted_and_on_an_unlinked_org() -> None:
    unlinked = OrgFacts(Portal.XERO, "!zzz99", "Nobody's org")
    got = classes(
        practice(grant(BEN, org=unlinked)), [user("ben.brennan@harbourco.example")], org=unlinked
    )
    assert got == {"ben.brennan@harbourco.example": FindingClass.LEAVER_ACCESS}


def test_active_staff_without_a_grant_is_invited_direct_even_on_an_archived_client() -> None:
    archived = OrgFacts(
        Portal.XERO, "!arc01", "Old Mill", client_name="Old Mill", client_archived=True
    )
    got = classes(practice(), [user("anna.ashby@harbourco.example", "STANDARD")], org=archived)
    assert got == {"anna.ashby@harbourco.example": FindingClass.INVITED_DIRECT}


def test_staff_on_leave_are_classed_as_active_staff() -> None:
    got = classes(practice(), [user("chloe.chen@harbourco.example")])
    assert got == {"chloe.chen@harbourco.example": FindingClass.INVITED_DIRECT}


def test_practice_address_matching_nobody_is_unknown_practice_user() -> None:
    got = classes(practice(), [user("temp.0042@harbourco.example", "STANDARD")])
    assert got == {"temp.0042@harbourco.example": FindingClass.UNKNOWN_PRACTICE_USER}


def test_other_addresses_are_client_users() -> None:
    got = classes(practice(), [user("owner@kowhai.example", "STANDARD")])
    assert got == {"owner@kowhai.example": FindingClass.CLIENT_USER}


def test_the_agents_own_login_is_never_reported() -> None:
    assert classes(practice(), [user(ROBOT.upper())]) == {}


def test_roster_alias_matches_the_staff_member() -> None:
    got = classes(practice(), [user("Anna@Mailbox.example ")])
    assert got == {"anna@mailbox.example": FindingClass.INVITED_DIRECT}


@pytest.mark.parametrize(
    "raw",
    [
        "ANNA.ASHBY@HARBOURCO.EXAMPLE",
        " anna.ashby+xero@harbourco.example",
        "anna.ashby@harbourco.example\u00a0",
    ],
)
def test_case_spaces_and_plus_tags_on_practice_domains_are_ignored(raw: str) -> None:
    assert normalise_email(raw, [DOMAIN]) == "anna.ashby@harbourco.example"


def test_plus_tags_are_dropped_on_every_domain() -> None:
    assert normalise_email("Anna.Smith+books@Gmail.com", [DOMAIN]) == "anna.smith@gmail.com"
    assert normalise_email("owner+books@kowhai.example") == "owner@kowhai.example"
    # nothing before the "+": not a tag, the address is kept whole
    assert normalise_email("+books@kowhai.example") == "+books@kowhai.example"


def test_a_leaver_reached_through_a_tagged_personal_alias_is_leaver_access() -> None:
    ben = StaffMember(
        2,
        "Ben Brennan",
        StaffStatus.LEFT,
        ("ben.brennan@harbourco.example", "ben.brennan@gmail.example"),
    )
    p = Practice(frozenset({DOMAIN}), (ANNA, ben), frozenset({ROBOT}))
    seen = SeenUser(
        "Ben.Brennan+Books@Gmail.example", "Ben Brennan", "STANDARD", AccessStatus.ACTIVE
    )
    (result,) = classify_all(p, [(ORG, [seen])])
    assert (result.identity, result.finding_class, result.staff_id) == (
        "ben.brennan@gmail.example",
        FindingClass.LEAVER_ACCESS,
        2,
    )


def test_a_grant_to_a_tagged_alias_is_managed_and_the_primary_not_missing() -> None:
    tagged = StaffMember(
        1,
        "Anna Ashby",
        StaffStatus.ACTIVE,
        ("anna.ashby@harbourco.example", "anna+ledgers@mailbox.example"),
    )
    p = Practice(frozenset({DOMAIN}), (tagged,), frozenset({ROBOT}), (grant(ANNA),))
    got = classes(p, [user("ANNA@mailbox.example")])
    assert got == {"anna@mailbox.example": FindingClass.MANAGED}


def test_pending_invitation_is_access_and_marked_pending() -> None:
    (result,) = classify_all(
        practice(), [(ORG, [user("anna.ashby@harbourco.example", status=AccessStatus.PENDING)])]
    )
    assert result.finding_class is FindingClass.INVITED_DIRECT
    assert result.access_status is AccessStatus.PENDING


def test_declined_invitation_is_not_access_and_leaves_the_grant_missing() -> None:
    got = classes(
        practice(grant(ANNA)), [user("anna.ashby@harbourco.example", status=AccessStatus.DECLINED)]
    )
    assert got == {"anna.ashby@harbourco.example": FindingClass.MISSING_EXPECTED}


def test_granted_role_differing_from_the_observed_one_is_role_drift() -> None:
    got = classes(practice(grant(ANNA, "Standard")), [user("anna.ashby@harbourco.example")])
    assert got == {"anna.ashby@harbourco.example": FindingClass.ROLE_DRIFT}


def test_role_labels_and_codes_compare_equal() -> None:
    got = classes(practice(grant(ANNA, "Adviser")), [user("anna.ashby@harbourco.example")])
    assert got == {"anna.ashby@harbourco.example": FindingClass.MANAGED}


def test_extra_permissions_are_drift_only_where_the_grant_names_them() -> None:
    seen = [
        user(
            "anna.ashby@harbourco.example", "FINANCIALADVISER", AccessStatus.ACTIVE, "MANAGE_USERS"
        )
    ]
    assert (
        classes(practice(grant(ANNA)), seen)["anna.ashby@harbourco.example"] is FindingClass.MANAGED
    )
    named = practice(grant(ANNA, "Adviser", "Payroll admin"))
    assert classes(named, seen)["anna.ashby@harbourco.example"] is FindingClass.ROLE_DRIFT


def test_managed_access_on_archived_client_or_unlinked_org() -> None:
    archived = OrgFacts(Portal.XERO, "!abc12", "Old", client_name="Old", client_archived=True)
    unlinked = OrgFacts(Portal.XERO, "!abc12", "Nobody's")
    seen = [user("anna.ashby@harbourco.example")]
    assert (
        classes(practice(grant(ANNA)), seen, archived)["anna.ashby@harbourco.example"]
        is FindingClass.ARCHIVED_CLIENT_ACCESS
    )
    assert (
        classes(practice(grant(ANNA)), seen, unlinked)["anna.ashby@harbourco.example"]
        is FindingClass.UNLINKED_ORG
    )


def test_a_leavers_grant_no_longer_observed_is_not_missing() -> None:
    assert classes(practice(grant(BEN)), [user("owner@kowhai.example")]) == {
        "owner@kowhai.example": FindingClass.CLIENT_USER
    }


def test_who_can_remove_it_is_the_agents_own_rows_answer() -> None:
    people = [
        user("anna.ashby@harbourco.example"),
        user("chloe.chen@harbourco.example", "STANDARD"),
        SeenUser("owner@kowhai.example", "Otis", "STANDARD", AccessStatus.ACTIVE, subscriber=True),
    ]
    managing = user(ROBOT, "FINANCIALADVISER", AccessStatus.ACTIVE, "MANAGE_USERS")
    cases = {
        "with Manage users": [*people, managing],
        "without": [*people, user(ROBOT)],
        "not in the org": people,
    }
    got = {
        case: {
            r.identity: (r.removable_by, r.removable_reason)
            for r in classify_all(practice(grant(ANNA), grant(BEN)), [(ORG, seen)])
        }
        for case, seen in cases.items()
    }
    subscriber = ("client", "subscriber")
    missing = ("practice", "")  # a grant not observed is the practice's to fix, always
    assert got["with Manage users"] == {
        "anna.ashby@harbourco.example": ("practice", ""),
        "chloe.chen@harbourco.example": ("practice", ""),
        "owner@kowhai.example": subscriber,
    }
    assert got["without"] == {
        "anna.ashby@harbourco.example": ("client", "agent lacks Manage users"),
        "chloe.chen@harbourco.example": ("client", "agent lacks Manage users"),
        "owner@kowhai.example": subscriber,
    }
    assert got["not in the org"] == {
        "anna.ashby@harbourco.example": ("client", "agent's login not in this org"),
        "chloe.chen@harbourco.example": ("client", "agent's login not in this org"),
        "owner@kowhai.example": subscriber,
    }
    gone = classify_all(practice(grant(CHLOE)), [(ORG, [managing])])
    assert [(r.finding_class, r.removable_by, r.removable_reason) for r in gone] == [
        (FindingClass.MISSING_EXPECTED, *missing)
    ]


def test_an_identity_listed_twice_keeps_the_worse_class() -> None:
    got = classes(
        practice(grant(ANNA)),
        [
            user("anna.ashby@harbourco.example"),
            user("ANNA.ASHBY@harbourco.example", "STANDARD"),
        ],
    )
    assert got == {"anna.ashby@harbourco.example": FindingClass.ROLE_DRIFT}


def test_leaver_detail_names_the_date_and_role() -> None:
    (result,) = classify_all(practice(), [(ORG, [user("ben.brennan@harbourco.example")])])
    assert result.detail == "Ben Brennan left on 2026-03-03 and still has Adviser access"
