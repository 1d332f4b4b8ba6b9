"""One org's part of a removal run: read if need be, remove, record, read again.

An org whose items were all planned from its latest ok scan, and never run before,
is not read first: nothing can have changed unseen, and the plan already holds each
user's portal id. Any other org (an item taken over from a crashed run, one that
failed before, a scan newer than the plan) is read first, and each item re-checked
against that read: gone already (verified), no longer the practice's to remove
(asked of the client), or the last user who can manage the org's users (blocked).

A fault on a removal request (5xx, a timeout, an answer cut off) may come after the
portal carried the removal out, so it is never answered by sending again: the org is
read, and only a user it still lists is tried again. An expired session or a 429 on
the request proves it was not carried out: those are signed in again, or waited
out, and sent again. What each item came to is written once, with the org's others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

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
from agent.crawl.crawler import check_viewer_listed
from agent.crawl.login import LoginSession
from agent.crawl.retry import MAX_SIGN_INS_PER_ORG
from agent.domain import AccessStatus, Portal, RemovalState
from agent.reconcile.identity import normalise_with
from agent.reconcile.model import SeenUser
from agent.reconcile.removability import may_manage_users, removability
from agent.reconcile.removal_policy import LAST_MANAGER
from agent.scrapers.removal.base import Answer, Outcome, Target
from agent.scrapers.removal.registry import remover_for
from agent.services.removals import claims
from agent.services.removals.claims import ClaimedItem
from agent.services.scans import record_capture
from agent.storage.db import session_scope

if TYPE_CHECKING:
    from agent.crawl.removal import RemovalRun

T = TypeVar("T")

#: removal requests one item may cost, each after a read showed the user still there
MAX_ATTEMPTS = 3
#: the portal's reason for a removal sent without the session's token (SPEC)
CSRF = "csrf"

Listed = dict[str, PortalUser]


class OrgRemoval:
    def __init__(
        self, run: RemovalRun, login: LoginSession, items: list[ClaimedItem], claim: str
    ) -> None:
        first = items[0]
        self.run = run
        self.login = login
        self.items = items
        self.claim = claim
        self.ref = OrgRef(first.portal, first.portal_org_id, first.org_name)
        self.org_pk = first.org_pk
        self.remover = remover_for(first.portal)
        self.scan_id = 0
        self.agents = {normalise_with(login.creds.email)}
        #: identities this run removed here: no longer counted as managing users
        self.removed: set[str] = set()
        self.outcomes: list[claims.Outcome] = []

    async def run_all(self) -> None:
        listed: Listed | None = None
        if any(item.needs_read for item in self.items):
            try:
                listed = await self.read()
            except ScanFailure as failure:
                for item in self.items:
                    self._done(
                        item,
                        RemovalState.FAILED,
                        f"could not read the org first: {failure.reason}: {failure.detail}",
                    )
                self._write()
                return
        for item in self.items:
            listed = await self.remove(item, listed)
        # The re-read that verifies (settled after the run), written in one transaction
        # with what the items came to; if it fails, the items are written alone and
        # stay removed, to be verified by the next ok scan.
        with contextlib.suppress(ScanFailure):
            await self.read(with_outcomes=True)
        self._write()

    # -- reading ----------------------------------------------------------------------

    async def read(self, *, with_outcomes: bool = False) -> Listed:
        """The org's users now, recorded as an ok scan (or a failed one, raised);
        ``with_outcomes``: the items' outcomes so far are written with the scan."""
        started = utcnow()
        report = self.run.report
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
                crawl_id=report.crawl_id or 0,
                login_pk=self.login.id,
            )
            raise
        with session_scope(self.run.engine) as session:
            outcome = record_capture(
                session,
                org_id=self.org_pk,
                result=result,
                started_at=started,
                crawl_id=report.crawl_id or 0,
                login_id=self.login.id,
            )
            if with_outcomes:
                claims.record_outcomes(session, self.claim, self.outcomes)
                self.outcomes = []
        self.scan_id = outcome.scan_id
        report.orgs_read += 1
        return {normalise_with(u.email): u for u in result.users}

    async def signed_in(self, call: Callable[[], Awaitable[T]]) -> T:
        return await self.login.signed_in(call, on_sign_in=self.run.count_sign_in)

    # -- removing ---------------------------------------------------------------------

    async def remove(self, item: ClaimedItem, listed: Listed | None) -> Listed | None:
        """Carry one item out; the org's latest read afterwards (``None``: not read)."""
        sent = 0
        last_fault = ""
        csrf_retried = False
        while sent < MAX_ATTEMPTS:
            if listed is not None:
                user = listed.get(item.identity)
                if user is None:
                    self._done(
                        item,
                        RemovalState.VERIFIED,
                        f"ok scan #{self.scan_id} no longer shows the access",
                        sent,
                    )
                    return listed
                refusal = self._not_ours(user, listed)
                if refusal:
                    state = (
                        RemovalState.BLOCKED if refusal == LAST_MANAGER else RemovalState.REQUESTED
                    )
                    self._done(item, state, refusal, sent)
                    return listed
                target = Target(user.portal_user_id, user.email, user.name, user.kind)
            else:
                target = Target(item.portal_user_id, item.email, item.name)
            sent += 1
            try:
                answer = await self._send(target)
            except (TransientFailure, SessionExpired) as fault:
                last_fault = f"{fault.reason}: {fault.detail}"
                try:
                    listed = await self.read()
                except ScanFailure as failure:
                    last_fault = f"the org could not be read again: {failure.reason}"
                    break
                continue
            if answer.outcome is Outcome.REFUSED and answer.reason == CSRF:
                # Our side's, not the client's to fix: a token gone stale is fetched
                # again once; a second refusal fails the item with the portal's reason.
                last_fault = "the portal refused the removal: csrf (no valid CSRF token)"
                if csrf_retried:
                    break
                csrf_retried = True
                self.run.forget_csrf(self.login)
                continue
            self.run.report.requests_sent += 1
            if answer.outcome is Outcome.REFUSED:
                self._done(item, RemovalState.REQUESTED, answer.reason, sent)
            else:
                detail = (
                    "the portal removed the user"
                    if answer.outcome is Outcome.REMOVED
                    else "the portal says the user is already gone (404)"
                )
                self._done(item, RemovalState.REMOVED, detail, sent)
                self.removed.add(item.identity)
            return listed
        self._done(item, RemovalState.FAILED, f"not removed: {last_fault}", sent)
        return listed

    async def _send(self, target: Target) -> Answer:
        """The removal request, with the session's CSRF token (SPEC: one per session).

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
                token = self.run.csrf_of(self.login)
                if token is None:
                    token = await self.signed_in(
                        lambda: self.remover.csrf_token(
                            self.login.context, self.login.creds.base_url, self.ref
                        )
                    )
                    self.run.keep_csrf(self.login, generation, token)
                answer = await self.remover.remove(
                    self.login.context, self.login.creds.base_url, self.ref, target, token
                )
                if answer.token:
                    self.run.keep_csrf(self.login, generation, answer.token)
                return answer
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                sign_ins += 1
                self.run.count_sign_in()
                await self.login.sign_in_again(generation)
            except RateLimited as limit:
                if limited >= MAX_ATTEMPTS:
                    raise
                limited += 1
                await asyncio.sleep(limit.retry_after or 1.0)

    def _not_ours(self, user: PortalUser, listed: Listed) -> str:
        """Why the practice may not remove ``user`` now, from the fresh read ("" if it may)."""
        portal = Portal(self.ref.portal)
        viewer = next((u for i, u in listed.items() if i in self.agents), None)
        verdict = removability(portal, _seen(viewer) if viewer else None, _seen(user))
        if verdict.by != "practice":
            return verdict.reason or "only the client can remove this user"
        if may_manage_users(portal, _seen(user)):
            me = normalise_with(user.email)
            others = [
                i
                for i, u in listed.items()
                if i not in self.agents
                and i not in self.removed
                and i != me
                and u.status in (AccessStatus.ACTIVE, AccessStatus.PENDING)
                and may_manage_users(portal, _seen(u))
            ]
            if not others:
                return LAST_MANAGER
        return ""

    # -- recording --------------------------------------------------------------------

    def _done(self, item: ClaimedItem, state: RemovalState, detail: str, sent: int = 0) -> None:
        self.outcomes.append(
            claims.Outcome(
                item.id,
                state,
                detail,
                sent=sent,
                scan_id=self.scan_id if state == RemovalState.VERIFIED else None,
                at=utcnow(),
            )
        )
        self.run.progress(state.value, item.id, state.value)

    def _write(self) -> None:
        if not self.outcomes:
            return
        with session_scope(self.run.engine) as session:
            claims.record_outcomes(session, self.claim, self.outcomes)
        self.outcomes = []


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
