"""The yardstick: a bare HTTP client removing the same users, nothing checked after.

It holds a session signed in beforehand (its cookies), and per org fetches the page
that carries the CSRF token and sends each removal as the portal's page would: no
plan, no approval, no reading the org before or after, no database. That is the
most the portals can serve; the product's run is held to a fraction of it.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import httpx

from sandbox.world import WorldOrg

_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')
_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass(frozen=True)
class Rate:
    removals: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.removals / self.seconds if self.seconds else 0.0


async def remove_bare(
    portal: str,
    base_url: str,
    cookies: list[dict[str, object]],
    targets: dict[str, list[str]],
    slots: asyncio.Semaphore,
) -> Rate:
    """Remove ``targets`` (org id to user ids) from one portal, at most ``slots`` orgs at
    a time (shared across portals, as the product's run shares its requests)."""
    jar = httpx.Cookies()
    for cookie in cookies:
        jar.set(str(cookie["name"]), str(cookie["value"]), domain=str(cookie["domain"]))
    async with httpx.AsyncClient(base_url=base_url, cookies=jar, timeout=30) as client:

        async def one_org(org_id: str, user_ids: list[str]) -> int:
            async with slots:
                done = 0
                if portal == "qbo":
                    for user_id in user_ids:
                        path = f"/app/company/{org_id}/manageusers/{user_id}/delete"
                        page = await client.get(path)
                        page.raise_for_status()
                        token = _FIELD.search(page.text)
                        assert token, f"no csrf_token on {path}"
                        answer = await client.post(path, data={"csrf_token": token.group(1)})
                        done += answer.status_code == 303
                    return done
                page_path = (
                    f"/app/{org_id}/settings/users"
                    if portal == "xero"
                    else f"/business/{org_id}/users"
                )
                page = await client.get(page_path)
                page.raise_for_status()
                token = _META.search(page.text)
                assert token, f"no csrf-token on {page_path}"
                headers = {"X-CSRF-Token": token.group(1), "Accept": "application/json"}
                for user_id in user_ids:
                    if portal == "xero":
                        answer = await client.post(
                            f"/api/orgs/{org_id}/users/{user_id}/remove", headers=headers
                        )
                        done += answer.status_code == 200
                    else:
                        answer = await client.delete(
                            f"/api/businesses/{org_id}/users/{user_id}", headers=headers
                        )
                        done += answer.status_code == 204
                return done

        started = time.perf_counter()
        counts = await asyncio.gather(*(one_org(o, u) for o, u in targets.items()))
        elapsed = time.perf_counter() - started
    return Rate(sum(counts), elapsed)


def targets_of(orgs: list[WorldOrg], emails: set[str]) -> dict[str, list[str]]:
    """Org id to the user ids of ``emails`` in it (the users a plan would remove)."""
    found: dict[str, list[str]] = {}
    for org in orgs:
        ids = [u.user_id for u in org.users if u.email.lower() in emails]
        if ids:
            found[org.org_id] = ids
    return found
