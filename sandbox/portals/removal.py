"""Removing a user, the part the three portals share (SPEC.md, "Removing a user").

Each portal says who may remove whom (its ``RemovalRules``) and how the page asks;
the judgement, its order and the change to the world happen here, once:

1. a viewer who may remove nobody: ``403 no_permission``;
2. a token the portal did not issue to this session: ``403 csrf``;
3. a user no longer in the org: ``404 not_found`` (so a repeated removal says so);
4. a user outside the viewer's reach (qbo's tabs and firms): ``403 no_permission``;
5. the viewer itself: ``409 self``; a protected user: the portal's own refusal.

The world is shared by every request of the app (and by other apps over the same
world), so a removal decides and changes it under one lock, with no ``await`` in
between: a second removal of the same user finds it gone, never half removed. The
org's user list is replaced, not changed in place, so a page being drawn from it
meanwhile sees it whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from sandbox.portals.common import (
    Membership,
    PortalRuntime,
    Session,
    esc,
    fold,
    json_error,
    org_bar,
    wants_json,
)
from sandbox.portals.history import RemovalRecord
from sandbox.world import WorldOrg, WorldUser

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
NO_MANAGE_PERMISSION = "You don't have permission to manage users"

_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A removal the portal will not carry out: the JSON error, its status, the page text."""

    error: str
    status: int
    text: str


NO_PERMISSION = Refusal("no_permission", 403, NO_MANAGE_PERMISSION)
CSRF = Refusal("csrf", 403, "This page has expired. Go back, refresh it and try again.")
NOT_FOUND = Refusal("not_found", 404, "This user is no longer here.")
SELF = Refusal("self", 409, "You can't remove yourself")
SUBSCRIBER = Refusal("subscriber", 409, "The subscriber can't be removed")
PRIMARY_ADMIN = Refusal("primary_admin", 409, "The primary admin can't be deleted")
OWNER_ONLY = Refusal("owner_only", 403, "Only the business owner can remove this advisor")


def _nobody_protected(user: WorldUser) -> Refusal | None:
    return None


def _anyone_within_reach(viewer: WorldUser, user: WorldUser) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class RemovalRules:
    """One portal's answer to SPEC's "who may remove" and "who can never be removed".

    ``may_remove``: whether the viewer may remove anyone at all (and is offered the
    controls); ``reaches``: whether it may remove this entry (qbo's tabs and firms);
    ``protected``: the refusal for a user nobody may remove, else ``None``.
    """

    may_remove: Callable[[WorldUser], bool]
    reaches: Callable[[WorldUser, WorldUser], bool] = _anyone_within_reach
    protected: Callable[[WorldUser], Refusal | None] = _nobody_protected


def is_self(viewer: WorldUser, user: WorldUser) -> bool:
    """The viewer's own row, or another row of the same login's email."""
    return user is viewer or fold(user.email) == fold(viewer.email)


def offers_removal(rules: RemovalRules, viewer: WorldUser, user: WorldUser) -> bool:
    """Whether ``user``'s row shows the viewer a remove control."""
    return (
        rules.may_remove(viewer)
        and rules.reaches(viewer, user)
        and not is_self(viewer, user)
        and rules.protected(user) is None
    )


def token_of(request: Request, form: dict[str, str] | None = None) -> str | None:
    """The CSRF token a removal came with: the header, else the form's hidden field."""
    return request.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD)


def _find(org: WorldOrg, user_id: str) -> WorldUser | None:
    return next((u for u in org.users if u.user_id == user_id), None)


def judge(
    rt: PortalRuntime,
    session: Session,
    org_id: str,
    user_id: str,
    rules: RemovalRules,
    *,
    token: str | None = None,
    check_token: bool = True,
) -> tuple[Membership, WorldUser] | Refusal:
    """What a removal of ``user_id`` would meet, in the module's order; nothing changes.

    ``check_token=False`` judges a page that only asks to confirm (qbo's delete page).
    """
    member = rt.directory.membership(session.login, org_id)
    if member is None:
        return NOT_FOUND
    viewer = member.viewer
    if not rules.may_remove(viewer):
        return NO_PERMISSION
    if check_token and not rt.csrf_valid(session, token):
        return CSRF
    user = _find(member.org, user_id)
    if user is None:
        return NOT_FOUND
    if not rules.reaches(viewer, user):
        return NO_PERMISSION
    if is_self(viewer, user):
        return SELF
    return rules.protected(user) or (member, user)


def remove(
    rt: PortalRuntime,
    session: Session,
    org_id: str,
    user_id: str,
    rules: RemovalRules,
    token: str | None,
) -> WorldUser | Refusal:
    """Judge a removal and, when it may go ahead, carry it out: the user leaves the org's
    list (so its count and JSON) and the org's history gains the entry."""
    with _LOCK:
        verdict = judge(rt, session, org_id, user_id, rules, token=token)
        if verdict is not CSRF:  # a request the portal would have acted on
            rt.removals.record_request(org_id, user_id)
        if isinstance(verdict, Refusal):
            return verdict
        member, user = verdict
        org = member.org
        org.users = [u for u in org.users if u is not user]
        rt.directory.forget(org, user)
        rt.removals.record(
            RemovalRecord(
                org_id=org.org_id,
                user_id=user.user_id,
                email=user.email,
                name=user.name,
                removed_by=session.login.email,
                at=rt.now(),
            )
        )
        return user


def refuse(rt: PortalRuntime, request: Request, refusal: Refusal, org: WorldOrg) -> Response:
    """A refusal as JSON for a request that asks for it, else as a page with its status."""
    if wants_json(request):
        return json_error(refusal.error, refusal.status)
    if refusal is NOT_FOUND:
        return rt.not_found(request)
    return rt.page(
        refusal.text,
        f'{org_bar(org)}<main data-org-id="{esc(org.org_id)}">'
        f'<p class="error" role="alert">{esc(refusal.text)}</p></main>',
        status=refusal.status,
    )
