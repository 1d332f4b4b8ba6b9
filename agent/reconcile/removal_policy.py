"""What a removal plan proposes for one access, and what stands in its way.

DESIGN.md, "Acting on findings": leaver access, access on archived clients and
unknown practice addresses are removed; a direct invite of an active staff member
is the client manager's call (it may be the client's wish); a probable match is
confirmed first; role drift is fixed by hand, not by removal; client users never.

Barriers hold before any portal is touched: never the agent's own login; never the
subscriber, primary admin or an owner-added advisor (``removable_by`` is then
``client``, with that reason, so the client is asked instead); never the last user
of the org who can manage users (the client would be locked out of its own user
list); never a client's own user; an
active staff member's direct invite only once the client manager marked it for
removal (the finding's review state ``removal_requested``).

Pure: facts in, a proposal out. The services gather the facts from the finding and
the ok scan it was planned from, and call this again whenever a later scan shows
the org changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain import FindingClass, RemovalAction

#: classes whose access is removed without anyone deciding first
REMOVE_CLASSES = frozenset(
    {
        FindingClass.LEAVER_ACCESS,
        FindingClass.ARCHIVED_CLIENT_ACCESS,
        FindingClass.UNKNOWN_PRACTICE_USER,
    }
)
#: classes that are the client manager's call: removed only once marked for removal
DECIDE_CLASSES = frozenset({FindingClass.INVITED_DIRECT, FindingClass.UNLINKED_ORG})

AGENT_LOGIN = "the agent's own login"
CLIENT_USER = "a client's own user: never removed by the practice"
LAST_MANAGER = "the last user of the org who can manage users"
NOT_MARKED = (
    "an active staff member's direct invite: removed only once the client manager "
    "marks it for removal"
)
CONFIRM_FIRST = "a probable match: confirm or reject who this is first"
FIX_ROLE = "role drift: fix the role by hand, removal is not the fix"
NOTHING_TO_REMOVE = "access as intended: nothing to remove"
NOT_ACCESS = "not access (declined or inactive)"


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """One observed access, as a plan needs to judge it."""

    finding_class: FindingClass
    #: "practice" or "client", and why the client, from the scan
    removable_by: str
    removable_reason: str = ""
    is_agent_login: bool = False
    #: the finding's review state is ``removal_requested`` (the client manager's mark)
    marked_for_removal: bool = False
    #: whether the person may manage the org's users, and how many others (not the
    #: agent's logins, not removed by this plan) still could after the removal
    manages_users: bool = False
    other_managers: int = 1
    is_access: bool = True


@dataclass(frozen=True, slots=True)
class Proposal:
    action: RemovalAction
    #: why it may not be carried out ("" when nothing stands in the way)
    barrier: str = ""
    #: why it is skipped rather than blocked ("" when it is neither)
    skip: str = ""


def propose(facts: AccessFacts) -> Proposal:
    """The plan's proposal for one access; see the module docstring for the rules."""
    cls = facts.finding_class
    if facts.is_agent_login:
        return Proposal(RemovalAction.NONE, barrier=AGENT_LOGIN)
    if cls is FindingClass.CLIENT_USER:
        return Proposal(RemovalAction.NONE, barrier=CLIENT_USER)
    if cls is FindingClass.PROBABLE_MATCH:
        return Proposal(RemovalAction.NONE, skip=CONFIRM_FIRST)
    if cls is FindingClass.ROLE_DRIFT:
        return Proposal(RemovalAction.NONE, skip=FIX_ROLE)
    if cls not in REMOVE_CLASSES and cls not in DECIDE_CLASSES:
        return Proposal(RemovalAction.NONE, skip=NOTHING_TO_REMOVE)
    if not facts.is_access:
        return Proposal(RemovalAction.NONE, skip=NOT_ACCESS)
    if cls in DECIDE_CLASSES and not facts.marked_for_removal:
        return Proposal(RemovalAction.NONE, barrier=NOT_MARKED)
    if facts.manages_users and facts.other_managers < 1:
        return Proposal(RemovalAction.NONE, barrier=LAST_MANAGER)
    if facts.removable_by != "practice":
        return Proposal(RemovalAction.ASK_CLIENT)
    return Proposal(RemovalAction.REMOVE)
