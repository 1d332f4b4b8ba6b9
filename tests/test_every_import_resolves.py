"""Every import of the project's own modules names something that exists.

Imports inside functions (the benchmarks' seeding, the CLI's lazy commands) run
only when that code runs, and the benchmarks never run in the test suite, so a
name moved to another module would otherwise break them unnoticed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = ("agent", "server", "accessrecon", "sandbox", "bench", "tests")
FOLDERS = ("agent", "server", "accessrecon", "sandbox", "bench", "tests", "scripts")

_CHECK = """
import importlib, json, sys
missing = []
for where, module, name in json.load(sys.stdin):
    try:
        found = importlib.import_module(module)
    except Exception as exc:
        missing.append([where, module, name, repr(exc)])
        continue
    if name is None or hasattr(found, name):
        continue
    try:
        importlib.import_module(module + "." + name)
    except Exception:
        missing.append([where, module, name, "no such name"])
print(json.dumps(missing))
"""


def _own_imports() -> list[tuple[str, str, str | None]]:
    """(file:line, module, name or None) for each import of a project module."""
    found: list[tuple[str, str, str | None]] = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations/versions" in path.as_posix():
                continue
            where = f"{path.relative_to(ROOT)}"
            for node in ast.walk(ast.parse(path.read_text(), filename=where)):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    if node.module.split(".")[0] in OWN:
                        found.extend(
                            (f"{where}:{node.lineno}", node.module, alias.name)
                            for alias in node.names
                        )
                elif isinstance(node, ast.Import):
                    found.extend(
                        (f"{where}:{node.lineno}", alias.name, None)
                        for alias in node.names
                        if alias.name.split(".")[0] in OWN
                    )
    return found


def test_every_import_of_a_project_module_resolves() -> None:
    imports = _own_imports()
    assert len(imports) > 500, "the tree was not read"
    result = subprocess.run(
        [sys.executable, "-c", _CHECK],
        cwd=ROOT,
        input=json.dumps(imports),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(result.stdout) == []
