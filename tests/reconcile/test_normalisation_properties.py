"""Properties of address and name normalisation, over generated text."""

from __future__ import annotations

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
domains = st.one_of(st.sampled_from(DOMAINS), st.sampled_from(["kowhai.example", "gmail.com"]),
                    st.text(max_size=15))
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
    assert normalise_email(f"{before}{raw.upper()}{after}", DOMAINS) == \
        normalise_email(raw.upper(), DOMAINS)
    assert normalise_email(raw.upper(), DOMAINS) == normalise_email(raw.lower().upper(), DOMAINS)


@settings(deadline=None)
@given(st.from_regex(r"[a-z][a-z.]{0,10}", fullmatch=True),
       st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), st.sampled_from(DOMAINS))
def test_plus_tags_on_practice_domains_are_dropped(local: str, tag: str, domain: str) -> None:
    assert normalise_email(f"{local}+{tag}@{domain}", DOMAINS) == f"{local}@{domain}"


@settings(deadline=None)
@given(st.from_regex(r"[a-z][a-z.]{0,10}", fullmatch=True),
       st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True))
def test_plus_tags_elsewhere_are_kept(local: str, tag: str) -> None:
    assert normalise_email(f"{local}+{tag}@kowhai.example", DOMAINS) == \
        f"{local}+{tag}@kowhai.example"


@settings(deadline=None)
@given(st.text(max_size=40))
def test_folding_a_name_twice_changes_nothing(raw: str) -> None:
    once = fold_name(raw)
    assert fold_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(deadline=None)
@given(st.from_regex(r"[A-Z][a-z]{1,10}", fullmatch=True),
       st.from_regex(r"[A-Z][a-z]{1,10}", fullmatch=True))
def test_surname_first_is_the_same_name(given_name: str, family: str) -> None:
    assert name_key(f"{family}, {given_name}").words == name_key(f"{given_name} {family}").words


def test_diacritics_and_special_letters_fold() -> None:
    assert fold_name("Chloé Łukasz-Müller ØSTBY Zoë") == "chloe lukasz muller ostby zoe"
    wide = "ａｎｎａ@ＨＡＲＢＯＵＲＣＯ.example"
    assert normalise_email(wide, DOMAINS) == "anna@harbourco.example"


@settings(deadline=None, max_examples=500)
@given(st.one_of(st.text(st.characters(max_codepoint=127), max_size=30),
                 st.builds(lambda a, b: f"{a}@{b}", st.text(st.characters(max_codepoint=127),
                                                            max_size=12),
                           st.sampled_from([*DOMAINS, "kowhai.example", "x.", " y.com ",
                                            "a\tb.com", "b.com\n"]))))
def test_the_fast_path_for_plain_addresses_agrees_with_the_full_one(raw: str) -> None:
    text = raw.strip().lower()
    assert normalise_with(raw, practice_domain_set(DOMAINS)) == \
        _tidy(text, practice_domain_set(DOMAINS))
