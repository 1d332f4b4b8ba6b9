"""Reading a portal's own JSON, as its recipe describes it: the org list and the users.

The portal's web app reads this JSON to draw its pages; reading it with the
signed-in context's cookies (``http.get_json``) needs no rendered page. Only the keys
the recipe names are read; other keys are ignored. A key the recipe names that is
missing is a changed layout, and the message names the recipe key, so the person
fixing the recipe knows which line to change. The portal's own count is the
evidence: a list is complete when the rows read add up to it.

The parsing is kept apart from the fetching (``users_from_bodies``) so that a saved
answer can be read again offline with any recipe. A crawl whose remaining reads are
all JSON holds no page at all (``reads_only_json``): a page costs a renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent.capture import LayoutChanged, OrgRef, OrgUsers, PortalError, PortalUser
from agent.domain import Portal
from agent.orgid import parse_org_id
from agent.scrapers.fields import MISSING, build_user
from agent.scrapers.http import get_json
from agent.scrapers.recipe import JsonOrgs, JsonUsers, Recipe, Values, address

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


def reads_only_json(recipe: Recipe, listing: bool) -> bool:
    """Whether what is left of a crawl with ``recipe`` reads the portal's JSON alone,
    and so needs no page: its users, and its org list too while that is still to be
    read (``listing``)."""
    return isinstance(recipe.users, JsonUsers) and (
        not listing or isinstance(recipe.orgs, JsonOrgs)
    )


def lookup(body: Any, dotted: str) -> Any:
    """The value at a dotted key (``data.users``), or ``MISSING``."""
    value = body
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


async def read_orgs(
    context: BrowserContext, base_url: str, portal: Portal, spec: JsonOrgs
) -> list[OrgRef]:
    """Every org of the org list JSON (the portal lists every org in one answer)."""
    return orgs_from_body(await get_json(context, f"{base_url}{spec.path}"), portal, spec)


def orgs_from_body(body: Any, portal: Portal, spec: JsonOrgs) -> list[OrgRef]:
    rows = lookup(body, spec.rows)
    if not isinstance(rows, list):
        raise LayoutChanged(f"the org list JSON has no list at {spec.rows!r} (recipe orgs.rows)")
    orgs: list[OrgRef] = []
    for row in rows:
        raw_id, name = lookup(row, spec.id), lookup(row, spec.name)
        if not isinstance(raw_id, str):
            raise LayoutChanged(f"an org in the org list JSON has no {spec.id!r} (recipe orgs.id)")
        if not isinstance(name, str):
            raise LayoutChanged(
                f"an org in the org list JSON has no {spec.name!r} (recipe orgs.name)"
            )
        try:
            org_id = parse_org_id(portal, raw_id)
        except ValueError as exc:
            raise LayoutChanged(f"the org list JSON lists an id of another format: {exc}") from None
        role = lookup(row, spec.role) if spec.role else None
        orgs.append(OrgRef(portal, org_id, name, role if isinstance(role, str) else None))
    return orgs


async def read_users(
    context: BrowserContext, base_url: str, org: OrgRef, spec: JsonUsers, values: Values
) -> OrgUsers:
    """The org's users, page after page when the recipe's path has ``{page}``."""
    paged = "{page}" in spec.path
    bodies: list[Any] = []
    read = 0
    total: int | None = None
    for number in range(1, spec.max_pages + 1):
        url = address(base_url, spec.path, org=org.portal_org_id, page=number if paged else None)
        body = await get_json(context, url)
        rows, page_total = _page(body, spec, number if paged else None)
        bodies.append(body)
        if total is None:
            total = page_total
        elif page_total != total:
            raise PortalError(f"the total changed from {total} to {page_total} while reading")
        read += len(rows)
        if not paged or read >= total or not rows:
            break
    else:
        raise PortalError(f"the user list did not end after {spec.max_pages} pages")
    users = users_from_bodies(bodies, spec, values)
    assert total is not None
    if len(users) != total:
        raise PortalError(f"the users JSON says {total} users but lists {len(users)}")
    return OrgUsers(
        org=org, users=tuple(users), reported_total=total, evidence=f"JSON total {total}"
    )


def users_from_bodies(bodies: Sequence[Any], spec: JsonUsers, values: Values) -> list[PortalUser]:
    """Every user of the answers read (one, or one per page), by the recipe's keys."""
    users: list[PortalUser] = []
    for body in bodies:
        rows, _ = _page(body, spec, None)
        users.extend(_user(row, spec, values) for row in rows)
    return users


def _page(body: Any, spec: JsonUsers, number: int | None) -> tuple[list[Any], int]:
    rows = lookup(body, spec.rows)
    if not isinstance(rows, list):
        raise LayoutChanged(f"the users JSON has no list at {spec.rows!r} (recipe users.rows)")
    total = lookup(body, spec.total)
    if not isinstance(total, int) or isinstance(total, bool):
        raise LayoutChanged(f"the users JSON has no count at {spec.total!r} (recipe users.total)")
    if number is not None and spec.page is not None:
        echoed = lookup(body, spec.page)
        if echoed is not MISSING and echoed not in (number, None):
            raise PortalError(f"asked for page {number}, the portal answered page {echoed}")
    return rows, total


def _user(row: Any, spec: JsonUsers, values: Values) -> PortalUser:
    if not isinstance(row, dict):
        raise LayoutChanged("a user in the users JSON is not an object (recipe users.rows)")
    raw: dict[str, Any] = {}
    for field, keys in spec.fields.items():
        if isinstance(keys, list):
            parts = [lookup(row, key) for key in keys]
            absent = [key for key, part in zip(keys, parts, strict=True) if part is MISSING]
            if absent and field not in spec.optional:
                raise LayoutChanged(
                    f"a user in the users JSON has no {absent[0]!r} (recipe users.fields.{field})"
                )
            raw[field] = " ".join(str(p) for p in parts if p not in (MISSING, None, "")).strip()
            continue
        value = lookup(row, keys)
        if value is MISSING:
            if field in spec.optional:
                continue
            raise LayoutChanged(
                f"a user in the users JSON has no {keys!r} (recipe users.fields.{field})"
            )
        raw[field] = value
    return build_user(raw, values, "recipe users.fields")
