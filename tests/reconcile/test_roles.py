"""The role taxonomy's permissions, and what they mean for drift and who can remove access."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(("portal", "raw", "code"), [
    (Portal.MYOB, "Administrator", "MANAGE_USERS"),
    (Portal.MYOB, "Payroll", "PAYROLL_ADMIN"),
    (Portal.MYOB, "Banking", "BANKING"),
    (Portal.XERO, "Manage users", "MANAGE_USERS"),
    (Portal.XERO, "PAYROLL_ADMIN", "PAYROLL_ADMIN"),
    (Portal.QBO, "Primary admin", "PRIMARY_ADMIN"),
    (Portal.XERO, "Some new thing", "SOME NEW THING"),
])
def test_each_portals_permissions_fold_to_one_vocabulary(portal: Portal, raw: str,
                                                         code: str) -> None:
    assert extra_permission_codes([raw], portal) == {code}


@pytest.mark.parametrize(("portal", "role", "extras", "manages"), [
    (Portal.QBO, "Primary admin", (), True),
    (Portal.QBO, "Company admin", (), True),
    (Portal.QBO, "Standard all access", (), False),
    (Portal.MYOB, "File user", ("Administrator",), True),
    (Portal.MYOB, "File user", ("Invoicing",), False),
    (Portal.MYOB, "Online admin", (), True),
    (Portal.XERO, "FINANCIALADVISER", (), False),
    (Portal.XERO, "FINANCIALADVISER", ("MANAGE_USERS",), True),
])
def test_who_can_manage_users(portal: Portal, role: str, extras: tuple[str, ...],
                              manages: bool) -> None:
    assert can_manage_users(portal, role, extras) is manages


def test_the_primary_admin_is_a_permission_of_its_own() -> None:
    assert permissions_of(Portal.QBO, "PRIMARY_ADMIN", ()) == {"MANAGE_USERS", "PRIMARY_ADMIN"}


def classify(org: OrgFacts, users: list[SeenUser], *grants: Grant) -> dict[str, tuple]:
    practice = Practice(frozenset({DOMAIN}), (ANNA, BEN), frozenset({ROBOT}), grants)
    return {c.identity: (c.finding_class, c.removable_by)
            for c in classify_all(practice, [(org, users)])}


MYOB = OrgFacts(Portal.MYOB, "uuid-1", "Kōwhai", client_name="Kōwhai")
XERO = OrgFacts(Portal.XERO, "!x", "Old Mill", client_name="Old Mill")


def test_myob_roles_are_drift_only_where_the_grant_names_them() -> None:
    seen = [SeenUser(f"anna@{DOMAIN}", "Anna", "Online admin", AccessStatus.ACTIVE,
                     ("Administrator", "Payroll"))]
    plain = Grant(1, Portal.MYOB, "uuid-1", "Online admin")
    assert classify(MYOB, seen, plain)[f"anna@{DOMAIN}"][0] is FindingClass.MANAGED
    named = Grant(1, Portal.MYOB, "uuid-1", "Online admin", ("Administrator",))
    assert classify(MYOB, seen, named)[f"anna@{DOMAIN}"][0] is FindingClass.ROLE_DRIFT
    exact = Grant(1, Portal.MYOB, "uuid-1", "Online admin", ("Administrator", "Payroll"))
    assert classify(MYOB, seen, exact)[f"anna@{DOMAIN}"][0] is FindingClass.MANAGED


def test_the_practice_can_remove_what_it_did_not_grant_when_it_manages_users() -> None:
    leaver = SeenUser(f"ben@{DOMAIN}", "Ben", "STANDARD", AccessStatus.ACTIVE)
    owner = SeenUser("owner@oldmill.example", "Otis", "STANDARD", AccessStatus.ACTIVE)
    without = classify(XERO, [leaver, owner,
                              SeenUser(ROBOT, "Robot", "FINANCIALADVISER", AccessStatus.ACTIVE)])
    assert without[f"ben@{DOMAIN}"] == (FindingClass.LEAVER_ACCESS, "client")
    managing = SeenUser(ROBOT, "Robot", "FINANCIALADVISER", AccessStatus.ACTIVE,
                        ("MANAGE_USERS",))
    with_it = classify(XERO, [leaver, owner, managing])
    assert with_it[f"ben@{DOMAIN}"] == (FindingClass.LEAVER_ACCESS, "practice")
    assert with_it["owner@oldmill.example"] == (FindingClass.CLIENT_USER, "practice")


def test_a_leavers_or_a_pending_managers_rights_do_not_count_for_the_practice() -> None:
    owner = SeenUser("owner@oldmill.example", "Otis", "STANDARD", AccessStatus.ACTIVE)
    leaver = SeenUser(f"ben@{DOMAIN}", "Ben", "FINANCIALADVISER", AccessStatus.ACTIVE,
                      ("MANAGE_USERS",))
    pending = SeenUser(f"anna@{DOMAIN}", "Anna", "FINANCIALADVISER", AccessStatus.PENDING,
                       ("MANAGE_USERS",))
    assert classify(XERO, [owner, leaver, pending])["owner@oldmill.example"][1] == "client"


def test_granted_access_is_always_the_practices_to_remove() -> None:
    seen = [SeenUser(f"anna@{DOMAIN}", "Anna", "STANDARD", AccessStatus.ACTIVE)]
    got = classify(XERO, seen, Grant(1, Portal.XERO, "!x", "FINANCIALADVISER"))
    assert got[f"anna@{DOMAIN}"] == (FindingClass.ROLE_DRIFT, "practice")
