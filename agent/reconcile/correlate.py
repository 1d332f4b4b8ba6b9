"""Correlation: which person, if any, a captured user row is.

In order, first answer wins:

1. the address, normalised (``identity.normalise_with``), is one of the agent's own
   logins: never reported;
2. it is a roster address of a staff member (primary or alias, any practice domain);
3. a person confirmed it as that staff member's (an identity decision): an alias
   that survives roster imports. A roster address outranks a confirmation naming
   someone else, because the roster is the practice's own record;
4. it is on a practice domain: a practice address nobody accounts for. Such an
   address is never matched by name;
5. it is on a portal vendor's domain (``SUPPORT_DOMAINS``): the portal's support
   staff, the client's business. Only the domain counts: anyone can be called
   "Xero Support", only the vendor sends from its own domain;
6. the shown name (or, when the portal shows none, the address's local part)
   resembles staff names (``names.NameIndex``): a probable match, minus the staff a
   person already rejected for that address;
7. otherwise: someone of the client's (or another firm's).

Answers for the practice's own people (staff and agent logins, which do not
depend on the name shown) are cached by the address as written, in a bounded
cache: staff addresses recur across hundreds of orgs in a run, while most other
addresses are seen once, and caching those would only cost time and memory.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from agent.reconcile.identity import (
    email_domain,
    fold_name,
    name_from_email,
    normalise_with,
    practice_domain_set,
)
from agent.reconcile.model import Candidate, Practice, StaffMember
from agent.reconcile.names import NameIndex

#: Domains whose addresses belong to the portal vendors' own staff (support access
#: granted by the client). Subdomains count: ``support.xero.com`` is Xero's.
SUPPORT_DOMAINS: dict[str, str] = {
    "xero.com": "Xero",
    "intuit.com": "Intuit (QuickBooks)",
    "myob.com": "MYOB",
}

#: At most this many spellings of practice addresses are remembered in a run.
CACHE_SIZE = 100_000


class MatchKind(StrEnum):
    AGENT = "agent"
    STAFF = "staff"
    PRACTICE_UNKNOWN = "practice_unknown"
    SUPPORT = "support"
    PROBABLE = "probable"
    NONE = "none"


class MatchedBy(StrEnum):
    ROSTER = "roster"
    CONFIRMED = "confirmed"


class Match(NamedTuple):
    """Who an address is: a staff member, a proposal of staff, or nobody of the practice."""

    kind: MatchKind
    identity: str
    member: StaffMember | None = None
    matched_by: MatchedBy | None = None
    candidates: tuple[Candidate, ...] = ()
    vendor: str | None = None


_SUPPORT_SUFFIXES = {f".{domain}": vendor for domain, vendor in SUPPORT_DOMAINS.items()}


def support_vendor(identity: str) -> str | None:
    """The portal vendor whose staff an address belongs to, if it is one's."""
    domain = email_domain(identity)
    vendor = SUPPORT_DOMAINS.get(domain)
    if vendor or not domain.endswith(_SUPPORT_ENDINGS):
        return vendor
    return next(v for suffix, v in _SUPPORT_SUFFIXES.items() if domain.endswith(suffix))


_SUPPORT_ENDINGS = tuple(_SUPPORT_SUFFIXES)


_NO_ONE: frozenset[int] = frozenset()
# Bound once: reading a member off its enum class costs several dictionary lookups'
# time, and ``match`` runs for every user row of a run.
_PRACTICE_UNKNOWN = MatchKind.PRACTICE_UNKNOWN
_SUPPORT = MatchKind.SUPPORT
_PROBABLE = MatchKind.PROBABLE
_NONE = MatchKind.NONE
#: ``Match``'s fields in order, built without its keyword-handling constructor.
_new_match = tuple.__new__


class Correlator:
    """The practice's people, prepared once per run to answer ``match`` quickly."""

    def __init__(self, practice: Practice) -> None:
        self.domains = practice_domain_set(practice.domains)
        self.by_id: dict[int, StaffMember] = {m.id: m for m in practice.staff}
        by_email: dict[str, StaffMember] = {}
        for member in practice.staff:
            for email in member.emails:
                by_email.setdefault(normalise_with(email, self.domains), member)
        confirmed: dict[str, StaffMember] = {}
        rejected: dict[str, set[int]] = {}
        for decision in sorted(practice.decisions, key=lambda d: (d.identity, d.staff_id)):
            decided = self.by_id.get(decision.staff_id)
            identity = normalise_with(decision.identity, self.domains)
            if decided is None:
                continue
            if decision.confirmed:
                confirmed.setdefault(identity, decided)
            else:
                rejected.setdefault(identity, set()).add(decided.id)
        self.rejected = {identity: frozenset(ids) for identity, ids in rejected.items()}
        self.names = NameIndex(practice.staff)
        # The practice's own people by identity, precedence applied: an agent login
        # outranks a roster address, which outranks a confirmation (rules 1 to 3).
        self._people: dict[str, Match] = {}
        for identity, member in confirmed.items():
            self._people[identity] = Match(MatchKind.STAFF, identity, member, MatchedBy.CONFIRMED)
        for identity, member in by_email.items():
            self._people[identity] = Match(MatchKind.STAFF, identity, member, MatchedBy.ROSTER)
        for email in practice.agent_emails:
            identity = normalise_with(email, self.domains)
            self._people[identity] = Match(MatchKind.AGENT, identity)
        self._known: dict[str, Match] = {}

    def match(self, email: str, name: str) -> Match:
        """Who the row with this address and shown name is (see the module's rules)."""
        found = self._known.get(email)
        if found is not None:
            return found
        identity = normalise_with(email, self.domains) or self.identity(email, name)
        found = self._people.get(identity)
        if found is not None:
            if len(self._known) < CACHE_SIZE:
                self._known[email] = found
            return found
        domain = identity.rpartition("@")[2]
        if domain in self.domains:
            return _new_match(Match, (_PRACTICE_UNKNOWN, identity, None, None, (), None))
        vendor = SUPPORT_DOMAINS.get(domain) or (
            support_vendor(identity) if domain.endswith(_SUPPORT_ENDINGS) else None
        )
        if vendor:
            return _new_match(Match, (_SUPPORT, identity, None, None, (), vendor))
        shown = name.strip() or name_from_email(identity)
        if shown:
            candidates = self.names.candidates(shown, exclude=self.rejected.get(identity, _NO_ONE))
            if candidates:
                return _new_match(Match, (_PROBABLE, identity, None, None, candidates, None))
        return _new_match(Match, (_NONE, identity, None, None, (), None))

    def identity(self, email: str, name: str = "") -> str:
        """The key one person's access is tracked under: the normalised address.

        A row with no address at all (some portals list pending people by name)
        falls back to its folded name, so it is still tracked.
        """
        identity = normalise_with(email, self.domains)
        if identity:
            return identity
        return f"name:{fold_name(name)}"
