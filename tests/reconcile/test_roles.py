"""The role taxonomy's permissions, and what they mean for drift and who can remove access."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reconcile import (
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
    can_manage_users,
    classify_all,
    extra_permission_codes,
    permissions_of,
)

DOMAIN = "harbourco.example"
ANNA = StaffMember(1, "Anna Ashby", StaffStatus.ACTIVE, (f"anna@{DOMAIN}",))
BEN = StaffMember(2, "Ben Brennan", StaffStatus.LEFT, (f"ben@{DOMAIN}",))
ROBOT = f"robot@{DOMAIN}"


@pytest.mark.parametrize(
    ("portal", "raw", "code"),
    [
        (Portal.MYOB, "Administrator", "MANAGE_USERS"),
        (Portal.MYOB, "Payroll", "PAYROLL_ADMIN"),
        (Portal.MYOB, "Banking", "BANKING"),
        (Portal.XERO, "Manage users", "MANAGE_USERS"),
        (Portal.XERO, "PAYROLL_ADMIN", "PAYROLL_ADMIN"),
        (Portal.QBO, "Primary admin", "PRIMARY_ADMIN"),
        (Portal.XERO, "Some new thing", "SOME NEW THING"),
    ],
)
def test_each_portals_permissions_fold_to_one_vocabulary(
    portal: Portal, raw: str, code: str
) -> None:
    assert extra_permission_codes([raw], portal) == {code}


@pytest.mark.parametrize(
    ("portal", "role", "extras", "manages"),
    [
        (Portal.QBO, "Primary admin", (), True),
        (Portal.QBO, "Company admin", (), True),
        (Portal.QBO, "Standard all access", (), False),
        (Portal.MYOB, "File user", ("Administrator",), True),
        (Portal.MYOB, "File user", ("Invoicing",), False),
        (Portal.MYOB, "Online admin", (), True),
        (Portal.XERO, "FINANCIALADVISER", (), False),
        (Portal.XERO, "FINANCIALADVISER", ("MANAGE_USERS",), True),
    ],
)
def test_who_can_manage_users(
    portal: Portal, role: str, extras: tuple[str, ...], manages: bool
) -> None:
    assert can_manage_users(portal, role, extras) is manages


def test_the_primary_admin_is_a_permission_of_its_own() -> None:
    assert permissions_of(Portal.QBO, "PRIMARY_ADMIN", ()) == {"MANAGE_USERS", "PRIMARY_ADMIN"}


def classify(org: OrgFacts, users: list[SeenUser], *grants: Grant) -> dict[str, tuple]:
    practice = Practice(frozenset({DOMAIN}), (ANNA, BEN), frozenset({ROBOT}), grants)
    return {
        c.identity: (c.finding_class, c.removable_by)
        for c in classify_all(practice, [(org, users)])
    }


MYOB = OrgFacts(Portal.MYOB, "uuid-1", "Kōwhai", client_name="Kōwhai")
XERO = OrgFacts(Portal.XERO, "!x", "Old Mill", client_name="Old Mill")


def test_myob_roles_are_drift_only_where_the_grant_names_them() -> None:
    seen = [
        SeenUser(
            f"anna@{DOMAIN}",
            "Anna",
            "Online admin",
            AccessStatus.ACTIVE,
            ("Administrator", "Payroll"),
        )
    ]
    plain = Grant(1, Portal.MYOB, "uuid-1", "Online admin")
    assert classify(MYOB, seen, plain)[f"anna@{DOMAIN}"][0] is FindingClass.MANAGED
    named = Grant(1, Portal.MYOB, "uuid-1", "Online admin", ("Administrator",))
    assert classify(MYOB, seen, named)[f"anna@{DOMAIN}"][0] is FindingClass.ROLE_DRIFT
    exact = Grant(1, Portal.MYOB, "uuid-1", "Online admin", ("Administrator", "Payroll"))
    assert classify(MYOB, seen, exact)[f"anna@{DOMAIN}"][0] is FindingClass.MANAGED


def test_the_practice_can_remove_what_it_did_not_grant_when_it_manages_users() -> None:
    leaver = SeenUser(f"ben@{DOMAIN}", "Ben", "STANDARD", AccessStatus.ACTIVE)
    owner = SeenUser("owner@oldmill.example", "Otis", "STANDARD", AccessStatus.ACTIVE)
    without = classify(
        XERO, [leaver, owner, SeenUser(ROBOT, "Robot", "FINANCIALADVISER", AccessStatus.ACTIVE)]
    )
    assert without[f"ben@{DOMAIN}"] == (FindingClass.LEAVER_ACCESS, "client")
    managing = SeenUser(ROBOT, "Robot", "FINANCIALADVISER", AccessStatus.ACTIVE, ("MANAGE_USERS",))
    with_it = classify(XERO, [leaver, owner, managing])
    assert with_it[f"ben@{DOMAIN}"] == (FindingClass.LEAVER_ACCESS, "practice")
    assert with_it["owner@oldmill.example"] == (FindingClass.CLIENT_USER, "practice")


def test_only_the_agents_own_row_makes_it_the_practices_to_remove() -> None:
    owner = SeenUser("owner@oldmill.example", "Otis", "STANDARD", AccessStatus.ACTIVE)
    leaver = SeenUser(
        f"ben@{DOMAIN}", "Ben", "FINANCIALADVISER", AccessStatus.ACTIVE, ("MANAGE_USERS",)
    )
    staff = SeenUser(
        f"anna@{DOMAIN}", "Anna", "FINANCIALADVISER", AccessStatus.ACTIVE, ("MANAGE_USERS",)
    )
    assert classify(XERO, [owner, leaver, staff])["owner@oldmill.example"][1] == "client"


def test_granted_access_is_the_clients_to_remove_when_the_agent_cannot() -> None:
    seen = [
        SeenUser(f"anna@{DOMAIN}", "Anna", "STANDARD", AccessStatus.ACTIVE),
        SeenUser(ROBOT, "Robot", "FINANCIALADVISER", AccessStatus.ACTIVE),
    ]
    got = classify(XERO, seen, Grant(1, Portal.XERO, "!x", "FINANCIALADVISER"))
    assert got[f"anna@{DOMAIN}"] == (FindingClass.ROLE_DRIFT, "client")


# -- MYOB: a user type and a set of Roles, compared only where the grant names them ------


def myob_class(
    grant_role: str, grant_roles: tuple[str, ...], seen_type: str, seen_roles: tuple[str, ...]
) -> FindingClass:
    seen = [SeenUser(f"anna@{DOMAIN}", "Anna", seen_type, AccessStatus.ACTIVE, seen_roles)]
    got = classify(MYOB, seen, Grant(1, Portal.MYOB, "uuid-1", grant_role, grant_roles))
    return got[f"anna@{DOMAIN}"][0]


@pytest.mark.parametrize(
    ("grant_role", "grant_roles", "seen_type", "seen_roles", "expected"),
    [
        # roles only: the user type is not compared, whatever it is (an Online admin's
        # implied Manage users included)
        (
            "",
            ("Payroll", "Invoicing"),
            "Online admin",
            ("Payroll", "Invoicing"),
            FindingClass.MANAGED,
        ),
        ("", ("Administrator",), "File user", ("Administrator",), FindingClass.MANAGED),
        # the same set in another order, case and spacing
        (
            "",
            ("Invoicing", "Administrator", "Payroll"),
            "File user",
            ("payroll", "ADMINISTRATOR", " Invoicing "),
            FindingClass.MANAGED,
        ),
        # different roles
        ("", ("Payroll",), "Online admin", ("Payroll", "Invoicing"), FindingClass.ROLE_DRIFT),
        ("", ("Payroll", "Banking"), "File user", ("Payroll",), FindingClass.ROLE_DRIFT),
        # the user type named and different
        ("Online admin", ("Payroll",), "File user", ("Payroll",), FindingClass.ROLE_DRIFT),
        ("FILE_USER", (), "Online admin", ("Administrator",), FindingClass.ROLE_DRIFT),
        # the user type only: the roles are not compared
        ("Online admin", (), "Online admin", ("Banking", "Whatever else"), FindingClass.MANAGED),
        # roles our taxonomy does not know, compared by folded text
        ("", ("Accountant",), "File user", ("accountant",), FindingClass.MANAGED),
        (
            "File user",
            ("Accountant", "Stock take"),
            "File user",
            ("Stock-take", "ACCOUNTANT"),
            FindingClass.MANAGED,
        ),
        ("", ("Accountant",), "File user", ("Auditor",), FindingClass.ROLE_DRIFT),
    ],
)
def test_myob_drift_is_a_difference_in_what_the_grant_names(
    grant_role: str,
    grant_roles: tuple[str, ...],
    seen_type: str,
    seen_roles: tuple[str, ...],
    expected: FindingClass,
) -> None:
    assert myob_class(grant_role, grant_roles, seen_type, seen_roles) is expected


def test_a_myob_roles_only_grant_reads_well_when_it_drifts_or_goes_missing() -> None:
    roles_only = Grant(1, Portal.MYOB, "uuid-1", "", ("Administrator", "Payroll"))
    practice = Practice(frozenset({DOMAIN}), (ANNA,), frozenset({ROBOT}), (roles_only,))
    seen = SeenUser(f"anna@{DOMAIN}", "Anna", "File user", AccessStatus.ACTIVE, ("Payroll",))
    (drift,) = classify_all(practice, [(MYOB, [seen])])
    assert drift.finding_class is FindingClass.ROLE_DRIFT
    assert drift.intended_role == ""
    assert drift.detail == (
        "granted roles Administrator, Payroll, has File user with roles Payroll"
    )
    (missing,) = classify_all(practice, [(MYOB, [])])
    assert missing.finding_class is FindingClass.MISSING_EXPECTED
    assert missing.detail.startswith("granted roles Administrator, Payroll by the practice")


myob_roles = st.lists(
    st.sampled_from(
        ["Administrator", "Payroll", "Invoicing", "Banking", "Accountant", "Stock take"]
    ),
    min_size=1,
    max_size=4,
    unique=True,
)
spellings = st.sampled_from([str, str.upper, str.lower, lambda r: f"  {r} "])


@settings(max_examples=150, deadline=None)
@given(myob_roles, st.sampled_from(["File user", "Online admin"]), st.randoms(), spellings)
def test_a_myob_roles_only_grant_never_drifts_on_order_spelling_or_user_type(
    roles, seen_type, rnd, spell
) -> None:
    shown = [spell(r) for r in rnd.sample(roles, len(roles))]
    assert myob_class("", tuple(roles), seen_type, tuple(shown)) is FindingClass.MANAGED
    assert (
        myob_class("", tuple(roles), seen_type, (*shown, "Purchasing")) is FindingClass.ROLE_DRIFT
    )
