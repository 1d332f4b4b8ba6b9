"""Who can remove an access: each rule of SPEC's "Removing a user", per portal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.domain import AccessStatus, Portal
from agent.reconcile import SeenUser
from agent.reconcile.removability import (
    ADDED_BY_UNKNOWN,
    ANOTHER_FIRM,
    CLIENT,
    LACKS_MANAGE_USERS,
    NOT_ADMINISTRATOR,
    NOT_COMPANY_ADMIN,
    NOT_IN_ORG,
    OWNER_ADDED,
    PRACTICE,
    PRIMARY_ADMIN,
    REASONS,
    SUBSCRIBER,
    Removability,
    may_manage_users,
    removability,
    removability_among,
)

AGENT = "robot@harbourco.example"
PERSON = "someone@client.example"


def row(
    role: str,
    *extras: str,
    email: str = PERSON,
    status: AccessStatus = AccessStatus.ACTIVE,
    kind: str | None = None,
    subscriber: bool = False,
    firm: str | None = None,
    added_by_owner: bool | None = None,
) -> SeenUser:
    return SeenUser(
        email,
        "Someone",
        role,
        status,
        tuple(extras),
        kind,
        None,
        subscriber,
        firm,
        added_by_owner,
    )


def agent(role: str, *extras: str, kind: str | None = None, firm: str | None = None) -> SeenUser:
    return row(role, *extras, email=AGENT, kind=kind, firm=firm)


BY_PRACTICE = Removability(PRACTICE, "")


def by_client(reason: str) -> Removability:
    return Removability(CLIENT, reason)


XERO_CASES = [
    # who may remove: Standard or Adviser with Manage users, by code or by label
    (
        "adviser with Manage users",
        agent("FINANCIALADVISER", "MANAGE_USERS"),
        row("STANDARD"),
        BY_PRACTICE,
    ),
    ("standard with Manage users", agent("Standard", "Manage users"), row("READONLY"), BY_PRACTICE),
    ("adviser without", agent("FINANCIALADVISER"), row("STANDARD"), by_client(LACKS_MANAGE_USERS)),
    (
        "adviser, payroll only",
        agent("FINANCIALADVISER", "PAYROLL_ADMIN"),
        row("STANDARD"),
        by_client(LACKS_MANAGE_USERS),
    ),
    # Manage users on Read only or Invoice only grants nothing
    (
        "read only with Manage users",
        agent("READONLY", "MANAGE_USERS"),
        row("STANDARD"),
        by_client(LACKS_MANAGE_USERS),
    ),
    (
        "invoice only with Manage users",
        agent("INVOICEONLY", "MANAGE_USERS"),
        row("STANDARD"),
        by_client(LACKS_MANAGE_USERS),
    ),
    # the subscriber is never removable, whoever asks
    (
        "subscriber",
        agent("FINANCIALADVISER", "MANAGE_USERS"),
        row("STANDARD", subscriber=True),
        by_client(SUBSCRIBER),
    ),
    (
        "subscriber, agent lacking too",
        agent("READONLY"),
        row("STANDARD", subscriber=True),
        by_client(SUBSCRIBER),
    ),
    ("no agent row", None, row("STANDARD"), by_client(NOT_IN_ORG)),
    # declined and pending are removed the same way (the invite is cancelled)
    (
        "declined",
        agent("STANDARD", "MANAGE_USERS"),
        row("STANDARD", status=AccessStatus.DECLINED),
        BY_PRACTICE,
    ),
    (
        "pending",
        agent("STANDARD", "MANAGE_USERS"),
        row("STANDARD", status=AccessStatus.PENDING),
        BY_PRACTICE,
    ),
]

QBO_CASES = [
    # the Users tab: a Primary admin or Company admin viewer
    (
        "company admin, users tab",
        agent("Company admin", kind="users"),
        row("Standard all access", kind="users"),
        BY_PRACTICE,
    ),
    (
        "primary admin, users tab",
        agent("Primary admin", kind="users"),
        row("Reports only", kind="users"),
        BY_PRACTICE,
    ),
    (
        "standard viewer, users tab",
        agent("Standard all access", kind="users"),
        row("Reports only", kind="users"),
        by_client(NOT_COMPANY_ADMIN),
    ),
    (
        "accountant viewer, users tab",
        agent("Accountant", kind="firms", firm="Harbour & Co"),
        row("Reports only", kind="users"),
        by_client(NOT_COMPANY_ADMIN),
    ),
    # the Primary admin can never be deleted
    (
        "the primary admin",
        agent("Company admin", kind="users"),
        row("Primary admin", kind="users"),
        by_client(PRIMARY_ADMIN),
    ),
    # the Accounting firms tab: the Primary admin, or a viewer on that tab of the same firm
    (
        "firms tab, primary admin viewer",
        agent("Primary admin", kind="users"),
        row("Accountant", kind="firms", firm="Other & Co"),
        BY_PRACTICE,
    ),
    (
        "firms tab, same firm",
        agent("Accountant", kind="firms", firm="Harbour & Co"),
        row("Accountant", kind="firms", firm="Harbour & Co"),
        BY_PRACTICE,
    ),
    (
        "firms tab, same firm spaced",
        agent("Accountant", kind="firms", firm="Harbour  & Co "),
        row("Accountant", kind="firms", firm="Harbour & Co"),
        BY_PRACTICE,
    ),
    (
        "firms tab, another firm",
        agent("Accountant", kind="firms", firm="Harbour & Co"),
        row("Accountant", kind="firms", firm="Other & Co"),
        by_client(ANOTHER_FIRM),
    ),
    (
        "firms tab, company admin viewer",
        agent("Company admin", kind="users"),
        row("Accountant", kind="firms", firm="Other & Co"),
        by_client(ANOTHER_FIRM),
    ),
    (
        "firms tab, firm unknown",
        agent("Accountant", kind="firms", firm=None),
        row("Accountant", kind="firms", firm=None),
        by_client(ANOTHER_FIRM),
    ),
    # a capture names no tab: Accountant is a firms tab user type only
    ("capture, accountant", agent("Company admin"), row("Accountant"), by_client(ANOTHER_FIRM)),
    (
        "capture, primary admin",
        agent("Company admin"),
        row("Primary admin"),
        by_client(PRIMARY_ADMIN),
    ),
    ("no agent row", None, row("Reports only", kind="users"), by_client(NOT_IN_ORG)),
    (
        "inactive",
        agent("Company admin", kind="users"),
        row("Reports only", kind="users", status=AccessStatus.INACTIVE),
        BY_PRACTICE,
    ),
]

MYOB_CASES = [
    # an Online admin viewer or one with the Administrator role
    (
        "online admin",
        agent("Online admin", kind="User"),
        row("File user", kind="User"),
        BY_PRACTICE,
    ),
    (
        "administrator role",
        agent("File user", "Payroll", "Administrator", kind="Advisor"),
        row("File user", kind="User"),
        BY_PRACTICE,
    ),
    (
        "file user",
        agent("File user", "Payroll", kind="Advisor"),
        row("File user", kind="User"),
        by_client(NOT_ADMINISTRATOR),
    ),
    # advisors: the owner's are the owner's; one whose entry did not say, too
    (
        "advisor added by a user",
        agent("Online admin"),
        row("File user", kind="Advisor", added_by_owner=False),
        BY_PRACTICE,
    ),
    (
        "advisor added by the owner",
        agent("Online admin"),
        row("File user", kind="Advisor", added_by_owner=True),
        by_client(OWNER_ADDED),
    ),
    (
        "advisor, added by unknown",
        agent("Online admin"),
        row("File user", kind="Advisor"),
        by_client(ADDED_BY_UNKNOWN),
    ),
    ("user, added by unknown", agent("Online admin"), row("File user", kind="User"), BY_PRACTICE),
    (
        "owner-added advisor, no agent",
        None,
        row("File user", kind="Advisor", added_by_owner=True),
        by_client(OWNER_ADDED),
    ),
    ("no agent row", None, row("File user", kind="User"), by_client(NOT_IN_ORG)),
    (
        "pending",
        agent("Online admin"),
        row("File user", kind="User", status=AccessStatus.PENDING),
        BY_PRACTICE,
    ),
]


@pytest.mark.parametrize(
    ("portal", "viewer", "user", "expected"),
    [
        pytest.param(portal, viewer, user, expected, id=f"{portal}: {name}")
        for portal, cases in (
            (Portal.XERO, XERO_CASES),
            (Portal.QBO, QBO_CASES),
            (Portal.MYOB, MYOB_CASES),
        )
        for name, viewer, user, expected in cases
    ],
)
def test_who_can_remove(
    portal: Portal, viewer: SeenUser | None, user: SeenUser, expected: Removability
) -> None:
    assert removability(portal, viewer, user) == expected
    assert removability(portal.value, viewer, user) == expected


@pytest.mark.parametrize(
    ("portal", "viewer", "manages"),
    [
        (Portal.XERO, agent("FINANCIALADVISER", "MANAGE_USERS"), True),
        (Portal.XERO, agent("STANDARD", "Manage users"), True),
        (Portal.XERO, agent("READONLY", "MANAGE_USERS"), False),
        (Portal.XERO, agent("FINANCIALADVISER"), False),
        (Portal.QBO, agent("Primary admin", kind="users"), True),
        (Portal.QBO, agent("Company admin"), True),
        (Portal.QBO, agent("Accountant", kind="firms", firm="Harbour & Co"), False),
        (Portal.QBO, agent("Standard all access", kind="users"), False),
        (Portal.MYOB, agent("Online admin"), True),
        (Portal.MYOB, agent("File user", " administrator "), True),
        (Portal.MYOB, agent("File user", "Payroll"), False),
    ],
)
def test_who_may_manage_users(portal: Portal, viewer: SeenUser, manages: bool) -> None:
    assert may_manage_users(portal, viewer) is manages


def test_an_unknown_portal_is_named() -> None:
    with pytest.raises(ValueError, match="'sage'"):
        removability("sage", None, row("STANDARD"))


def test_several_agent_rows_the_practice_can_if_any_may() -> None:
    firm = row("Accountant", kind="firms", firm="Harbour & Co")
    on_users_tab = agent("Company admin", kind="users")
    on_firms_tab = agent("Accountant", kind="firms", firm="Harbour & Co")
    assert removability_among(Portal.QBO, [on_users_tab, on_firms_tab], firm) == BY_PRACTICE
    assert removability_among(Portal.QBO, [on_firms_tab, on_users_tab], firm) == BY_PRACTICE
    other = row("Accountant", kind="firms", firm="Other & Co")
    assert removability_among(Portal.QBO, [on_users_tab, on_firms_tab], other) == by_client(
        ANOTHER_FIRM
    )
    assert removability_among(Portal.QBO, [], firm) == by_client(NOT_IN_ORG)


_TEXT = st.text(alphabet="abcAB &-", max_size=8)
_ROLES = {
    Portal.XERO: ["FINANCIALADVISER", "STANDARD", "READONLY", "INVOICEONLY", "Adviser", "?"],
    Portal.QBO: ["Primary admin", "Company admin", "Standard all access", "Accountant", "?"],
    Portal.MYOB: ["Online admin", "File user", "?"],
}
_EXTRAS = ["MANAGE_USERS", "Manage users", "Administrator", "Payroll", "PAYROLL_ADMIN"]


@st.composite
def _rows(draw: st.DrawFn, portal: Portal, email: str) -> SeenUser:
    return SeenUser(
        email,
        draw(_TEXT),
        draw(st.sampled_from(_ROLES[portal])),
        draw(st.sampled_from(list(AccessStatus))),
        tuple(draw(st.lists(st.sampled_from(_EXTRAS), max_size=3))),
        draw(st.sampled_from([None, "users", "firms", "User", "Advisor"])),
        draw(st.none() | st.text(max_size=5)),
        draw(st.booleans()),
        draw(st.none() | st.sampled_from(["Harbour & Co", "Other & Co", ""])),
        draw(st.none() | st.booleans()),
    )


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Portal, list[SeenUser], SeenUser]:
    portal = draw(st.sampled_from(list(Portal)))
    viewers = draw(st.lists(_rows(portal, AGENT), max_size=3))
    return portal, viewers, draw(_rows(portal, PERSON))


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_every_answer_is_practice_or_a_named_reason(
    case: tuple[Portal, list[SeenUser], SeenUser],
) -> None:
    portal, viewers, user = case
    got = removability_among(portal, viewers, user)
    assert got == BY_PRACTICE or (got.by == CLIENT and got.reason in REASONS)
    # a protected person stays the client's whoever the agent is
    if portal is Portal.XERO and user.subscriber:
        assert got == by_client(SUBSCRIBER)
    # the practice can only through an agent row that can itself
    if got.by == PRACTICE:
        assert any(removability(portal, v, user) == BY_PRACTICE for v in viewers)
    # the order of the agent's rows never changes who can
    assert removability_among(portal, viewers[::-1], user).by == got.by
    # status plays no part: declined and inactive are removed the same way
    for status in AccessStatus:
        assert removability_among(portal, viewers, user._replace(status=status)) == got
