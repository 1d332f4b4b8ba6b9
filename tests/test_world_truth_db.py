"""Through the database: a world's import files and user lists, stored as the crawler
stores them, reconciled, scored against the ground truth (precision and recall 1.0 for
every class), then re-scanned and reconciled one org at a time with the same result."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import Portal
from agent.imports import ImportKind, run_import
from agent.reconcile import normalise_email
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.finding_lists import open_findings
from agent.services.findings import reconcile
from agent.services.scans import record_ok_scan, upsert_org
from agent.storage.db import session_scope
from agent.storage.models import Finding
from sandbox.generate import generate_world, write_world
from sandbox.portals.myob import owner_added
from sandbox.world import World, WorldOrg, WorldUser
from tests.reconcile.test_world_truth import STATUS, truth_of
from tests.scoring import imperfect, score


def store_world(runtime: Runtime, world: World, directory: Path) -> None:
    files = write_world(world, directory)
    for kind, path in (
        (ImportKind.STAFF, files.staff),
        (ImportKind.CLIENTS, files.clients),
        (ImportKind.ACCESS, files.access),
    ):
        run_import(runtime.engine, kind, path, practice_domains=world.practice_domains)
    with session_scope(runtime.engine) as session:
        for login in world.logins:
            add_login(
                session,
                runtime.box,
                portal=login.portal,
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=f"http://127.0.0.1:1/{login.portal}",
            )
        for org in world.orgs:
            scan_org(session, org)


def scan_org(session: Session, org: WorldOrg) -> int:
    """Record an org's user list as an ok scan, as the crawler would."""
    ref = OrgRef(Portal(org.portal), org.org_id, org.name)
    stored = upsert_org(session, ref, login_id=None)
    users = tuple(
        PortalUser(
            email=u.email,
            name=u.name,
            role=u.role,
            status=STATUS[u.status],
            extra_permissions=tuple(u.myob_roles if org.portal == "myob" else u.extra_permissions),
            kind=u.kind,
            **as_read(org.portal, u),
        )
        for u in org.users
    )
    record_ok_scan(
        session,
        org_id=stored.id,
        started_at=utcnow(),
        result=OrgUsers(ref, users, len(users), f"total {len(users)}"),
    )
    assert stored.id is not None
    return stored.id


def as_read(portal: str, user: WorldUser) -> dict[str, Any]:
    """What each portal's page says besides the role, as its recipe reads it: Xero's last
    login, user id and subscriber, qbo's firm on the Accounting firms tab, MYOB's user
    id and who added the user."""
    if portal == "xero":
        when = user.last_login_utc
        return {
            "last_login": datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
            "portal_user_id": user.user_id,
            "subscriber": user.is_subscriber,
        }
    if portal == "qbo":
        return {"firm": user.firm_name if user.kind == "firms" else None}
    return {"portal_user_id": user.user_id, "added_by_owner": owner_added(user)}


def found(runtime: Runtime, world: World) -> dict[tuple[str, str, str], str]:
    domains = world.practice_domains
    with session_scope(runtime.engine) as session:
        rows = open_findings(session)
    return {
        (r.portal, r.portal_org_id, normalise_email(r.email, domains)): r.finding_class
        for r in rows
    }


@pytest.mark.parametrize("seed", [7, 23])
def test_the_database_path_scores_perfectly_against_ground_truth(
    runtime: Runtime, tmp_path: Path, seed: int
) -> None:
    world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
    store_world(runtime, world, tmp_path / "world")
    with session_scope(runtime.engine) as session:
        reconcile(session, configured_domains=world.practice_domains)
    got = found(runtime, world)
    want = truth_of(world)
    scores = score(got, want)
    assert imperfect(scores) == {}
    assert got == want
    assert {
        "probable_match",
        "leaver_access",
        "unlinked_org",
        "archived_client_access",
        "missing_expected",
    } <= set(scores)


def test_a_rescanned_org_reconciled_alone_matches_a_full_run(
    runtime: Runtime, tmp_path: Path
) -> None:
    world = generate_world(23, staff=14, orgs_per_portal=4, users_per_org=7)
    store_world(runtime, world, tmp_path / "world")
    with session_scope(runtime.engine) as session:
        reconcile(session, configured_domains=world.practice_domains)
    changed = world.orgs[1]
    listed = {
        t.email
        for t in world.truth
        if t.org_id == changed.org_id and t.finding_class != "missing_expected"
    }
    removed = next(u for u in reversed(changed.users) if u.email in listed)
    changed.users.remove(removed)  # someone with access disappears from one org's list
    with session_scope(runtime.engine) as session:
        org_id = scan_org(session, changed)
        reconcile(session, configured_domains=world.practice_domains, org_ids=[org_id])
    incremental = snapshot(runtime)
    with session_scope(runtime.engine) as session:
        reconcile(session, configured_domains=world.practice_domains)
    assert snapshot(runtime) == incremental
    gone = normalise_email(removed.email, world.practice_domains)
    assert incremental[(org_id, gone)][3] is not None, "the removed user's finding resolved"


def snapshot(runtime: Runtime) -> dict[tuple[int, str], tuple]:
    with Session(runtime.engine) as session:
        return {
            (f.org_id, f.identity): (
                f.finding_class,
                f.first_scan_id,
                f.last_scan_id,
                f.resolved_at,
                f.review_state,
                f.detail,
            )
            for f in session.exec(select(Finding))
        }
