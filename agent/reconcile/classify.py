"""Give every (org, identity) of a readable org exactly one finding class.

Precedence is the declaration order of ``FindingClass`` (DESIGN.md's table): when
several classes could apply, the first wins.

1. ``leaver_access``: the address is a staff member who left (granted or not, on
   any org, linked or not, archived or not).
2. ``invited_direct``: a staff member who has not left (on leave counts as
   active), with no grant from the practice for this org; on an archived client's
   or an unlinked org too.
3. ``unknown_practice_user``: a practice-domain address that is no one's.
4. ``probable_match``: an address that is no one's (not on a practice domain)
   whose name resembles staff; the candidates are listed, best first, and a person
   confirms or rejects them. A leaver among the candidates is named in the detail.
5. ``role_drift``: granted, but the observed role differs from the granted one
   (or the extra permissions differ, where the grant names any). For MYOB the grant
   names a user type, a set of Roles, or both, and only what it names is compared:
   the user type by the taxonomy, the Roles as a set (``roles.myob_role_keys``).
6. ``archived_client_access``: granted access as granted, on an archived
   client's org.
7. ``unlinked_org``: granted access as granted, on an org linked to no client.
   (Both 6 and 7 applying: ``archived_client_access``, but an org linked to no
   client has no archived flag, so they never meet.)
8. ``missing_expected``: a grant to a staff member who has not left, whose org's
   ok scan shows them with no access (absent, declined, inactive).
9. ``managed``: granted access as granted.
10. ``client_user``: everyone else: the client's people, other firms'
    accountants, the portal vendors' support users (named in the detail).

Rules beyond the table, each deliberate:

* Pending invitations are access-in-waiting, classed like active access and
  marked pending; declined invitations and inactive users are not access (and do
  not satisfy a grant).
* The agent's own logins are never classified.
* One identity listed twice in an org (a portal glitch) keeps the worse class (and
  between equals, a fixed order, so the order of rows never matters).
* ``removable_by`` is a fact of the same scan, never a guess from the class:
  ``practice`` when the agent's own row in the org's list may remove users there and
  the person is not protected (``removability``), else ``client`` with the reason
  in ``removable_reason``. A missing grant is always the practice's to fix.
* Only call this with the users of an **ok** scan: an org that could not be read
  proves nothing about who is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reconcile.correlate import Correlator, Match, MatchedBy, MatchKind
from agent.reconcile.identity import normalise_with
from agent.reconcile.model import (
    Classification,
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
)
from agent.reconcile.removability import PRACTICE, Removability, removability_among
from agent.reconcile.roles import extra_permission_label, myob_role_keys, permissions_of, role_of

_RANK = {cls: i for i, cls in enumerate(FindingClass)}
_ACCESS = frozenset(s for s in AccessStatus if s.is_access)
#: Portal groupings that hold other accounting firms' people (qbo's firms tab,
#: myob's Advisor access).
_FIRM_KINDS = frozenset({"firms", "advisor"})
# Bound once: reading a member off its enum class costs several dictionary lookups'
# time, and these are read for every user row of a run.
_AGENT = MatchKind.AGENT
_NONE = MatchKind.NONE
_PENDING = AccessStatus.PENDING
_CLIENT_USER = FindingClass.CLIENT_USER
#: ``Classification``'s fields in order, built without its keyword-handling
#: constructor (a third of the cost of building one).
_new_classification = tuple.__new__


@dataclass(frozen=True, slots=True)
class PracticeIndex:
    """The practice prepared for lookups, built once per reconcile run."""

    correlator: Correlator
    grants: dict[tuple[str, str], dict[int, Grant]]

    @classmethod
    def build(cls, practice: Practice) -> PracticeIndex:
        return cls(Correlator(practice), group_grants(practice.grants))

    @property
    def domains(self) -> frozenset[str]:
        return self.correlator.domains

    @property
    def by_id(self) -> dict[int, StaffMember]:
        return self.correlator.by_id

    def identity(self, email: str) -> str:
        return self.correlator.identity(email)


def group_grants(grants: Iterable[Grant]) -> dict[tuple[str, str], dict[int, Grant]]:
    """Grants keyed by (portal, org id), then staff id."""
    grouped: dict[tuple[str, str], dict[int, Grant]] = {}
    for grant in grants:
        grouped.setdefault((grant.portal, grant.portal_org_id), {})[grant.staff_id] = grant
    return grouped


def classify_org(
    index: PracticeIndex,
    org: OrgFacts,
    users: Sequence[SeenUser],
    grants: Mapping[int, Grant] | None = None,
) -> list[Classification]:
    """Every finding of one org, from the users of its latest ok scan.

    ``grants`` (staff id to grant) are the org's; by default they come from the
    practice the index was built from. Passing them lets a caller stream grants
    org by org instead of holding every grant of a large practice.
    """
    if grants is None:
        grants = index.grants.get((org.portal, org.portal_org_id), {})
    correlator = index.correlator
    match_of = correlator.match
    seen: list[tuple[SeenUser, Match]] = []
    viewers: list[SeenUser] = []
    for user in users:
        if user.status not in _ACCESS:
            continue
        match = match_of(user.email, user.name)
        if match.kind is _AGENT:
            viewers.append(user)
        else:
            seen.append((user, match))
    found: dict[str, Classification] = {}
    granted_and_seen: set[int] = set()
    for user, match in seen:
        member = match.member
        grant = grants.get(member.id) if member else None
        if member is not None and grant is not None:
            granted_and_seen.add(member.id)
        removable = removability_among(org.portal, viewers, user)
        result = _classify_user(org, user, match, grant, removable)
        previous = found.get(match.identity)
        if previous is None or _preference(result) < _preference(previous):
            found[match.identity] = result
    for staff_id, grant in grants.items():
        member = correlator.by_id.get(staff_id)
        if member is None or staff_id in granted_and_seen or member.status is StaffStatus.LEFT:
            continue
        missing = _missing(correlator, org, member, grant)
        found.setdefault(missing.identity, missing)
    return sorted(found.values(), key=_order)


def _order(c: Classification) -> tuple[int, str]:
    return _RANK[c.finding_class], c.identity


def _preference(c: Classification) -> tuple[object, ...]:
    """Which of two rows of one identity to keep: the worse class, then a fixed order, so
    the rows' order in the portal's list never changes the result."""
    return (
        _RANK[c.finding_class],
        c.access_status is not AccessStatus.ACTIVE,
        c.role,
        c.extra_permissions,
        c.email,
        c.name,
        c.detail,
        c.removable_by,
        c.removable_reason,
    )


def _classify_user(
    org: OrgFacts, user: SeenUser, match: Match, grant: Grant | None, removable: Removability
) -> Classification:
    cls, detail = class_of(org, user, match, grant)
    if user.status is _PENDING:
        detail += " (invitation pending)"
    member = match.member
    return _new_classification(
        Classification,
        (
            org.portal,
            org.portal_org_id,
            match.identity,
            cls,
            user.email.strip(),
            user.name,
            user.role,
            user.extra_permissions,
            user.status,
            member.id if member else None,
            grant.role if grant else None,
            detail.lstrip(),
            removable.by,
            match.candidates,
            removable.reason,
        ),
    )


def class_of(
    org: OrgFacts, user: SeenUser, match: Match, grant: Grant | None
) -> tuple[FindingClass, str]:
    """The class of one user row with access, and the sentence that explains it."""
    kind = match.kind
    member = match.member
    if kind is _NONE:  # the bulk of any run: a client's own person
        firm = (user.kind or "").casefold() in _FIRM_KINDS
        return _CLIENT_USER, "an accountant from another firm" if firm else ""
    if kind is MatchKind.PRACTICE_UNKNOWN:
        return (
            FindingClass.UNKNOWN_PRACTICE_USER,
            "a practice address that matches no one on the roster",
        )
    if kind is MatchKind.PROBABLE:
        return FindingClass.PROBABLE_MATCH, _probable_detail(match)
    if kind is MatchKind.SUPPORT:
        return FindingClass.CLIENT_USER, f"{match.vendor} support staff, given access by the client"
    assert member is not None
    alias = " (address confirmed as theirs)" if match.matched_by is MatchedBy.CONFIRMED else ""
    if member.status is StaffStatus.LEFT:
        left = f" on {member.left_on.isoformat()}" if member.left_on else ""
        return (
            FindingClass.LEAVER_ACCESS,
            f"{member.name} left{left} and still has {_label(org, user.role)} access{alias}",
        )
    if grant is None:
        return (
            FindingClass.INVITED_DIRECT,
            f"{member.name} was invited directly by the client{alias}",
        )
    if drifted(org, user, grant):
        return (
            FindingClass.ROLE_DRIFT,
            f"granted {_grant_label(org, grant)}, has {_seen_label(org, user)}",
        )
    if org.client_archived:
        return (
            FindingClass.ARCHIVED_CLIENT_ACCESS,
            f"client {org.client_name} is archived; this access is not removed with the "
            "staff member",
        )
    if not org.linked:
        return (
            FindingClass.UNLINKED_ORG,
            "the org links to no client record, so removing the staff member from the "
            "practice does not remove this access",
        )
    return FindingClass.MANAGED, ""


def _probable_detail(match: Match) -> str:
    parts = []
    for candidate in match.candidates:
        who = candidate.email or f"staff record {candidate.staff_id}"
        parts.append(f"{candidate.name} ({who}; names {candidate.score:g}% alike)")
    names = {c.name for c in match.candidates}
    if len(match.candidates) > 1 and len(names) == 1:
        lead = f"the name matches {len(match.candidates)} staff with the same name: "
    else:
        lead = "the name resembles "
    return lead + "; ".join(parts) + ": confirm who it is, or reject"


def _missing(
    correlator: Correlator, org: OrgFacts, member: StaffMember, grant: Grant
) -> Classification:
    email = member.emails[0] if member.emails else ""
    identity = normalise_with(email, correlator.domains) if email else f"staff:{member.id}"
    return Classification(
        portal=org.portal,
        portal_org_id=org.portal_org_id,
        identity=identity,
        finding_class=FindingClass.MISSING_EXPECTED,
        email=email,
        name=member.name,
        role="",
        staff_id=member.id,
        intended_role=grant.role,
        detail=f"granted {_grant_label(org, grant)} by the practice but not in the org's "
        "user list with access",
        removable_by=PRACTICE,
    )


def drifted(org: OrgFacts, user: SeenUser, grant: Grant) -> bool:
    """Whether observed access differs from the grant (permissions only where it names any;
    for MYOB only what the grant names, see ``_myob_drifted``)."""
    if org.portal == Portal.MYOB:
        return _myob_drifted(user, grant)
    if role_of(org.portal, user.role).code != role_of(org.portal, grant.role).code:
        return True
    if grant.extra_permissions:
        return permissions_of(org.portal, grant.role, grant.extra_permissions) != permissions_of(
            org.portal, user.role, user.extra_permissions
        )
    return False


def _myob_drifted(user: SeenUser, grant: Grant) -> bool:
    """MYOB drift: a difference in what the grant names, and nothing else.

    A MYOB user has a user type and a set of Roles; practices record one, the other or
    both. A grant naming only Roles says nothing about the user type, so neither the
    user type nor the Manage users an Online admin carries is compared; a grant naming
    only the user type says nothing of the Roles. Roles compare as sets, order ignored.
    """
    if (
        grant.role.strip()
        and role_of(Portal.MYOB, user.role).code != role_of(Portal.MYOB, grant.role).code
    ):
        return True
    return bool(grant.extra_permissions) and myob_role_keys(
        grant.extra_permissions
    ) != myob_role_keys(user.extra_permissions)


def _label(org: OrgFacts, raw: str) -> str:
    return role_of(org.portal, raw).label or raw


def _access_label(org: OrgFacts, role: str, extras: tuple[str, ...]) -> str:
    """Access in words: ``Adviser with Manage users``; for MYOB, whichever of the user type
    and the Roles are known (``roles Administrator, Payroll`` when a grant names only
    those), so a grant without a user type never reads as an empty role."""
    if org.portal != Portal.MYOB:
        permissions = ", ".join(extra_permission_label(e) for e in extras)
        return _label(org, role) + (f" with {permissions}" if extras else "")
    parts = [_label(org, role)] if role.strip() else []
    if extras:
        parts.append(f"roles {', '.join(extras)}")
    return " with ".join(parts) or "no user type or roles"


def _grant_label(org: OrgFacts, grant: Grant) -> str:
    return _access_label(org, grant.role, grant.extra_permissions)


def _seen_label(org: OrgFacts, user: SeenUser) -> str:
    return _access_label(org, user.role, user.extra_permissions)


def classify_all(
    practice: Practice, orgs: Iterable[tuple[OrgFacts, Sequence[SeenUser]]]
) -> list[Classification]:
    """Every finding of every readable org (each with its latest ok scan's users)."""
    index = PracticeIndex.build(practice)
    results: list[Classification] = []
    for org, users in orgs:
        results.extend(classify_org(index, org, users))
    return results
