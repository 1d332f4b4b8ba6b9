"""How alike two people's names are, and which staff a name could belong to.

A client who invites a staff member on a personal address leaves only a name to go
on. ``NameIndex.candidates`` proposes the staff whose name scores at least
``NAME_MATCH_THRESHOLD`` (0-100) against it; a person then confirms or rejects the
proposal. Scores (rapidfuzz, over folded names from ``identity.name_key``):

* the whole name, word order ignored (``Ashby Anna`` and ``Anna Ashby`` score 100);
* when both names have two or more words in common, the shared words alone
  (``Anna Maria Ashby`` against ``Anna Ashby`` scores 100), so a middle name does
  not hide a person; one shared word is never enough (``Anna Bakery`` is not
  ``Anna Ashby``);
* initials: ``A. Ashby`` or ``Ashby, A`` against ``Anna Ashby`` scores
  ``INITIALS_SCORE`` times the surname's similarity, when each initial is the first
  letter of a given name, in order;
* every form of each name (``identity.name_keys``: ``Müller`` is also ``Mueller``),
  the best form's score counting.

A staff member is scored only when the two names share a blocking key: a whole
word and the first two letters of another word (``Anna Ashbey`` meets ``Anna Ashby``
through ``anna`` and ``as``, ``Ana Ashby`` through ``ashby`` and ``an``), or the
surname and an initial. A name misspelt in every word is therefore not proposed. The
blocking keeps a run over a million rows fast: most client users share no key with
any staff member, and those that do are scored against a handful of staff, not the
whole roster. Two staff with the same name score the same against any name, so
both are proposed and a person chooses; names are never enough to link anyone
automatically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from agent.reconcile.identity import NameKey, fold_words, name_keys
from agent.reconcile.model import Candidate, StaffMember

NAME_MATCH_THRESHOLD = 88.0
INITIALS_SCORE = 0.92
#: More candidates than this are not a lead a person can follow up.
MAX_CANDIDATES = 5
#: At most this many names' candidates are remembered in a run (see ``NameIndex``).
CACHE_SIZE = 50_000


def name_similarity(seen: NameKey, staff: NameKey, *, cutoff: float = 0.0) -> float:
    """How alike a seen name is to a staff member's, 0-100 (0 when below ``cutoff``)."""
    if not seen.words or not staff.words:
        return 0.0
    best = fuzz.token_sort_ratio(seen.text, staff.text, processor=None, score_cutoff=cutoff)
    if len(seen.word_set & staff.word_set) >= 2 and len(seen.words) >= 2 and len(staff.words) >= 2:
        best = max(
            best, fuzz.token_set_ratio(seen.text, staff.text, processor=None, score_cutoff=cutoff)
        )
    if seen.has_initials:
        best = max(best, _initials_score(seen, staff))
    return float(best) if best >= cutoff else 0.0


def _initials_score(seen: NameKey, staff: NameKey) -> float:
    initials = [w for w in seen.given if len(w) == 1]
    if len(initials) != len(seen.given) or not staff.given:
        return 0.0
    letters = [w[0] for w in staff.given]
    position = 0
    for initial in initials:
        while position < len(letters) and letters[position] != initial:
            position += 1
        if position == len(letters):
            return 0.0
        position += 1
    if letters[0] != initials[0]:
        return 0.0
    surname = fuzz.ratio(" ".join(seen.surname), " ".join(staff.surname), processor=None)
    return INITIALS_SCORE * surname


@dataclass(frozen=True, slots=True)
class _Entry:
    member: StaffMember
    keys: tuple[NameKey, ...]


def best_similarity(
    seen: tuple[NameKey, ...], staff: tuple[NameKey, ...], *, cutoff: float = 0.0
) -> float:
    """The best score over every form of both names (``identity.name_keys``)."""
    return max(name_similarity(a, b, cutoff=cutoff) for a in seen for b in staff)


#: How many letters of the second word a blocking key holds.
PREFIX = 2


def block_keys(words: tuple[str, ...] | list[str], *, initials: bool = False) -> set[_Key]:
    """The keys a name is found under: (a whole word, the start of another word).

    A name of one word is found under (that word, ""). With ``initials`` (a staff
    member's keys) each word is also paired with each other word's first letter, so
    a seen ``A. Ashby`` finds ``Anna Ashby``.
    """
    if len(words) == 1:
        return {(words[0], "")}
    keys: set[_Key] = set()
    for i, word in enumerate(words):
        if len(word) < 2:
            continue
        for j, other in enumerate(words):
            if i != j:
                keys.add((word, other[:PREFIX]))
                if initials:
                    keys.add((word, other[:1]))
    return keys


_Key = tuple[str, str]


class NameIndex:
    """The roster's names under their blocking keys, so a lookup scores only plausible staff.

    The candidates of a name that shares a blocking key with staff are remembered
    (up to ``CACHE_SIZE`` names) for lookups that exclude no one: such a name is
    usually someone who recurs, a staff member invited on a personal address to
    many clients' orgs, or a client's people in several of its orgs, and scoring
    it is what a lookup costs.
    """

    def __init__(self, staff: Iterable[StaffMember]) -> None:
        self._by_key: dict[_Key, list[_Entry]] = {}
        self._known: dict[tuple[str, float], tuple[Candidate, ...]] = {}
        for member in staff:
            entry = _Entry(member, name_keys(member.name))
            for key in {k for name in entry.keys for k in block_keys(name.words, initials=True)}:
                self._by_key.setdefault(key, []).append(entry)

    def candidates(
        self,
        name: str,
        *,
        exclude: frozenset[int] = frozenset(),
        threshold: float = NAME_MATCH_THRESHOLD,
    ) -> tuple[Candidate, ...]:
        """Staff whose name scores at least ``threshold`` against ``name``, best first."""
        by_key = self._by_key
        if name.isascii():
            words = fold_words(name)
            if len(words) == 2:  # most names: the blocking keys by hand, no set to build
                first, last = words
                if (first, last[:PREFIX]) not in by_key and (last, first[:PREFIX]) not in by_key:
                    return ()  # the common case: a client's person shares no key with staff
            elif not words or not any(k in by_key for k in block_keys(words)):
                return ()
        if exclude:
            return self._score(name, exclude, threshold)
        known = self._known.get((name, threshold))
        if known is None:
            known = self._score(name, exclude, threshold)
            if len(self._known) < CACHE_SIZE:
                self._known[name, threshold] = known
        return known

    def _score(self, name: str, exclude: frozenset[int], threshold: float) -> tuple[Candidate, ...]:
        by_key = self._by_key
        seen_keys = name_keys(name)
        pool: dict[int, _Entry] = {}
        for seen in seen_keys:
            if not seen.words:
                continue
            for key in block_keys(seen.words):
                for entry in by_key.get(key, ()):
                    if entry.member.id not in exclude:
                        pool[entry.member.id] = entry
        found = []
        for staff_id, entry in pool.items():
            score = best_similarity(seen_keys, entry.keys, cutoff=threshold)
            if score >= threshold:
                email = entry.member.emails[0] if entry.member.emails else ""
                found.append(Candidate(staff_id, entry.member.name, round(score, 1), email))
        found.sort(key=lambda c: (-c.score, c.name, c.staff_id))
        return tuple(found[:MAX_CANDIDATES])
