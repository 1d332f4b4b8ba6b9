"""Generated worlds vary who can remove whom, and their truth says so (sandbox.rights).

The truth's ``removable_by`` and ``removable_reason`` are the generator's intent; here
they are held against the sandbox portals' own removal rules (two writings of SPEC's
"Removing a user" that must agree), against what each portal's agent must still be
able to do (view users everywhere), and against what the tests downstream need (both
kinds of leaver in every portal at the default sizes).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from sandbox.generate import generate_world, write_world
from sandbox.portals import myob, qbo, xero
from sandbox.portals.removal import offers_removal
from sandbox.world import CLIENT, PRACTICE, REMOVABLE_REASONS, World, WorldTruth, WorldUser

SEEDS = [1, 7, 23, 99]
#: seeds whose worlds at the default sizes hold leavers of both kinds in every portal
BOTH_KINDS_SEEDS = [2, 3, 5, 7, 11, 42, 99]
PORTAL_MODULES = {"xero": xero, "qbo": qbo, "myob": myob}


def agent_rows(world: World) -> dict[tuple[str, str], WorldUser]:
    emails = {(lg.portal, lg.email) for lg in world.logins}
    return {
        (o.portal, o.org_id): next(u for u in o.users if (o.portal, u.email) in emails)
        for o in world.orgs
    }


def observed(world: World, row: WorldTruth) -> WorldUser | None:
    org = next(o for o in world.orgs if (o.portal, o.org_id) == (row.portal, row.org_id))
    return next((u for u in org.users if u.email == row.email), None)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_truth_agrees_with_the_portals_removal_rules(seed):
    world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
    agents = agent_rows(world)
    for row in world.truth:
        user = observed(world, row)
        if user is None:  # access that is not there: missing_expected
            assert row.finding_class == "missing_expected"
            assert (row.removable_by, row.removable_reason) == (PRACTICE, "")
            continue
        agent = agents[(row.portal, row.org_id)]
        rules = PORTAL_MODULES[row.portal].REMOVAL_RULES
        assert offers_removal(rules, agent, user) == (row.removable_by == PRACTICE), row
        assert (row.removable_by == CLIENT) == (row.removable_reason in REMOVABLE_REASONS)


def test_every_reason_occurs_across_the_seeds():
    reasons: Counter[str] = Counter()
    for seed in SEEDS:
        world = generate_world(seed, staff=14, orgs_per_portal=8, users_per_org=7)
        reasons.update(t.removable_reason for t in world.truth if t.removable_by == CLIENT)
    assert set(reasons) == REMOVABLE_REASONS, reasons


@pytest.mark.parametrize("seed", SEEDS)
def test_the_agent_can_view_users_everywhere_and_its_rights_vary(seed):
    world = generate_world(seed)
    agents = agent_rows(world)
    for (portal, _), agent in agents.items():
        assert PORTAL_MODULES[portal].can_view_users(agent)
    xero_rights = [a.extra_permissions for (p, _), a in agents.items() if p == "xero"]
    assert {a.role for (p, _), a in agents.items() if p == "xero"} == {"FINANCIALADVISER"}
    assert {"MANAGE_USERS" in r for r in xero_rights} == {True, False}
    qbo_agents = [a for (p, _), a in agents.items() if p == "qbo"]
    assert (qbo_agents[0].role, qbo_agents[0].kind) == ("Accountant", "firms")
    assert {(a.role, a.kind) for a in qbo_agents} == {
        ("Accountant", "firms"),
        ("Company admin", "users"),
    }
    accountants = [a for a in qbo_agents if a.kind == "firms"]
    assert len(accountants) >= len(qbo_agents) / 2  # most orgs, or half after turning one
    assert {a.firm_name for a in accountants} == {world.practice_name}
    assert not any(a.added_by_owner for a in agents.values())


def test_owner_added_advisors_are_myob_advisors_of_the_practice_and_of_others():
    kinds: Counter[str] = Counter()
    for seed in SEEDS:
        world = generate_world(seed)
        domains = tuple(f"@{d}" for d in world.practice_domains)
        for org in world.orgs:
            for user in org.users:
                if user.added_by_owner:
                    assert (org.portal, user.kind) == ("myob", "Advisor")
                    kinds["practice" if user.email.endswith(domains) else "other"] += 1
    assert kinds["practice"] > 0
    assert kinds["other"] > 0


@pytest.mark.parametrize("seed", BOTH_KINDS_SEEDS)
def test_every_portal_has_practice_and_client_removable_leavers_at_default_sizes(seed):
    world = generate_world(seed)
    for portal in ("xero", "qbo", "myob"):
        kinds = {
            t.removable_by
            for t in world.truth
            if t.portal == portal and t.finding_class == "leaver_access"
        }
        assert kinds == {PRACTICE, CLIENT}, (seed, portal)


def test_the_same_seed_gives_the_same_world():
    one, two = generate_world(13), generate_world(13)
    assert one.orgs == two.orgs
    assert one.truth == two.truth


def test_a_world_saved_before_removal_facts_loads_with_their_defaults(tmp_path: Path):
    data = json.loads(generate_world(3, staff=5, orgs_per_portal=2, users_per_org=3).to_json())
    for org in data["orgs"]:
        for user in org["users"]:
            del user["added_by_owner"]
    for row in data["truth"]:
        del row["removable_by"], row["removable_reason"]
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(data), encoding="utf-8")
    world = World.load(saved)
    assert not any(u.added_by_owner for o in world.orgs for u in o.users)
    assert {(t.removable_by, t.removable_reason) for t in world.truth} == {(PRACTICE, "")}


@pytest.mark.parametrize(
    ("by", "reason", "message"),
    [
        ("practice", "subscriber", "takes no removable_reason"),
        ("client", "", "is not one of"),
        ("client", "because", "is not one of"),
        ("nobody", "", "removable_by must be"),
    ],
)
def test_a_truth_row_with_an_impossible_removability_is_refused(by, reason, message):
    with pytest.raises(ValueError, match=message):
        WorldTruth("xero", "!abcde", "a@b.example", "client_user", by, reason)


def test_truth_csv_carries_who_can_remove(tmp_path: Path):
    world = generate_world(7)
    files = write_world(world, tmp_path)
    with files.truth.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "portal",
        "org_id",
        "email",
        "finding_class",
        "removable_by",
        "removable_reason",
    ]
    assert [(r["removable_by"], r["removable_reason"]) for r in rows] == [
        (t.removable_by, t.removable_reason) for t in world.truth
    ]
