"""The server's side of "Save this page for support": the recipe in use, and fixtures stored.

``GET /api/v1/recipes/{portal}`` tells the extension what to capture; ``POST
/api/v1/fixtures`` stores a redacted capture for whoever may capture the org, audited,
bounded (413) and refused whole (422) when it is not a capture or still holds an
e-mail address.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from agent.runtime import Runtime
from agent.scrapers.recipe_book import load_book
from agent.services.fixtures import MAX_FIXTURE_BYTES
from agent.storage.models import AuditEvent, PortalFixture
from tests.server.conftest import Practice, api_client, build_practice

FIXTURES = Path(__file__).parent / "fixtures" / "portal"

pytestmark = pytest.mark.database


@pytest.fixture
def practice(runtime: Runtime) -> Practice:
    return build_practice(runtime)


def capture(**changes: Any) -> dict[str, Any]:
    """A capture of !kow01 as the extension posts it (an exported sandbox page's content)."""
    saved = json.loads((FIXTURES / "xero-hostile-names.json").read_text("utf-8"))
    body = {
        "portal": "xero",
        "portal_org_id": "!kow01",
        "recipe": saved["recipe"],
        "kind": "json",
        "page_path": "/app/!kow01/settings/users",
        "recipe_read": True,
        "content": saved["content"],
    }
    return {**body, **changes}


def stored(practice: Practice) -> list[PortalFixture]:
    with Session(practice.runtime.engine) as session:
        return list(session.exec(select(PortalFixture)))


def events(practice: Practice) -> list[AuditEvent]:
    with Session(practice.runtime.engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == "fixture.saved")
        return list(session.exec(query))


def test_the_recipe_in_use_is_given_to_any_paired_user(practice: Practice) -> None:
    for who in ("admin", "eve"):
        answer = practice.client(who).get("/api/v1/recipes/qbo")
        assert answer.status_code == 200, answer.text
    recipe = answer.json()
    shipped = load_book()["qbo"].recipe
    assert recipe["label"] == f"qbo@{shipped.version}"
    assert recipe["users"]["read"] == "pages"
    users = recipe["users"]["lists"][0]
    assert users["table"] == ["Name", "Email", "User type", "Status"]
    assert users["range"] == "{first}-{last} of {total}"
    assert users["empty_text"] == "No users to show"
    assert recipe["values"]["status"] == {
        "active": "active",
        "invited": "pending",
        "inactive": "inactive",
    }
    assert recipe["texts"]["no_permission"] == "You don't have permission to view users"
    assert "sign_in" not in recipe
    xero = practice.client("admin").get("/api/v1/recipes/xero").json()
    assert xero["users"]["fields"]["name"] == ["firstName", "lastName"]


def test_the_recipe_route_refuses_strangers_and_unknown_portals(practice: Practice) -> None:
    assert practice.client().get("/api/v1/recipes/xero").status_code == 401
    assert practice.client("admin").get("/api/v1/recipes/sage").status_code == 422


def test_an_override_is_the_recipe_in_use_and_a_broken_one_says_so(
    practice: Practice, tmp_path: Path
) -> None:
    layout2 = Path(__file__).parent / "scrapers" / "recipes_v2"
    practice.runtime.settings = practice.runtime.settings.model_copy(update={"recipe_dir": layout2})
    answer = practice.client("admin").get("/api/v1/recipes/xero").json()
    assert answer["label"] == "xero@2026.12.1-layout2 (override)"
    assert answer["users"]["rows"] == "members"
    (tmp_path / "xero.toml").write_text('version = "2"\n[users]\nrows = 3\n', "utf-8")
    practice.runtime.settings = practice.runtime.settings.model_copy(
        update={"recipe_dir": tmp_path}
    )
    broken = practice.client("admin").get("/api/v1/recipes/xero")
    assert broken.status_code == 503
    assert "xero.toml: users.rows" in broken.json()["detail"]


def test_a_capture_is_stored_with_its_digest_and_audited(practice: Practice) -> None:
    answer = practice.client("admin").post("/api/v1/fixtures", json=capture())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    [row] = stored(practice)
    assert body["id"] == row.id
    assert (row.portal, row.portal_org_id, row.kind) == ("xero", "!kow01", "json")
    assert row.page_path == "/app/!kow01/settings/users"
    assert row.recipe_read
    assert json.loads(row.content) == capture()["content"]
    assert row.sha256 == hashlib.sha256(row.content.encode()).hexdigest() == body["sha256"]
    assert row.size_bytes == len(row.content.encode()) == body["size_bytes"]
    assert body["pages"] == 1
    [event] = events(practice)
    assert event.actor == row.created_by
    assert event.detail["fixture_id"] == row.id
    assert event.detail["sha256"] == row.sha256
    assert event.detail["portal_org_id"] == "!kow01"


@pytest.mark.parametrize(
    ("who", "org_id", "reason"),
    [
        ("eve", "!rat01", "only practice admins, partners and managers"),
        ("mia", "!rat01", "outside your client scope"),
        ("mia", "!unl01", "outside your client scope"),
    ],
)
def test_saving_is_held_to_the_callers_role_and_scope(
    practice: Practice, who: str, org_id: str, reason: str
) -> None:
    answer = practice.client(who).post("/api/v1/fixtures", json=capture(portal_org_id=org_id))
    assert answer.status_code == 403
    assert reason in answer.json()["detail"]
    assert stored(practice) == []
    assert practice.client("mia").post("/api/v1/fixtures", json=capture()).status_code == 201


def test_a_capture_still_holding_an_email_is_refused(practice: Practice) -> None:
    content = capture()["content"]
    text = json.dumps(content).replace("person2@example.invalid", "ben@harbourco.example", 1)
    answer = practice.client("admin").post(
        "/api/v1/fixtures", json=capture(content=json.loads(text))
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "content: an e-mail address was not replaced by a placeholder"
        " (one at example.invalid was expected, found one at harbourco.example)"
    )
    assert stored(practice) == []
    assert events(practice) == []


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"content": {"format": 1, "pages": []}}, 422, "content: the content holds no pages"),
        ({"content": {"format": 2, "pages": [{}]}}, 422, "format is 2, not 1"),
        ({"kind": "html"}, 422, "pages[0] of an html fixture has keys path, list, page and html"),
        ({"page_path": "/app/!kow01/settings/users?token=x"}, 422, "without a query"),
        ({"page_path": "app/users"}, 422, "page_path: give the users page's path"),
        ({"portal_org_id": "1234567890"}, 422, None),
        ({"kind": "pdf"}, 422, None),
    ],
)
def test_what_is_not_a_capture_is_refused_whole(
    practice: Practice, changes: dict[str, Any], status: int, says: str | None
) -> None:
    answer = practice.client("admin").post("/api/v1/fixtures", json=capture(**changes))
    assert answer.status_code == status, answer.text
    if says is not None:
        assert says in answer.json()["detail"]
    assert stored(practice) == []


