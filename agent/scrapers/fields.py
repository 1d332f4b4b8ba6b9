"""Turning what a portal shows into a ``PortalUser``, field by field, the same for every
portal and every reader.

A reader (JSON or pages) finds each field's raw value where its recipe says; this
module decides what the value means by the field it fills, never by the portal:
a status is looked up in the recipe's status values, a list of permissions must be
a list, a subscriber flag a boolean, a time ISO 8601. A value that cannot mean what
the field needs is a changed layout (never a user without permissions or an org
without a status), and the message names the recipe key to look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent.capture import LayoutChanged, PortalUser
from agent.domain import AccessStatus
from agent.scrapers.recipe import Values

#: a field the reader found no key or element for (an optional one: unknown)
MISSING: Any = object()


def status_of(raw: object, values: Values, where: str) -> AccessStatus:
    """The access status a portal's status value stands for (case does not matter)."""
    wanted = str(raw).strip().casefold()
    for text, status in values.status.items():
        if text.casefold() == wanted:
            return status
    raise LayoutChanged(
        f"unknown status {raw!r} ({where}; values.status knows {', '.join(values.status)})"
    )


def build_user(raw: Mapping[str, Any], values: Values, where: str) -> PortalUser:
    """A user from each field's raw value, ``MISSING`` for a field not given.

    ``where`` names the recipe key the values came from, for the messages.
    """

    def text(name: str) -> str:
        value = raw.get(name, MISSING)
        if value is MISSING or value is None:
            return ""
        if isinstance(value, dict | list):
            raise LayoutChanged(f"{name} is {type(value).__name__}, not text ({where}.{name})")
        return str(value).strip()

    extras = raw.get("extra_permissions", MISSING)
    if extras is MISSING or extras is None:
        permissions: tuple[str, ...] = ()
    elif isinstance(extras, list):
        permissions = tuple(str(p) for p in extras)
    else:
        raise LayoutChanged(f"extra_permissions is not a list ({where}.extra_permissions)")
    subscriber = raw.get("subscriber", MISSING)
    if subscriber is MISSING:
        subscriber = False
    elif not isinstance(subscriber, bool):
        raise LayoutChanged(f"subscriber is {subscriber!r}, not true or false ({where}.subscriber)")
    if "status" not in raw:
        raise LayoutChanged(f"a user has no status ({where}.status)")
    return PortalUser(
        email=text("email"),
        name=text("name"),
        role=text("role"),
        status=status_of(raw["status"], values, f"{where}.status"),
        extra_permissions=permissions,
        last_login=_time(raw.get("last_login")),
        kind=text("kind") or None,
        portal_user_id=_user_id(raw.get("portal_user_id")),
        subscriber=subscriber,
        firm=text("firm") or None,
        added_by_owner=_added_by(raw.get("added_by_owner", MISSING), values, where),
    )


def _added_by(raw: object, values: Values, where: str) -> bool | None:
    """Whether the business owner added the entry; ``None`` when the portal did not say."""
    if raw is MISSING or raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw in values.added_by_owner:
        return values.added_by_owner[raw]
    raise LayoutChanged(f"unknown added_by_owner value {raw!r} ({where}.added_by_owner)")


def _user_id(raw: object) -> str | None:
    """The portal's id for a user, as text; ``None`` when it gives none."""
    if raw is MISSING or raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    return str(raw).strip() or None


def _time(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
