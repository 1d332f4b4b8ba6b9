"""Sign-in codes the imitation portals e-mail, and the outbox that stands in for the mailbox.

Real portals also sign people in with a code sent by e-mail (or text, or a push),
which no stored secret can answer: only a person reading the mailbox can. The
sandboxes model every such method with this one (SPEC.md, "Sign-in by an e-mailed
code"): a login whose world entry says ``"mfa": "email"`` is sent a 6-digit code once
its password passed, valid for ``CODE_VALID_S`` and for one sign-in. Nothing is really
sent; ``GET /_outbox?email=ADDRESS`` shows what would have been, newest first, so a
test can act as the person who reads it.

Times come from the portal's clock, so a test that moves it expires codes on demand.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

#: how long an e-mailed code is accepted after it was sent
CODE_VALID_S = 600
OUTBOX_PATH = "/_outbox"
#: codes kept per address (older ones could no longer be used anyway)
KEPT_PER_ADDRESS = 50


def _key(email: str) -> str:
    return email.strip().casefold()


@dataclass(slots=True)
class SentCode:
    code: str
    sent_at: float
    used: bool = False


class EmailCodes:
    """The codes sent to each address: each accepted once, within ``CODE_VALID_S``."""

    def __init__(self) -> None:
        self._sent: dict[str, list[SentCode]] = {}

    def send(self, email: str, now: float) -> str:
        """A fresh 6-digit code "e-mailed" to ``email``."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        sent = self._sent.setdefault(_key(email), [])
        sent.append(SentCode(code, now))
        del sent[:-KEPT_PER_ADDRESS]
        return code

    def verify(self, email: str, code: str, now: float) -> bool:
        """Whether ``code`` is an unused, unexpired code sent to ``email``; using it."""
        code = "".join(code.split())
        if len(code) != 6 or not code.isdigit():
            return False
        for sent in reversed(self._sent.get(_key(email), [])):
            fresh = 0 <= now - sent.sent_at < CODE_VALID_S
            if fresh and not sent.used and hmac.compare_digest(sent.code, code):
                sent.used = True
                return True
        return False

    def outbox(self, email: str) -> list[dict[str, str]]:
        """What was sent to ``email``, newest first, as ``/_outbox`` shows it."""
        return [
            {"code": s.code, "sentAt": datetime.fromtimestamp(s.sent_at, UTC).isoformat()}
            for s in reversed(self._sent.get(_key(email), []))
        ]


def outbox_route(codes: EmailCodes) -> Route:
    """``GET /_outbox?email=ADDRESS``: ``{"codes": [{"code", "sentAt"}]}``, newest first."""

    async def outbox(request: Request) -> Response:
        email = request.query_params.get("email", "").strip()
        if not email:
            return JSONResponse({"error": "email_required"}, status_code=400)
        return JSONResponse({"codes": codes.outbox(email)})

    return Route(OUTBOX_PATH, outbox, methods=["GET"])
