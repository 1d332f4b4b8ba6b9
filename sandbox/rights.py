"""Who can remove whom in a generated world: the agent's rights per org, and the truth.

DESIGN.md, "Acting on findings": an access is the practice's to remove where the
agent's own login may remove users in that org and the person is not protected;
otherwise only the client can, for a reason. Practices meet every case, so a world
varies them, org by org, the way SPEC.md's "Removing a user" draws the lines (and
where two or more orgs of a portal all came out alike, the last goes the other way):

* xero: the agent's login is an Adviser everywhere, with Manage users in roughly
  ``XERO_MANAGE_USERS`` of the orgs; without it, nobody is the practice's to remove;
  with it, everyone but the subscriber is.
* qbo: the agent sits on the Accounting firms tab as Accountant in most orgs (it may
  remove its own firm's entries there, nobody on the Users tab), and on the Users tab
  as a Company admin in about ``QBO_COMPANY_ADMIN`` of the others (the Users tab's
  entries but the primary admin, no firm's entries), and in at most ``(n - 1) // 2``
  of a world's ``n`` companies. The first company always keeps the Accountant.
* myob: whoever may view users may remove them, so the agent always can; instead some
  advisors were added by the business owner and only the owner removes them: about
  ``MYOB_OWNER_ADDED_STAFF`` of the practice's own advisors and
  ``MYOB_OWNER_ADDED_OTHERS`` of other advisors, and at least one of each where
  there are any.

Then, so every portal shows both kinds of leaver at ordinary sizes, a world whose
leavers are all the practice's to remove (or all the client's) has one leaver's org
(or advisor) turned the other way, when another leaver keeps the first kind.

The truth's ``removable_by`` and ``removable_reason`` are written here from those
decisions, as the generator means them; nothing asks the sandbox portals or the
product. The decisions draw from their own random stream, seeded from the world's
seed, so the rest of a world is the same as it was before they existed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace

from sandbox.world import CLIENT, PRACTICE, WorldLogin, WorldOrg, WorldTruth, WorldUser

XERO_MANAGE_USERS = 0.6
QBO_COMPANY_ADMIN = 0.3
MYOB_OWNER_ADDED_STAFF = 0.25
MYOB_OWNER_ADDED_OTHERS = 0.5

MANAGE_USERS = "MANAGE_USERS"
PRIMARY_ADMIN = "Primary admin"
COMPANY_ADMIN = "Company admin"
ACCOUNTANT = "Accountant"
ADVISOR = "Advisor"

Removability = tuple[str, str]


def removability(portal: str, agent: WorldUser, user: WorldUser) -> Removability:
    """``(removable_by, removable_reason)`` of ``user`` for an agent whose row is ``agent``."""
    if portal == "xero":
        if MANAGE_USERS not in agent.extra_permissions:
            return CLIENT, "agent_lacks_manage_users"
        if user.is_subscriber:
            return CLIENT, "subscriber"
    elif portal == "qbo":
        agent_on_firms = agent.kind == "firms"
        if user.kind == "firms":
            own_firm = agent_on_firms and (agent.firm_name or "") == (user.firm_name or "")
            if not own_firm and agent.role != PRIMARY_ADMIN:
                return CLIENT, "other_firm"
        else:
            if agent_on_firms or agent.role not in (PRIMARY_ADMIN, COMPANY_ADMIN):
                return CLIENT, "agent_not_admin"
            if user.role == PRIMARY_ADMIN:
                return CLIENT, "primary_admin"
    else:
        if agent.role != "Online admin" and "Administrator" not in agent.myob_roles:
            return CLIENT, "agent_not_admin"
        if user.kind == ADVISOR and user.added_by_owner:
            return CLIENT, "owner_added_advisor"
    return PRACTICE, ""


def vary_rights(
    seed: int,
    orgs: Sequence[WorldOrg],
    logins: Sequence[WorldLogin],
    truth: Sequence[WorldTruth],
    practice_domains: Sequence[str],
) -> list[WorldTruth]:
    """Set the agent's rights and the owner-added advisors of every org (in place), and
    return ``truth`` with who can remove each observed user."""
    rng = random.Random(f"{seed}:removal-rights")
    agents = _agents(orgs, logins)
    domains = {d.casefold() for d in practice_domains}
    first_qbo = next((_key(o) for o in orgs if o.portal == "qbo"), None)
    qbo_orgs = sum(1 for o in orgs if o.portal == "qbo")
    staff_advisors: list[WorldUser] = []
    other_advisors: list[WorldUser] = []
    for org in orgs:
        agent = agents.get(_key(org))
        if agent is None:
            continue
        if org.portal == "xero":
            _set_xero(agent, rng.random() < XERO_MANAGE_USERS)
        elif org.portal == "qbo":
            _set_qbo(agent, _key(org) != first_qbo and rng.random() < QBO_COMPANY_ADMIN)
        elif org.portal == "myob":
            for user in org.users:
                if user is not agent and user.kind == ADVISOR:
                    ours = user.email.rpartition("@")[2].casefold() in domains
                    share = MYOB_OWNER_ADDED_STAFF if ours else MYOB_OWNER_ADDED_OTHERS
                    user.added_by_owner = rng.random() < share
                    (staff_advisors if ours else other_advisors).append(user)
    for group in (staff_advisors, other_advisors):
        if group and not any(u.added_by_owner for u in group):
            group[-1].added_by_owner = True
    qbo_admins = [a for k, a in agents.items() if k[0] == "qbo" and a.kind == "users"]
    for agent in qbo_admins[max(0, (qbo_orgs - 1) // 2) :]:
        _set_qbo(agent, company_admin=False)  # most orgs keep the Accountant
    _mix(
        [agents[_key(o)] for o in orgs if o.portal == "xero" and _key(o) in agents],
        lambda agent: MANAGE_USERS in agent.extra_permissions,
        _set_xero,
    )
    _mix(
        [
            agents[_key(o)]
            for o in orgs
            if o.portal == "qbo" and _key(o) in agents and _key(o) != first_qbo
        ],
        lambda agent: agent.kind == "users",
        _set_qbo,
    )
    for portal in sorted({o.portal for o in orgs}):
        leavers = _leavers(portal, orgs, agents, truth)
        _show_both_kinds(portal, leavers, agents, keep={first_qbo})
    by_key = {_key(o): o for o in orgs}
    return [_with_removability(t, by_key, agents) for t in truth]


OrgKey = tuple[str, str]


def _key(org: WorldOrg) -> OrgKey:
    return org.portal, org.org_id


def _agents(orgs: Sequence[WorldOrg], logins: Sequence[WorldLogin]) -> dict[OrgKey, WorldUser]:
    """Each org's row of its portal's agent login (the first, as the portal finds it)."""
    emails = {(lg.portal, lg.email.strip().casefold()) for lg in logins}
    found: dict[OrgKey, WorldUser] = {}
    for org in orgs:
        row = next(
            (u for u in org.users if (org.portal, u.email.strip().casefold()) in emails), None
        )
        if row is not None:
            found[_key(org)] = row
    return found


def _mix(
    agents: list[WorldUser],
    holds: Callable[[WorldUser], bool],
    give: Callable[[WorldUser, bool], None],
) -> None:
    """Where every one of two or more orgs came out alike, the last one goes the other
    way, so both kinds of rights are there to meet."""
    if len(agents) >= 2 and len({holds(a) for a in agents}) == 1:
        give(agents[-1], not holds(agents[-1]))


def _set_xero(agent: WorldUser, manage_users: bool) -> None:
    agent.role = "FINANCIALADVISER"
    others = [p for p in agent.extra_permissions if p != MANAGE_USERS]
    agent.extra_permissions = [MANAGE_USERS, *others] if manage_users else others


def _set_qbo(agent: WorldUser, company_admin: bool) -> None:
    if company_admin:
        agent.role, agent.kind, agent.firm_name = COMPANY_ADMIN, "users", None
    else:
        agent.role, agent.kind, agent.firm_name = ACCOUNTANT, "firms", _PRACTICE_FIRM


#: the practice's firm as the generator writes it on the Accounting firms tab
_PRACTICE_FIRM = "Harbour & Co Accountants"

Leaver = tuple[WorldOrg, WorldUser]


def _leavers(
    portal: str,
    orgs: Sequence[WorldOrg],
    agents: dict[OrgKey, WorldUser],
    truth: Sequence[WorldTruth],
) -> list[Leaver]:
    """The observed leavers of a portal's orgs, in the world's order."""
    by_org = {o.org_id: o for o in orgs if o.portal == portal}
    found: list[Leaver] = []
    for row in truth:
        org = by_org.get(row.org_id)
        if row.portal != portal or row.finding_class != "leaver_access" or org is None:
            continue
        user = next((u for u in org.users if u.email == row.email), None)
        if user is not None and _key(org) in agents:
            found.append((org, user))
    return found


def _show_both_kinds(
    portal: str,
    leavers: list[Leaver],
    agents: dict[OrgKey, WorldUser],
    keep: set[OrgKey | None],
) -> None:
    """Turn one leaver the other way where all of a portal's leavers are of one kind and
    another leaver keeps that kind (one leaver per org, so turning an org turns one);
    the agent's rights in the orgs of ``keep`` stay as they are."""

    def kind(leaver: Leaver) -> str:
        org, user = leaver
        return removability(portal, agents[_key(org)], user)[0]

    def turn(leaver: Leaver, to: str) -> bool:
        org, user = leaver
        if _key(org) in keep:
            return False
        agent = agents[_key(org)]
        undo = _snapshot(agent, user)
        _TURNS[portal](agent, user, to)
        if removability(portal, agent, user)[0] == to:
            return True
        undo()
        return False

    if len(leavers) < 2:
        return
    if all(kind(lv) == CLIENT for lv in leavers):
        next((lv for lv in leavers if turn(lv, PRACTICE)), None)
    if all(kind(lv) == PRACTICE for lv in leavers):
        next((lv for lv in reversed(leavers) if turn(lv, CLIENT)), None)


