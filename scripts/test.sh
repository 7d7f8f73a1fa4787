#!/usr/bin/env bash
# The test command (what CI runs): install what the tests need into the
# checkout's own .venv, then run pytest from it.
#   bash scripts/test.sh                 the full lane: every test, real servers and real Nagios included
#   bash scripts/test.sh --fast          tests not marked slow: no real server, no Nagios
#   bash scripts/test.sh tests/test_servers.py -x    extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

lane=()
args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then
    lane=(-m "not slow")
  else
    args+=("$arg")
  fi
done

bash scripts/install-test-deps.sh

status=0
.venv/bin/python -m pytest -q -ra "${lane[@]}" "${args[@]}" || status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest ran no tests (none collected or all deselected)" >&2
  exit 1
fi
exit "$status"
