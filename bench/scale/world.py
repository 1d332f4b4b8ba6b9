"""The benchmark's worlds: many logins with orgs of their own (``sandbox.logins``), or
one login with many."""

from __future__ import annotations

from sandbox.generate import generate_world
from sandbox.logins import split_world
from sandbox.world import World

__all__ = ["one_login_world", "split_world"]


def one_login_world(seed: int, *, orgs: int, users: int) -> World:
    """One xero login with ``orgs`` orgs."""
    return generate_world(
        seed, staff=40, orgs_per_portal=orgs, users_per_org=users, portals=("xero",)
    )
