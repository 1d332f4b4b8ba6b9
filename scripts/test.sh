#!/usr/bin/env bash
# Install what is missing (Chromium, PostgreSQL, LibreOffice), then run the whole
# test suite on SQLite and PostgreSQL, and ruff. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh" --postgres --libreoffice
cd "$root"
export ACCESSRECON_TEST_PG_URL=${ACCESSRECON_TEST_PG_URL:-postgresql+psycopg://accessrecon:accessrecon@127.0.0.1:5432/accessrecon_test}
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# Most of the suite's time is spent waiting (portals, Chromium, real TOTP steps), so
# it runs in several workers even on 2 CPUs; the long tests are started first, one
# or two at a time per worker, so they run beside the short ones.
.venv/bin/python -m pytest -n "${ACCESSRECON_TEST_WORKERS:-4}" --dist load --maxschedchunk 1 "$@"
