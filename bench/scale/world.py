"""The benchmark's worlds: many logins with orgs of their own, or one login with many.

A generated world has one login per portal; a deployment that needs several workers
has many logins, each a crawl of its own. ``split_world`` gives each of ``logins``
xero logins its own ``orgs_per_login`` orgs (the login is a user of those orgs only,
so the portal lists it those and no others).
"""

from __future__ import annotations

import pyotp

from sandbox.generate import generate_world
from sandbox.world import World, WorldLogin


def split_world(seed: int, *, logins: int, orgs_per_login: int, users: int) -> World:
    """One xero portal where each of ``logins`` logins sees its own ``orgs_per_login`` orgs."""
    world = generate_world(
        seed,
        staff=40,
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
    return world


def one_login_world(seed: int, *, orgs: int, users: int) -> World:
    """One xero login with ``orgs`` orgs."""
    return generate_world(
        seed, staff=40, orgs_per_portal=orgs, users_per_org=users, portals=("xero",)
    )
