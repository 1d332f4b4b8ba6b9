"""The one-way dependencies of docs/architecture.md, checked in fresh interpreters.

Each check imports a part in a new process (so nothing imported by another test
hides what the part itself loads) and lists the modules it must never pull in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _loaded_by(*modules: str) -> set[str]:
    """Every module loaded by importing ``modules`` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def _package_modules(package: str) -> list[str]:
    folder = ROOT / package.replace(".", "/")
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _hits(loaded: set[str], forbidden: str) -> list[str]:
    return sorted(m for m in loaded if m == forbidden or m.startswith(forbidden + "."))


def test_the_server_serves_without_loading_playwright() -> None:
    loaded = _loaded_by("server.app")
    assert "server.app" in loaded
    assert _hits(loaded, "playwright") == []
    assert _hits(loaded, "agent.scrapers.registry") == []


@pytest.mark.parametrize("package", ["agent.reconcile", "agent.services"])
def test_reconcile_and_services_import_no_web_framework(package: str) -> None:
    modules = _package_modules(package)
    assert len(modules) > 3, f"no modules found under {package}"
    loaded = _loaded_by(*modules)
    assert set(modules) <= loaded
    assert _hits(loaded, "fastapi") == []
    assert _hits(loaded, "starlette") == []
    assert _hits(loaded, "server") == []


def test_reconcile_is_pure() -> None:
    loaded = _loaded_by(*_package_modules("agent.reconcile"))
    for forbidden in (
        "sqlalchemy",
        "sqlmodel",
        "playwright",
        "agent.storage",
        "agent.services",
        "agent.crawl",
    ):
        assert _hits(loaded, forbidden) == [], forbidden


def test_services_never_reach_up_into_the_crawl_engine() -> None:
    loaded = _loaded_by(*_package_modules("agent.services"))
    assert _hits(loaded, "agent.crawl") == []
    assert _hits(loaded, "playwright") == []
