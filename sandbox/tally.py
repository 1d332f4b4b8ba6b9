"""A portal's own count of the requests it was sent: every one, and those it refused.

Wrapped around a portal app (outside its rate limit, so refused requests count too),
``RequestTally`` notes each request's arrival time and answer status. Tests read it
in-process; a portal served in a process of its own answers ``GET /_tally`` with
``{"requests": N, "rate_limited": M, "first": t0, "last": t1}`` (sandbox only, like
``/_outbox``; itself not counted), so a benchmark can judge a crawl by what the
portal saw rather than by what the crawler says it sent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TALLY_PATH = "/_tally"


@dataclass
class RequestTally:
    """``app`` with every HTTP request it was sent counted: (arrival, status) each."""

    app: ASGIApp
    #: (monotonic arrival time, answer status) per request, in arrival order
    seen: list[tuple[float, int]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.seen)

    @property
    def rate_limited(self) -> int:
        return sum(1 for _, status in self.seen if status == 429)

    def accepted_times(self) -> list[float]:
        """Arrival times of the requests the portal did not refuse with a 429."""
        return [at for at, status in self.seen if status != 429]

    def summary(self) -> dict[str, float]:
        times = [at for at, _ in self.seen]
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "first": min(times, default=0.0),
            "last": max(times, default=0.0),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TALLY_PATH:
            body = json.dumps(self.summary()).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.seen.append((time.monotonic(), 0))
        index = len(self.seen) - 1

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen[index] = (self.seen[index][0], int(message["status"]))
            await send(message)

        await self.app(scope, receive, noting)
