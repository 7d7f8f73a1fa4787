#!/usr/bin/env bash
# The test command (what CI runs): install what the tests need, then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/test_servers.py -x
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
status=0
"$PYTHON" -m pytest -q -ra "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest ran no tests (none collected or all deselected)" >&2
  exit 1
fi
exit "$status"
