"""What changed between two crawls: access new, gone, or with another role.

Each crawl's picture of an org is its newest ok scan of that org within the crawl.
Only orgs read by both crawls are compared: an org that one crawl could not read
(failed, or not reached) proves nothing about who came or went, so it is listed
as not compared, with the reason. The comparison itself is
``agent.reconcile.diff.diff_users``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from agent.domain import Portal, ScanStatus
from agent.reconcile import AccessChange, diff_users
from agent.services.reconcile_inputs import practice_domains, seen_users
from agent.storage.models import Crawl, Org, Scan


class CrawlNotFound(LookupError):
    """No crawl has the id given."""


@dataclass(frozen=True, slots=True)
class NotCompared:
    portal: str
    portal_org_id: str
    name: str
    reason: str


@dataclass(slots=True)
class CrawlDiff:
    crawl_a: int
    crawl_b: int
    orgs_compared: int = 0
    changes: list[AccessChange] = field(default_factory=list)
    not_compared: list[NotCompared] = field(default_factory=list)


def _ok_scans(session: Session, crawl_id: int) -> dict[int, Scan]:
    """The newest ok scan of each org within a crawl."""
    if session.get(Crawl, crawl_id) is None:
        raise CrawlNotFound(f"no crawl {crawl_id}")
    newest: dict[int, Scan] = {}
    for scan in session.exec(
        select(Scan)
        .where(Scan.crawl_id == crawl_id, Scan.status == ScanStatus.OK)
        .order_by(col(Scan.finished_at), col(Scan.id))
    ):
        newest[scan.org_id] = scan
    return newest


def _reasons(session: Session, crawl_id: int) -> dict[int, str]:
    """Why each org a crawl touched but could not read failed (its last failure)."""
    found: dict[int, str] = {}
    for scan in session.exec(
        select(Scan)
        .where(Scan.crawl_id == crawl_id, Scan.status == ScanStatus.FAILED)
        .order_by(col(Scan.finished_at), col(Scan.id))
    ):
        found[scan.org_id] = scan.reason or "failed"
    return found


def diff_crawls(
    session: Session, crawl_a: int, crawl_b: int, *, configured_domains: Sequence[str] = ()
) -> CrawlDiff:
    """Changes of access from crawl ``crawl_a`` to crawl ``crawl_b``, org by org."""
    before, after = _ok_scans(session, crawl_a), _ok_scans(session, crawl_b)
    failed_a, failed_b = _reasons(session, crawl_a), _reasons(session, crawl_b)
    domains = practice_domains(session, configured_domains)
    result = CrawlDiff(crawl_a, crawl_b)
    org_ids = sorted(before.keys() | after.keys() | failed_a.keys() | failed_b.keys())
    orgs = {o.id: o for o in session.exec(select(Org).where(col(Org.id).in_(org_ids)))}
    for org_id in org_ids:
        org = orgs[org_id]
        if org_id not in before or org_id not in after:
            crawl, failures = (crawl_a, failed_a) if org_id not in before else (crawl_b, failed_b)
            why = failures.get(org_id)
            reason = (
                f"crawl {crawl} could not read it ({why})"
                if why
                else f"crawl {crawl} did not scan it"
            )
            result.not_compared.append(NotCompared(org.portal, org.portal_org_id, org.name, reason))
            continue
        old, new = before[org_id], after[org_id]
        assert old.id is not None
        assert new.id is not None
        result.changes.extend(
            diff_users(
                Portal(org.portal),
                org.portal_org_id,
                seen_users(session, old.id),
                seen_users(session, new.id),
                domains,
            )
        )
        result.orgs_compared += 1
    return result
