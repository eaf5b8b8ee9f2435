#!/usr/bin/env bash
# Build the seed database and serve it with Datasette on 127.0.0.1:8001.
# Quotes are checked against ../shared/seeds when that folder is there.
# The full database is for signed-in team members: with no account configured in the
# environment (README, Reviewing), `tracker serve` prints a one-time sign-in link for a
# local reviewer; open it once.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
texts=()
[ -d ../shared/seeds ] && texts=(--texts ../shared/seeds)
.venv/bin/tracker build seeds --db db/tracker.db "${texts[@]}"
exec .venv/bin/tracker serve --db db/tracker.db --host 127.0.0.1 --port "${PORT:-8001}"
