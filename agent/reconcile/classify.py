"""Give every (org, identity) of a readable org exactly one finding class.

Precedence is the order of ``FindingClass`` (DESIGN.md's table): a leaver on an
unlinked org is ``leaver_access``; a direct invite on an archived client's org is
``invited_direct``; ``archived_client_access`` and ``unlinked_org`` are for access
that would otherwise be ``managed``.

Rules beyond the table, each deliberate:

* Pending invitations are access-in-waiting and are classed like active access;
  declined invitations and inactive users are not access (and do not satisfy a
  grant, so the grant is ``missing_expected``).
* The agent's own logins are never classified.
* ``missing_expected`` is claimed only for staff who have not left: a leaver's
  grant that is no longer observed is the outcome the practice wants.
* Only call this with the users of an **ok** scan: an org that could not be read
  proves nothing about who is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.domain import FindingClass, StaffStatus
from agent.reconcile.identity import email_domain, normalise_email
from agent.reconcile.model import (
    Classification,
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
)
from agent.reconcile.roles import extra_permission_codes, role_of

PRACTICE = "practice"
CLIENT = "client"


@dataclass(frozen=True, slots=True)
class PracticeIndex:
    """The practice prepared for lookups, built once per reconcile run."""

    domains: frozenset[str]
    by_email: dict[str, StaffMember]
    by_id: dict[int, StaffMember]
    agent_emails: frozenset[str]
    grants: dict[tuple[str, str], dict[int, Grant]]

    @classmethod
    def build(cls, practice: Practice) -> PracticeIndex:
        domains = frozenset(d.casefold() for d in practice.domains)
        by_email: dict[str, StaffMember] = {}
        for member in practice.staff:
            for email in member.emails:
                by_email[normalise_email(email, domains)] = member
        grants: dict[tuple[str, str], dict[int, Grant]] = {}
        for grant in practice.grants:
            grants.setdefault((grant.portal, grant.portal_org_id), {})[grant.staff_id] = grant
        agents = frozenset(normalise_email(e, domains) for e in practice.agent_emails)
        by_id = {member.id: member for member in practice.staff}
        return cls(domains, by_email, by_id, agents, grants)

    def identity(self, email: str) -> str:
        return normalise_email(email, self.domains)


def classify_org(
    index: PracticeIndex, org: OrgFacts, users: Sequence[SeenUser]
) -> list[Classification]:
    """Every finding of one org, from the users of its latest ok scan."""
    grants = index.grants.get((org.portal, org.portal_org_id), {})
    found: dict[str, Classification] = {}
    granted_and_seen: set[int] = set()
    for user in users:
        identity = index.identity(user.email)
        if identity in index.agent_emails or not user.status.is_access:
            continue
        member = index.by_email.get(identity)
        grant = grants.get(member.id) if member else None
        if member and grant:
            granted_and_seen.add(member.id)
        result = _classify_user(index, org, user, identity, member, grant)
        previous = found.get(identity)
        # One identity listed twice (a portal glitch): keep the worse class.
        if previous is None or _rank(result) < _rank(previous):
            found[identity] = result
    for staff_id, grant in grants.items():
        member = index.by_id.get(staff_id)
        if member is None or staff_id in granted_and_seen or member.status is StaffStatus.LEFT:
            continue
        primary = index.identity(member.emails[0]) if member.emails else f"staff:{staff_id}"
        if primary in found:
            continue
        found[primary] = Classification(
            portal=org.portal, portal_org_id=org.portal_org_id, identity=primary,
            finding_class=FindingClass.MISSING_EXPECTED, email=member.emails[0] if member.emails
            else "", name=member.name, role="", staff_id=member.id, intended_role=grant.role,
            detail=f"granted {grant.role} by the practice but not in the org's user list",
            removable_by=PRACTICE,
        )
    return sorted(found.values(), key=lambda c: (_rank(c), c.identity))


def _classify_user(
    index: PracticeIndex,
    org: OrgFacts,
    user: SeenUser,
    identity: str,
    member: StaffMember | None,
    grant: Grant | None,
) -> Classification:
    def make(cls: FindingClass, detail: str, removable_by: str = CLIENT) -> Classification:
        return Classification(
            portal=org.portal, portal_org_id=org.portal_org_id, identity=identity,
            finding_class=cls, email=user.email.strip(), name=user.name, role=user.role,
            extra_permissions=user.extra_permissions, access_status=user.status,
            staff_id=member.id if member else None,
            intended_role=grant.role if grant else None, detail=detail,
            removable_by=removable_by,
        )

    who_removes = PRACTICE if grant or "MANAGE_USERS" in extra_permission_codes(
        user.extra_permissions) else CLIENT
    if member is None:
        if email_domain(identity) in index.domains:
            return make(FindingClass.UNKNOWN_PRACTICE_USER,
                        "a practice address that matches no one on the roster", who_removes)
        return make(FindingClass.CLIENT_USER, "")
    if member.status is StaffStatus.LEFT:
        left = f" on {member.left_on.isoformat()}" if member.left_on else ""
        return make(FindingClass.LEAVER_ACCESS,
                    f"{member.name} left{left} and still has {_label(org, user.role)} access",
                    who_removes)
    if grant is None:
        return make(FindingClass.INVITED_DIRECT,
                    f"{member.name} was invited directly by the client", CLIENT)
    if _drifted(org, user, grant):
        return make(FindingClass.ROLE_DRIFT,
                    f"granted {_label(org, grant.role)}, has {_label(org, user.role)}", PRACTICE)
    if not org.linked:
        return make(FindingClass.UNLINKED_ORG,
                    "the org links to no client record, so removing the staff member "
                    "from the practice does not remove this access", PRACTICE)
    if org.client_archived:
        return make(FindingClass.ARCHIVED_CLIENT_ACCESS,
                    f"client {org.client_name} is archived; this access is not removed "
                    "with the staff member", PRACTICE)
    return make(FindingClass.MANAGED, "", PRACTICE)


def _drifted(org: OrgFacts, user: SeenUser, grant: Grant) -> bool:
    if role_of(org.portal, user.role).code != role_of(org.portal, grant.role).code:
        return True
    if grant.extra_permissions:
        return extra_permission_codes(grant.extra_permissions) != extra_permission_codes(
            user.extra_permissions
        )
    return False


def _label(org: OrgFacts, raw: str) -> str:
    return role_of(org.portal, raw).label or raw


def _rank(c: Classification) -> int:
    return list(FindingClass).index(c.finding_class)


def classify_all(
    practice: Practice, orgs: Iterable[tuple[OrgFacts, Sequence[SeenUser]]]
) -> list[Classification]:
    """Every finding of every readable org (each with its latest ok scan's users)."""
    index = PracticeIndex.build(practice)
    results: list[Classification] = []
    for org, users in orgs:
        results.extend(classify_org(index, org, users))
    return results
