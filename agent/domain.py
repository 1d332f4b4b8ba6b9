"""The product's vocabulary: the names DESIGN.md's glossary uses, as enums.

Every layer (scrapers, reconcile, storage, server, reports) speaks these names, so a
value written by one layer is always understood by the next. The string values are
what is stored in the database and shown in exports; never rename one without a
migration.
"""

from __future__ import annotations

from enum import StrEnum


class Portal(StrEnum):
    """A ledger web application kind."""

    XERO = "xero"
    QBO = "qbo"
    MYOB = "myob"


class StaffStatus(StrEnum):
    """Where a roster member stands with the practice."""

    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    LEFT = "left"


class AccessStatus(StrEnum):
    """What a portal says about one user's access to one org.

    ``pending`` is access-in-waiting (an invitation not yet accepted): it is classed
    like active access. ``declined`` and ``inactive`` are not access at all.
    """

    ACTIVE = "active"
    PENDING = "pending"
    DECLINED = "declined"
    INACTIVE = "inactive"

    @property
    def is_access(self) -> bool:
        return self in (AccessStatus.ACTIVE, AccessStatus.PENDING)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    OK = "ok"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Lower is worse; used to pick an org's worst finding."""
        return list(Severity).index(self)


class FindingClass(StrEnum):
    """The reconciled state of one (org, identity).

    Members are declared in precedence order: when several classes could apply, the
    first one declared wins (DESIGN.md, "Finding classes").
    """

    LEAVER_ACCESS = "leaver_access"
    INVITED_DIRECT = "invited_direct"
    UNKNOWN_PRACTICE_USER = "unknown_practice_user"
    PROBABLE_MATCH = "probable_match"
    ROLE_DRIFT = "role_drift"
    ARCHIVED_CLIENT_ACCESS = "archived_client_access"
    UNLINKED_ORG = "unlinked_org"
    MISSING_EXPECTED = "missing_expected"
    MANAGED = "managed"
    CLIENT_USER = "client_user"

    @property
    def severity(self) -> Severity:
        return _SEVERITY[self]

    @property
    def is_problem(self) -> bool:
        """Whether a practice admin has something to do about it."""
        return self.severity not in (Severity.OK, Severity.INFO)


_SEVERITY: dict[FindingClass, Severity] = {
    FindingClass.LEAVER_ACCESS: Severity.CRITICAL,
    FindingClass.INVITED_DIRECT: Severity.HIGH,
    FindingClass.UNKNOWN_PRACTICE_USER: Severity.HIGH,
    FindingClass.PROBABLE_MATCH: Severity.MEDIUM,
    FindingClass.ROLE_DRIFT: Severity.MEDIUM,
    FindingClass.ARCHIVED_CLIENT_ACCESS: Severity.MEDIUM,
    FindingClass.UNLINKED_ORG: Severity.MEDIUM,
    FindingClass.MISSING_EXPECTED: Severity.LOW,
    FindingClass.MANAGED: Severity.OK,
    FindingClass.CLIENT_USER: Severity.INFO,
}


class ScanStatus(StrEnum):
    """How a scan ended.

    ``suspect`` is a complete-looking list that dropped to no one but the viewer
    where the last ok scan showed others: kept as evidence, not applied, until a
    second scan in a row shows the same.
    """

    OK = "ok"
    FAILED = "failed"
    SUSPECT = "suspect"


class FailureReason(StrEnum):
    """Why a scan could not prove an org's user list. Never "no users"."""

    LOGIN_FAILED = "login_failed"
    MFA_FAILED = "mfa_failed"
    SESSION_EXPIRED = "session_expired"
    RATE_LIMITED = "rate_limited"
    NO_PERMISSION = "no_permission"
    LAYOUT_CHANGED = "layout_changed"
    TIMEOUT = "timeout"
    PORTAL_ERROR = "portal_error"
    #: a re-scan named an org that the login's org list does not hold (any more):
    #: the portal answered, and this login cannot reach that org
    NOT_LISTED = "not_listed"


class ScanSource(StrEnum):
    """Who captured a user list: the crawling agent or a person's browser extension."""

    AGENT = "agent"
    EXTENSION = "extension"


class ReviewState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED_RISK = "accepted_risk"
    REMOVAL_REQUESTED = "removal_requested"
    VERIFIED_REMOVED = "verified_removed"


class RoleTier(StrEnum):
    """One cross-portal scale of access, so roles of different portals compare."""

    ADMIN = "admin"
    FULL = "full"
    LIMITED = "limited"
    READ_ONLY = "read_only"
    NONE = "none"


class RemovalAction(StrEnum):
    """What a removal plan proposes for one access (DESIGN.md, Acting on findings)."""

    #: the agent removes it through the portal's own pages
    REMOVE = "remove"
    #: only the client can: the client's access statement asks them to
    ASK_CLIENT = "ask_client"
    #: nothing is carried out; the item's barrier or detail says why
    NONE = "none"


class RemovalState(StrEnum):
    """Where one plan item stands.

    ``planned`` waits for approval; ``blocked`` and ``skipped`` never reach a portal
    (a barrier, or nothing to remove); ``approved`` waits for ``remove run``, which
    claims it as ``running``; the portal's yes makes it ``removed`` and only an ok scan
    that no longer shows the access makes it ``verified``. ``failed`` may be run again;
    ``requested`` is in the client's hands (a client-only item, or one the portal
    refused).
    """

    PLANNED = "planned"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    APPROVED = "approved"
    RUNNING = "running"
    REMOVED = "removed"
    VERIFIED = "verified"
    FAILED = "failed"
    REQUESTED = "requested"

    @property
    def is_final(self) -> bool:
        return self in (
            RemovalState.BLOCKED,
            RemovalState.SKIPPED,
            RemovalState.VERIFIED,
            RemovalState.REQUESTED,
        )


class CampaignDecision(StrEnum):
    """What a reviewer decided about one access in an access review campaign.

    ``remove`` becomes a removal plan item (approved by a second person as any plan);
    ``not_my_client`` hands the item to another reviewer; ``already_gone`` is checked
    by the next ok scan of the org.
    """

    KEEP = "keep"
    REMOVE = "remove"
    NOT_MY_CLIENT = "not_my_client"
    ALREADY_GONE = "already_gone"


class ReviewerBasis(StrEnum):
    """Why a campaign item is in a reviewer's list."""

    CLIENT_MANAGER = "client_manager"
    PARTNER = "partner"
    PRACTICE_ADMIN = "practice_admin"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
