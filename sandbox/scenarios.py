"""Worlds shaped for one story: a leaver's access, some of it the practice's to remove.

``leaver_scenario`` takes a generated world and gives one leaver access to exactly
``orgs`` orgs (round robin over the portals), the first ``practice_removable`` of
which the agent's login may remove them from (SPEC.md, "Removing a user"), the rest
only the client can: on xero the login lacks Manage users, on qbo the leaver sits on
the Users tab where an accounting firm's login cannot delete, on myob the business
owner added the leaver as an advisor. ``extra_per_org`` adds that many unknown
practice addresses beside the leaver in each practice-removable org, for benchmarks
that need more removals than orgs.

The ground truth gains the leaver's rows (and the extras') with who can remove them,
written from what the scenario meant, never from the product's rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.generate import generate_world
from sandbox.world import World, WorldOrg, WorldStaff, WorldTruth, WorldUser

FIRM = "Harbour & Co Accountants"


@dataclass(frozen=True, slots=True)
class LeaverScenario:
    world: World
    leaver: WorldStaff
    #: orgs the agent may remove the leaver from, and orgs only the client can
    practice_orgs: list[WorldOrg]
    client_orgs: list[WorldOrg]


def leaver_scenario(
    seed: int = 21,
    *,
    orgs: int = 10,
    practice_removable: int = 6,
    extra_per_org: int = 0,
    staff: int = 8,
    users_per_org: int = 4,
    portals: tuple[str, ...] = ("xero", "qbo", "myob"),
) -> LeaverScenario:
    if not 0 <= practice_removable <= orgs:
        raise ValueError("practice_removable must be between 0 and orgs")
    # one generated org in seven links to no client: make enough for ``orgs`` linked ones
    per_portal = max(1, math.ceil(orgs / len(portals) * 7 / 6) + 1)
    world = generate_world(
        seed, staff=staff, orgs_per_portal=per_portal, users_per_org=users_per_org, portals=portals
    )
    leaver = next(s for s in world.staff if s.status == "left")
    mine = {e.lower() for e in leaver.emails}
    for org in world.orgs:
        org.users = [u for u in org.users if not _is(u, mine)]
    world.grants = [g for g in world.grants if g.staff_email.lower() not in mine]
    world.truth = [t for t in world.truth if not _is_email(t.email, mine)]
    chosen = _round_robin(world, portals, orgs)
    practice_orgs = chosen[:practice_removable]
    client_orgs = chosen[practice_removable:]
    seq = 0
    for org in chosen:
        removable = org in practice_orgs
        _set_agent_rights(world, org, removable)
        seq += 1
        user = _leaver_user(org, leaver, removable, seq)
        org.users.append(user)
        world.truth.append(_truth(org, user.email, "leaver_access", removable))
        if removable:
            for n in range(extra_per_org):
                seq += 1
                extra = _unknown_user(org, world.practice_domains[0], seq, n)
                org.users.append(extra)
                world.truth.append(_truth(org, extra.email, "unknown_practice_user", True))
    return LeaverScenario(world, leaver, practice_orgs, client_orgs)


def _is(user: WorldUser, emails: set[str]) -> bool:
    return _is_email(user.email, emails)


def _is_email(email: str, emails: set[str]) -> bool:
    local, _, domain = email.strip().lower().partition("@")
    return f"{local.split('+')[0]}@{domain}" in emails


def _round_robin(world: World, portals: tuple[str, ...], n: int) -> list[WorldOrg]:
    # linked orgs first: a request to a client needs a client to address
    by_portal = {p: sorted(world.orgs_of(p), key=lambda o: o.client_id is None) for p in portals}
    chosen: list[WorldOrg] = []
    k = 0
    while len(chosen) < n:
        for portal in portals:
            if k < len(by_portal[portal]) and len(chosen) < n:
                chosen.append(by_portal[portal][k])
        k += 1
    return chosen


def _set_agent_rights(world: World, org: WorldOrg, removable: bool) -> None:
    login = next(lg for lg in world.logins if lg.portal == org.portal)
    agent = next(u for u in org.users if u.email == login.email)
    if org.portal == "xero":
        agent.role = "FINANCIALADVISER"
        agent.extra_permissions = ["MANAGE_USERS"] if removable else []
    elif org.portal == "qbo":
        agent.role, agent.kind, agent.firm_name = "Accountant", "firms", FIRM
    else:
        agent.role, agent.kind, agent.myob_roles = "Online admin", "Advisor", ["Administrator"]


def _leaver_user(org: WorldOrg, leaver: WorldStaff, removable: bool, seq: int) -> WorldUser:
    given, _, family = leaver.name.partition(" ")
    common = {
        "user_id": f"leaver-{seq:05d}",
        "first_name": given,
        "last_name": family,
        "email": leaver.emails[0],
    }
    if org.portal == "xero":
        return WorldUser(**common, role="STANDARD", status="ACTIVE")
    if org.portal == "qbo":
        if removable:
            return WorldUser(
                **common, role="Accountant", status="Active", kind="firms", firm_name=FIRM
            )
        return WorldUser(**common, role="Standard all access", status="Active", kind="users")
    return WorldUser(
        **common,
        role="File user",
        status="ACTIVE",
        kind="Advisor",
        myob_roles=["Invoicing"],
        added_by_owner=not removable,
    )


def _unknown_user(org: WorldOrg, domain: str, seq: int, n: int) -> WorldUser:
    common = {
        "user_id": f"extra-{seq:05d}",
        "first_name": "Temp",
        "last_name": f"Helper {n + 1}",
        "email": f"temp.helper.{seq}@{domain}",
    }
    if org.portal == "xero":
        return WorldUser(**common, role="STANDARD", status="ACTIVE")
    if org.portal == "qbo":
        return WorldUser(**common, role="Accountant", status="Active", kind="firms", firm_name=FIRM)
    return WorldUser(
        **common, role="File user", status="ACTIVE", kind="Advisor", myob_roles=["Invoicing"]
    )


def _truth(org: WorldOrg, email: str, finding_class: str, removable: bool) -> WorldTruth:
    reason = ""
    if not removable:
        reason = {
            "xero": "agent_lacks_manage_users",
            "qbo": "agent_not_admin",
            "myob": "owner_added_advisor",
        }[org.portal]
    return WorldTruth(
        portal=org.portal,
        org_id=org.org_id,
        email=email,
        finding_class=finding_class,
        removable_by="practice" if removable else "client",
        removable_reason=reason,
    )
