"""What a portal shows: the one shape of an org, its users and why a read failed.

Scrapers produce these, the crawler and the extension's captures record them,
reconcile judges them. Nothing here knows a browser or a database, so the server
and the services can use them without loading Playwright.

A read that cannot prove an org's user list raises, never returns a short list.
The failures, all carrying a ``FailureReason``::

    ScanFailure
    ├── SignInFailure            never retried: a wrong password locks the login
    │   ├── LoginRejected        login_failed
    │   ├── LoginLocked          login_failed (portal lockout)
    │   └── MfaRejected          mfa_failed
    ├── SessionExpired           session_expired   (crawler signs in again)
    ├── TransientFailure         retried with backoff
    │   ├── RateLimited          rate_limited      (honours retry_after)
    │   ├── PortalTimeout        timeout
    │   └── PortalError          portal_error      (5xx, connection reset)
    ├── NoPermission             no_permission
    ├── NotListed                not_listed        (an org the login's list lacks)
    └── LayoutChanged            layout_changed    (markup or JSON not as expected)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from agent.domain import AccessStatus, FailureReason, Portal

StepClaim = Callable[[int], Awaitable[bool]]
"""``claim(step)``: record ``step`` as used for a login; ``True`` only if no earlier
claim holds that step or a later one (so each step is handed out once)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a scraper needs to sign in: decrypted only for the duration of a crawl."""

    portal: Portal
    base_url: str
    email: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    #: claims a TOTP step for this login wherever the crawler keeps them (across
    #: processes), so no code is sent twice; ``None``: remembered in this process only
    claim_step: StepClaim | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class OrgRef:
    """An org as a portal's org list shows it."""

    portal: Portal
    portal_org_id: str
    name: str
    viewer_role: str | None = None


@dataclass(frozen=True, slots=True)
class PortalUser:
    """One row of an org's user list, in the portal's own terms.

    ``role`` is the portal's role code or label as shown; ``extra_permissions`` the
    portal's extra permission codes (Xero's MANAGE_USERS and the like).

    The last four are what decides who may remove the user (SPEC, "Removing a
    user"), read in the same scan: the portal's own id for the user (``None`` where
    the page does not give it), Xero's subscriber, the ``Firm`` of a qbo accounting
    firms entry, and whether a myob entry was added by the business owner (``None``
    when the portal did not say).
    """

    email: str
    name: str
    role: str
    status: AccessStatus
    extra_permissions: tuple[str, ...] = ()
    last_login: datetime | None = None
    #: the portal's own grouping where it has one: qbo's "Accounting firms" tab, myob's
    #: "Advisor" access. None where the portal does not distinguish.
    kind: str | None = None
    portal_user_id: str | None = None
    subscriber: bool = False
    firm: str | None = None
    added_by_owner: bool | None = None


@dataclass(frozen=True, slots=True)
class OrgUsers:
    """An org's complete user list and the evidence that it is complete.

    ``reported_total`` is the count the portal itself states (``12 users``,
    ``Showing 12 of 12``, ``"total": 12``); a scraper only returns when the rows it
    read agree with it, so an empty ``users`` is a positive empty state, never a
    page that failed to load.
    """

    org: OrgRef
    users: tuple[PortalUser, ...]
    reported_total: int
    evidence: str
    #: the recipe that read it (``xero@2026.12.1``), recorded on the scan
    recipe: str | None = None


class ScanFailure(Exception):
    """A scan could not prove its result; the crawler records it as a failed scan."""

    reason: ClassVar[FailureReason] = FailureReason.PORTAL_ERROR
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SignInFailure(ScanFailure):
    """The portal refused the login itself; retrying would only lock it."""


class LoginRejected(SignInFailure):
    reason = FailureReason.LOGIN_FAILED


class LoginLocked(SignInFailure):
    reason = FailureReason.LOGIN_FAILED


class MfaRejected(SignInFailure):
    reason = FailureReason.MFA_FAILED


class SessionExpired(ScanFailure):
    reason = FailureReason.SESSION_EXPIRED


class TransientFailure(ScanFailure):
    retryable = True


class RateLimited(TransientFailure):
    reason = FailureReason.RATE_LIMITED

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class PortalTimeout(TransientFailure):
    reason = FailureReason.TIMEOUT


class PortalError(TransientFailure):
    reason = FailureReason.PORTAL_ERROR


class NoPermission(ScanFailure):
    reason = FailureReason.NO_PERMISSION


class NotListed(ScanFailure):
    """An org asked for by its id is not in the login's org list: the login cannot reach it."""

    reason = FailureReason.NOT_LISTED


class LayoutChanged(ScanFailure):
    reason = FailureReason.LAYOUT_CHANGED
