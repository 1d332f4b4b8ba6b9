"""The imitation QuickBooks Online's delete pages (SPEC.md, Removing a user, ``qbo``).

QBO has no JSON: a row's ``Delete {name}`` (Users) or ``Remove {name}`` (Accounting
firms) link opens a page asking to confirm, whose form posts back to the same address
and, done, redirects to the tab saying ``{name} was deleted`` (or ``removed``). A
refusal is that page's text with the status the JSON portals use, or their JSON body
for a request that asks for JSON. Who may remove whom is ``qbo.REMOVAL_RULES``,
handed in, so this module never imports the portal it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.portals import removal
from sandbox.portals.common import PortalRuntime, Session, esc, org_bar, read_form
from sandbox.portals.removal import Refusal, RemovalRules
from sandbox.world import WorldOrg, WorldUser

FIRMS_TAB = "firms"
DELETE_PATH = "/app/company/{realm_id}/manageusers/{user_id}/delete"
#: the query parameter of the tab a removal redirects to: whose removal to announce
DONE_PARAM = "removed"


def verbs(tab: str) -> tuple[str, str]:
    """The tab's words: the link and button (``Delete``) and the outcome (``deleted``)."""
    return ("Remove", "removed") if tab == FIRMS_TAB else ("Delete", "deleted")


def delete_href(org: WorldOrg, user: WorldUser) -> str:
    return DELETE_PATH.format(realm_id=org.org_id, user_id=user.user_id)


def action_link(org: WorldOrg, user: WorldUser, tab: str) -> str:
    """The ``Action`` cell's link of a removable row."""
    return f'<a href="{esc(delete_href(org, user))}">{verbs(tab)[0]} {esc(user.name)}</a>'


def tab_href(org: WorldOrg, tab: str, done: WorldUser | None = None) -> str:
    query = {"tab": tab, **({DONE_PARAM: done.user_id} if done is not None else {})}
    return f"/app/company/{org.org_id}/manageusers?{urlencode(query)}"


def done_notice(rt: PortalRuntime, org: WorldOrg, tab: str, user_id: str | None) -> str:
    """``{name} was deleted`` on the tab a removal redirected to, when the org's history
    holds that removal; else nothing (a made-up address announces no one)."""
    entry = rt.removals.find(org.org_id, user_id) if user_id else None
    if entry is None:
        return ""
    return f'<p class="notice" role="status">{esc(entry.name)} was {verbs(tab)[1]}</p>'


class QboRemovalPages:
    """The delete page and its form's answer, over one runtime and the portal's rules."""

    def __init__(
        self, rt: PortalRuntime, rules: RemovalRules, tab_of: Callable[[WorldUser], str]
    ) -> None:
        self.rt = rt
        self.rules = rules
        self.tab_of = tab_of

    def routes(self) -> list[Route]:
        return [
            Route(DELETE_PATH, self.confirm, methods=["GET"]),
            Route(DELETE_PATH, self.delete, methods=["POST"]),
        ]

    def _signed_in(self, request: Request) -> tuple[Session, WorldOrg] | Response:
        """The session and the org it opens, or the answer for a request with neither."""
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        member = self.rt.directory.membership(session.login, request.path_params["realm_id"])
        if member is None:
            return self.rt.not_found(request)
        return session, member.org

    async def confirm(self, request: Request) -> Response:
        """``Delete {name}?`` with a form carrying the session's token, or the refusal."""
        found = self._signed_in(request)
        if isinstance(found, Response):
            return found
        session, org = found
        verdict = removal.judge(
            self.rt,
            session,
            org.org_id,
            request.path_params["user_id"],
            self.rules,
            check_token=False,
        )
        if isinstance(verdict, Refusal):
            return removal.refuse(self.rt, request, verdict, org)
        _, user = verdict
        tab = self.tab_of(user)
        verb = verbs(tab)[0]
        token = self.rt.csrf_token(session)
        body = (
            f"{org_bar(org)}"
            f'<main id="remove-user" data-org-id="{esc(org.org_id)}"'
            f' data-user-id="{esc(user.user_id)}">'
            f"<h2>{verb} {esc(user.name)}?</h2>"
            f"<p>{esc(user.name)} ({esc(user.email)}) will no longer have access to"
            f" {esc(org.name)}.</p>"
            f'<form method="post" action="{esc(delete_href(org, user))}" accept-charset="utf-8">'
            f'<input type="hidden" name="{removal.CSRF_FIELD}" value="{esc(token)}">'
            f'<button type="submit">{verb}</button></form>'
            f'<p><a href="{esc(tab_href(org, tab))}">Cancel</a></p></main>'
        )
        return self.rt.page(
            f"{verb} {user.name}? | QuickBooks",
            body,
            head=f'<meta name="csrf-token" content="{esc(token)}">',
        )

    async def delete(self, request: Request) -> Response:
        """Carry the removal out and go back to the tab (303), or answer the refusal."""
        form = await read_form(request)
        found = self._signed_in(request)
        if isinstance(found, Response):
            return found
        session, org = found
        outcome = removal.remove(
            self.rt,
            session,
            org.org_id,
            request.path_params["user_id"],
            self.rules,
            removal.token_of(request, form),
        )
        if isinstance(outcome, Refusal):
            return removal.refuse(self.rt, request, outcome, org)
        return RedirectResponse(tab_href(org, self.tab_of(outcome), outcome), status_code=303)
