"""Properties of address and name normalisation, over generated text."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.reconcile.identity import (
    _tidy,
    fold_name,
    name_key,
    normalise_email,
    normalise_with,
    practice_domain_set,
)

DOMAINS = ("harbourco.example", "harbour-tax.example")
local_parts = st.text(st.characters(codec="utf-8", exclude_characters="@"), max_size=20)
domains = st.one_of(
    st.sampled_from(DOMAINS), st.sampled_from(["kowhai.example", "gmail.com"]), st.text(max_size=15)
)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
any_text = st.one_of(addresses, st.text(max_size=40))
spaces = st.sampled_from(["", " ", "\t", "\u00a0", "  \u2003"])


@settings(deadline=None)
@given(any_text)
def test_normalising_twice_changes_nothing(raw: str) -> None:
    once = normalise_email(raw, DOMAINS)
    assert normalise_email(once, DOMAINS) == once


@settings(deadline=None)
@given(addresses, spaces, spaces)
def test_case_and_surrounding_spaces_never_matter(raw: str, before: str, after: str) -> None:
    assert normalise_email(f"{before}{raw.upper()}{after}", DOMAINS) == normalise_email(
        raw.upper(), DOMAINS
    )
    assert normalise_email(raw.upper(), DOMAINS) == normalise_email(raw.lower().upper(), DOMAINS)


plain_locals = st.from_regex(r"[a-z][a-z0-9._-]{0,10}", fullmatch=True)
plain_domains = st.one_of(
    st.sampled_from([*DOMAINS, "kowhai.example", "gmail.com"]),
    st.from_regex(r"[a-z0-9-]{1,10}\.[a-z]{2,6}", fullmatch=True),
)
tags = st.text(st.characters(codec="utf-8", exclude_characters="@"), max_size=10)
cases = st.sampled_from([str.lower, str.upper, str.title, str.swapcase])


@settings(deadline=None)
@given(plain_locals, tags, plain_domains)
def test_plus_tags_are_dropped_on_every_domain(local: str, tag: str, domain: str) -> None:
    assert normalise_email(f"{local}+{tag}@{domain}", DOMAINS) == f"{local}@{domain}"
    assert normalise_email(f"{local}+{tag}@{domain}") == f"{local}@{domain}"


@settings(deadline=None)
@given(
    plain_locals,
    plain_domains,
    st.sampled_from(["", "+", "+books", "+Xero+2"]),
    st.sampled_from(["", "+", "+ledger", "+a.b"]),
    cases,
    cases,
    spaces,
    spaces,
)
def test_every_spelling_of_one_mailbox_is_one_address(
    local: str,
    domain: str,
    tag_a: str,
    tag_b: str,
    case_a: Callable[[str], str],
    case_b: Callable[[str], str],
    before: str,
    after: str,
) -> None:
    """Two spellings of a mailbox, one on the roster and one in a portal, always meet."""
    one = normalise_email(case_a(f"{local}{tag_a}@{domain}"), DOMAINS)
    other = normalise_email(f"{before}{case_b(f'{local}{tag_b}@{domain}')}{after}", DOMAINS)
    assert one == other == f"{local}@{domain}"


@settings(deadline=None)
@given(tags, plain_domains)
def test_a_plus_that_starts_the_address_is_not_a_tag(tag: str, domain: str) -> None:
    raw = f"+{tag}@{domain}"
    assert normalise_email(raw).startswith("+")
    assert normalise_email(normalise_email(raw)) == normalise_email(raw)


@settings(deadline=None)
@given(st.text(max_size=40))
def test_folding_a_name_twice_changes_nothing(raw: str) -> None:
    once = fold_name(raw)
    assert fold_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(deadline=None)
@given(
    st.from_regex(r"[A-Z][a-z]{1,10}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{1,10}", fullmatch=True),
)
def test_surname_first_is_the_same_name(given_name: str, family: str) -> None:
    assert name_key(f"{family}, {given_name}").words == name_key(f"{given_name} {family}").words


def test_diacritics_and_special_letters_fold() -> None:
    assert fold_name("Chloé Łukasz-Müller ØSTBY Zoë") == "chloe lukasz muller ostby zoe"
    wide = "ａｎｎａ@ＨＡＲＢＯＵＲＣＯ.example"
    assert normalise_email(wide, DOMAINS) == "anna@harbourco.example"


@settings(deadline=None, max_examples=500)
@given(
    st.one_of(
        st.text(st.characters(max_codepoint=127), max_size=30),
        st.builds(
            lambda a, b: f"{a}@{b}",
            st.text(st.characters(max_codepoint=127), max_size=12),
            st.sampled_from([*DOMAINS, "kowhai.example", "x.", " y.com ", "a\tb.com", "b.com\n"]),
        ),
    )
)
def test_the_fast_path_for_plain_addresses_agrees_with_the_full_one(raw: str) -> None:
    text = raw.strip().lower()
    assert normalise_with(raw, practice_domain_set(DOMAINS)) == _tidy(text)
