"""Every org one person can still reach: the rows of the leaver report and the person page.

The dashboard's person page and the leaver workbook list the same rows from the same
query (``leaver_rows``), so what a manager prints is what the page showed.

Besides the person's own addresses, the rows include *possible* matches: a private
address whose name resembles theirs and that nobody has confirmed or rejected yet
(class ``probable_match``). A leaver invited on a personal address is exactly the
access a practice cannot see any other way, so it is shown, marked for checking,
rather than left out until someone confirms it.

Each row keeps the stored codes (portal, status, class, who can remove it) for CSV
and for code that compares them, and says them in words for people. Two times are
kept apart: *last seen* is when the product's own scan last showed the access;
*last login* is when the portal says the person last signed in, where it says so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, or_, select

from agent.domain import AccessStatus, FindingClass
from agent.reconcile.identity import normalise_email
from agent.reports.common import NO_MANAGER, UNLINKED_CLIENT, ReportScope
from agent.reports.labels import (
    permissions_text,
    role_label,
    status_label,
    status_text,
    who_can_remove,
)
from agent.reports.words import day, label
from agent.storage.links import join_client
from agent.storage.models import (
    Client,
    Finding,
    MatchCandidate,
    Observation,
    Org,
    Staff,
    StaffEmail,
)

#: What the flag column says of an access whose org the practice may have forgotten.
ARCHIVED_FLAG = "archived_client"
UNLINKED_FLAG = "unlinked_org"
FLAG_LABELS = {ARCHIVED_FLAG: "Archived client", UNLINKED_FLAG: "Org linked to no client"}


class PersonNotFound(LookupError):
    """No staff member, or more than one, answers to the name or email given."""


@dataclass(frozen=True, slots=True)
class LeaverRow:
    """One access of the person: codes in the fields, words in the properties."""

    client_manager: str
    client: str
    org: str
    portal: str
    org_id: str
    email: str
    role: str
    extra_permissions: str
    status: str
    finding_class: str
    #: ``practice`` or ``client`` as every report says it (``labels.who_can_remove``)
    removable_by: str
    last_seen: datetime
    #: the client's contact address ("" when the client list has none)
    client_contact: str = ""
    #: why only the client can remove it ("" when the practice can)
    removable_reason: str = ""
    contact_name: str = ""
    #: when the portal says the person last signed in (``None``: it did not say)
    last_login: datetime | None = None
    client_archived: bool = False
    linked: bool = True
    finding_id: int | None = None
    org_pk: int | None = None

    @property
    def portal_label(self) -> str:
        return label(self.portal)

    @property
    def status_label(self) -> str:
        return status_label(self.finding_class, self.status)

    @property
    def class_label(self) -> str:
        return label(self.finding_class)

    @property
    def removable_by_label(self) -> str:
        return label(self.removable_by)

    @property
    def flag(self) -> str:
        """``unlinked_org``, ``archived_client`` or ""."""
        if not self.linked:
            return UNLINKED_FLAG
        return ARCHIVED_FLAG if self.client_archived else ""

    @property
    def flag_label(self) -> str:
        return FLAG_LABELS.get(self.flag, "")

    @property
    def contact(self) -> str:
        """The client's contact as a person reads it: the name, the address below it."""
        return "\n".join(part for part in (self.contact_name, self.client_contact) if part)


def find_staff(session: Session, who: str) -> Staff:
    """The one staff member a name or email names; an error listing candidates otherwise."""
    text = who.strip()
    if not text:
        raise PersonNotFound("no person given: write a staff member's name or email")
    if "@" in text:
        wanted = normalise_email(text)
        matches = list(
            session.exec(
                select(Staff)
                .join(StaffEmail, col(StaffEmail.staff_id) == col(Staff.id))
                .where(or_(StaffEmail.email == wanted, StaffEmail.email == text.casefold()))
            ).unique()
        )
    else:
        matches = [s for s in session.exec(select(Staff)) if s.name.casefold() == text.casefold()]
        if not matches:
            matches = [
                s for s in session.exec(select(Staff)) if text.casefold() in s.name.casefold()
            ]
    if not matches:
        raise PersonNotFound(f"no staff member matches {who!r}")
    if len(matches) > 1:
        names = ", ".join(sorted(f"{s.name} (#{s.id})" for s in matches))
        raise PersonNotFound(f"{who!r} matches several staff: {names}; give an email instead")
    return matches[0]


