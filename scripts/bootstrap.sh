#!/usr/bin/env bash
# Set up what accessrecon needs on this machine, installing only what is missing:
# a virtual environment with the project and its dependencies, and Chromium
# (Debian's package where apt works, else Playwright's own download).
# With --postgres (used by the tests) also PostgreSQL, started on loopback with a
# test role and database; with --libreoffice, LibreOffice Calc for report tests.
# Idempotent: run it as often as you like.
set -euo pipefail

want_pg=0
want_office=0
for arg in "$@"; do
  case "$arg" in
    --postgres) want_pg=1 ;;
    --libreoffice) want_office=1 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: accessrecon needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq || return 1; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing accessrecon and its dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ -n "${ACCESSRECON_CHROMIUM_PATH:-}" ] && [ -x "$ACCESSRECON_CHROMIUM_PATH" ]; then
  :
elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  :
else
  say "installing Chromium"
  if ! apt_install chromium; then
    say "no apt: installing Playwright's own Chromium"
    .venv/bin/playwright install chromium
  fi
fi
# Crawls run in Chromium's headless shell where there is one (a page costs a sixth of
# the processor time to open); without it they run in the Chromium above.
if [ -z "${ACCESSRECON_HEADLESS_CHROMIUM_PATH:-}" ] && command -v apt-get >/dev/null \
  && ! command -v chromium-headless-shell >/dev/null; then
  say "installing Chromium's headless shell"
  apt_install chromium-headless-shell || say "no headless shell: crawls use Chromium itself"
fi

if [ "$want_office" -eq 1 ] && ! command -v soffice >/dev/null; then
  say "installing LibreOffice Calc"
  apt_install libreoffice-calc-nogui poppler-utils || { echo "bootstrap: could not install LibreOffice" >&2; exit 1; }
fi

if [ "$want_pg" -eq 1 ]; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing PostgreSQL"
    apt_install postgresql || { echo "bootstrap: could not install PostgreSQL" >&2; exit 1; }
  fi
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
  if [ -z "$cluster" ]; then echo "bootstrap: no PostgreSQL cluster found" >&2; exit 1; fi
  # shellcheck disable=SC2086
  if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
    say "starting PostgreSQL $cluster"
    as_root pg_ctlcluster $cluster start
  fi
  pg() { as_root su postgres -c "$1" >/dev/null; }
  pg "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='accessrecon'\" | grep -q 1 || psql -c \"CREATE ROLE accessrecon LOGIN PASSWORD 'accessrecon' CREATEDB\""
  pg "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='accessrecon_test'\" | grep -q 1 || createdb -O accessrecon accessrecon_test"
fi
