"""Reconcile, fed a generated world directly, gives exactly the world's ground truth.

No database or browser: this pins the rules to the generator's intent, scored as
precision and recall per class (both must be 1.0 for every class). The database
path is scored the same way in tests/test_world_truth_db.py, and the end-to-end
test checks it through real portals and Chromium.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
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
from sandbox.world import World, WorldUser
from tests.scoring import imperfect, score

STATUS = {
    "ACTIVE": AccessStatus.ACTIVE,
    "Active": AccessStatus.ACTIVE,
    "PENDING": AccessStatus.PENDING,
    "Invited": AccessStatus.PENDING,
    "INVITED": AccessStatus.PENDING,
    "DECLINED": AccessStatus.DECLINED,
    "Inactive": AccessStatus.INACTIVE,
}
SEEDS = [1, 7, 23, 99]


def practice_of(world: World) -> Practice:
    domains = frozenset(world.practice_domains)
    staff = tuple(
        StaffMember(
            i,
            s.name,
            StaffStatus(s.status),
            tuple(normalise_email(e, domains) for e in s.emails),
            date.fromisoformat(s.left_on) if s.left_on else None,
        )
        for i, s in enumerate(world.staff, start=1)
    )
    ids = {normalise_email(e, domains): m.id for m in staff for e in m.emails}
    grants = tuple(
        Grant(
            ids[normalise_email(g.staff_email, domains)],
            Portal(g.portal),
            g.org_id,
            g.role,
            tuple(g.extra_permissions),
        )
        for g in world.grants
    )
    return Practice(domains, staff, frozenset(lg.email for lg in world.logins), grants)


def seen_user(portal: str, user: WorldUser) -> SeenUser:
    """A world user as a scraper reports it: MYOB's roles list is its extra permissions."""
    extras = user.myob_roles if portal == "myob" else user.extra_permissions
    return SeenUser(user.email, user.name, user.role, STATUS[user.status], tuple(extras), user.kind)


def orgs_of(world: World) -> list[tuple[OrgFacts, list[SeenUser]]]:
    clients = {c.client_id: c for c in world.clients}
    result = []
    for org in world.orgs:
        client = clients.get(org.client_id) if org.client_id else None
        facts = OrgFacts(
            Portal(org.portal),
            org.org_id,
            org.name,
            client.name if client else None,
            bool(client and client.archived),
        )
        result.append((facts, [seen_user(org.portal, u) for u in org.users]))
    return result


def truth_of(world: World) -> dict[tuple[str, str, str], str]:
    domains = world.practice_domains
    return {
        (t.portal, t.org_id, normalise_email(t.email, domains)): t.finding_class
        for t in world.truth
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_reconcile_matches_ground_truth(seed: int) -> None:
    world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
    got = {
        (c.portal.value, c.portal_org_id, c.identity): c.finding_class.value
        for c in classify_all(practice_of(world), orgs_of(world))
    }
    scores = score(got, truth_of(world))
    assert imperfect(scores) == {}
    assert got == truth_of(world)


def test_every_class_is_exercised_and_scored_perfectly() -> None:
    """Across the seeds, every finding class of DESIGN.md occurs, each at precision and
    recall 1.0: a class the generator never makes could not fail."""
    seen: Counter[str] = Counter()
    for seed in SEEDS:
        world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
        got = {
            (c.portal.value, c.portal_org_id, c.identity): c.finding_class.value
            for c in classify_all(practice_of(world), orgs_of(world))
        }
        scores = score(got, truth_of(world))
        assert imperfect(scores) == {}
        seen.update({cls: s.expected for cls, s in scores.items()})
    assert set(seen) == {c.value for c in FindingClass}
    assert all(count >= 3 for count in seen.values()), seen


def test_the_world_holds_the_hard_cases() -> None:
    world = generate_world(7, staff=14, orgs_per_portal=8, users_per_org=7)
    names = Counter(s.name for s in world.staff)
    users = [u for o in world.orgs for u in o.users]
    assert any(n == 2 for n in names.values()), "two staff share a name"
    assert any(s.status == "on_leave" for s in world.staff)
    assert any(len(s.emails) > 1 for s in world.staff), "roster aliases"
    assert any(", " in u.name for u in users), "Surname, Given"
    assert any(u.first_name.endswith(".") for u in users), "initials"
    assert any(u.email != u.email.lower() for u in users), "mixed case"
    assert any("+" in u.email for u in users), "plus-addressing"
    assert any(
        u.email.lower().endswith(("@xero.com", "@intuit.com", "@myob.com")) for u in users
    ), "support users"
    statuses = {u.status for u in users}
    assert statuses & {"PENDING", "Invited", "INVITED"}, "pending invitations"
    assert statuses & {"DECLINED", "Inactive"}, "declined invitations"
    assert any(c.archived for c in world.clients)
    assert any(o.client_id is None for o in world.orgs)
    domain = world.practice_domains[0]
    leaver_aliases = {
        normalise_email(e) for s in world.staff if s.status == "left" for e in s.emails[1:]
    }
    assert any("+" in u.email and normalise_email(u.email) in leaver_aliases for u in users), (
        "a leaver reached on a plus-tagged personal alias"
    )
    assert any("+" in g.staff_email and not g.staff_email.endswith(domain) for g in world.grants), (
        "a grant recorded under a tagged alias"
    )
    assert any(g.portal == "myob" and g.role == "" and g.extra_permissions for g in world.grants), (
        "a MYOB grant naming only Roles"
    )
