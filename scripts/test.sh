#!/usr/bin/env bash
# Run the whole test suite. Installs the test extras and, for the browser test,
# Debian's chromium when it can (the test skips with a reason when it cannot).
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "note: could not install chromium; the browser test will be skipped"
fi
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
exit $status
