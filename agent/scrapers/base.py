"""The one interface every portal scraper implements, and what it yields.

A scraper knows a portal's pages and JSON, nothing else: it never launches a
browser, never touches the database and never decides what a user means. The
crawler hands it a Playwright ``BrowserContext`` (one per login) and stores what it
returns; reconcile judges it.

Failures are exceptions, because a scraper that cannot prove an org's user list
must not return one. The hierarchy, all carrying a ``FailureReason``::

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

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

from agent.domain import AccessStatus, FailureReason, Portal

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

    from agent.scrapers.totp import StepClaim


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


class Scraper(Protocol):
    """A portal's pages, read. One instance serves every login of its portal."""

    portal: ClassVar[Portal]

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        """Sign in with password and TOTP; raise a ``SignInFailure`` if refused."""
        ...

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        """Whether the context's stored session is still accepted by the portal."""
        ...

    def org_pages(self, context: BrowserContext, base_url: str
                  ) -> AsyncIterator[Sequence[OrgRef]]:
        """Every org the signed-in login can see, a page of the portal's list at a time.

        A page at a time so that the crawler can scan the first orgs of a long list
        while the rest of it is read. A failure on any page raises, as ever.
        """
        ...

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        """The org's complete user list, or a ``ScanFailure``."""
        ...


async def all_orgs(scraper: Scraper, context: BrowserContext, base_url: str) -> list[OrgRef]:
    """The login's whole org list, each org once, in the portal's order."""
    orgs: dict[str, OrgRef] = {}
    async with aclosing(scraper.org_pages(context, base_url)) as pages:
        async for page in pages:
            for ref in page:
                orgs.setdefault(ref.portal_org_id, ref)
    return list(orgs.values())
