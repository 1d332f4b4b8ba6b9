#!/usr/bin/env bash
# Install what is missing (Chromium, PostgreSQL, LibreOffice), then run the whole
# test suite on SQLite and PostgreSQL, and ruff. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh" --postgres --libreoffice
cd "$root"
export ACCESSRECON_TEST_PG_URL=${ACCESSRECON_TEST_PG_URL:-postgresql+psycopg://accessrecon:accessrecon@127.0.0.1:5432/accessrecon_test}
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
