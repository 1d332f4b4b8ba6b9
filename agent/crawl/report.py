"""What one crawl did, as its caller sees it: counts, failures and each scan's outcome.

The report is the crawl's answer to the command line, the worker and the tests,
and the engine and its store both fill it in; it lives apart from the engine so
naming it loads neither Playwright nor the crawl's database code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agent.clock import utcnow
from agent.domain import FailureReason
from agent.services.scans import ScanOutcome

#: failures the portal answered for certain: retried by a resumed crawl like any
#: other, but they do not keep a crawl open (retrying at once would not change them)
SETTLED_REASONS = frozenset({FailureReason.NO_PERMISSION, FailureReason.NOT_LISTED})


@dataclass(slots=True)
class CrawlReport:
    crawl_id: int
    resumed: bool
    orgs_listed: int = 0
    skipped_already_done: int = 0
    ok: int = 0
    suspect: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    #: transient faults retried, by reason; and sign-ins after a session expired
    retries: Counter[str] = field(default_factory=Counter)
    sign_ins: int = 0
    #: logins that could not sign in or list their orgs: (portal, email, reason, detail)
    login_failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: a crawl of one org (``portal_org_id``): whether any login's list held it, and
    #: the logins whose list did not, as (portal, email)
    org_found: bool | None = None
    not_listed: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[ScanOutcome] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.ok + self.suspect + sum(self.failed.values())

    @property
    def complete(self) -> bool:
        """Every login signed in and listed, and every failure one a retry would not change."""
        return not self.login_failures and all(
            reason in SETTLED_REASONS for reason, n in self.failed.items() if n
        )


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``(event, done, total)``; event is ``listed``, ``ok`` or ``failed``."""
