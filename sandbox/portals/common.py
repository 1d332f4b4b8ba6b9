"""What the three imitation portals share: settings, sign-in, sessions and chaos.

The sandbox portals exist so scrapers can be tried against behaviour the real ledger
portals show but that cannot be provoked there on demand: lockouts, spent TOTP codes,
rate limits, errors sent after the work was done, half-sent responses, sessions that
end mid-crawl. Each portal module only renders its own pages; everything a portal
does *around* its pages lives here, so the three behave alike wherever SPEC.md says
they do.

A running app reads its ``PortalSettings`` from ``app.state.settings`` on every
request, so a test turns chaos on and off without restarting the server::

    update_settings(app, error_rate=1.0)

The request path through one app, outermost first: ``JsonVariantMiddleware``
(unknown keys in every JSON when ``markup_variant`` is on), ``RateLimitMiddleware``
(every request spends the portal's budget), ``SessionMiddleware`` (cookie to session; every
request made with a session counts towards its expiry, even one that then fails),
``FaultMiddleware`` (latency, 5xx, hangs), then the portal's routes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import math
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pyotp
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders, State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.portals.email_codes import EmailCodes, outbox_route
from sandbox.portals.history import RemovalHistory
from sandbox.world import MFA_EMAIL, World, WorldLogin, WorldOrg, WorldUser

Clock = Callable[[], float]

#: scope keys under which ``SessionMiddleware`` leaves what it found for the routes
SESSION_SCOPE_KEY = "sandbox.session"
PENDING_SCOPE_KEY = "sandbox.pending_sign_in"

TOTP_STEP_S = 30
#: how long a half-finished sign-in (password given, code not yet) is remembered
PENDING_SIGN_IN_S = 600
MAX_FORM_BYTES = 64 * 1024

TOO_MANY_ATTEMPTS = "Too many attempts"
TOO_MANY_REQUESTS = "Too many requests"
WRONG_CODE = "That code is incorrect"
NO_PERMISSION = "You don't have permission to view users"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalSettings:
    """The knobs of one running portal; every field has SPEC.md's default.

    ``error_rate`` and ``timeout_rate`` are fractions of all requests;
    ``session_expiry_requests`` ends a session after that many requests made with it;
    ``rate_limit_per_s`` is one budget for the whole portal (``None``: unlimited);
    ``seed`` makes the fault dice repeatable (``None``: a fresh random seed).

    ``markup_variant`` renders what another portal following SPEC.md may show where
    SPEC leaves it open, so scrapers can be held to SPEC and nothing more: other
    page titles and headings, no company name on pages SPEC does not promise one,
    columns in another order and unknown keys in every JSON object. It changes no
    data and no text SPEC names. The remove controls of SPEC's "Removing a user" are
    there with or without it.
    """

    session_lifetime_s: float = 1800
    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    session_expiry_requests: int | None = None
    rate_limit_per_s: float | None = None
    layout_version: int = 1
    markup_variant: bool = False
    #: ``False``: pages offering removal carry no CSRF token (a broken deployment), so
    #: every removal is refused with ``csrf``; what a client must report, not retry
    csrf_in_pages: bool = True
    lockout_after: int = 5
    lockout_s: float = 900
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.error_rate + self.timeout_rate > 1.0:
            raise ValueError("error_rate + timeout_rate must not exceed 1")
        for name in ("session_lifetime_s", "latency_ms", "jitter_ms", "lockout_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.layout_version not in (1, 2):
            raise ValueError(f"layout_version must be 1 or 2, not {self.layout_version}")
        if self.lockout_after < 1:
            raise ValueError("lockout_after must be at least 1")
        if self.session_expiry_requests is not None and self.session_expiry_requests < 1:
            raise ValueError("session_expiry_requests must be at least 1")
        if self.rate_limit_per_s is not None and self.rate_limit_per_s <= 0:
            raise ValueError("rate_limit_per_s must be positive")


def update_settings(app: Starlette, **changes: Any) -> PortalSettings:
    """Change some settings of a running portal app; returns the new settings."""
    settings: PortalSettings = replace(app.state.settings, **changes)
    app.state.settings = settings
    return settings


def runtime_of(app: Starlette) -> PortalRuntime:
    """The ``PortalRuntime`` behind a portal app (its clock, sessions, lockouts)."""
    runtime: PortalRuntime = app.state.portal
    return runtime


# ------------------------------------------------------------------------ world view


def fold(email: str) -> str:
    """An email as the portals compare it: trimmed, case-insensitive."""
    return email.strip().casefold()


@dataclass(frozen=True, slots=True)
class Membership:
    """One org a login can open, with the login's own user row in it."""

    org: WorldOrg
    viewer: WorldUser


