"""Reconciliation: who each captured user is, and what their access means.

Pure functions over plain data (``agent.reconcile.model``): no database, browser or
web code is imported here, so it can be tested exhaustively and run on a million
rows.
"""

from agent.reconcile.classify import PracticeIndex, classify_all, classify_org
from agent.reconcile.identity import email_domain, fold_name, normalise_email
from agent.reconcile.model import (
    Classification,
    Grant,
    OrgFacts,
    Practice,
    SeenUser,
    StaffMember,
)
from agent.reconcile.roles import Role, extra_permission_codes, role_of, same_role

__all__ = [
    "Classification",
    "Grant",
    "OrgFacts",
    "Practice",
    "PracticeIndex",
    "Role",
    "SeenUser",
    "StaffMember",
    "classify_all",
    "classify_org",
    "email_domain",
    "extra_permission_codes",
    "fold_name",
    "normalise_email",
    "role_of",
    "same_role",
]
