"""The words a person reads for what the product stores, the same in every place.

Stored values are codes (``leaver_access``, ``qbo``, ``pending``) because machines
compare them; a practice admin reads "Leaver access", "QuickBooks Online", "Invite
pending". The dashboard, every workbook and PDF, the command line's tables and the
extension's API all say a code, a date or a scan's evidence through this module, so a
word changed here changes everywhere. CSV exports keep the codes (scripts read them)
and add these words beside them.

Dates are written one way: ``5 Dec 2026``, with ``14:05 UTC`` where the time matters.
The format is spelt out here rather than taken from a locale, so a report reads the
same on every machine.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from agent.domain import FindingClass

#: Every stored code a person may read, and its words. Anything not listed is shown
#: with its underscores as spaces and a capital letter.
LABELS: dict[str, str] = {
    # finding classes
    FindingClass.LEAVER_ACCESS: "Leaver access",
    FindingClass.INVITED_DIRECT: "Invited direct",
    FindingClass.UNKNOWN_PRACTICE_USER: "Unknown practice user",
    FindingClass.PROBABLE_MATCH: "Probable match",
    FindingClass.ROLE_DRIFT: "Role drift",
    FindingClass.ARCHIVED_CLIENT_ACCESS: "Archived client access",
    FindingClass.UNLINKED_ORG: "Unlinked org",
    FindingClass.MISSING_EXPECTED: "Missing expected",
    FindingClass.MANAGED: "Managed",
    FindingClass.CLIENT_USER: "Client user",
    # review states
    "open": "Open",
    "acknowledged": "Acknowledged",
    "accepted_risk": "Accepted risk",
    "removal_requested": "Removal requested",
    "verified_removed": "Verified removed",
    # portals
    "xero": "Xero",
    "qbo": "QuickBooks Online",
    "myob": "MYOB",
    # a portal user's status
    "active": "Active",
    "pending": "Invite pending",
    "not_in_org": "Not in org",
    # severities
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Info",
    # people and logins
    "practice_admin": "Practice admin",
    "on_leave": "On leave",
    "left": "Left",
    "ok": "OK",
    "needs_sign_in": "Needs sign-in",
    # scans, crawls and removals
    "mfa_failed": "MFA failed",
    "schedule": "Scheduled",
    "ask_client": "Ask the client",
    # who can remove it
    "practice": "Practice",
    "client": "Client",
}


def label(value: object) -> str:
    """The words for a stored code (``invited_direct``: "Invited direct"); a dash for nothing."""
    if value is None or value == "":
        return "—"
    text = str(getattr(value, "value", value))
    return LABELS.get(text, text.replace("_", " ").capitalize())


def portal_name(portal: object) -> str:
    """A portal as its users call it: ``qbo`` is "QuickBooks Online"."""
    return label(portal)


def day(value: date | datetime | None) -> str:
    """A date as ``5 Dec 2026`` (no leading zero, English month); a dash for nothing."""
    if value is None:
        return "—"
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | date | None) -> str:
    """A time as ``5 Dec 2026 14:05 UTC``; a plain date as :func:`day` writes it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)  # a schedule's next run is in its own zone
        return f"{day(value)} {value:%H:%M} UTC"
    return day(value)


def spelt_dates(text: str) -> str:
    """A stored sentence with its ISO dates spelt out: "left on 1 Jul 2026", not "2026-07-01".

    Sentences written when a finding was reconciled keep the dates they were written
    with; this shows old and new rows the same way.
    """
    return _ISO_DATE.sub(_spelt, text)


def _spelt(found: re.Match[str]) -> str:
    try:
        return day(date.fromisoformat(found.group(0)))
    except ValueError:
        return found.group(0)


_ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-]|T\d)")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 crawl``, ``2 crawls``; ``1 person``, ``3 people`` with the plural given."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def evidence_sentence(reported_total: int | None, read: int) -> str:
    """How complete a read was, as a person says it: "the portal said 7 users; 7 read".

    A portal that states no count (a list without a total) gets only what was read.
    """
    if reported_total is None:
        return f"{plural(read, 'user')} read; the portal stated no count"
    return f"the portal said {plural(reported_total, 'user')}; {read:,} read"