def _last_logins(session: Session, findings: Iterable[Finding]) -> dict[int, datetime]:
    """Each finding's last login as its last scan's row for the person shows it."""
    by_scan: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.last_scan_id is not None and finding.id is not None:
            by_scan.setdefault(finding.last_scan_id, []).append(finding)
    if not by_scan:
        return {}
    seen: dict[tuple[int, str], datetime] = {}
    for scan_id, email, last_login in session.exec(
        select(Observation.scan_id, Observation.email, Observation.last_login).where(
            col(Observation.scan_id).in_(sorted(by_scan)),
            col(Observation.last_login).is_not(None),
        )
    ):
        if last_login is not None:
            seen[(scan_id, normalise_email(email))] = last_login
    out: dict[int, datetime] = {}
    for scan_id, items in by_scan.items():
        for finding in items:
            found = seen.get((scan_id, finding.identity)) or seen.get(
                (scan_id, normalise_email(finding.email))
            )
            if found is not None and finding.id is not None:
                out[finding.id] = found
    return out


def leaver_rows(
    session: Session,
    staff: Staff,
    *,
    scope: Collection[int] | None = None,
    possible: bool = True,
) -> list[LeaverRow]:
    """Every open access of the person in scope (not intended-but-missing grants).

    With ``possible``, unconfirmed probable matches naming the person are included.
    Sorted by client manager (no manager last), client, portal, org, email.
    """
    cut = ReportScope.of(scope)
    base = join_client(select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id)))
    open_access = (
        col(Finding.resolved_at).is_(None),
        col(Finding.access_status).in_([AccessStatus.ACTIVE, AccessStatus.PENDING]),
    )
    queries = [
        cut.restrict(
            base.where(
                Finding.staff_id == staff.id,
                Finding.finding_class != FindingClass.MISSING_EXPECTED,
                *open_access,
            )
        )
    ]
    if possible:
        queries.append(
            cut.restrict(
                base.join(MatchCandidate, col(MatchCandidate.finding_id) == col(Finding.id)).where(
                    MatchCandidate.staff_id == staff.id,
                    Finding.finding_class == FindingClass.PROBABLE_MATCH,
                    *open_access,
                )
            )
        )
    found: dict[int, tuple[Finding, Org, Client | None]] = {}
    for query in queries:
        for finding, org, client in session.exec(query):
            assert finding.id is not None
            found[finding.id] = (finding, org, client)
    logins = _last_logins(session, (f for f, _, _ in found.values()))
    rows = [_row(f, org, client, logins.get(i)) for i, (f, org, client) in found.items()]
    return sorted(
        rows,
        key=lambda r: (
            r.client_manager == NO_MANAGER,
            r.client_manager.casefold(),
            r.client.casefold(),
            r.portal,
            r.org.casefold(),
            r.email,
        ),
    )


def _row(
    finding: Finding, org: Org, client: Client | None, last_login: datetime | None
) -> LeaverRow:
    who = who_can_remove(finding.finding_class, finding.removable_by, finding.removable_reason)
    return LeaverRow(
        client_manager=(client.client_manager if client and client.client_manager else NO_MANAGER),
        client=client.name if client else UNLINKED_CLIENT,
        org=org.name,
        portal=org.portal,
        org_id=org.portal_org_id,
        email=finding.email,
        role=role_label(org.portal, finding.role),
        extra_permissions=permissions_text(org.portal, finding.role, finding.extra_permissions),
        status=status_text(finding.finding_class, finding.access_status),
        finding_class=finding.finding_class,
        removable_by=who.by,
        last_seen=finding.last_seen_at,
        client_contact=client.contact_email if client else "",
        removable_reason=who.reason,
        contact_name=client.contact_name if client else "",
        last_login=last_login,
        client_archived=bool(client and client.archived),
        linked=client is not None,
        finding_id=finding.id,
        org_pk=org.id,
    )


def left_words(status: str, left_on: date | None) -> str:
    """How a person's status reads in a title: "left 6 Jan 2026", "Active", "On leave"."""
    if status == "left" and left_on is not None:
        return f"left {day(left_on)}"
    return label(status)
