"""What a crawl records when a login fails: a failed scan, with its reason, per org.

A login that cannot sign in, or whose org list cannot be read, still holds its
orgs; their scans fail with the reason, so nothing is ever recorded as "no users"
by mistake. A targeted crawl whose org is not in the login's list fails that org's
scan as ``not_listed``. The engine (``agent.crawl.crawler``) decides when; this
keeps the failures in the crawl's report and, through ``store``, in the database.
"""

from __future__ import annotations

import logging

from agent.capture import NotListed, ScanFailure
from agent.crawl.login import LoginSession
from agent.crawl.report import CrawlReport
from agent.crawl.store import CrawlStore

log = logging.getLogger(__name__)


def fail_known_orgs(
    store: CrawlStore,
    login: LoginSession,
    report: CrawlReport,
    failure: ScanFailure,
    portal_org_id: str | None,
    listed: set[int] | None = None,
) -> None:
    """Fail the scans of the login's known orgs that this crawl has not read.

    Orgs read already (this run, or earlier in a resumed crawl) keep their scan:
    an org is scanned at most once per run, and a good read is never undone.
    ``listed`` holds the ``org_pk`` of the orgs queued before the failure.
    """
    # reported by the crawl's report and kept as a sign-in attempt: a log line too
    # would be a second line on the command line's stderr
    log.info("login %s (%s) failed: %s", login.id, login.row.portal, failure.detail)
    report.login_failures.append(
        (login.row.portal, login.row.email, failure.reason, failure.detail)
    )
    skip = (listed or set()) | store.already_read(report.crawl_id)
    _fail_orgs(store, login, report, failure, portal_org_id, skip)


def fail_not_listed(
    store: CrawlStore,
    login: LoginSession,
    report: CrawlReport,
    failure: NotListed,
    portal_org_id: str | None,
) -> None:
    """The org asked for is not in this login's list: its scan fails as ``not_listed``.

    Only when this login is the one that listed it before; another login of the
    same portal may well hold it. Whether any login does is the crawl's verdict.
    """
    report.not_listed.append((login.row.portal, login.row.email))
    _fail_orgs(store, login, report, failure, portal_org_id, set())


def _fail_orgs(
    store: CrawlStore,
    login: LoginSession,
    report: CrawlReport,
    failure: ScanFailure,
    portal_org_id: str | None,
    skip: set[int],
) -> None:
    outcomes = store.fail_known_orgs(
        login_pk=login.id,
        crawl_id=report.crawl_id,
        failure=failure,
        portal_org_id=portal_org_id,
        skip=skip,
    )
    for outcome in outcomes:
        report.failed[failure.reason] += 1
        report.outcomes.append(outcome)
