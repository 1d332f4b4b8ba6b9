"""Worlds of many logins: each login a user of its own orgs only.

A generated world has one agent login per portal; a deployment that needs several
workers has many logins, each a crawl of its own. ``split_world`` gives each of
``logins`` xero logins its own ``orgs_per_login`` orgs, so the portal lists each
login those orgs and no others (used by the distributed-worker tests and
``bench/scale``).
"""

from __future__ import annotations

import pyotp

from sandbox.generate import generate_world
from sandbox.world import World, WorldLogin


def split_world(
    seed: int,
    *,
    logins: int,
    orgs_per_login: int,
    users: int,
    staff: int = 40,
    login_role: tuple[str, list[str]] | None = None,
) -> World:
    """One xero portal where each of ``logins`` logins sees its own ``orgs_per_login``
    orgs; ``login_role`` (role, extra permissions) is each login's in its orgs, where
    given, else the generated agent's."""
    world = generate_world(
        seed,
        staff=staff,
        orgs_per_portal=logins * orgs_per_login,
        users_per_org=users,
        portals=("xero",),
    )
    (agent,) = world.logins
    domain = agent.email.partition("@")[2]
    world.logins = [
        WorldLogin(
            portal="xero",
            email=f"accessrecon.xero.{n}@{domain}",
            password=f"Pa55-login-{n}!",
            totp_secret=pyotp.random_base32(),
        )
        for n in range(logins)
    ]
    for index, org in enumerate(world.orgs):
        owner = world.logins[index // orgs_per_login]
        for user in org.users:
            if user.email == agent.email:
                user.email = owner.email
                if login_role is not None:
                    user.role, user.extra_permissions = login_role[0], list(login_role[1])
    return world
