"""What every remover shares: the target, the answer, the CSRF token and the status rules.

A removal answers one of three ways: removed, not found (already gone: SPEC's 404),
or refused (403 no permission / CSRF / owner only, 409 self / subscriber / primary
admin), with the portal's reason. Everything else is a ``ScanFailure``: 401 or a
redirect to sign-in is an expired session, 429 is rate limited (with its
Retry-After), 5xx and broken answers are portal errors. A 5xx may come after the
portal carried the removal out, so the caller must read the org again before it
decides a removal failed; a remover never retries by itself.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from agent.capture import OrgRef, PortalError, RateLimited, SessionExpired
from agent.domain import Portal

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

#: ``<meta name="csrf-token" content="…">``, attributes in either order
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))""")


class Outcome(StrEnum):
    REMOVED = "removed"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Target:
    """The user to remove, as the org's last read showed them."""

    portal_user_id: str | None
    email: str
    name: str
    #: qbo's tab ("users" or "firms"); None elsewhere
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    #: the portal's own reason for a refusal ("no_permission", "csrf", "subscriber"…)
    reason: str = ""
    status: int = 0
    #: a CSRF token the remover read on its way (qbo's delete page), for the next one
    token: str = ""


class Remover(Protocol):
    @property
    def portal(self) -> Portal: ...

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        """The token a page offering removal in the org carries for this session; ""
        where the remover reads it on its own way (``Answer.token``)."""
        ...

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        """Send the removal as the portal's page does, with ``token``: SPEC ties a token
        to the session, so one read from any page serves every removal of that session;
        see the module docstring for the answers."""
        ...


def csrf_from_html(text: str, meta: str) -> str:
    """The page's ``<meta name=meta>`` content (the recipe's ``token_meta``), or "" when
    it carries none.

    A page without one offers this session no removal; the request is still sent
    (with no token), so that the portal's own answer says why: ``no_permission`` for
    a viewer who may not remove, ``csrf`` when the token should have been there.
    """
    for tag in _META.findall(text):
        attrs = {
            m.group(1).lower(): html.unescape(m.group(3) or m.group(4) or m.group(5) or "")
            for m in _ATTR.finditer(tag)
        }
        if attrs.get("name", "").lower() == meta.lower() and attrs.get("content"):
            return attrs["content"]
    return ""


def json_error(text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else ""


def judge(url: str, status: int, headers: dict[str, str], text: str, *, ok: set[int]) -> Answer:
    """The answer a removal request's status and body stand for, or its failure."""
    if status in ok:
        return Answer(Outcome.REMOVED, status=status)
    if status == 401 or 300 <= status < 400:
        raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
    if status == 404:
        return Answer(Outcome.NOT_FOUND, reason=json_error(text) or "not_found", status=status)
    if status in (403, 409):
        return Answer(
            Outcome.REFUSED, reason=json_error(text) or f"refused ({status})", status=status
        )
    if status == 429:
        retry = headers.get("retry-after")
        try:
            after = float(retry) if retry else None
        except ValueError:
            after = None
        raise RateLimited(f"{url} answered 429", retry_after=after)
    raise PortalError(f"{url} answered {status}")
