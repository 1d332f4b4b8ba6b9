"""Crawling a login a person signs in: the browser state they left, or nothing.

An ``interactive`` login signs in by something no stored secret can answer (a code
the portal e-mails, a push, single sign-on), so a crawl never walks its sign-in
pages: it opens its context with the browser state ``accessrecon login connect``
stored and asks the portal whether that is still good. When it is missing or
refused (or the session ends mid-crawl), only a person can help, so the crawl:

* keeps that the login *needs sign-in* (``agent.services.connections``): a failed
  sign-in attempt with reason ``needs_sign_in``, which the alerts send like any
  failing login, and the login's standing state the command line and dashboard show;
* leaves its orgs alone: not scanned and not failed one by one, since nothing about
  them was tried (a wall of failed scans would bury the one thing to do);
* names the login once in the crawl's report, with the command to run, so the
  crawl is incomplete and ``accessrecon scan`` says what a person must do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent.capture import ScanFailure, SignInFailure
from agent.domain import FailureReason
from agent.services.connections import NEEDS_SIGN_IN, connect_command, needs_sign_in_detail

if TYPE_CHECKING:
    from agent.crawl.login import LoginSession
    from agent.crawl.report import CrawlReport

log = logging.getLogger(__name__)

SESSION_ENDED = "the portal ended the stored sign-in during the crawl"


class NeedsSignIn(SignInFailure):
    """Only a person can sign this login in again (``accessrecon login connect``).

    Its attempt is recorded with the reason ``needs_sign_in``; as a scan failure it is
    the nearest reason the scans know, though the crawl records no scan for it.
    """

    reason = FailureReason.LOGIN_FAILED


async def use_stored_sign_in(login: LoginSession, *, fresh: bool) -> None:
    """Check the stored sign-in of an interactive login; ``NeedsSignIn`` when it is
    missing or refused. A portal that cannot be asked fails as any sign-in would."""
    if fresh:
        raise needs_sign_in(login, "no stored sign-in: nobody has connected this login yet")
    base = login.creds.base_url
    try:
        still = await login.retrying(lambda: login.scraper.is_signed_in(login.context, base))
    except ScanFailure as failure:
        login.record_sign_in(failure)
        raise
    if not still:
        raise needs_sign_in(login, f"{base} no longer accepts the stored sign-in")
    login.store.mark_still_signed_in(login.id)
    login.record_sign_in(
        None,
        detail=f"the sign-in a person made with '{connect_command(login.id)}' was still accepted",
    )


def needs_sign_in(login: LoginSession, why: str) -> NeedsSignIn:
    """Keep, once a run, that the login needs a person; the failure to raise."""
    if login.recorded == (False, NEEDS_SIGN_IN):  # kept already in this run
        return NeedsSignIn(needs_sign_in_detail(login.id, why))
    detail = login.store.mark_needs_sign_in(login_pk=login.id, crawl_id=login.crawl_id, why=why)
    login.recorded = (False, NEEDS_SIGN_IN)
    return NeedsSignIn(detail)


def report_needs_sign_in(login: LoginSession, report: CrawlReport, failure: NeedsSignIn) -> None:
    """Name the login in the crawl's report, once; its orgs are left for the person."""
    row = login.row
    if any(
        (portal, email, reason) == (row.portal, row.email, NEEDS_SIGN_IN)
        for portal, email, reason, _ in report.login_failures
    ):
        return
    log.info("login %s (%s) needs sign-in: %s", login.id, row.portal, failure.detail)
    report.login_failures.append((row.portal, row.email, NEEDS_SIGN_IN, failure.detail))
