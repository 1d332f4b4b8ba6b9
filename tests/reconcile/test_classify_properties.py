"""Properties of classification over generated orgs: order, repetition and isolation."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reconcile import (
    Grant,
    OrgFacts,
    Practice,
    PracticeIndex,
    SeenUser,
    StaffMember,
    classify_all,
    classify_org,
)

DOMAIN = "harbourco.example"
STAFF = (
    StaffMember(1, "Anna Ashby", StaffStatus.ACTIVE, (f"anna@{DOMAIN}", "anna@mailbox.example")),
    StaffMember(2, "Ben Brennan", StaffStatus.LEFT, (f"ben@{DOMAIN}",), date(2026, 3, 3)),
    StaffMember(3, "Chloé Chen", StaffStatus.ON_LEAVE, (f"chloe@{DOMAIN}",)),
    StaffMember(4, "Sam Patel", StaffStatus.ACTIVE, (f"sam@{DOMAIN}",)),
    StaffMember(5, "Sam Patel", StaffStatus.ACTIVE, (f"sam2@{DOMAIN}",)),
)
ORGS = (
    OrgFacts(Portal.XERO, "!a", "A", client_name="A"),
    OrgFacts(Portal.XERO, "!b", "B", client_name="B", client_archived=True),
    OrgFacts(Portal.QBO, "123", "C"),
)
GRANTS = (
    Grant(1, Portal.XERO, "!a", "FINANCIALADVISER"),
    Grant(2, Portal.XERO, "!a", "STANDARD"),
    Grant(3, Portal.XERO, "!b", "STANDARD", ("Payroll admin",)),
    Grant(4, Portal.QBO, "123", "Accountant"),
)
PRACTICE = Practice(frozenset({DOMAIN}), STAFF, frozenset({f"robot@{DOMAIN}"}), GRANTS)

addresses = st.sampled_from(
    [
        f"anna@{DOMAIN}",
        f"ANNA+x@{DOMAIN}",
        "anna@mailbox.example",
        f"ben@{DOMAIN}",
        f"chloe@{DOMAIN}",
        f"sam@{DOMAIN}",
        f"sam2@{DOMAIN}",
        f"temp@{DOMAIN}",
        f"robot@{DOMAIN}",
        "sam@home.example",
        "anna.a@home.example",
        "owner@client.example",
        "support@xero.com",
    ]
)
users = st.builds(
    SeenUser,
    email=addresses,
    name=st.sampled_from(["Anna Ashby", "Sam Patel", "Ashby, Anna", "Marge Bakery", ""]),
    role=st.sampled_from(["FINANCIALADVISER", "STANDARD", "Accountant", "READONLY"]),
    status=st.sampled_from(list(AccessStatus)),
    extra_permissions=st.sampled_from([(), ("MANAGE_USERS",), ("Payroll admin",)]),
)
worlds = st.lists(
    st.tuples(st.sampled_from(ORGS), st.lists(users, max_size=8)),
    max_size=3,
    unique_by=lambda pair: pair[0].portal_org_id,
)


def as_set(orgs: list[tuple[OrgFacts, list[SeenUser]]]) -> frozenset:
    return frozenset(classify_all(PRACTICE, orgs))


@settings(max_examples=100, deadline=None)
@given(worlds, st.randoms(use_true_random=False))
def test_the_order_of_rows_and_orgs_never_changes_the_findings(orgs, rnd) -> None:
    shuffled = [(org, rnd.sample(rows, len(rows))) for org, rows in orgs]
    rnd.shuffle(shuffled)
    assert as_set(shuffled) == as_set(orgs)


@settings(max_examples=100, deadline=None)
@given(worlds)
def test_a_row_listed_twice_changes_nothing(orgs) -> None:
    doubled = [(org, rows + rows) for org, rows in orgs]
    assert as_set(doubled) == as_set(orgs)


@settings(max_examples=100, deadline=None)
@given(worlds)
def test_one_identity_per_org_and_every_grant_accounted_for(orgs) -> None:
    results = classify_all(PRACTICE, orgs)
    keys = [(c.portal_org_id, c.identity) for c in results]
    assert len(keys) == len(set(keys))
    for org, _ in orgs:
        for grant in GRANTS:
            if grant.portal_org_id != org.portal_org_id or grant.staff_id == 2:
                continue
            mine = [
                c
                for c in results
                if c.portal_org_id == org.portal_org_id and c.staff_id == grant.staff_id
            ]
            assert mine, "a current staff member's grant is either seen or missing_expected"
    assert all(c.identity != f"robot@{DOMAIN}" for c in results)


@settings(max_examples=100, deadline=None)
@given(worlds)
def test_an_org_is_classified_the_same_alone_or_among_others(orgs) -> None:
    """What makes reconciling one org after its re-scan equal to a full run."""
    index = PracticeIndex.build(PRACTICE)
    together = as_set(orgs)
    alone = frozenset(c for org, rows in orgs for c in classify_org(index, org, rows))
    assert alone == together


@settings(max_examples=100, deadline=None)
@given(worlds)
def test_probable_matches_never_carry_a_staff_id_and_always_a_candidate(orgs) -> None:
    for c in classify_all(PRACTICE, orgs):
        if c.finding_class is FindingClass.PROBABLE_MATCH:
            assert c.staff_id is None
            assert c.candidates
            assert not c.identity.endswith(DOMAIN)
        else:
            assert c.candidates == ()


# -- one mailbox, spelt two ways ---------------------------------------------------

DANA_PRIMARY = f"dana.whitlock@{DOMAIN}"
ROBOT_LOGIN = f"accessrecon-robot@{DOMAIN}"
XERO_ORG = OrgFacts(Portal.XERO, "!d1", "Dana's client", client_name="Dana's client")
mailboxes = st.tuples(
    st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True),
    st.sampled_from([DOMAIN, "gmail.example", "mailbox.example"]),
)
#: (status, granted on the org, the class that must follow whatever the spelling)
SCENARIOS = [
    (StaffStatus.LEFT, False, FindingClass.LEAVER_ACCESS),
    (StaffStatus.LEFT, True, FindingClass.LEAVER_ACCESS),
    (StaffStatus.ACTIVE, True, FindingClass.MANAGED),
    (StaffStatus.ON_LEAVE, True, FindingClass.MANAGED),
    (StaffStatus.ACTIVE, False, FindingClass.INVITED_DIRECT),
]


@st.composite
def spelt(draw: st.DrawFn, local: str, domain: str) -> str:
    """One way a person or a portal writes the mailbox: any case, spaces around, a tag."""
    case = draw(st.sampled_from([str.lower, str.upper, str.title, str.swapcase]))
    tag = draw(st.one_of(st.just(""), st.from_regex(r"\+[A-Za-z0-9.]{0,6}", fullmatch=True)))
    before, after = (
        draw(st.sampled_from(["", " ", "\t", "\u00a0"])),
        draw(st.sampled_from(["", " ", "\u2003", "\n"])),
    )
    return f"{before}{case(local + tag)}@{case(domain)}{after}"


@settings(max_examples=200, deadline=None)
@given(mailboxes, st.sampled_from(SCENARIOS), st.data())
def test_how_either_side_spells_an_alias_never_changes_the_class(mailbox, scenario, data) -> None:
    """The roster's alias and the portal's address may each carry any case, spaces and
    plus-tag: the person is still matched, so a leaver is leaver_access (not a probable
    match), a grant is managed (its primary address not missing_expected), and no grant
    is invited_direct."""
    local, domain = mailbox
    status, granted, expected = scenario
    roster_side = data.draw(spelt(local, domain), label="roster")
    portal_side = data.draw(spelt(local, domain), label="portal")
    dana = StaffMember(
        9,
        "Dana Whitlock",
        status,
        (DANA_PRIMARY, roster_side),
        date(2026, 3, 3) if status is StaffStatus.LEFT else None,
    )
    grants = (Grant(9, Portal.XERO, "!d1", "STANDARD"),) if granted else ()
    practice = Practice(frozenset({DOMAIN}), (dana,), frozenset({ROBOT_LOGIN}), grants)
    seen = SeenUser(portal_side, "Dana Whitlock", "STANDARD", AccessStatus.ACTIVE)
    results = classify_all(practice, [(XERO_ORG, [seen])])
    assert [(c.identity, c.finding_class, c.staff_id) for c in results] == [
        (f"{local}@{domain}", expected, 9)
    ]
