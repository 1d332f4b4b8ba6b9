"""The imitation ledger portals, one ASGI app per portal kind (SPEC.md).

``create_portal_app(kind, world)`` builds the app of a kind; each module also has its
own ``create_app(world, settings)``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette

from sandbox.portals import myob, qbo, xero
from sandbox.portals.common import PortalSettings
from sandbox.world import World

APP_FACTORIES: dict[str, Callable[[World, PortalSettings | None], Starlette]] = {
    "xero": xero.create_app,
    "qbo": qbo.create_app,
    "myob": myob.create_app,
}


def create_portal_app(kind: str, world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation portal of ``kind`` over ``world``."""
    try:
        factory = APP_FACTORIES[kind]
    except KeyError:
        raise ValueError(f"no sandbox portal {kind!r}; known: {', '.join(APP_FACTORIES)}") from None
    return factory(world, settings)