class PortalDirectory:
    """One portal's part of a world, indexed for sign-in and per-login visibility.

    The world is read once, when the app is made: a login sees exactly the orgs
    whose user list holds its email.
    """

    def __init__(self, world: World, portal: str, *, fold_org_ids: bool = False) -> None:
        self.portal = portal
        self._fold_ids = fold_org_ids
        self.orgs: list[WorldOrg] = world.orgs_of(portal)
        self._logins = {fold(lg.email): lg for lg in world.logins_of(portal)}
        self._orgs_by_id = {self._key(o.org_id): o for o in self.orgs}
        self._memberships: dict[str, list[Membership]] = {}
        for org in self.orgs:
            seen: set[str] = set()
            for user in org.users:
                email = fold(user.email)
                if email in self._logins and email not in seen:
                    seen.add(email)
                    self._memberships.setdefault(email, []).append(Membership(org, user))

    def _key(self, org_id: str) -> str:
        return org_id.lower() if self._fold_ids else org_id

    def login(self, email: str) -> WorldLogin | None:
        return self._logins.get(fold(email))

    def memberships(self, login: WorldLogin) -> list[Membership]:
        """The orgs ``login`` can open, in the world's order."""
        return list(self._memberships.get(fold(login.email), []))

    def forget(self, org: WorldOrg, user: WorldUser) -> None:
        """Follow a removal: a login whose row left ``org`` no longer opens it (unless
        another row of its email is still there).

        The list is replaced, never changed in place, so a request reading it meanwhile
        sees it whole, before or after.
        """
        email = fold(user.email)
        members = self._memberships.get(email)
        if not members:
            return
        still = next((u for u in org.users if fold(u.email) == email), None)
        kept = [m for m in members if m.org is not org]
        if still is not None:
            kept = [m if m.org is not org else Membership(org, still) for m in members]
        self._memberships[email] = kept

    def membership(self, login: WorldLogin, org_id: str) -> Membership | None:
        """The login's view of one org, or ``None`` when it is not a user there."""
        org = self._orgs_by_id.get(self._key(org_id))
        if org is None:
            return None
        for member in self._memberships.get(fold(login.email), []):
            if member.org is org:
                return member
        return None


# --------------------------------------------------------------------------- sign-in


class _Totp(pyotp.TOTP):
    """RFC 6238 as authenticator apps apply it: any secret length, even the classic 80 bits."""

    min_secret_length_bits = 0


