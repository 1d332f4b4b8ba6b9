"""Correlation rules: who a captured row is, by address first, then (only as a proposal) by name."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reconcile import (
    NAME_MATCH_THRESHOLD,
    Correlator,
    IdentityDecision,
    MatchedBy,
    MatchKind,
    NameIndex,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
    classify_all,
    name_key,
    name_similarity,
)
from agent.reconcile.identity import fold_name, name_keys
from agent.reconcile.names import best_similarity

DOMAINS = frozenset({"harbourco.example", "harbour-tax.example"})
ANNA = StaffMember(
    1, "Anna Ashby", StaffStatus.ACTIVE, ("anna.ashby@harbourco.example", "anna@mailbox.example")
)
CHLOE = StaffMember(2, "Chloé Chen", StaffStatus.ON_LEAVE, ("chloe.chen@harbour-tax.example",))
SAM_1 = StaffMember(3, "Sam Patel", StaffStatus.ACTIVE, ("sam.patel@harbourco.example",))
SAM_2 = StaffMember(4, "Sam Patel", StaffStatus.ACTIVE, ("sam.patel2@harbourco.example",))
BEN = StaffMember(
    5, "Ben Brennan", StaffStatus.LEFT, ("ben.brennan@harbourco.example",), left_on=date(2026, 3, 3)
)
LUKASZ = StaffMember(6, "Łukasz Müller", StaffStatus.ACTIVE, ("lukasz@harbourco.example",))
ROBOT = "accessrecon.xero@harbourco.example"
ORG = OrgFacts(Portal.XERO, "!abc12", "Kōwhai Bakery", client_name="Kōwhai Bakery")


def practice(*decisions: IdentityDecision) -> Practice:
    return Practice(
        DOMAINS,
        (ANNA, CHLOE, SAM_1, SAM_2, BEN, LUKASZ),
        agent_emails=frozenset({ROBOT}),
        decisions=decisions,
    )


def match(email: str, name: str = "", *decisions: IdentityDecision):
    return Correlator(practice(*decisions)).match(email, name)


def one(email: str, name: str, p: Practice | None = None):
    (result,) = classify_all(
        p or practice(), [(ORG, [SeenUser(email, name, "STANDARD", AccessStatus.ACTIVE)])]
    )
    return result


@pytest.mark.parametrize(
    "raw",
    [
        "Anna.Ashby@HarbourCo.example",
        "  anna.ashby+xero@harbourco.example ",
        "anna@MAILBOX.example",
        "ａｎｎａ.ａｓｈｂｙ@harbourco.example",
    ],
)
def test_addresses_match_the_roster_however_written(raw: str) -> None:
    found = match(raw, "someone else entirely")
    assert found.kind is MatchKind.STAFF
    assert found.member == ANNA
    assert found.matched_by is MatchedBy.ROSTER


def test_every_practice_domain_counts() -> None:
    assert match("chloe.chen+q@harbour-tax.example").member == CHLOE
    assert match("nobody@harbour-tax.example", "Chloé Chen").kind is MatchKind.PRACTICE_UNKNOWN


def test_a_practice_address_is_never_a_probable_match_even_with_a_staff_name() -> None:
    result = one("a.ashby@harbourco.example", "Anna Ashby")
    assert result.finding_class is FindingClass.UNKNOWN_PRACTICE_USER
    assert result.candidates == ()


@pytest.mark.parametrize(
    "name",
    [
        "Anna Ashby",
        "Ashby, Anna",
        "ANNA ASHBY",
        "A. Ashby",
        "Ashby, A.",
        "Anna Maria Ashby",
        "Ana Ashby",
    ],
)
def test_names_like_a_staff_members_are_probable_matches(name: str) -> None:
    result = one("anna.home@gmail.example", name)
    assert result.finding_class is FindingClass.PROBABLE_MATCH
    assert result.candidates[0].staff_id == ANNA.id
    assert result.candidates[0].score >= 88
    assert result.staff_id is None  # a proposal is not a match


@pytest.mark.parametrize("name", ["Lukasz Muller", "Muller, Lukasz", "L. Mueller"])
def test_diacritics_are_folded(name: str) -> None:
    found = match("lm@home.example", name)
    assert found.kind is MatchKind.PROBABLE, name
    assert found.candidates[0].staff_id == LUKASZ.id


@pytest.mark.parametrize("name", ["Anna Bakery", "Anna", "Ashby", "B. Ashby", "Marge Ashworth", ""])
def test_names_not_close_enough_are_client_users(name: str) -> None:
    assert one("someone@kowhai.example", name).finding_class is FindingClass.CLIENT_USER


def test_without_a_name_the_address_local_part_is_the_hint() -> None:
    assert match("anna.ashby@gmail.example", "").kind is MatchKind.PROBABLE


def test_two_staff_with_one_name_are_both_proposed_and_neither_linked() -> None:
    result = one("sam@home.example", "Sam Patel")
    assert result.finding_class is FindingClass.PROBABLE_MATCH
    assert {c.staff_id for c in result.candidates} == {SAM_1.id, SAM_2.id}
    assert result.candidates[0].score == result.candidates[1].score == 100
    assert "2 staff with the same name" in result.detail
    assert result.staff_id is None


def test_a_leaver_can_be_a_candidate_and_the_class_stays_probable_match() -> None:
    result = one("benb@home.example", "Ben Brennan")
    assert result.finding_class is FindingClass.PROBABLE_MATCH
    assert [c.staff_id for c in result.candidates] == [BEN.id]


def test_a_confirmed_address_is_the_staff_member_on_every_later_run() -> None:
    confirmed = IdentityDecision("benb@home.example", BEN.id, confirmed=True)
    found = match("BenB@Home.example", "Ben B", confirmed)
    assert found.kind is MatchKind.STAFF
    assert found.matched_by is MatchedBy.CONFIRMED
    result = one("benb@home.example", "Ben Brennan", practice(confirmed))
    assert result.finding_class is FindingClass.LEAVER_ACCESS
    assert result.staff_id == BEN.id


def test_a_roster_address_outranks_a_confirmation_naming_someone_else() -> None:
    wrong = IdentityDecision("anna@mailbox.example", SAM_1.id, confirmed=True)
    assert match("anna@mailbox.example", "", wrong).member == ANNA


def test_a_rejection_removes_only_that_candidate_for_that_address() -> None:
    reject_one = IdentityDecision("sam@home.example", SAM_1.id, confirmed=False)
    assert [c.staff_id for c in match("sam@home.example", "Sam Patel", reject_one).candidates] == [
        SAM_2.id
    ]
    assert len(match("other@home.example", "Sam Patel", reject_one).candidates) == 2
    reject_both = IdentityDecision("sam@home.example", SAM_2.id, confirmed=False)
    assert match("sam@home.example", "Sam Patel", reject_one, reject_both).kind is MatchKind.NONE


def test_a_name_seen_before_still_honours_a_rejection_for_another_address() -> None:
    """One run remembers a name's candidates; a rejection is per address, never cached away."""
    correlator = Correlator(
        practice(IdentityDecision("sam@home.example", SAM_1.id, confirmed=False))
    )
    first = correlator.match("other@home.example", "Sam Patel")
    assert {c.staff_id for c in first.candidates} == {SAM_1.id, SAM_2.id}
    assert [c.staff_id for c in correlator.match("sam@home.example", "Sam Patel").candidates] == [
        SAM_2.id
    ]
    assert correlator.match("third@home.example", "Sam Patel").candidates == first.candidates