def _snapshot(agent: WorldUser, user: WorldUser) -> Callable[[], None]:
    saved = (agent.role, agent.kind, agent.firm_name, list(agent.extra_permissions))
    owner = user.added_by_owner

    def undo() -> None:
        agent.role, agent.kind, agent.firm_name = saved[0], saved[1], saved[2]
        agent.extra_permissions = saved[3]
        user.added_by_owner = owner

    return undo


def _turn_xero(agent: WorldUser, user: WorldUser, to: str) -> None:
    _set_xero(agent, to == PRACTICE)


def _turn_qbo(agent: WorldUser, user: WorldUser, to: str) -> None:
    on_firms = user.kind == "firms"
    _set_qbo(agent, company_admin=(to == PRACTICE) != on_firms)


def _turn_myob(agent: WorldUser, user: WorldUser, to: str) -> None:
    user.added_by_owner = to == CLIENT and user.kind == ADVISOR


_TURNS: dict[str, Callable[[WorldUser, WorldUser, str], None]] = {
    "xero": _turn_xero,
    "qbo": _turn_qbo,
    "myob": _turn_myob,
}


def _with_removability(
    row: WorldTruth, orgs: dict[OrgKey, WorldOrg], agents: dict[OrgKey, WorldUser]
) -> WorldTruth:
    """The row with who can remove the user it is about; a row of access that is not
    there (``missing_expected``) keeps the defaults."""
    org = orgs.get((row.portal, row.org_id))
    agent = agents.get((row.portal, row.org_id))
    if org is None or agent is None:
        return row
    user = next((u for u in org.users if u.email == row.email), None)
    if user is None or user is agent:
        return row
    by, reason = removability(row.portal, agent, user)
    return replace(row, removable_by=by, removable_reason=reason)