class TotpGuard:
    """RFC 6238 codes (SHA-1, 6 digits, 30 s) with one step of drift, each usable once.

    A code that signed in is refused for as long as it would still be accepted, which
    covers its own 30 s step.
    """

    def __init__(self) -> None:
        self._used: dict[str, set[int]] = {}

    def verify(self, login: WorldLogin, code: str, now: float) -> bool:
        code = "".join(code.split())
        if len(code) != 6 or not code.isdigit():
            return False
        try:
            totp = _Totp(login.totp_secret)
        except ValueError:  # not base32: no code can match
            return False
        step = int(now // TOTP_STEP_S)
        used = self._used.setdefault(fold(login.email), set())
        used.difference_update({s for s in used if s < step - 2})
        for candidate in (step, step - 1, step + 1):
            if hmac.compare_digest(totp.generate_otp(candidate), code):
                if candidate in used:
                    return False
                used.add(candidate)
                return True
        return False


class Lockouts:
    """Consecutive wrong passwords per email; the ``lockout_after``-th one locks."""

    def __init__(self) -> None:
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def is_locked(self, email: str, now: float) -> bool:
        key = fold(email)
        until = self._locked_until.get(key)
        if until is None:
            return False
        if now < until:
            return True
        del self._locked_until[key]
        return False

    def record_failure(self, email: str, now: float, settings: PortalSettings) -> bool:
        """Count one wrong password; ``True`` when this answer locks the login."""
        key = fold(email)
        count = self._failures.get(key, 0) + 1
        if count >= settings.lockout_after:
            self._failures.pop(key, None)
            self._locked_until[key] = now + settings.lockout_s
            return True
        self._failures[key] = count
        return False

    def record_success(self, email: str) -> None:
        self._failures.pop(fold(email), None)


class PasswordCheck(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


# -------------------------------------------------------------------------- sessions


@dataclass(slots=True)
class Session:
    """A signed-in login. Its lifetime counts from sign-in; activity never extends it."""

    token: str
    login: WorldLogin
    signed_in_at: float
    requests: int = 0


@dataclass(slots=True)
class PendingSignIn:
    """A sign-in under way: the identifier given so far, the login once its password
    passed, and where to go afterwards."""

    token: str
    started_at: float
    next_url: str | None
    identifier: str | None = None
    login: WorldLogin | None = None
    #: an e-mailed code was sent for this sign-in (logins whose ``mfa`` is ``email``)
    code_sent: bool = False


class SessionStore:
    """Server-side sessions and half-finished sign-ins, both keyed by the cookie."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, PendingSignIn] = {}

    def begin(self, now: float, next_url: str | None, identifier: str | None) -> PendingSignIn:
        self._prune(now)
        pending = PendingSignIn(secrets.token_urlsafe(24), now, next_url, identifier)
        self._pending[pending.token] = pending
        return pending

    def pending(self, token: str, now: float) -> PendingSignIn | None:
        pending = self._pending.get(token)
        if pending is not None and now - pending.started_at > PENDING_SIGN_IN_S:
            del self._pending[token]
            return None
        return pending

    def sign_in(self, pending: PendingSignIn, now: float) -> Session:
        """Turn a sign-in whose password and code passed into a session (new token)."""
        if pending.login is None:
            raise ValueError("the password step has not passed")
        self._pending.pop(pending.token, None)
        session = Session(secrets.token_urlsafe(32), pending.login, now)
        self._sessions[session.token] = session
        return session

    def resolve(self, token: str, now: float, settings: PortalSettings) -> Session | None:
        """The valid session for ``token``, counting this request against its budget."""
        session = self._sessions.get(token)
        if session is None:
            return None
        if now - session.signed_in_at >= settings.session_lifetime_s:
            del self._sessions[token]
            return None
        session.requests += 1
        limit = settings.session_expiry_requests
        if limit is not None and session.requests > limit:
            del self._sessions[token]
            return None
        return session

    def _prune(self, now: float) -> None:
        if len(self._pending) > 1000:
            stale = [t for t, p in self._pending.items() if now - p.started_at > PENDING_SIGN_IN_S]
            for token in stale:
                del self._pending[token]


# -------------------------------------------------------------------------- rate limit


class TokenBucket:
    """One portal-wide budget of ``rate`` requests a second, bursting up to ``rate``."""

    def __init__(self) -> None:
        self._rate: float | None = None
        self._tokens = 0.0
        self._stamp = 0.0

    def take(self, now: float, rate: float) -> int | None:
        """Spend one request; ``None`` when allowed, else the seconds to wait."""
        capacity = max(1.0, rate)
        if rate != self._rate:
            self._rate, self._tokens, self._stamp = rate, capacity, now
        self._tokens = min(capacity, self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / rate))


# ------------------------------------------------------------------------------ HTML


def esc(value: object) -> str:
    """Any value as HTML text or attribute content."""
    return html.escape(str(value), quote=True)


def wants_json(request: Request) -> bool:
    """Whether a request is the portal's own API or asks for JSON rather than a page."""
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def json_error(error: str, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def rename_keys(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with every dict key found in ``names`` renamed, at any depth."""
    if isinstance(value, dict):
        return {names.get(k, k): rename_keys(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_keys(v, names) for v in value]
    return value


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (browsers send UTF-8 for a UTF-8 page)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    text = body.decode("utf-8", errors="replace")
    return dict(parse_qsl(text, keep_blank_values=True))


def page_range(total: int, page: int, size: int) -> tuple[int, int] | None:
    """The 0-based slice bounds of a 1-based ``page``; ``None`` past the last page."""
    last = max(1, math.ceil(total / size))
    if page < 1 or page > last:
        return None
    start = (page - 1) * size
    return start, min(total, start + size)


def parse_int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}<style>{css}</style>
</head>
<body class="portal-{portal}">
<div class="brand" aria-hidden="true">{brand}</div>
{body}
</body>
</html>
"""

_BASE_CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2633;background:#f4f6f8}
.brand{padding:.6rem 1.2rem;color:#fff;font-weight:600}
header.org-bar,main{margin:0 1.2rem}
main{background:#fff;padding:1rem 1.4rem;border-radius:6px;margin-top:1rem;max-width:70rem}
form label{display:block;margin:.8rem 0 .2rem}
form input{padding:.4rem;min-width:18rem}
button{margin-top:1rem;padding:.45rem 1.2rem;border:0;border-radius:4px;color:#fff}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #dde3ea;text-align:left;padding:.45rem .6rem;vertical-align:top}
.error{color:#b00020;font-weight:600}
.muted{color:#5d6b7a}
"""


# ------------------------------------------------------------------------- runtime


def _csrf_mac(session: Session, nonce: str) -> str:
    return hmac.new(session.token.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class PortalLook:
    """How one portal presents itself and where its sign-in lives."""

    portal: str
    brand: str
    accent: str
    login_path: str
    home_path: str
    sign_in_paths: tuple[str, ...]
    extra_css: str = ""


@dataclass(slots=True)
class PortalRuntime:
    """The live state of one portal app: its world view, sessions, lockouts, budget.

    ``clock`` may be replaced (tests move time to expire sessions, lockouts and TOTP
    steps); settings always come from ``state.settings`` at the time of the request.
    """

    look: PortalLook
    directory: PortalDirectory
    state: State
    clock: Clock = time.time
    sessions: SessionStore = field(default_factory=SessionStore)
    lockouts: Lockouts = field(default_factory=Lockouts)
    totp: TotpGuard = field(default_factory=TotpGuard)
    email_codes: EmailCodes = field(default_factory=EmailCodes)
    bucket: TokenBucket = field(default_factory=TokenBucket)
    removals: RemovalHistory = field(default_factory=RemovalHistory)

    @property
    def settings(self) -> PortalSettings:
        settings: PortalSettings = self.state.settings
        return settings

    def now(self) -> float:
        return self.clock()

    @property
    def variant(self) -> bool:
        """Whether pages and JSON are rendered in their SPEC-legal variant."""
        return self.settings.markup_variant

    def csrf_token(self, session: Session) -> str:
        """A fresh token tied to the session (a nonce and its MAC under the session's
        own token), as many web frameworks issue them: any page's token stays good for
        the whole session, and no other session's token is."""
        if not self.settings.csrf_in_pages:
            return ""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{_csrf_mac(session, nonce)}"

    def csrf_meta(self, session: Session) -> str:
        """SPEC's ``<meta name="csrf-token">``, as a page offering removal carries it."""
        if not self.settings.csrf_in_pages:
            return ""
        return f'<meta name="csrf-token" content="{self.csrf_token(session)}">'

    def csrf_valid(self, session: Session, token: str | None) -> bool:
        """Whether ``token`` is one this portal issued to ``session``."""
        nonce, dot, mac = (token or "").strip().partition(".")
        if not nonce or not dot:
            return False
        return hmac.compare_digest(mac.encode(), _csrf_mac(session, nonce).encode())

    def cookie_name(self, scope: Scope) -> str:
        """Portal- and port-specific, so portals sharing 127.0.0.1 never mix cookies."""
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 and server[1] else None
        return f"{self.look.portal}_session" + (f"_{port}" if port else "")

    # -- what SessionMiddleware found

    def session(self, request: Request) -> Session | None:
        session: Session | None = request.scope.get(SESSION_SCOPE_KEY)
        return session

    def pending(self, request: Request) -> PendingSignIn | None:
        pending: PendingSignIn | None = request.scope.get(PENDING_SCOPE_KEY)
        return pending

    # -- sign-in

    def check_password(self, email: str, password: str) -> tuple[PasswordCheck, WorldLogin | None]:
        """Judge one password answer, keeping count of wrong ones per email."""
        now = self.now()
        if self.lockouts.is_locked(email, now):
            return PasswordCheck.LOCKED, None
        login = self.directory.login(email)
        if login is not None and hmac.compare_digest(
            password.encode("utf-8"), login.password.encode("utf-8")
        ):
            self.lockouts.record_success(email)
            return PasswordCheck.OK, login
        if self.lockouts.record_failure(email, now, self.settings):
            return PasswordCheck.LOCKED, None
        return PasswordCheck.WRONG, None

    def verify_code(self, login: WorldLogin, code: str) -> bool:
        if login.mfa == MFA_EMAIL:
            return self.email_codes.verify(login.email, code, self.now())
        return self.totp.verify(login, code, self.now())

    def send_code_once(self, pending: PendingSignIn) -> None:
        """E-mail the sign-in its code, once, when its login signs in by e-mailed code."""
        login = pending.login
        if login is not None and login.mfa == MFA_EMAIL and not pending.code_sent:
            self.email_codes.send(login.email, self.now())
            pending.code_sent = True

    def begin_sign_in(
        self,
        request: Request,
        response: Response,
        *,
        next_url: str | None,
        identifier: str | None = None,
        login: WorldLogin | None = None,
    ) -> PendingSignIn:
        """Remember a sign-in under way and hand its cookie to the browser."""
        pending = self.sessions.begin(self.now(), next_url, identifier)
        pending.login = login
        self._set_cookie(request, response, pending.token)
        return pending

    def finish_sign_in(self, request: Request, pending: PendingSignIn) -> Response:
        """Open the session and send the browser to ``next`` or the org list."""
        session = self.sessions.sign_in(pending, self.now())
        response = RedirectResponse(pending.next_url or self.look.home_path, status_code=303)
        self._set_cookie(request, response, session.token)
        return response

    def _set_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            self.cookie_name(request.scope), token, httponly=True, samesite="lax", path="/"
        )

    def safe_next(self, value: str | None, request: Request) -> str | None:
        """``value`` as a path of this portal, or ``None`` when it points elsewhere."""
        if not value:
            return None
        value = value.strip()
        if not value or "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
            return None
        parts = urlsplit(value)
        foreign = parts.scheme not in ("http", "https") or parts.netloc != request.headers.get(
            "host"
        )
        if (parts.scheme or parts.netloc) and foreign:
            return None
        path = parts.path
        if not path.startswith("/") or path.startswith("//"):
            return None
        if any(path == p or path.startswith(p + "/") for p in self.look.sign_in_paths):
            return None
        return path + (f"?{parts.query}" if parts.query else "")

    # -- standard answers

    def page(
        self,
        title: str,
        body: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        head: str = "",
    ) -> HTMLResponse:
        """A full HTML page; ``body`` (and ``head``, more of the head) is trusted markup,
        every value in it escaped."""
        css = (
            _BASE_CSS
            + f".brand{{background:{self.look.accent}}}button{{background:{self.look.accent}}}"
            + self.look.extra_css
        )
        text = _SHELL.format(
            title=esc(title),
            head=head,
            css=css,
            portal=esc(self.look.portal),
            brand=esc(self.look.brand),
            body=body,
        )
        merged = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        merged.update(headers or {})
        return HTMLResponse(text, status_code=status, headers=merged)

    def unauthenticated(self, request: Request) -> Response:
        """No valid session: 401 JSON for the API, else 302 to sign-in with ``next``."""
        if wants_json(request):
            return json_error("session_expired", 401)
        target = quote(request.url.path, safe="/!$&'()*+,;=:@-._~")
        if request.url.query:
            target += "?" + request.url.query
        location = self.look.login_path + "?" + urlencode({"next": target})
        return RedirectResponse(location, status_code=302)

    def not_found(self, request: Request) -> Response:
        if wants_json(request):
            return json_error("not_found", 404)
        return self.page(
            "Page not found",
            "<main><h1>Page not found</h1>"
            "<p>The page you asked for does not exist or you can't open it.</p></main>",
            status=404,
        )

    def no_permission(self, request: Request, org: WorldOrg, org_bar: str) -> Response:
        """The page (or 403 JSON) for a login whose role cannot view users."""
        if wants_json(request):
            return json_error("no_permission", 403)
        return self.page(
            "Users" if self.variant else f"Users – {org.name}",
            f'{org_bar}<main data-org-id="{esc(org.org_id)}">'
            f'<p class="error" role="alert">{NO_PERMISSION}</p></main>',
        )

    def locked(self) -> Response:
        return self.page(
            TOO_MANY_ATTEMPTS,
            f"<main><h1>{TOO_MANY_ATTEMPTS}</h1>"
            "<p>This login is locked for a while. Try again later.</p></main>",
            status=429,
        )

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        headers = {"Retry-After": str(retry_after)}
        if wants_json(request):
            return json_error("rate_limited", 429, headers)
        return self.page(
            TOO_MANY_REQUESTS,
            f"<main><h1>{TOO_MANY_REQUESTS}</h1><p>Wait a moment and try again.</p></main>",
            status=429,
            headers=headers,
        )

    def server_error(self, request: Request, status: int) -> Response:
        if wants_json(request):
            return json_error("server_error", status)
        words = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
        title = words.get(status, "Server error")
        return self.page(
            title,
            f"<main><h1>{esc(title)}</h1><p>Something went wrong. Try again.</p></main>",
            status=status,
        )


def org_bar(org: WorldOrg, org_id_attr: str | None = None) -> str:
    """The header every org page carries: the org's name and id, for a scraper to check."""
    org_id = esc(org_id_attr if org_id_attr is not None else org.org_id)
    return (
        f'<header class="org-bar" data-org-id="{org_id}" data-org-name="{esc(org.name)}">'
        f'<h1 class="org-name">{esc(org.name)}</h1></header>'
    )


def sign_in_form(
    *,
    action: str,
    heading: str,
    fields: Sequence[tuple[str, str, str, str]],
    button: str,
    error: str | None = None,
    next_url: str | None = None,
    intro: str = "",
) -> str:
    """A sign-in step: ``fields`` are ``(name, label, type, value)``; labels for inputs."""
    parts = [f"<main><h1>{esc(heading)}</h1>", intro]
    if error:
        parts.append(f'<p class="error" role="alert">{esc(error)}</p>')
    parts.append(f'<form method="post" action="{esc(action)}" accept-charset="utf-8">')
    for name, label, kind, value in fields:
        extra = {
            "password": ' autocomplete="current-password"',
            "code": ' inputmode="numeric" autocomplete="one-time-code"',
        }.get(kind, ' autocomplete="username"')
        input_type = "password" if kind == "password" else "text"
        parts.append(
            f'<label for="{esc(name)}">{esc(label)}</label>'
            f'<input id="{esc(name)}" name="{esc(name)}" type="{input_type}"'
            f' value="{esc(value)}"{extra} required>'
        )
    if next_url:
        parts.append(f'<input type="hidden" name="next" value="{esc(next_url)}">')
    parts.append(f'<button type="submit">{esc(button)}</button></form></main>')
    return "".join(parts)


# ---------------------------------------------------------------------- middleware


class SessionMiddleware:
    """Finds the request's session (or sign-in under way) from the portal's cookie.

    Every request made with a valid session counts towards
    ``session_expiry_requests``, whatever it asks for.
    """

    def __init__(self, app: ASGIApp, runtime: PortalRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            rt = self.runtime
            token = Request(scope).cookies.get(rt.cookie_name(scope))
            now = rt.now()
            session = rt.sessions.resolve(token, now, rt.settings) if token else None
            scope[SESSION_SCOPE_KEY] = session
            scope[PENDING_SCOPE_KEY] = (
                rt.sessions.pending(token, now) if token and session is None else None
            )
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """One request budget for the whole portal: over it, 429 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, runtime: PortalRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rate = self.runtime.settings.rate_limit_per_s
        if scope["type"] == "http" and rate is not None:
            retry_after = self.runtime.bucket.take(time.monotonic(), rate)
            if retry_after is not None:
                response = self.runtime.rate_limited(Request(scope), retry_after)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class FaultMiddleware:
    """Latency, server errors and responses that never complete, as settings ask.

    An error is sent either instead of the request or after it was carried out (a
    sign-in step may then have used its code). A timeout either sends nothing or
    sends the headers and half the body; then it waits for the client to give up,
    so it never ends on its own but a disconnect (or server shutdown closing the
    connection) ends it at once.
    """

    def __init__(self, app: ASGIApp, runtime: PortalRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self._seed: int | None = None
        self._rng = random.Random()
        self._seeded = False

    def _dice(self, seed: int | None) -> random.Random:
        if not self._seeded or seed != self._seed:
            self._rng = random.Random(seed)
            self._seed, self._seeded = seed, True
        return self._rng

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.runtime.settings
        rng = self._dice(settings.seed)
        jitter_ms = rng.uniform(0, settings.jitter_ms) if settings.jitter_ms else 0.0
        delay_ms = settings.latency_ms + jitter_ms
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        roll = rng.random()
        if roll < settings.timeout_rate:
            await self._time_out(scope, receive, send, rng)
        elif roll < settings.timeout_rate + settings.error_rate:
            await self._fail(scope, receive, send, rng)
        else:
            await self.app(scope, receive, send)

    async def _fail(self, scope: Scope, receive: Receive, send: Send, rng: random.Random) -> None:
        status = rng.choice((500, 502, 503))
        if rng.random() < 0.5:
            await self._carry_out(scope, receive)
        response = self.runtime.server_error(Request(scope), status)
        await response(scope, receive, send)

    async def _time_out(
        self, scope: Scope, receive: Receive, send: Send, rng: random.Random
    ) -> None:
        variant = rng.random()
        if variant < 0.5:
            messages = await self._carry_out(scope, receive)
            start = next((m for m in messages if m["type"] == "http.response.start"), None)
            chunks = [m.get("body", b"") for m in messages if m["type"] == "http.response.body"]
            body = b"".join(chunks)
            if start is not None and len(body) >= 2:
                half = body[: len(body) // 2]
                await send(start)
                await send({"type": "http.response.body", "body": half, "more_body": True})
        elif variant < 0.75:
            await self._carry_out(scope, receive)
        await _wait_for_disconnect(receive)

    async def _carry_out(self, scope: Scope, receive: Receive) -> list[Message]:
        """Run the request through the portal, keeping its response from the client."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        return messages


#: what ``markup_variant`` adds to every JSON object: keys no contract names, of
#: every JSON type, which a reader must pass over
VARIANT_JSON_EXTRAS: dict[str, Any] = {
    "_links": {"help": {"href": "/help"}},
    "etag": 'W/"7f3a"',
    "deprecated": None,
    "flags": [1, "two", False],
}


def with_unknown_keys(value: Any) -> Any:
    """``value`` with ``VARIANT_JSON_EXTRAS`` in every object, each object's own keys in
    reverse order (no reader may depend on the order of keys)."""
    if isinstance(value, dict):
        own = {k: with_unknown_keys(v) for k, v in reversed(value.items())}
        return {**{k: v for k, v in VARIANT_JSON_EXTRAS.items() if k not in own}, **own}
    if isinstance(value, list):
        return [with_unknown_keys(v) for v in value]
    return value


class JsonVariantMiddleware:
    """With ``markup_variant`` on, every complete JSON answer gains unknown keys.

    Outermost, so that the JSON the rate limit and the faults send changes too. An
    answer whose body comes in parts (a timeout's half body) passes unchanged.
    """

    def __init__(self, app: ASGIApp, runtime: PortalRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.runtime.variant:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def relay(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)  # sent with the body, once its length is known
                return
            if message["type"] == "http.response.body" and held:
                start = held.pop()
                headers = MutableHeaders(raw=start["headers"])
                json_body = headers.get("content-type", "").startswith("application/json")
                if json_body and not message.get("more_body", False):
                    body = _json_with_unknown_keys(message.get("body", b""))
                    headers["content-length"] = str(len(body))
                    message = {**message, "body": body}
                await send(start)
            await send(message)

        await self.app(scope, receive, relay)


def _json_with_unknown_keys(body: bytes) -> bytes:
    try:
        value = json.loads(body)
    except ValueError:
        return body
    return json.dumps(with_unknown_keys(value), ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


# ------------------------------------------------------------------------ assembly


def build_app(
    runtime: PortalRuntime,
    routes: Iterable[BaseRoute],
    settings: PortalSettings,
) -> Starlette:
    """A portal app: ``routes`` behind the rate limit, session and fault middleware."""

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            if wants_json(request):
                return json_error("method_not_allowed", 405)
            return runtime.page("Not allowed", "<main><h1>Not allowed</h1></main>", status=405)
        return runtime.not_found(request)

    app = Starlette(
        routes=[*routes, outbox_route(runtime.email_codes)],
        middleware=[
            Middleware(JsonVariantMiddleware, runtime=runtime),
            Middleware(RateLimitMiddleware, runtime=runtime),
            Middleware(SessionMiddleware, runtime=runtime),
            Middleware(FaultMiddleware, runtime=runtime),
        ],
        exception_handlers={404: on_http_error, 405: on_http_error},
        max_body_size=MAX_FORM_BYTES,
    )
    app.state.settings = settings
    app.state.portal = runtime
    runtime.state = app.state
    return app


def new_runtime(world: World, look: PortalLook, *, fold_org_ids: bool = False) -> PortalRuntime:
    """A runtime for ``look.portal`` over ``world``; ``build_app`` binds its settings."""
    return PortalRuntime(
        look=look,
        directory=PortalDirectory(world, look.portal, fold_org_ids=fold_org_ids),
        state=State(),
    )
