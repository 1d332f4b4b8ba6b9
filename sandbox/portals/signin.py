"""The sign-in pages the imitation portals share: email and password, then a code.

Every portal asks for an authenticator code on a page of its own after the
password; Xero and MYOB ask for email and password together on one page (QBO asks
for the email first, on a page it builds itself). The pages differ only in their
words, so each portal describes them and these routes serve them. A login that
signs in by e-mailed code gets the same page and button, asking for the code it was
just sent instead (``email_codes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.portals.common import (
    WRONG_CODE,
    PasswordCheck,
    PortalRuntime,
    esc,
    read_form,
    sign_in_form,
)
from sandbox.portals.email_codes import CODE_VALID_S
from sandbox.world import MFA_EMAIL, WorldLogin

EMAILED_CODE_LABEL = "Code we emailed you"


@dataclass(frozen=True, slots=True)
class CodePage:
    path: str
    title: str
    heading: str
    label: str
    button: str
    intro: str = ""


@dataclass(frozen=True, slots=True)
class PasswordPage:
    path: str
    title: str
    heading: str
    email_label: str
    button: str
    refused: str


class CodeStep:
    """The authenticator-code page, once a password has been accepted."""

    def __init__(self, rt: PortalRuntime, page: CodePage, *, restart_path: str) -> None:
        self.rt = rt
        self.page = page
        self.restart_path = restart_path

    def routes(self) -> list[Route]:
        return [
            Route(self.page.path, self.form, methods=["GET"]),
            Route(self.page.path, self.submit, methods=["POST"]),
        ]

    def render(self, login: WorldLogin, error: str | None = None) -> Response:
        label, intro = self.page.label, self.page.intro
        if login.mfa == MFA_EMAIL:
            label = EMAILED_CODE_LABEL
            intro = (
                f"<p>We emailed a 6-digit code to <strong>{esc(login.email)}</strong>."
                f" It can be used once, within {CODE_VALID_S // 60} minutes.</p>"
            )
        body = sign_in_form(
            action=self.page.path,
            heading=self.page.heading,
            intro=intro,
            fields=[("code", label, "code", "")],
            button=self.page.button,
            error=error,
        )
        return self.rt.page(self.page.title, body)

    async def form(self, request: Request) -> Response:
        pending = self.rt.pending(request)
        if pending is None or pending.login is None:
            return RedirectResponse(self.restart_path, status_code=302)
        self.rt.send_code_once(pending)
        return self.render(pending.login)

    async def submit(self, request: Request) -> Response:
        pending = self.rt.pending(request)
        if pending is None or pending.login is None:
            return RedirectResponse(self.restart_path, status_code=303)
        form = await read_form(request)
        if not self.rt.verify_code(pending.login, form.get("code", "")):
            return self.render(pending.login, WRONG_CODE)
        return self.rt.finish_sign_in(request, pending)


class PasswordThenCode:
    """Email and password on one page, then the code page."""

    def __init__(self, rt: PortalRuntime, password: PasswordPage, code: CodePage) -> None:
        self.rt = rt
        self.password = password
        self.code = CodeStep(rt, code, restart_path=password.path)

    def routes(self) -> list[Route]:
        return [
            Route(self.password.path, self.form, methods=["GET"]),
            Route(self.password.path, self.submit, methods=["POST"]),
            *self.code.routes(),
        ]

    def render(
        self, next_url: str | None, *, email: str = "", error: str | None = None
    ) -> Response:
        body = sign_in_form(
            action=self.password.path,
            heading=self.password.heading,
            fields=[
                ("email", self.password.email_label, "text", email),
                ("password", "Password", "password", ""),
            ],
            button=self.password.button,
            error=error,
            next_url=next_url,
        )
        return self.rt.page(self.password.title, body)

    async def form(self, request: Request) -> Response:
        return self.render(self.rt.safe_next(request.query_params.get("next"), request))

    async def submit(self, request: Request) -> Response:
        form = await read_form(request)
        email = form.get("email", "")
        raw_next = form.get("next") or request.query_params.get("next")
        next_url = self.rt.safe_next(raw_next, request)
        outcome, login = self.rt.check_password(email, form.get("password", ""))
        if outcome is PasswordCheck.LOCKED:
            return self.rt.locked()
        if outcome is PasswordCheck.WRONG or login is None:
            return self.render(next_url, email=email, error=self.password.refused)
        response = RedirectResponse(self.code.page.path, status_code=303)
        self.rt.begin_sign_in(request, response, next_url=next_url, login=login)
        return response
