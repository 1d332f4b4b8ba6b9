"""The one-way dependencies of docs/architecture.md, checked in fresh interpreters.

Each check imports a part in a new process (so nothing imported by another test
hides what the part itself loads) and lists the modules it must never pull in.
That routes never import routes is read from their source instead: what a route
loads includes what its neighbours load, so only its own import statements tell.
"""

from __future__ import annotations

import ast
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


ROUTES = "server.routes"


def _imports_in(source: str, package: str) -> set[str]:
    """Every module an import statement in ``source`` (a module of ``package``) names.

    ``from a.b import c`` names both ``a.b`` and ``a.b.c``, since ``c`` may be a
    module; relative imports are resolved against ``package``.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{module}" if module else base
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _route_imports(package: str) -> dict[str, list[str]]:
    """For each module of ``package``, the route modules (or the routes package) it imports."""
    routes = {name for name in _package_modules(ROUTES) if name != ROUTES}
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts)
        imported = _imports_in(path.read_text(encoding="utf-8"), ".".join(parts[:-1]))
        hits = sorted((imported & (routes | {ROUTES})) - {module})
        if hits:
            found[module] = hits
    return found


def test_the_import_reader_sees_every_spelling() -> None:
    source = (
        "import server.routes.users\n"
        "from server.routes.orgs import OrgStatusOut\n"
        "from server.routes import exports\n"
        "from .imports import SUFFIXES\n"
        "from . import audit\n"
        "if TYPE_CHECKING:\n"
        "    from ..routes.scans import ScanOut\n"
    )
    names = _imports_in(source, ROUTES)
    for module in ("users", "orgs", "exports", "imports", "audit", "scans"):
        assert f"{ROUTES}.{module}" in names, module


def test_no_route_imports_another_route() -> None:
    assert len(_package_modules(ROUTES)) > 5, "no route modules found"
    assert _route_imports(ROUTES) == {}, (
        "what routes share belongs in server/schemas.py, server/deps.py, "
        "a small server module or a service"
    )


def test_the_dashboard_imports_no_route() -> None:
    assert _route_imports("server.dashboard") == {}, (
        "what the dashboard shares with a route belongs in a server module or a service"
    )
