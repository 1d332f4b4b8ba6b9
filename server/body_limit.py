"""Refusing a request body larger than a route takes, while it arrives (413).

A route reads its body whole before it runs: FastAPI parses (and spools) an
``UploadFile`` or a JSON body first, so a check in the route comes after the whole
body was taken. This middleware keeps the bound in front: a declared
``Content-Length`` over it is refused before a byte is read, and a body sent without
one (chunked) is counted and cut off at the limit. Whatever the route made of a body
cut short, the answer is "too large", with the route's own words for why.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """``max_bytes`` for the requests whose path ``applies`` to; ``detail`` says why."""

    def __init__(
        self, app: ASGIApp, *, applies: Callable[[str], bool], max_bytes: int, detail: str
    ) -> None:
        self.app = app
        self.applies = applies
        self.max_bytes = max_bytes
        self.payload = json.dumps({"detail": detail}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(str(scope["path"])):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        exceeded = False
        replied = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal replied
            if exceeded:
                if not replied:
                    replied = True
                    await self._refuse(send)
                return
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not replied:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self.payload})
