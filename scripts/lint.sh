#!/usr/bin/env bash
# Lint, format check and type check, as CI runs them before the tests:
#   ruff check            (rules in pyproject.toml [tool.ruff.lint])
#   ruff format --check   (nothing is rewritten; run `ruff format` to fix)
#   mypy                  on the node side: nagtune.parsers, nagtune.collect, nagtune.outputs
# Uses the checkout's .venv (scripts/install-test-deps.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "lint.sh: no .venv here; run bash scripts/install-test-deps.sh first" >&2
  exit 1
fi

status=0
echo "lint.sh: ruff check"
"$PY" -m ruff check --output-format concise . || status=1
echo "lint.sh: ruff format --check"
"$PY" -m ruff format --check . || status=1

# mypy needs the installed layout (parsers/ is nagtune.parsers, analytics/ is
# nagtune.analytics: pyproject's package-dir). A tree of symlinks gives it
# that without building a wheel; its paths are mapped back in the output.
echo "lint.sh: mypy"
tree=build/mypy-tree
rm -rf "$tree"
mkdir -p "$tree/nagtune"
for entry in nagtune/*; do
  ln -s "$PWD/$entry" "$tree/nagtune/$(basename "$entry")"
done
ln -s "$PWD/parsers" "$tree/nagtune/parsers"
ln -s "$PWD/analytics" "$tree/nagtune/analytics"
MYPYPATH="$tree" "$PY" -m mypy -p nagtune.parsers -p nagtune.collect -p nagtune.outputs 2>&1 \
  | sed -e "s#^$tree/nagtune/parsers/#parsers/#" -e "s#^$tree/nagtune/analytics/#analytics/#" -e "s#^$tree/##" \
  || status=1
# sed's status hides mypy's: take mypy's from PIPESTATUS.
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

exit "$status"
