"""``remove run``: carry out a plan's approved items through the portals, then verify.

The run's rules, each from DESIGN.md's "Acting on findings" and SPEC's "Removing a
user":

* only approved items the practice can remove, each claimed once across every run
  (``agent.services.removals.claims``): two runs of one plan at once split it;
* one sign-in per login, from its stored browser state when it is still good; a
  session that expires mid-run signs in again (a fresh authenticator step, never a
  reused code) and the removal is sent again: a refused session carried nothing out;
* each org is **read first**, as an ok scan of its own: a user it no longer shows is
  verified without a request; a user whose removal is no longer the practice's (the
  agent's rights changed, the user became protected) is asked of the client; the
  last user who can manage the org's users is never removed;
* each removal is sent as the portal's own page sends it (its CSRF token), politely:
  the crawl's request slots, and a 429's Retry-After. A transient fault (5xx, a lost
  answer) is never a reason to send again: the org is read again, and only a user
  still listed is tried again, at most ``MAX_ATTEMPTS`` times;
* a refusal (403, 409) makes the item a request to the client, with the portal's
  reason; a 404 means the user is already gone;
* each touched org is then read again, and settled: only that ok scan, no longer
  showing the access, makes an item **verified** (``agent.services.removals.verification``).

A run killed at any instant leaves its items ``running``; after the claim lease
another run takes them over and, reading each org first, never repeats a removal
that was carried out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import async_playwright
from sqlalchemy import Engine

from agent.capture import (
    OrgRef,
    OrgUsers,
    PortalUser,
    RateLimited,
    ScanFailure,
    SessionExpired,
    TransientFailure,
)
from agent.clock import utcnow
from agent.crawl.browser import launch_browser
from agent.crawl.crawler import check_viewer_listed
from agent.crawl.login import LoginSession, open_login
from agent.crawl.retry import MAX_SIGN_INS_PER_ORG
from agent.crawl.store import CrawlStore
from agent.domain import AccessStatus, Portal
from agent.reconcile.identity import normalise_with
from agent.reconcile.model import SeenUser
from agent.reconcile.removability import may_manage_users, removability
from agent.reconcile.removal_policy import LAST_MANAGER
from agent.scrapers.removal.base import Answer, Outcome, Target
from agent.scrapers.removal.registry import remover_for
from agent.scrapers.timeouts import use_scrape_timeout
from agent.security.secrets import SecretBox
from agent.services.removals import claims
from agent.services.removals.claims import ClaimedItem
from agent.services.settle import Settled, settle
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from playwright.async_api import Browser

T = TypeVar("T")

#: removal requests one item may cost, each after a read showed the user still there
MAX_ATTEMPTS = 3
#: the portal's reason for a removal sent without the session's token (SPEC)
CSRF = "csrf"

#: (event, item id, state) for a live progress display
RunProgress = Callable[[str, int, str], None]


@dataclass(slots=True)
class RemovalRunReport:
    plan_id: int
    claimed: int = 0
    #: final state of each item this run held, by item id
    states: dict[int, str] = field(default_factory=dict)
    orgs_read: int = 0
    requests_sent: int = 0
    sign_ins: int = 0
    crawl_id: int | None = None
    settled: Settled | None = None

    def count(self) -> Counter[str]:
        return Counter(self.states.values())


class RemovalRun:
    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        *,
        settings: Settings,
        concurrency: int = 4,
        progress: RunProgress | None = None,
    ) -> None:
        self.engine = engine
        self.box = box
        self.settings = settings
        self.store = CrawlStore(engine, box)
        self.concurrency = concurrency
        self.progress = progress or (lambda _e, _i, _s: None)
        self._requests = asyncio.Semaphore(concurrency)
        self._orgs = asyncio.Semaphore(concurrency)
        self._retries: Counter[str] = Counter()

    async def run(self, plan_id: int, *, browser: Browser | None = None) -> RemovalRunReport:
        """Claim, remove, re-read and settle; see the module docstring."""
        use_scrape_timeout(self.settings.scrape_timeout_s)
        token = claims.new_claim_token()
        with session_scope(self.engine) as session:
            held = claims.claim_items(
                session, plan_id, token, lease_s=self.settings.removal_claim_lease_s
            )
        report = RemovalRunReport(plan_id=plan_id, claimed=len(held))
        if not held:
            return report
        crawl = self.store.open_crawl(None, "removal", resumable=False)
        report.crawl_id = crawl.crawl_id
        try:
            if browser is not None:
                await self._run_logins(browser, held, token, report)
            else:
                async with async_playwright() as playwright:
                    own = await launch_browser(playwright, self.settings)
                    try:
                        await self._run_logins(own, held, token, report)
                    finally:
                        await own.close()
        finally:
            crawl.finished_at = utcnow()
            self.store.close_crawl(crawl)
            with session_scope(self.engine) as session:
                report.settled = settle(
                    session, self.settings, org_ids={item.org_pk for item in held}
                )
            self._final_states(held, report)
        return report

    async def _run_logins(
        self, browser: Browser, held: list[ClaimedItem], token: str, report: RemovalRunReport
    ) -> None:
        by_login: dict[int | None, list[ClaimedItem]] = defaultdict(list)
        for item in held:
            by_login[item.login_id].append(item)
        orphans = by_login.pop(None, [])
        if orphans:
            self._fail(orphans, token, "no portal login is known to hold this org")
        await asyncio.gather(
            *(
                self._run_login(browser, login_id, items, token, report)
                for login_id, items in by_login.items()
                if login_id is not None
            )
        )

    async def _run_login(
        self,
        browser: Browser,
        login_id: int,
        items: list[ClaimedItem],
        token: str,
        report: RemovalRunReport,
    ) -> None:
        with session_scope(self.engine) as session:
            row = session.get(PortalLogin, login_id)
            if row is not None:
                session.expunge(row)
        if row is None:
            self._fail(items, token, f"portal login {login_id} no longer exists")
            return
        assert report.crawl_id is not None
        login, fresh = await open_login(
            browser,
            row,
            store=self.store,
            crawl_id=report.crawl_id,
            requests=self._requests,
            retries=self._retries,
        )
        try:
            try:
                await login.sign_in(fresh=fresh)
            except ScanFailure as failure:
                self._fail(items, token, f"could not sign in: {failure.reason}: {failure.detail}")
                return
            by_org: dict[int, list[ClaimedItem]] = defaultdict(list)
            for item in items:
                by_org[item.org_pk].append(item)
            await asyncio.gather(
                *(self._run_org(login, org_items, token, report) for org_items in by_org.values())
            )
            self.store.save_storage_state(login.id, await login.context.storage_state())
        finally:
            await login.context.close()

    # -- one org ----------------------------------------------------------------------

    async def _run_org(
        self, login: LoginSession, items: list[ClaimedItem], token: str, report: RemovalRunReport
    ) -> None:
        first = items[0]
        ref = OrgRef(first.portal, first.portal_org_id, first.org_name)
        async with self._orgs:
            org = _OrgWork(self, login, ref, first.org_pk, token, report)
            try:
                listed = await org.read()
            except ScanFailure as failure:
                self._fail(items, token, f"could not read the org first: {failure.reason}")
                return
            for item in items:
                listed = await org.remove(item, listed)
            # the re-read that verifies, settled after the run; if it fails the items
            # stay removed, to be verified by the next ok scan
            with contextlib.suppress(ScanFailure):
                await org.read()

    def _fail(self, items: list[ClaimedItem], token: str, reason: str) -> None:
        with session_scope(self.engine) as session:
            claims.release(session, [i.id for i in items], token, reason)
        for item in items:
            self.progress("failed", item.id, "failed")

    def _final_states(self, held: list[ClaimedItem], report: RemovalRunReport) -> None:
        from agent.storage.models import RemovalItem

        with session_scope(self.engine) as session:
            for item in held:
                row = session.get(RemovalItem, item.id)
                if row is not None:
                    report.states[item.id] = row.state
        report.sign_ins = self._retries.get("sign_in", 0)


class _OrgWork:
    """One org's part of a run: its reads, its CSRF token, its removals."""

    def __init__(
        self,
        run: RemovalRun,
        login: LoginSession,
        ref: OrgRef,
        org_pk: int,
        token: str,
        report: RemovalRunReport,
    ) -> None:
        self.run = run
        self.login = login
        self.ref = ref
        self.org_pk = org_pk
        self.token = token
        self.report = report
        self.remover = remover_for(ref.portal)
        self.csrf: str | None = None
        self.scan_id = 0
        self.agents = {normalise_with(login.creds.email)}
        #: identities this run removed here: no longer counted as managing users
        self.removed: set[str] = set()

    async def read(self) -> dict[str, PortalUser]:
        """The org's users now, recorded as an ok scan (or a failed one, raised)."""
        started = utcnow()
        try:
            result: OrgUsers = await self.signed_in(
                lambda: self.login.scraper.list_users(
                    self.login.context, self.login.creds.base_url, self.ref
                )
            )
            check_viewer_listed(result, self.login.creds)
        except ScanFailure as failure:
            self.run.store.record_failed(
                org_pk=self.org_pk,
                failure=failure,
                started_at=started,
                crawl_id=self.report.crawl_id or 0,
                login_pk=self.login.id,
            )
            raise
        outcome = self.run.store.record_capture(
            org_pk=self.org_pk,
            result=result,
            started_at=started,
            crawl_id=self.report.crawl_id or 0,
            login_pk=self.login.id,
        )
        self.scan_id = outcome.scan_id
        self.report.orgs_read += 1
        return {normalise_with(u.email): u for u in result.users}

    async def signed_in(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call`` retried for transient faults, signed in again if the session expired."""
        sign_ins = 0
        while True:
            generation = self.login.generation
            try:
                return await self.login.retrying(call)
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                sign_ins += 1
                self.run._retries["sign_in"] += 1
                await self.login.sign_in_again(generation)
                self.csrf = None

    async def remove(
        self, item: ClaimedItem, listed: dict[str, PortalUser]
    ) -> dict[str, PortalUser]:
        """Carry one item out against ``listed`` (the latest read); the latest read after."""
        engine = self.run.engine
        last_fault = ""
        csrf_retried = False
        for _ in range(MAX_ATTEMPTS):
            user = listed.get(item.identity)
            if user is None:
                with session_scope(engine) as session:
                    claims.mark_gone(
                        session,
                        item.id,
                        self.token,
                        scan_id=self.scan_id,
                        detail=f"ok scan #{self.scan_id} no longer shows the access",
                    )
                self.run.progress("verified", item.id, "verified")
                return listed
            refusal = self._not_ours(user, listed)
            if refusal:
                with session_scope(engine) as session:
                    if refusal == LAST_MANAGER:
                        claims.mark_blocked(session, item.id, self.token, refusal)
                    else:
                        claims.mark_refused(session, item.id, self.token, refusal)
                self.run.progress(
                    "refused", item.id, "blocked" if refusal == LAST_MANAGER else "requested"
                )
                return listed
            with session_scope(engine) as session:
                if not claims.note_attempt(session, item.id, self.token):
                    return listed  # another run took the item over
            target = Target(user.portal_user_id, user.email, user.name, user.kind)
            try:
                answer = await self._send(target)
            except (TransientFailure, SessionExpired) as fault:
                # The answer may be lost after the portal carried the removal out:
                # read again, and try again only if the user is still listed.
                last_fault = f"{fault.reason}: {fault.detail}"
                try:
                    listed = await self.read()
                except ScanFailure as failure:
                    last_fault = f"the org could not be read again: {failure.reason}"
                    break
                continue
            if answer.outcome is Outcome.REFUSED and answer.reason == CSRF:
                # Our side's fault, not the client's to fix: a token gone stale is
                # fetched again once (after a read shows the user still there); a
                # second refusal fails the item with the portal's reason.
                last_fault = "the portal refused the removal: csrf (no valid CSRF token)"
                if csrf_retried:
                    break
                csrf_retried = True
                self.csrf = None
                listed = await self._reread_or(listed)
                continue
            with session_scope(engine) as session:
                if answer.outcome is Outcome.REFUSED:
                    claims.mark_refused(session, item.id, self.token, answer.reason)
                    state = "requested"
                else:
                    detail = (
                        "the portal removed the user"
                        if answer.outcome is Outcome.REMOVED
                        else "the portal says the user is already gone (404)"
                    )
                    claims.mark_removed(session, item.id, self.token, detail)
                    self.removed.add(item.identity)
                    state = "removed"
            self.report.requests_sent += 1
            self.run.progress(state, item.id, state)
            return listed
        with session_scope(engine) as session:
            claims.mark_failed(
                session,
                item.id,
                self.token,
                f"not removed: {last_fault}",
            )
        self.run.progress("failed", item.id, "failed")
        return listed

    async def _reread_or(self, listed: dict[str, PortalUser]) -> dict[str, PortalUser]:
        try:
            return await self.read()
        except ScanFailure:
            return listed

    async def _send(self, target: Target) -> Answer:
        """The removal request, with the session's CSRF token.

        Answers that prove the request was not carried out are dealt with here: an
        expired session (401, or a redirect to sign-in) signs in again, with a fresh
        code, and a 429 waits its Retry-After; then the request is sent again. Any
        other fault is raised, for the caller to read the org before anything else.
        """
        sign_ins = 0
        limited = 0
        while True:
            generation = self.login.generation
            try:
                if self.csrf is None:
                    self.csrf = await self.signed_in(
                        lambda: self.remover.csrf_token(
                            self.login.context, self.login.creds.base_url, self.ref
                        )
                    )
                return await self.remover.remove(
                    self.login.context, self.login.creds.base_url, self.ref, target, self.csrf
                )
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                sign_ins += 1
                self.run._retries["sign_in"] += 1
                await self.login.sign_in_again(generation)
                self.csrf = None
            except RateLimited as limit:
                if limited >= MAX_ATTEMPTS:
                    raise
                limited += 1
                await asyncio.sleep(limit.retry_after or 1.0)

    def _not_ours(self, user: PortalUser, listed: dict[str, PortalUser]) -> str:
        """Why the practice may not remove ``user`` now, from the fresh read ("" if it may)."""
        portal = Portal(self.ref.portal)
        viewer = next((u for i, u in listed.items() if i in self.agents), None)
        verdict = removability(portal, _seen(viewer) if viewer else None, _seen(user))
        if verdict.by != "practice":
            return verdict.reason or "only the client can remove this user"
        if may_manage_users(portal, _seen(user)):
            others = [
                i
                for i, u in listed.items()
                if i not in self.agents
                and i not in self.removed
                and i != normalise_with(user.email)
                and u.status in (AccessStatus.ACTIVE, AccessStatus.PENDING)
                and may_manage_users(portal, _seen(u))
            ]
            if not others:
                return LAST_MANAGER
        return ""


def _seen(user: PortalUser) -> SeenUser:
    return SeenUser(
        email=user.email,
        name=user.name,
        role=user.role,
        status=user.status,
        extra_permissions=user.extra_permissions,
        kind=user.kind,
        portal_user_id=user.portal_user_id,
        subscriber=user.subscriber,
        firm=user.firm,
        added_by_owner=user.added_by_owner,
    )
