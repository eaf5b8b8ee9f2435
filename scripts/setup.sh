# Sourced by serve.sh and test.sh: create or reuse .venv and install what the project
# needs, re-installing only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${1:-}"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
  echo "Installing the tracker and its dependencies into .venv (first run, or pyproject.toml changed)..." >&2
  # pip's and setuptools' chatter goes to a log, shown only when something fails.
  # editable_mode=compat: the project folder goes on sys.path through a plain .pth line.
  # setuptools' default editable finder is a module every Python start imports (with
  # pathlib and importlib.util): 11 ms of every tracker command, rebuilds included.
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
         && .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}" \
              --config-settings editable_mode=compat; } > .venv/install.log 2>&1; then
    cat .venv/install.log >&2
    echo "error: installing into .venv failed (the log is above, and in .venv/install.log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
# Byte-compile the tracker (only what changed since last time): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module it imports
# on every command, 20-30 ms of each rebuild. Existing .pyc files are read whatever it says.
.venv/bin/python -m compileall -q tracker > /dev/null
