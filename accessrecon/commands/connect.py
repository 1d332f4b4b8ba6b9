"""``accessrecon login connect ID``: a person signs an interactive login in.

A visible Chromium opens at the portal's sign-in page with the login's email filled
in; the person answers whatever the portal asks (password, a code it e-mailed or
texted, a push, single sign-on). Once the portal shows the login's org list, the
browser's state is kept encrypted for the crawls, the login no longer needs
sign-in, and the window closes (``agent.crawl.connect``). A time limit, a closed
window or an unknown login prints one line on stderr, exits 1 and changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from accessrecon.console import console
from agent.reports.words import moment
from agent.runtime import Runtime
from agent.security.logins import LoginSummary, SignInMethod


def session_state(row: LoginSummary) -> str:
    """What ``login list`` says of a login's sign-in: for one a person signs in, whether
    it needs them (and the command to run) or when they last connected it."""
    if row.method is SignInMethod.TOTP:
        return "signed in before" if row.has_session else "never signed in"
    if row.needs_sign_in_since is not None:
        return (
            f"needs sign-in since {moment(row.needs_sign_in_since)}: "
            f"run 'accessrecon login connect {row.id}'"
        )
    connected = f" {moment(row.connected_at)}" if row.connected_at else ""
    return f"interactive, connected{connected}"


def login_connect(
    login_id: Annotated[int, typer.Argument(help="the login's id ('accessrecon login list')")],
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            max=60,
            help="minutes to wait for the sign-in (default ACCESSRECON_LOGIN_CONNECT_TIMEOUT_S)",
        ),
    ] = None,
) -> None:
    """Open a browser window at the portal's sign-in page and sign the login in there."""
    from agent.crawl.connect import (  # loads Playwright
        check_display,
        connect_in_visible_browser,
        connect_target,
    )

    runtime = Runtime()
    timeout_s = timeout * 60 if timeout is not None else runtime.settings.login_connect_timeout_s
    target = connect_target(runtime.engine, login_id)
    check_display(login_id)
    console.print(
        f"opening a browser window at {target.sign_in_url}: sign in as {target.email} "
        f"there (waiting up to {timeout_s / 60:g} minutes)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    connected = asyncio.run(connect_in_visible_browser(runtime, login_id, timeout_s=timeout_s))
    console.print(
        f"login {connected.login_id} connected: {connected.portal} {connected.email}; "
        "scans now use this sign-in until the portal asks again",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
