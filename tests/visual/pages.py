"""Every dashboard page a person can open, as the screenshots show it.

Each ``Shot`` names its picture, the viewer, its address in the fixed practice
(``tests.visual.world``) and the route it covers, so a test can hold the list to the
dashboard's routes: a new page without a shot fails there, not silently. Routes
that are not pages (the live JSON feeds, downloads, the statement's style sheet)
end in a file suffix and are left out. One shot covers no route of its own: the error
page, shown for a finding that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.dashboard import PAGES as PAGE_MODULES
from tests.visual.world import VisualWorld

SIGNED_OUT = "signed-out"


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    who: str
    path: str  # with ``{field}``s of ``VisualWorld``
    route: str | None  # the route it covers, under ``/dashboard``; None: an error page
    status: int = 200

    def address(self, world: VisualWorld) -> str:
        return "/dashboard" + self.path.format(**world.to_json())


SHOTS = (
    Shot("login", SIGNED_OUT, "/login", "/login"),
    Shot("overview", "admin", "", ""),
    Shot("findings", "admin", "/findings", "/findings"),
    Shot("finding", "admin", "/findings/{ben_finding_id}", "/findings/{finding_id}"),
    Shot("people", "admin", "/people", "/people"),
    Shot("person", "admin", "/people/{ben_staff_id}", "/people/{staff_id}"),
    Shot("orgs", "admin", "/orgs", "/orgs"),
    Shot("org", "admin", "/orgs/xero/%21kow01", "/orgs/{portal}/{portal_org_id}"),
    Shot("scans", "admin", "/scans", "/scans"),
    Shot("imports", "admin", "/imports", "/imports"),
    Shot("schedules", "admin", "/schedules", "/schedules"),
    Shot("users", "admin", "/users", "/users"),
    Shot("reviews", "admin", "/review", "/review"),
    Shot("review", "mia", "/review/{campaign_id}", "/review/{campaign_id}"),
    Shot("review-everyone", "admin", "/review/{campaign_id}?everyone=1", "/review/{campaign_id}"),
    Shot("removals", "admin", "/removals", "/removals"),
    Shot("removal-plan", "admin", "/removals/{plan_id}", "/removals/{plan_id}"),
    Shot("expiring", "admin", "/expiring", "/expiring"),
    Shot(
        "statement",
        "admin",
        "/clients/{statement_client_id}/statement",
        "/clients/{client_id}/statement",
    ),
    Shot("error", "admin", "/findings/999999", None, status=404),
)


def is_file(path: str) -> bool:
    """A route whose last segment has a suffix (``live.json``, ``statement.eml``): a
    feed or a download, not a page a person reads."""
    return "." in path.rsplit("/", 1)[-1]


def page_routes() -> set[str]:
    """Every GET route of the dashboard that shows a page, as its path template."""
    routes: set[str] = set()
    for module in PAGE_MODULES:
        for route in module.router.routes:
            path: str = getattr(route, "path", "")
            methods: set[str] = getattr(route, "methods", set())
            if "GET" in methods and not is_file(path):
                routes.add(path)
    return routes
