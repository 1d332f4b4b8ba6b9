#!/usr/bin/env bash
# Install what is missing, then run the demo: a generated world, its sandbox portals,
# a real crawl, reconciliation, a leaver report, then the API until Ctrl-C.
# Extra arguments go to 'accessrecon demo' (try --help, or --no-serve).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
exec "$root/.venv/bin/accessrecon" demo "$@"
