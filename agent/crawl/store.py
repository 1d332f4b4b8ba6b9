"""Everything a crawl reads from and writes to the database, in one place.

The engine decides the order of work; this decides how each step is kept: the
crawl row opened, resumed and closed, the orgs a login lists, each scan in its own
transaction (so a crawl killed at any instant keeps every finished scan), each
sign-in's outcome, the login's browser state kept encrypted between runs, and the
TOTP step claim that stops two processes sending one code, the login's daily
request budget claimed and what a spent one left for the next day. Keeping it apart means
the engine holds no database session, and every write a crawl makes can be read
here at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, col, select

from agent.capture import Credentials, OrgRef, OrgUsers, ScanFailure
from agent.clock import utcnow
from agent.crawl.report import CrawlReport
from agent.domain import Portal, ScanStatus
from agent.security.logins import credentials
from agent.security.secrets import SecretBox
from agent.services.connections import mark_needs_sign_in, mark_still_signed_in
from agent.services.request_budget import add_requests, claim_requests, record_deferral
from agent.services.scans import ScanOutcome, record_capture, record_failed_scan, upsert_org_ids
from agent.services.signins import record_sign_in, step_claim
from agent.storage.db import session_scope
from agent.storage.models import BudgetDeferral, Crawl, Org, PortalLogin, Scan

RUNNING = "running"
FINISHED = "finished"
#: finished, but some orgs failed or were never reached: the next crawl of the same
#: scope, if it starts soon enough, resumes it and reads only those
INCOMPLETE = "incomplete"
RESUME_INCOMPLETE_WITHIN = timedelta(hours=12)
#: an incomplete crawl that left orgs for the next day's request budget
#: (``BudgetDeferral``) is resumed for longer: by the next day's crawl
RESUME_DEFERRED_WITHIN = timedelta(days=2)


class CrawlStore:
    """The crawl's reads and writes, each in a transaction of its own."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    # -- the crawl --------------------------------------------------------------------

    def logins(self, portal: Portal | str | None, login_pk: int | None) -> list[PortalLogin]:
        """The logins to crawl: all, one portal's, or one."""
        with Session(self.engine) as session:
            query = select(PortalLogin)
            if portal:
                query = query.where(PortalLogin.portal == str(portal))
            if login_pk is not None:
                query = query.where(PortalLogin.id == login_pk)
            return list(session.exec(query))

    def open_crawl(
        self, portal: Portal | str | None, trigger: str, *, resumable: bool
    ) -> CrawlReport:
        """A new crawl, or the one to resume: killed mid-run, or incomplete and recent
        (or incomplete with orgs left for the next day's request budget)."""
        with session_scope(self.engine) as session:
            crawl = None
            if resumable:
                recent = utcnow() - RESUME_INCOMPLETE_WITHIN
                deferred = and_(
                    col(Crawl.finished_at) >= utcnow() - RESUME_DEFERRED_WITHIN,
                    col(Crawl.id).in_(select(BudgetDeferral.crawl_id)),
                )
                crawl = session.exec(
                    select(Crawl)
                    .where(
                        Crawl.portal == (str(portal) if portal else None),
                        Crawl.trigger != "targeted",
                        or_(
                            col(Crawl.status) == RUNNING,
                            and_(
                                col(Crawl.status) == INCOMPLETE,
                                or_(col(Crawl.finished_at) >= recent, deferred),
                            ),
                        ),
                    )
                    .order_by(col(Crawl.started_at).desc(), col(Crawl.id).desc())
                ).first()
            resumed = crawl is not None
            if crawl is None:
                crawl = Crawl(
                    trigger=trigger if resumable else "targeted",
                    portal=str(portal) if portal else None,
                )
            else:
                crawl.status, crawl.finished_at = RUNNING, None
            session.add(crawl)
            session.flush()
            assert crawl.id is not None
            return CrawlReport(crawl_id=crawl.id, resumed=resumed)

    def close_crawl(self, report: CrawlReport) -> None:
        """``finished``, or ``incomplete`` when a resumed crawl would have work to do."""
        with session_scope(self.engine) as session:
            crawl = session.get(Crawl, report.crawl_id)
            assert crawl is not None
            crawl.status = FINISHED if report.complete else INCOMPLETE
            crawl.finished_at = report.finished_at
            session.add(crawl)

    def already_read(self, crawl_id: int) -> set[int]:
        """Orgs (``org_pk``) this crawl has read, ok or held as suspect: a resumed crawl
        skips them.

        An org whose scans in this crawl all failed is read again, once per run.
        """
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(Scan.org_id).where(
                        Scan.crawl_id == crawl_id,
                        col(Scan.status).in_((ScanStatus.OK, ScanStatus.SUSPECT)),
                    )
                )
            )

    # -- a login ----------------------------------------------------------------------

    def credentials(self, row: PortalLogin) -> Credentials:
        """The login's secrets, with the database's TOTP step claim for its sign-ins."""
        assert row.id is not None
        return replace(credentials(row, self.box), claim_step=step_claim(self.engine, row.id))

    def storage_state(self, row: PortalLogin) -> Any:
        """The browser state kept from the login's last crawl, or ``None``."""
        return (
            json.loads(self.box.decrypt(row.storage_state_enc)) if row.storage_state_enc else None
        )

    def save_storage_state(self, login_pk: int, state: object) -> None:
        with session_scope(self.engine) as session:
            row = session.get(PortalLogin, login_pk)
            if row is not None:
                row.storage_state_enc = self.box.encrypt(json.dumps(state))
                session.add(row)

    def record_sign_in(
        self, *, login_pk: int, crawl_id: int, ok: bool, reason: str | None, detail: str
    ) -> None:
        with session_scope(self.engine) as session:
            record_sign_in(
                session, login_id=login_pk, crawl_id=crawl_id, ok=ok, reason=reason, detail=detail
            )

    def mark_needs_sign_in(self, *, login_pk: int, crawl_id: int | None, why: str) -> str:
        """An interactive login's stored sign-in is missing or refused: it needs a
        person. Returns the detail recorded (which names the command to run)."""
        with session_scope(self.engine) as session:
            return mark_needs_sign_in(session, login_id=login_pk, crawl_id=crawl_id, why=why)

    def mark_still_signed_in(self, login_pk: int) -> None:
        with session_scope(self.engine) as session:
            mark_still_signed_in(session, login_id=login_pk)

    # -- orgs and their scans ---------------------------------------------------------

    def upsert_listed(self, refs: Sequence[OrgRef], *, login_pk: int | None) -> list[int]:
        """The ``org_pk`` of each listed org, in the list's order, rows created as needed."""
        with session_scope(self.engine) as session:
            return upsert_org_ids(session, refs, login_id=login_pk)

    def record_capture(
        self,
        *,
        org_pk: int,
        result: OrgUsers,
        started_at: datetime,
        crawl_id: int,
        login_pk: int | None,
    ) -> ScanOutcome:
        with session_scope(self.engine) as session:
            return record_capture(
                session,
                org_id=org_pk,
                result=result,
                started_at=started_at,
                crawl_id=crawl_id,
                login_id=login_pk,
            )

    def record_failed(
        self,
        *,
        org_pk: int,
        failure: ScanFailure,
        started_at: datetime,
        crawl_id: int,
        login_pk: int | None,
        recipe: str | None = None,
    ) -> ScanOutcome:
        with session_scope(self.engine) as session:
            return record_failed_scan(
                session,
                org_id=org_pk,
                reason=failure.reason,
                detail=failure.detail,
                started_at=started_at,
                crawl_id=crawl_id,
                login_id=login_pk,
                recipe=recipe,
            )

    def fail_known_orgs(
        self,
        *,
        login_pk: int,
        crawl_id: int,
        failure: ScanFailure,
        portal_org_id: str | None,
        skip: set[int],
    ) -> list[ScanOutcome]:
        """A failed scan, in one transaction, for each org the login is known to hold
        (or the one org asked for) whose ``org_pk`` is not in ``skip``."""
        outcomes: list[ScanOutcome] = []
        with session_scope(self.engine) as session:
            query = select(Org).where(Org.login_id == login_pk)
            if portal_org_id is not None:
                query = query.where(Org.portal_org_id == portal_org_id)
            for org in session.exec(query):
                org_pk = org.id
                assert org_pk is not None
                if org_pk in skip:
                    continue
                outcomes.append(
                    record_failed_scan(
                        session,
                        org_id=org_pk,
                        reason=failure.reason,
                        detail=failure.detail,
                        started_at=utcnow(),
                        crawl_id=crawl_id,
                        login_id=login_pk,
                    )
                )
        return outcomes

    def known_orgs(self, login_pk: int, portal_org_id: str | None) -> list[int]:
        """The ``org_pk`` of each org the login is known to hold (or the one asked for)."""
        with Session(self.engine) as session:
            query = select(Org.id).where(Org.login_id == login_pk)
            if portal_org_id is not None:
                query = query.where(Org.portal_org_id == portal_org_id)
            return [org_pk for org_pk in session.exec(query) if org_pk is not None]

    # -- the daily request budget (agent.services.request_budget) ---------------------

    def claim_requests(self, login_pk: int, day: date, *, want: int, limit: int) -> int:
        return claim_requests(self.engine, login_pk, day, want=want, limit=limit)

    def add_requests(self, login_pk: int, day: date, count: int) -> None:
        add_requests(self.engine, login_pk, day, count)

    def record_deferral(self, *, crawl_id: int, login_pk: int, day: date, orgs: int) -> None:
        record_deferral(self.engine, crawl_id=crawl_id, login_id=login_pk, day=day, orgs=orgs)