@pytest.mark.parametrize(
    "email", ["support@xero.com", "Accountant.Support@INTUIT.com", "help@au.myob.com"]
)
def test_portal_support_users_are_client_users_with_a_note(email: str) -> None:
    result = one(email, "Anna Ashby")
    assert result.finding_class is FindingClass.CLIENT_USER
    assert "support staff" in result.detail
    assert result.candidates == ()


def test_xero_lookalike_domains_are_not_support() -> None:
    assert match("support@notxero.com", "X").kind is MatchKind.NONE


def test_the_agents_own_login_is_recognised_however_written() -> None:
    assert match(" AccessRecon.Xero+1@HarbourCo.example", "Access Robot").kind is MatchKind.AGENT


def test_similarity_is_symmetric_in_word_order_and_bounded() -> None:
    a, b = name_key("Anna Ashby"), name_key("Ashby Anna")
    assert name_similarity(a, b) == name_similarity(b, a) == 100
    assert 0 <= name_similarity(name_key("Anna Ashby"), name_key("Ziggy Haulage")) < 50


names = st.sampled_from(["Anna", "Ana", "Sam", "Ben", "Chloe", "Lukasz", "A.", "S.", "Marge"])
surnames = st.sampled_from(
    ["Ashby", "Ashbey", "Patel", "Brennan", "Chen", "Muller", "Mueller", "Bakery", "Ashworth"]
)
shown = st.one_of(
    st.builds(lambda g, f: f"{g} {f}", names, surnames),
    st.builds(lambda g, f: f"{f}, {g}", names, surnames),
    st.builds(lambda g, m, f: f"{g} {m} {f}", names, names, surnames),
)


@settings(max_examples=150, deadline=None)
@given(shown)
def test_the_index_finds_what_scoring_every_staff_member_would(name: str) -> None:
    """Blocking only saves work: what it proposes, scoring the whole roster proposes with the
    same score; and for the usual variants drawn here (order, initials, a middle name, a
    letter off, umlauts) it misses no one who shares a word with the name."""
    staff = practice().staff
    index = NameIndex(staff)
    seen = name_keys(name)
    brute = {m.id: round(best_similarity(seen, name_keys(m.name)), 1) for m in staff}
    brute = {i: s for i, s in brute.items() if s >= NAME_MATCH_THRESHOLD}
    found = {c.staff_id: c.score for c in index.candidates(name)}
    assert set(found) <= set(brute)
    assert all(found[i] == brute[i] for i in found)
    for staff_id in set(brute) - set(found):
        member = next(m for m in staff if m.id == staff_id)
        shared = set(fold_name(name).split()) & set(fold_name(member.name).split())
        assert not shared, f"{name!r} shares {shared} with {member.name} but was not proposed"
