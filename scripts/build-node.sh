#!/usr/bin/env bash
# Builds dist/nagtune-node.pyz: the node side of nagtune (nagtune collect,
# nagtune parse, nagtune.parsers and the logster class) in one file, with
# click and tomli inside, for a Nagios node that has only a Python
# 3.8 or newer:
#
#   scp dist/nagtune-node.pyz node:/usr/local/lib/nagtune/
#   python3 /usr/local/lib/nagtune/nagtune-node.pyz collect /var/log/nagios4/nagios.log ...
#
# Pure Python: the C scanner (parsers/_fastscan.c) is left out, so the same
# file runs on any CPU and Python version; the pure-Python scanner gives the
# same points. Standard library zipapp; needs pip and the package index (or
# a pip configured with find-links) on the BUILD machine only.
# Usage: [BYTECODE_PYTHON=/usr/bin/python3.X] bash scripts/build-node.sh [OUTPUT]
#        (default OUTPUT: dist/nagtune-node.pyz)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
OUTPUT="${1:-dist/nagtune-node.pyz}"
# The oldest Python the node side supports (pyproject.toml, tests/test_node_python_version.py):
# the vendored libraries are the newest releases that still run on it.
NODE_PYTHON=3.8
export PIP_ROOT_USER_ACTION=ignore  # a build as root (CI) warns otherwise

build=$(mktemp -d "${TMPDIR:-/tmp}/nagtune-node.XXXXXX")
trap 'rm -rf "$build"' EXIT
app="$build/app"
mkdir -p "$app/nagtune/collect" "$app/nagtune/outputs" "$app/nagtune/parsers"

# --- nagtune's node-side modules only (no analytics, no C sources, no built .so) ---
cp nagtune/__init__.py nagtune/cli.py nagtune/cli_collect.py nagtune/cli_parse.py nagtune/options.py "$app/nagtune/"
cp nagtune/collect/*.py "$app/nagtune/collect/"
cp nagtune/outputs/*.py "$app/nagtune/outputs/"
cp parsers/*.py "$app/nagtune/parsers/"
cp LICENSE "$app/" 2>/dev/null || true

# --- click, tomli (reads --config below Python 3.11), pure Python.
# click 8.2 dropped Python < 3.10. pip does not always hold a release's
# Requires-Python against --python-version, so the check below does.
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --no-deps \
  --target "$app" --python-version "$NODE_PYTHON" --only-binary=:all: \
  "click>=8.1,<8.2" "tomli>=1.1"
rm -rf "$app/bin"
find "$app" -name '__pycache__' -prune -exec rm -rf {} +
"$PYTHON" - "$app" "$NODE_PYTHON" <<'PY'
import email, pathlib, sys
from packaging.specifiers import SpecifierSet

app, oldest = pathlib.Path(sys.argv[1]), sys.argv[2]
for metadata in sorted(app.glob("*.dist-info/METADATA")):
    fields = email.message_from_string(metadata.read_text(encoding="utf-8"))
    wanted = fields.get("Requires-Python") or ""
    if wanted and oldest not in SpecifierSet(wanted):
        sys.exit(f"build-node: {fields['Name']} {fields['Version']} needs Python {wanted}, not {oldest}")
compiled = [str(p.relative_to(app)) for p in app.rglob("*") if p.suffix in (".so", ".pyd", ".c")]
if compiled:
    sys.exit(f"build-node: not pure Python: {', '.join(compiled)}")
PY

# The distribution's metadata, so `nagtune --version` (importlib.metadata) finds it in the file.
"$PYTHON" - "$app" <<'PY'
import pathlib, sys
try:
    import tomllib
except ImportError:
    import tomli as tomllib
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
info = pathlib.Path(sys.argv[1]) / f"nagtune-{project['version']}.dist-info"
info.mkdir()
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: nagtune\nVersion: {project['version']}\n"
                               f"Summary: {project['description']} (node side, nagtune-node.pyz)\n")
PY

# A zipapp cannot cache bytecode, so each run compiles every module it imports
# (the start-up cost is in docs/rollout.md). BYTECODE_PYTHON=/usr/bin/python3.9 puts that
# interpreter's .pyc files beside the sources: used by that Python version,
# ignored (sources compiled as before) by any other.
if [ -n "${BYTECODE_PYTHON:-}" ]; then
  "$BYTECODE_PYTHON" -m compileall -q -b "$app"
fi

cat >"$app/__main__.py" <<'PY'
"""nagtune-node.pyz: python3 nagtune-node.pyz collect|parse ARGS (see nagtune --help)."""
import os

# This file carries no C scanner by design (one file for every CPU and Python):
# the pure-Python one is the choice here, not a failed build to warn about.
os.environ.setdefault("NAGTUNE_PURE_PYTHON", "1")

from nagtune.cli import main  # noqa: E402

main()
PY

mkdir -p "$(dirname "$OUTPUT")"
"$PYTHON" -m zipapp "$app" --output "$OUTPUT" --python "/usr/bin/env python3" --compress
echo "build-node: wrote $OUTPUT ($(du -k "$OUTPUT" | cut -f1) KiB)"
