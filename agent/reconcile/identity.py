"""Who an address belongs to: normalisation of emails and names.

Email matching ignores case, surrounding spaces, Unicode compatibility forms
(NFKC: a full-width ``ａ`` is ``a``, a no-break space is a space) and plus-tags on
every domain (``anna+xero@practice`` is ``anna@practice``, ``Anna.Smith+books@Gmail.com``
is ``anna.smith@gmail.com``). Staff reach client orgs through personal aliases as much
as through practice addresses, and a client inviting ``anna.smith+books@gmail.com``
reaches the mailbox the roster knows as ``anna.smith@gmail.com``: keeping the tag there
would turn a leaver into a mere name match and a granted alias into a missing grant.
A ``+`` that starts the local part is not a tag (nothing precedes it), so it is kept.
The rule is the same wherever an address is compared (imports, reconcile, the server's
person filter, the extension's row labels).

Names are folded for comparison: diacritics removed (``Chloé`` is ``chloe``, ``Łukasz``
is ``lukasz``), case and punctuation dropped, and ``Surname, Given`` put back in
``Given Surname`` order. Every function here is idempotent: normalising an already
normalised value changes nothing (a property test holds this).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_TRAILING = re.compile(r"[\s.]+$")
_LEADING = re.compile(r"^\s+")

#: Letters NFKD does not decompose but a person typing without them would replace.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)


def _nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=256)
def _domain_set(domains: frozenset[str]) -> frozenset[str]:
    return frozenset(_normalise_domain(d) for d in domains)


def practice_domain_set(domains: Iterable[str]) -> frozenset[str]:
    """The practice's domains as they appear in a normalised address, to tell a
    practice address (never a name match) from any other."""
    return _domain_set(frozenset(domains))


def _normalise_domain(raw: str) -> str:
    text = _nfkc(_nfkc(raw).casefold())
    return _LEADING.sub("", _TRAILING.sub("", text)).lstrip("@")


def normalise_email(raw: str, practice_domains: Iterable[str] = ()) -> str:
    """The form of an address that two spellings of one mailbox share.

    The form is the same on every domain; ``practice_domains`` is accepted so the
    callers that know them keep one signature, and changes nothing.
    """
    return normalise_with(raw)


def normalise_with(raw: str, practice_domains: frozenset[str] = frozenset()) -> str:
    """``normalise_email`` without its argument handling: the hot path of a run.

    ``practice_domains`` changes nothing (see ``normalise_email``).
    """
    if raw.isascii():
        text = raw.strip().lower()
        local, at, domain = text.rpartition("@")
        # The usual address needs nothing more (no tag, no stray dot or space inside):
        # return it as is, which is what ``_tidy`` would give.
        if (
            at
            and domain
            and "+" not in local
            and not local[-1:].isspace()
            and not domain[0].isspace()
            and not domain[-1].isspace()
            and domain[-1] != "."
        ):
            return text
        return _tidy(text)
    # casefold can leave a string that NFKC would change again (ǅ, ß…): normalise twice
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold())
    return _tidy(text.strip())


def _tidy(text: str) -> str:
    """An address already folded and stripped, with its parts trimmed and tag dropped."""
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    if domain.endswith(".") or domain[-1:].isspace():
        domain = _TRAILING.sub("", domain)
    domain = domain.strip()
    untagged = local.split("+", 1)[0]
    if untagged.strip():
        local = untagged
    return f"{local.strip()}@{domain}"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]


def looks_like_email(raw: str) -> bool:
    local, at, domain = raw.strip().rpartition("@")
    return bool(at and local and "." in domain and " " not in raw.strip())


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: ASCII letters to lower case, everything else but digits to spaces: ``fold_name``'s
#: fast path, as a byte table (a run folds a million names).
_ASCII_FOLD = bytes(ord(chr(i).lower()) if chr(i).isalnum() else ord(" ") for i in range(256))


def fold_words(raw: str) -> list[str]:
    """The words of a name with diacritics, case and punctuation folded, in order."""
    if raw.isascii():
        return raw.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split()
    text = _strip_marks(_strip_marks(raw).casefold().translate(_LETTERS))
    return "".join(c if c.isalnum() else " " for c in text).split()


def fold_name(raw: str) -> str:
    """A name with diacritics, case and punctuation folded, words in order."""
    return " ".join(fold_words(raw))


@dataclass(frozen=True, slots=True)
class NameKey:
    """A person's name ready to compare: folded words, given names first.

    ``surname`` is the words a ``Surname, Given`` form put before its comma, else the
    last word; ``given`` the words before it. A single-letter word is an initial.
    ``text``, ``word_set`` and ``has_initials`` are kept, not computed, because a run
    compares one name with many.
    """

    words: tuple[str, ...]
    given: tuple[str, ...]
    surname: tuple[str, ...]
    text: str = ""
    word_set: frozenset[str] = frozenset()
    has_initials: bool = False

    @classmethod
    def of(
        cls, words: tuple[str, ...], given: tuple[str, ...], surname: tuple[str, ...]
    ) -> NameKey:
        return cls(
            words,
            given,
            surname,
            " ".join(words),
            frozenset(words),
            any(len(w) == 1 for w in given),
        )


def name_key(raw: str) -> NameKey:
    """The comparable form of a display name, ``Surname, Given`` turned around."""
    before, comma, after = raw.partition(",")
    if comma and "," not in after:
        surname = tuple(fold_words(before))
        given = tuple(fold_words(after))
        if surname and given:
            return NameKey.of(given + surname, given, surname)
    words = tuple(fold_words(raw))
    if len(words) < 2:
        return NameKey.of(words, (), words)
    return NameKey.of(words, words[:-1], words[-1:])


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def name_keys(raw: str) -> tuple[NameKey, ...]:
    """Every comparable form of a name: folded, and with umlauts spelt out when it has any.

    ``Müller`` is written ``Muller`` by some and ``Mueller`` by others; both must find it.
    """
    key = name_key(raw)
    spelt = raw.translate(_UMLAUTS)
    if spelt == raw:
        return (key,)
    return (key, name_key(spelt))


def name_from_email(email: str) -> str:
    """Words of an address's local part (``anna.ashby`` is ``anna ashby``), digits dropped.

    Used only when a portal shows no name at all, as a weaker hint of who it is.
    """
    local = email.rpartition("@")[0].split("+", 1)[0]
    return " ".join(w for w in re.split(r"[._\-\s]+", local) if w.isalpha())
