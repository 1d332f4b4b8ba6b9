"""The extension's files hold together: registered, documented, least privilege, text only.

The refined-github habit: a feature that is written but not registered, or registered
but not documented, fails here rather than silently doing nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.config import DEFAULT_EXTENSION_ID, EXTENSION_PUBLIC_KEY, extension_id_for
from tests.extension.harness import EXTENSION_DIR

MANIFEST = json.loads((EXTENSION_DIR / "manifest.json").read_text("utf-8"))
README = (EXTENSION_DIR / "README.md").read_text("utf-8")
WORKER = (EXTENSION_DIR / "service_worker.js").read_text("utf-8")

FEATURES = sorted((EXTENSION_DIR / "content" / "features").glob("*.js"))
ADAPTERS = sorted((EXTENSION_DIR / "content" / "portals").glob("*.js"))
HANDLERS = sorted((EXTENSION_DIR / "worker" / "messages").glob("*.js"))
SOURCES = sorted(
    p for p in EXTENSION_DIR.rglob("*") if p.suffix in (".js", ".html", ".css") and p.is_file()
)

REAL_HOSTS = {
    "xero": ["https://go.xero.com/*", "https://*.xero.com/*"],
    "qbo": ["https://app.qbo.intuit.com/*", "https://*.intuit.com/*"],
    "myob": ["https://app.myob.com/*", "https://*.myob.com/*"],
}
LOCAL = ["http://127.0.0.1/*", "http://localhost/*"]


def relative(path: Path) -> str:
    return path.relative_to(EXTENSION_DIR).as_posix()


def test_the_key_gives_the_extension_the_id_the_server_allows() -> None:
    assert MANIFEST["key"] == EXTENSION_PUBLIC_KEY
    assert extension_id_for(MANIFEST["key"]) == DEFAULT_EXTENSION_ID
    assert MANIFEST["manifest_version"] == 3


def test_permissions_are_the_least_that_work() -> None:
    assert sorted(MANIFEST["permissions"]) == ["alarms", "storage"]
    hosts = [h for portal in REAL_HOSTS.values() for h in portal]
    assert sorted(MANIFEST["host_permissions"]) == sorted(LOCAL + hosts)
    assert "<all_urls>" not in json.dumps(MANIFEST)
    assert "optional_host_permissions" not in MANIFEST
    assert MANIFEST["externally_connectable"] == {"ids": []}
    policy = MANIFEST["content_security_policy"]["extension_pages"]
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy
    assert "connect-src http://127.0.0.1:* http://localhost:*;" in policy


def test_every_file_the_manifest_names_exists() -> None:
    named = [
        MANIFEST["background"]["service_worker"],
        MANIFEST["action"]["default_popup"],
        MANIFEST["options_ui"]["page"],
        *MANIFEST["icons"].values(),
        *MANIFEST["action"]["default_icon"].values(),
    ]
    named += [js for entry in MANIFEST["content_scripts"] for js in entry["js"]]
    for name in named:
        assert (EXTENSION_DIR / name).is_file(), name


def test_content_scripts_load_core_first_main_last_and_every_feature() -> None:
    features = [relative(f) for f in FEATURES]
    assert features, "no features found"
    for entry in MANIFEST["content_scripts"]:
        scripts = entry["js"]
        assert scripts[0] == "content/core.js"
        assert scripts[-1] == "content/main.js"
        assert [s for s in scripts if s.startswith("content/features/")] == sorted(
            features, key=scripts.index
        )
        assert set(features) <= set(scripts)
        assert entry.get("all_frames", False) is False


def test_each_portal_adapter_runs_on_its_hosts_and_the_sandbox() -> None:
    by_matches = {tuple(e["matches"]): e["js"] for e in MANIFEST["content_scripts"]}
    assert set(by_matches) == {tuple(h) for h in REAL_HOSTS.values()} | {tuple(LOCAL)}
    for portal, hosts in REAL_HOSTS.items():
        adapters = [s for s in by_matches[tuple(hosts)] if s.startswith("content/portals/")]
        assert adapters == [f"content/portals/{portal}.js"]
    assert sorted(
        s for s in by_matches[tuple(LOCAL)] if s.startswith("content/portals/")
    ) == sorted(relative(a) for a in ADAPTERS)


@pytest.mark.parametrize("feature", FEATURES, ids=lambda p: p.stem)
def test_every_feature_registers_itself_and_is_documented(feature: Path) -> None:
    source = feature.read_text("utf-8")
    assert f'name: "{feature.stem}"' in source, "the feature registers under its file name"
    assert "registerFeature(" in source
    assert f"| `{feature.stem}` | `{relative(feature)}` |" in README


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda p: p.stem)
def test_every_message_handler_is_registered_and_documented(handler: Path) -> None:
    source = handler.read_text("utf-8")
    kind = re.search(r'^  type: "([a-z-]+)",$', source, re.M)
    sender = re.search(r'^  from: "(content|extension)",$', source, re.M)
    assert kind, "the handler names its message type"
    assert sender, "the handler names the sender it accepts"
    assert kind.group(1) == handler.stem
    name = re.search(rf'^import (\w+) from "\./worker/messages/{handler.name}";$', WORKER, re.M)
    assert name, f"{handler.name} is not imported by service_worker.js"
    handlers_list = WORKER.split("const HANDLERS = [", 1)[1].split("];", 1)[0]
    assert f"  {name.group(1)},\n" in handlers_list, f"{handler.name} is not in HANDLERS"
    assert f"| `{kind.group(1)}` | {sender.group(1)} |" in README


def test_the_readme_documents_every_badge_mark() -> None:
    marks = (EXTENSION_DIR / "lib" / "marks.js").read_text("utf-8")
    for text in re.findall(r'mark\("([^"]+)"', marks):
        assert f"| `{text}` |" in README, text
    for colour in re.findall(r'"(#[0-9a-f]{6})"', marks.split("const WHITE")[0]):
        assert colour in README, colour


@pytest.mark.parametrize("source", SOURCES, ids=relative)
def test_every_file_ends_with_addresses_to_check_it_by_hand(source: Path) -> None:
    tail = source.read_text("utf-8").rstrip()[-700:]
    assert "Check by hand" in tail
    assert re.search(r"(https?|chrome-extension)://", tail)


@pytest.mark.parametrize("source", [s for s in SOURCES if s.suffix == ".js"], ids=relative)
def test_nothing_is_ever_drawn_from_markup_strings(source: Path) -> None:
    code = source.read_text("utf-8")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "createContextualFragment",
        "setHTMLUnsafe",
    ):
        assert sink not in code, f"{relative(source)} uses {sink}"


#: The one content script that fetches: "Save this page for support" reads what the
#: recipe reads from the portal's own origin, with the page's own session, so that it
#: can redact it before anything leaves the page. It never reaches the server.
PORTAL_FETCH = "content/features/support-fixture.js"


def test_content_scripts_never_touch_storage_or_the_network() -> None:
    for path in (EXTENSION_DIR / "content").rglob("*.js"):
        code = path.read_text("utf-8")
        for api in ("chrome.storage", "fetch(", "XMLHttpRequest", "WebSocket", "sendBeacon"):
            if api == "fetch(" and relative(path) == PORTAL_FETCH:
                continue
            assert api not in code, f"{relative(path)} uses {api}"


def test_the_support_fixture_fetches_only_the_portal_it_is_on() -> None:
    code = (EXTENSION_DIR / PORTAL_FETCH).read_text("utf-8")
    assert code.count("fetch(") == 1
    assert "if (url.origin !== location.origin) {" in code
    assert 'credentials: "same-origin"' in code
    for never in ("chrome.storage", "Authorization", "XMLHttpRequest", "sendBeacon"):
        assert never not in code


def test_only_the_worker_api_module_calls_the_server() -> None:
    for path in EXTENSION_DIR.rglob("*.js"):
        if relative(path) not in ("worker/api.js", PORTAL_FETCH):
            assert "fetch(" not in path.read_text("utf-8"), relative(path)
        assert "Authorization" not in path.read_text("utf-8") or relative(path) in (
            "worker/api.js",
        ), relative(path)
