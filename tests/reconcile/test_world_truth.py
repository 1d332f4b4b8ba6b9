"""Reconcile, fed a generated world directly, gives exactly the world's ground truth.

No database or browser: this pins the rules to the generator's intent. The
end-to-end tests check the same through real portals, Chromium and storage.
"""

from __future__ import annotations

from datetime import date

import pytest

from agent.domain import AccessStatus, Portal, StaffStatus
from agent.reconcile import (
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
    classify_all,
    normalise_email,
)
from sandbox.generate import generate_world
from sandbox.world import World

_STATUS = {"ACTIVE": AccessStatus.ACTIVE, "Active": AccessStatus.ACTIVE,
           "PENDING": AccessStatus.PENDING, "Invited": AccessStatus.PENDING,
           "INVITED": AccessStatus.PENDING, "DECLINED": AccessStatus.DECLINED,
           "Inactive": AccessStatus.INACTIVE}


def practice_of(world: World) -> Practice:
    domains = frozenset(world.practice_domains)
    staff = tuple(
        StaffMember(i, s.name, StaffStatus(s.status),
                    tuple(normalise_email(e, domains) for e in s.emails),
                    date.fromisoformat(s.left_on) if s.left_on else None)
        for i, s in enumerate(world.staff, start=1)
    )
    ids = {normalise_email(e, domains): m.id for m in staff for e in m.emails}
    grants = tuple(Grant(ids[normalise_email(g.staff_email, domains)], Portal(g.portal),
                         g.org_id, g.role, tuple(g.extra_permissions)) for g in world.grants)
    return Practice(domains, staff, frozenset(lg.email for lg in world.logins), grants)


def orgs_of(world: World) -> list[tuple[OrgFacts, list[SeenUser]]]:
    clients = {c.client_id: c for c in world.clients}
    result = []
    for org in world.orgs:
        client = clients.get(org.client_id) if org.client_id else None
        facts = OrgFacts(Portal(org.portal), org.org_id, org.name,
                         client.name if client else None, bool(client and client.archived))
        users = [SeenUser(u.email, u.name, u.role, _STATUS[u.status], tuple(u.extra_permissions),
                          u.kind) for u in org.users]
        result.append((facts, users))
    return result


@pytest.mark.parametrize("seed", [1, 7, 23, 99])
def test_reconcile_matches_ground_truth(seed: int) -> None:
    world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
    domains = world.practice_domains
    got = {(c.portal.value, c.portal_org_id, c.identity): c.finding_class.value
           for c in classify_all(practice_of(world), orgs_of(world))}
    want = {(t.portal, t.org_id, normalise_email(t.email, domains)): t.finding_class
            for t in world.truth}
    assert got == want
    assert {"leaver_access", "invited_direct", "unknown_practice_user", "managed",
            "client_user"} <= set(want.values())
