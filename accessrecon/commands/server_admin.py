"""``accessrecon pair``, ``tokens``, ``users`` and ``rotate-key``: who may use the local API.

* ``users add NAME --role ROLE --scope SCOPE`` creates an API user (the first should
  be a practice admin with all clients); ``users list`` and ``users remove``.
* ``pair [--user NAME]`` shows a one-time code (valid 5 minutes) to type into the
  extension, which exchanges it for a bearer token.
* ``tokens list`` shows tokens by id and label (never their value, which is not
  stored); ``tokens revoke ID`` ends one at once.
* ``rotate-key`` re-encrypts every stored secret with a new key.

Each change is written to the audit log with the actor ``cli:<login name>``. Errors
are ``ValueError`` or ``SecretKeyError``: the command line prints them on one line
and exits 1.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import col, select

from agent.imports import PracticeRole
from agent.reports.words import moment
from agent.runtime import Runtime
from agent.security.key_rotation import rotate_secret_key
from agent.security.pairing import CODE_TTL, format_code, issue_pairing_code
from agent.security.principal import AuthError, ClientScope
from agent.security.scope import clients_by_external_id
from agent.security.tokens import list_tokens, revoke_token
from agent.security.users import add_user, find_user, list_users, remove_user
from agent.storage.db import session_scope
from agent.storage.models import AppUser

console = Console()

users_app = typer.Typer(
    help="The people who may use the local API, with role and client scope.", no_args_is_help=True
)
tokens_app = typer.Typer(
    help="API tokens obtained by pairing: list and revoke.", no_args_is_help=True
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _runtime() -> Runtime:
    return Runtime()


def pair(
    user: Annotated[
        str | None,
        typer.Option("--user", "-u", help="the user (name or id); optional when there is only one"),
    ] = None,
) -> None:
    """Show a one-time code to pair the browser extension (or another client) with a user."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        if user is None:
            users = list(session.exec(select(AppUser).order_by(col(AppUser.name))))
            if not users:
                raise AuthError(
                    "there are no API users yet: add one with 'accessrecon users "
                    "add NAME --role practice_admin --scope all'"
                )
            if len(users) > 1:
                names = ", ".join(u.name for u in users)
                raise AuthError(f"say which user to pair with --user (one of: {names})")
            target = users[0]
        else:
            target = find_user(session, user)
        assert target.id is not None
        issued = issue_pairing_code(session, user_id=target.id, actor=_actor())
    minutes = int(CODE_TTL.total_seconds() // 60)
    console.print(f"Pairing code for {issued.user_name}: [bold]{format_code(issued.code)}[/]")
    console.print(
        f"Type it into the extension within {minutes} minutes "
        f"(until {issued.expires_at:%H:%M:%S} UTC). It works once."
    )


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="the person's name, as client managers are named")],
    role: Annotated[PracticeRole, typer.Option(help="what the person does in the practice")],
    scope: Annotated[
        ClientScope,
        typer.Option(help="all clients, selected clients (--client), or the clients they manage"),
    ],
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client", help="a client id from the client list; repeat for each (selected scope)"
        ),
    ] = None,
    staff: Annotated[
        str | None,
        typer.Option(
            help="the staff member this user is (email, name or id): their name also counts "
            "as a client manager name"
        ),
    ] = None,
) -> None:
    """Add an API user."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        ids = clients_by_external_id(session, client) if client else []
        summary = add_user(
            session, name=name, role=role, scope=scope, client_ids=ids, staff=staff, actor=_actor()
        )
    console.print(
        f"user {summary.id} added: {summary.name} ({summary.role}, "
        f"{summary.scope} clients). Pair a client with 'accessrecon pair "
        f"--user {summary.id}'.",
        markup=False,
    )


@users_app.command("list")
def users_list() -> None:
    """List the API users."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        rows = list_users(session)
    if not rows:
        console.print("no API users yet: add one with 'accessrecon users add'", markup=False)
    for u in rows:
        scope = u.scope.value + (f" ({len(u.client_ids)} clients)" if u.client_ids else "")
        staff = f"\tstaff: {u.staff_name}" if u.staff_name else ""
        console.print(
            f"{u.id}\t{u.name}\t{u.role.value}\t{scope}\t{u.active_tokens} tokens{staff}",
            markup=False,
            highlight=False,
        )


@users_app.command("remove")
def users_remove(user: Annotated[str, typer.Argument(help="the user's name or id")]) -> None:
    """Remove a user; their tokens stop working at once."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        target = find_user(session, user)
        assert target.id is not None
        remove_user(session, target.id, actor=_actor())
    console.print(f"user {target.name} removed", markup=False)


@tokens_app.command("list")
def tokens_list(
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="only this user's tokens (name or id)")
    ] = None,
    revoked: Annotated[bool, typer.Option(help="include revoked tokens")] = False,
) -> None:
    """List tokens by id and label (their values are not stored, so cannot be shown)."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        user_id = find_user(session, user).id if user else None
        rows = list_tokens(session, user_id=user_id)
    shown = [t for t in rows if revoked or t.revoked_at is None]
    if not shown:
        console.print("no tokens", markup=False)
    for t in shown:
        state = f"revoked {moment(t.revoked_at)}" if t.revoked_at else "active"
        console.print(
            f"{t.id}\t{t.user_name}\t{t.label or '-'}\tcreated {moment(t.created_at)}\t{state}",
            markup=False,
            highlight=False,
        )


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="the token's id")]) -> None:
    """Revoke a token: the next request with it is refused."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        token = revoke_token(session, token_id, actor=_actor())
    console.print(
        f"token {token.id} ({token.user_name}, {token.label or 'no label'}) revoked", markup=False
    )


def rotate_key() -> None:
    """Re-encrypt every stored secret with a new key; stop the server and worker first."""
    runtime = _runtime()
    report = rotate_secret_key(
        runtime.engine,
        env_key=runtime.settings.secret_key,
        key_file=runtime.settings.key_file,
        actor=_actor(),
    )
    if report.secrets:
        console.print(
            f"{report.secrets} secrets re-encrypted with a new key in {report.location}",
            markup=False,
        )
    if report.instruction:
        console.print(report.instruction, markup=False)


__all__ = ["pair", "rotate_key", "tokens_app", "users_app"]