def test_a_capture_over_the_limit_is_413_before_and_after_parsing(practice: Practice) -> None:
    page = {"path": "/api/orgs/%21kow01/users", "body": {"users": [], "total": 0, "pad": ""}}
    page["body"]["pad"] = "x" * (MAX_FIXTURE_BYTES + 100_000)  # type: ignore[index]
    huge = practice.client("admin").post(
        "/api/v1/fixtures", json=capture(content={"format": 1, "pages": [page]})
    )
    assert huge.status_code == 413
    assert huge.json()["detail"] == "the capture is larger than a fixture may be (2 MB)"
    # sent without a length: counted as it arrives, and cut off
    page["body"]["pad"] = "x" * (MAX_FIXTURE_BYTES - 100)  # type: ignore[index]
    body = json.dumps(capture(content={"format": 1, "pages": [page, page]}))
    assert len(body) > MAX_FIXTURE_BYTES
    chunked = practice.client("admin").post(
        "/api/v1/fixtures",
        content=iter([body[i : i + 65536].encode() for i in range(0, len(body), 65536)]),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert stored(practice) == []


def test_an_exact_fit_is_refused_by_the_service_with_its_size(practice: Practice) -> None:
    page = {"path": "/api/orgs/%21kow01/users", "body": {"users": [], "total": 0}}
    page["body"]["pad"] = "x" * (MAX_FIXTURE_BYTES - 40)  # type: ignore[index]
    answer = practice.client("admin").post(
        "/api/v1/fixtures", json=capture(content={"format": 1, "pages": [page]})
    )
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("the capture is 2.0 MB; a fixture holds at most 2 MB")


def test_the_fixture_routes_are_in_the_api_description(runtime: Runtime) -> None:
    build_practice(runtime)
    schema = api_client(runtime, enable_docs=True).get("/openapi.json").json()
    assert "/api/v1/fixtures" in schema["paths"]
    assert "/api/v1/recipes/{portal}" in schema["paths"]
