"""Who an address belongs to: normalisation of emails and names.

Email matching ignores case, surrounding spaces, Unicode compatibility forms and,
on the practice's own domains, plus-tags (``anna+xero@practice`` is ``anna@practice``).
Plus-tags elsewhere are kept: a client's mail server may not treat ``+`` as a tag.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def normalise_email(raw: str, practice_domains: Iterable[str] = ()) -> str:
    """The form of an address that two spellings of one mailbox share."""
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    domain = domain.strip().rstrip(".")
    if domain in {d.casefold() for d in practice_domains}:
        local = local.split("+", 1)[0]
    return f"{local.strip()}@{domain}"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]


def looks_like_email(raw: str) -> bool:
    local, at, domain = raw.strip().rpartition("@")
    return bool(at and local and "." in domain and " " not in raw.strip())


def fold_name(raw: str) -> str:
    """A name with diacritics, case and punctuation folded, words in order."""
    decomposed = unicodedata.normalize("NFKD", raw)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in stripped.casefold())
    return " ".join(cleaned.split())
