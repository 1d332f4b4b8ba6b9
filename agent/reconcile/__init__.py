"""Reconciliation: who each captured user is, and what their access means.

Pure functions over plain data (``agent.reconcile.model``): no database, browser or
web code is imported here, so it can be tested exhaustively and run on a million
rows. Modules, one concept each:

* ``identity``: normalising addresses and names;
* ``names``: how alike two names are, which staff a name could be;
* ``correlate``: which person a captured user row is;
* ``roles``: the cross-portal role and permission taxonomy;
* ``classify``: the finding class of each (org, identity), by precedence;
* ``diff``: what changed between two captures of the same orgs.
"""

from agent.reconcile.classify import (
    PracticeIndex,
    classify_all,
    classify_org,
    drifted,
    group_grants,
)
from agent.reconcile.correlate import (
    SUPPORT_DOMAINS,
    Correlator,
    Match,
    MatchedBy,
    MatchKind,
    support_vendor,
)
from agent.reconcile.diff import AccessChange, ChangeKind, diff_users
from agent.reconcile.identity import (
    NameKey,
    email_domain,
    fold_name,
    name_key,
    normalise_email,
    normalise_with,
)
from agent.reconcile.model import (
    Candidate,
    Classification,
    Grant,
    IdentityDecision,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
)
from agent.reconcile.names import NAME_MATCH_THRESHOLD, NameIndex, name_similarity
from agent.reconcile.roles import (
    Role,
    can_manage_users,
    extra_permission_codes,
    is_myob_user_type,
    myob_role_keys,
    permissions_of,
    role_of,
    same_role,
)

__all__ = [
    "NAME_MATCH_THRESHOLD",
    "SUPPORT_DOMAINS",
    "AccessChange",
    "Candidate",
    "ChangeKind",
    "Classification",
    "Correlator",
    "Grant",
    "IdentityDecision",
    "Match",
    "MatchKind",
    "MatchedBy",
    "NameIndex",
    "NameKey",
    "OrgFacts",
    "Practice",
    "PracticeIndex",
    "Role",
    "SeenUser",
    "StaffMember",
    "can_manage_users",
    "classify_all",
    "classify_org",
    "diff_users",
    "drifted",
    "email_domain",
    "extra_permission_codes",
    "fold_name",
    "group_grants",
    "is_myob_user_type",
    "myob_role_keys",
    "name_key",
    "name_similarity",
    "normalise_email",
    "normalise_with",
    "permissions_of",
    "role_of",
    "same_role",
    "support_vendor",
]
