"""Each org's removal history, as a portal keeps it (SPEC.md, Removing a user).

A removal answered with an error sent after it was carried out looks, to the client,
like a removal that failed; the history is what the portal itself knows happened,
so a test can tell the two apart, and a page can say who was just removed. It lives
in memory with the portal's app, beside the world it changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RemovalRecord:
    """One user removed from one org: whom, by which login, when (the portal's clock)."""

    org_id: str
    user_id: str
    email: str
    name: str
    removed_by: str
    at: float


class RemovalHistory:
    """Removals per org, oldest first; safe to write from any of the portal's requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_org: dict[str, list[RemovalRecord]] = {}
        self._requests: dict[tuple[str, str], int] = {}

    def record_request(self, org_id: str, user_id: str) -> None:
        """A removal request reached the portal, whatever it then answered: what a test
        counts to show that nothing was asked to be removed twice."""
        with self._lock:
            key = (org_id, user_id)
            self._requests[key] = self._requests.get(key, 0) + 1

    def requests(self) -> dict[tuple[str, str], int]:
        """Removal requests per (org id, user id) so far (a copy)."""
        with self._lock:
            return dict(self._requests)

    def record(self, entry: RemovalRecord) -> None:
        with self._lock:
            self._by_org.setdefault(entry.org_id, []).append(entry)

    def of(self, org_id: str) -> list[RemovalRecord]:
        """The org's removals so far (a copy)."""
        with self._lock:
            return list(self._by_org.get(org_id, []))

    def find(self, org_id: str, user_id: str) -> RemovalRecord | None:
        """The latest removal of ``user_id`` from the org, if there was one."""
        for entry in reversed(self.of(org_id)):
            if entry.user_id == user_id:
                return entry
        return None
