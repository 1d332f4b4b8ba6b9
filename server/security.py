"""The gate every request passes before any route runs: Host, Origin, body type, errors.

A server on 127.0.0.1 is reachable from every web page the user opens, by way of
their browser. This middleware is what makes that harmless:

* **Host allow-list (421).** DNS rebinding points an attacker's name at 127.0.0.1;
  the browser then sends ``Host: attacker.example``. Only the loopback names on the
  server's port (and configured extra hosts) are answered.
* **Origin (403).** A request whose ``Origin`` is present must come from the pinned
  extension (``chrome-extension://<id>``) or the dashboard's own origin. This is
  checked here, before routing: CORS headers only decide what a page may *read*, they
  do not stop the request from running.
* **Body type (415).** POST, PUT and DELETE must carry ``application/json`` (file
  uploads: ``multipart/form-data`` on the upload routes only). An HTML form can send
  neither JSON nor a bearer token, so cross-site form posts fail twice over.
* **The dashboard's forms.** Under ``dashboard_prefix`` (and only there) a POST may
  be an HTML form (``application/x-www-form-urlencoded``, or ``multipart/form-data``
  for an import file), because the dashboard authenticates by its own session
  cookie, never by a bearer token. Such a request must carry an ``Origin`` equal to
  the address it was sent to (403 otherwise, absent included); the dashboard's
  routes check its CSRF token besides. Dashboard pages get their own CSP (scripts,
  styles and fetches from the server itself only; no inline script) and a
  ``same-origin`` referrer policy, without which a browser sends ``Origin: null`` on
  the dashboard's own form posts.
* **No tokens in URLs (401 / 400).** Query strings end up in logs and browser
  history, so a token seen in one (``access_token=``, ``token=``, ``bearer=``,
  ``api_key=``, or any ``art_`` value in the query or the path) has leaked: it is
  revoked on the spot (``on_token_in_url``, which answers whether anything was) and
  the request answered 401 saying so. A token parameter holding no token of ours is
  still refused (400). ``RedactTokens`` keeps such values out of the server's own
  logs (uvicorn's access log prints every request's address).
* **Generic 500s.** An unexpected error is logged with its detail and answered with
  ``{"detail": "internal error", "error_id": ...}``, never a traceback.
* **Response headers.** ``Cache-Control: no-store`` (responses hold client data),
  ``nosniff``, no framing, no referrer.
* **Change notice.** After every POST, PUT or DELETE, ``on_change`` runs (the app
  empties its badge cache), so a change made here is visible on the next read.
* **Bounded work in flight.** At most ``max_in_flight`` requests run at once; the
  rest wait here, holding nothing. Routes are sync and hold a database connection
  while they hop through the thread pool, so without a bound a burst fills the
  thread pool with requests waiting for connections held by requests waiting for
  threads, until the pool times out.

It is plain ASGI rather than ``BaseHTTPMiddleware``: it sits on every badge lookup,
and the plain form costs a few microseconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from urllib.parse import parse_qsl, unquote_plus

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.security.tokens import TOKEN_PREFIX, revoke_leaked_token
from agent.storage.db import session_scope

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_PARAMS = (b"access_token=", b"token=", b"bearer=", b"api_key=")
TOKEN_PARAM_NAMES = frozenset({"access_token", "token", "bearer", "api_key"})
REDACTED = "[REDACTED]"
LEAKED_IN_URL_DETAIL = (
    "this token was revoked because it was sent in a URL, where server logs and browser "
    "history keep it: pair again, and send the new token only in the Authorization header"
)
IN_ADDRESS_DETAIL = "send the token in the Authorization header, never in the address"
_QUERY_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s\"]*)=(?P<value>[^&;#\s\"]*)")
#: An API token's shape: the prefix and 32 random bytes in url-safe base64 (43 characters);
#: shorter text after ``art_`` (a search for "art_supplies") is not taken for one.
_BARE_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]{40,}")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DASHBOARD_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
)
DASHBOARD_REFERRER = (b"referrer-policy", b"same-origin")
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _looks_like_token(value: str) -> bool:
    text = value.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return _BARE_TOKEN.fullmatch(text) is not None


def url_token_values(path: str, query: bytes) -> tuple[bool, list[str]]:
    """Whether the address carries a token parameter, and every value that may be a token.

    Candidates are the values of the token parameters (names compared decoded and
    in any case), any query value that is an API token whatever its name, and any
    path segment that is one.
    """
    named = False
    values: list[str] = []
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name.strip().lower() in TOKEN_PARAM_NAMES:
            named = True
            if value.strip():
                values.append(value)
        elif _looks_like_token(value):
            values.append(value)
    values.extend(seg for seg in path.split("/") if _BARE_TOKEN.fullmatch(seg))
    return named, values


def redact_tokens(text: str) -> str:
    """``text`` (a request line, a URL, a log message) with every token value replaced."""

    def pair(match: re.Match[str]) -> str:
        name = unquote_plus(match["name"]).strip().lower()
        if name in TOKEN_PARAM_NAMES or _looks_like_token(unquote_plus(match["value"])):
            return f"{match['lead']}{match['name']}={REDACTED}"
        return match.group(0)

    return _BARE_TOKEN.sub(TOKEN_PREFIX + REDACTED, _QUERY_PAIR.sub(pair, text))


def leaked_token_revoker(engine: Engine) -> Callable[[list[str]], bool]:
    """``RequestGuard``'s ``on_token_in_url``: revoke every token among the values.

    Answers whether any value was one of ours (live or already revoked), so the
    request can be told its token is gone. Logged without the value.
    """

    def revoke(values: list[str]) -> bool:
        with session_scope(engine) as session:
            leaked = [
                found
                for value in values
                if (found := revoke_leaked_token(session, value)) is not None
            ]
        for found in leaked:
            if found.revoked_now:
                log.warning(
                    "token #%s of user #%s was sent in a URL and has been revoked",
                    found.token_id,
                    found.user_id,
                )
        return bool(leaked)

    return revoke


class RedactTokens(logging.Filter):
    """Rewrites a log record so no token value from a URL reaches the log.

    Attached to the server's log handlers (``accessrecon.serving``): uvicorn's access
    log line holds each request's path and query string as an argument, and a token
    there would otherwise be written in clear wherever the log goes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, object],
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *extra_headers,
                *SECURITY_HEADERS,
                API_CSP,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestGuard:
    """Refuse requests a browser page could forge, before any handler runs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: Collection[str],
        origins: Collection[str],
        is_upload: Callable[[str], bool],
        docs_paths: Collection[str] = (),
        max_in_flight: int = 10,
        on_change: Callable[[], None] | None = None,
        dashboard_prefix: str | None = None,
        on_token_in_url: Callable[[list[str]], bool] | None = None,
    ) -> None:
        self.app = app
        self.on_token_in_url = on_token_in_url
        self.max_in_flight = max_in_flight
        self.on_change = on_change
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = frozenset(origins)
        self.is_upload = is_upload
        self.docs_paths = frozenset(docs_paths)
        self.dashboard_prefix = dashboard_prefix

    def is_dashboard(self, path: str) -> bool:
        prefix = self.dashboard_prefix
        return prefix is not None and (path == prefix or path.startswith(prefix + "/"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                # Nothing here speaks WebSocket; refusing is simpler than guarding it.
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, detail = refusal
            if detail == IN_ADDRESS_DETAIL:
                await self._refuse_token_in_url(scope, send)
                return
            await _send_json(send, status, {"detail": detail})
            return
        await self._run(scope, receive, send)

    async def _refuse_token_in_url(self, scope: Scope, send: Send) -> None:
        """Revoke whatever token the address holds, then say so (or refuse the address)."""
        _named, values = url_token_values(scope["path"], scope.get("query_string", b""))
        revoked = False
        if values and self.on_token_in_url is not None:
            revoked = await run_in_threadpool(self.on_token_in_url, values)
        if revoked:
            await _send_json(
                send, 401, {"detail": LEAKED_IN_URL_DETAIL}, [(b"www-authenticate", b"Bearer")]
            )
            return
        await _send_json(send, 400, {"detail": IN_ADDRESS_DETAIL})

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if len(hosts) != 1 or hosts[0].lower() not in self.hosts:
            return 421, "this server does not answer to that host name"
        origins = headers.getlist("origin")
        if len(origins) > 1 or (origins and origins[0] not in self.origins):
            return 403, "requests from this origin are not allowed"
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in query.lower() or b"\x00" in query:
            return 400, "NUL characters are not allowed in the address"
        lowered = b"&" + query.lower()
        if any(b"&" + name in lowered for name in _TOKEN_PARAMS):
            return 400, IN_ADDRESS_DETAIL
        if query or TOKEN_PREFIX in path:  # most requests have neither: no parsing
            named, values = url_token_values(path, query)
            if named or values:
                return 400, IN_ADDRESS_DETAIL
        method: str = scope["method"]
        if method in UNSAFE_METHODS:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if self.is_dashboard(path):
                return self._dashboard_refusal(method, kind, hosts[0], origins)
            if self.is_upload(path):
                if kind != "multipart/form-data":
                    return 415, "upload the file as multipart/form-data"
            elif kind != "application/json":
                has_body = headers.get("content-length", "0") not in ("", "0") or (
                    "transfer-encoding" in headers
                )
                if method != "DELETE" or has_body or kind:
                    return 415, "send a JSON body with Content-Type: application/json"
        return None

    @staticmethod
    def _dashboard_refusal(
        method: str, kind: str, host: str, origins: list[str]
    ) -> tuple[int, str] | None:
        """A dashboard change is a same-origin form post, or nothing."""
        if method != "POST" or kind not in FORM_TYPES:
            return 415, "the dashboard accepts only its own form posts"
        # A browser always sends Origin on a POST; without it the request is not the
        # dashboard's own form, and a foreign or "null" origin is a forged one.
        if not origins or origins[0].lower() != f"http://{host.lower()}":
            return 403, "dashboard forms are accepted only from the dashboard itself"
        return None

    def _semaphore(self) -> asyncio.Semaphore:
        """The bound for the running loop (a test client may run the app on several)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.max_in_flight))
        return self._slots[1]

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        add_csp = scope["path"] not in self.docs_paths
        if self.is_dashboard(scope["path"]):
            extra = [DASHBOARD_CSP, DASHBOARD_REFERRER]
        else:
            extra = [API_CSP] if add_csp else []
        replaced = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                headers.extend(
                    h for h in SECURITY_HEADERS if h[0] not in present and h[0] not in replaced
                )
                message = {**message, "headers": headers}
            await send(message)

        try:
            async with self._semaphore():
                await self.app(scope, receive, send_with_headers)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", error_id, scope["method"], scope["path"])
            if started:
                raise
            await _send_json(send, 500, {"detail": "internal error", "error_id": error_id})
        finally:
            # After the change is committed, so a reader cannot cache what came before.
            if self.on_change is not None and scope["method"] in UNSAFE_METHODS:
                self.on_change()
