"""Signing in with password and TOTP, the same way on every portal.

Every portal's sign-in is the same walk with its own words: (for identifier-first
portals, the email on a page of its own), the password, then an authenticator code;
a wrong password or code shows a known sentence, success lands on a known page. A
portal describes its pages as a ``SignInPages``; ``sign_in`` walks them.

A refused password raises a ``SignInFailure``, which is never retried: a wrong
password retried would lock the login. A refused code is tried once more, with the
code of a step no sign-in has used: a code is refused when it was used already (by
a person signing in by hand with the same authenticator, or by a step whose answer
a fault swallowed after the portal had accepted it), and wrong codes never lock a
login. Only a second refusal is ``mfa_failed``. Every code comes from
``totp.fresh_code`` with the login's step claim (``Credentials.claim_step``), so no
two sign-ins, in this process or another, send the same one. Transient faults (5xx,
timeouts) raise the transient failures of ``forms``, and the crawler retries the
whole walk with a fresh code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.capture import Credentials, LoginRejected, MfaRejected
from agent.scrapers import forms
from agent.scrapers.pages import close_page, keep_for_reading
from agent.scrapers.timeouts import answered_within
from agent.scrapers.totp import NoFreshStep, fresh_code

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

#: codes sent in one walk at most: the first, and one of a fresh step if it is refused
CODE_TRIES = 2


@dataclass(frozen=True, slots=True)
class SignInPages:
    """A portal's sign-in pages, by their labels, buttons and sentences."""

    path: str
    email_label: str
    password_label: str
    password_button: str
    wrong_password: str
    code_label: str
    code_button: str
    #: where a signed-in login lands: a fragment of its URL
    landing: str
    #: what the code page says to a code it refused
    wrong_code: str
    #: identifier-first portals ask for the email on a page of its own, with this button
    identifier_button: str | None = None


async def sign_in(
    context: BrowserContext,
    credentials: Credentials,
    pages: SignInPages,
    *,
    on_failure: Callable[[Page], Awaitable[None]] | None = None,
) -> None:
    """Walk the sign-in pages. ``on_failure`` sees the page as the walk left it, before
    it is closed (``portal check`` reports what the portal showed instead)."""
    # a desktop-sized page: in a reading page's shallow viewport every click waits
    # for scrolling, a second a step
    page = await answered_within(context.new_page(), "a new page")
    try:
        await forms.goto(page, f"{credentials.base_url}{pages.path}")
        if pages.identifier_button:
            await forms.submit(
                page, {pages.email_label: credentials.email}, pages.identifier_button
            )
            await forms.outcome(
                page,
                {"password": forms.label_visible(page, pages.password_label)},
                what="the email",
            )
            fields = {pages.password_label: credentials.password}
        else:
            fields = {
                pages.email_label: credentials.email,
                pages.password_label: credentials.password,
            }
        await forms.submit(page, fields, pages.password_button)
        step = await forms.outcome(
            page,
            {
                "wrong": forms.visible(page, pages.wrong_password),
                "mfa": forms.label_visible(page, pages.code_label),
            },
            what="the password",
        )
        if step == "wrong":
            raise LoginRejected("the portal refused the email or password")
        await _send_code(page, credentials, pages)
        # leave the portal's page, and whatever its scripts would still do, behind
        await page.goto("about:blank")
    except BaseException:
        if on_failure is not None:
            with contextlib.suppress(Exception):
                await on_failure(page)
        await close_page(page)
        raise
    # the crawl's first page read then needs no new page (opening one costs 0.15-0.3 s)
    await keep_for_reading(context, page)


async def _send_code(page: Page, credentials: Credentials, pages: SignInPages) -> None:
    """Send a code of an unused step; once more with a fresh step if it is refused."""
    for attempt in range(1, CODE_TRIES + 1):
        try:
            code = await fresh_code(credentials.totp_secret, credentials.claim_step)
        except NoFreshStep as exc:
            raise MfaRejected(f"no unused authenticator code: {exc}") from exc
        await forms.submit(page, {pages.code_label: code}, pages.code_button)
        done = await forms.outcome(
            page,
            {
                "wrong": forms.visible(page, pages.wrong_code),
                "in": forms.url_has(page, pages.landing),
            },
            what="the authenticator code",
        )
        if done == "in":
            return
        if attempt == CODE_TRIES:
            raise MfaRejected(
                f"the portal refused the authenticator code {CODE_TRIES} times, each of a "
                "step no other sign-in had used (is the TOTP secret the login's own?)"
            )
