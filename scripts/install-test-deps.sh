#!/usr/bin/env bash
# Installs everything the test suite needs on Debian bookworm, as root:
# Debian packages, the checkout's own virtualenv .venv with the project
# installed editable with its test extras, and Etsy StatsD in .test-tools/.
# Safe to rerun; when all is there it only checks (about a second). Exits
# non-zero if any step fails.
#
# .venv sees no system site-packages: two checkouts on one machine never
# import each other's nagtune. PYTHON chooses the interpreter it is made
# from (default: python3 on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
VENV="$PWD/.venv"
STATSD_VERSION=0.9.0

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages ---------------------------------------------------------
missing=()
# gcc and python3-dev build nagtune's C parts (parsers/_fastscan.c, analytics/sources/_fastingest.c)
# at pip install.
# python3-venv: Debian's python3 makes virtualenvs only with it (ensurepip).
for pkg in nagios4-core faketime libcairo2 chromium gcc python3-dev python3-venv; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A node and npm already on PATH stay: NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package, so asking apt for npm would swap
# Node 20 for Debian's Node 18.
# systemd-analyze verifies contrib/systemd/ (tests/test_contrib_units.py); it needs no running systemd.
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y "${missing[@]}"
fi
# nagios4-cgi: the test that compares alert counts with Nagios' own
# summary.cgi runs the CGI binary directly; without recommends it brings no
# web server (apache2) along.
if ! dpkg-query -W -f='${Status}' nagios4-cgi 2>/dev/null | grep -q "install ok installed"; then
  echo "install-test-deps: apt-get install --no-install-recommends nagios4-cgi"
  export DEBIAN_FRONTEND=noninteractive
  [ ${#missing[@]} -gt 0 ] || as_root apt-get update
  as_root apt-get install -y --no-install-recommends nagios4-cgi
fi

# --- the checkout's virtualenv -------------------------------------------------
# Made anew when missing, broken, or seeing system site-packages.
venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "" 2>/dev/null \
    && grep -qiE '^include-system-site-packages *= *false' "$VENV/pyvenv.cfg"
}
if ! venv_ok; then
  echo "install-test-deps: $BASE_PYTHON -m venv $VENV"
  rm -rf "$VENV"
  "$BASE_PYTHON" -m venv "$VENV"
fi
PYTHON="$VENV/bin/python"

# --- the project and its test extras -------------------------------------------
# Up to date when nagtune is installed editable from THIS checkout (CI runs
# in a fresh clone elsewhere) and every requirement pyproject.toml lists for
# the test extra is installed in a matching version.
python_deps_ok() {
  # Run from / : from the checkout, its nagtune.egg-info would hide the
  # installed distribution.
  local repo="$PWD"
  (cd / && "$PYTHON" - "$repo" <<'PY') 2>/dev/null
import json, pathlib, sys, tomllib
from importlib import metadata
from packaging.requirements import Requirement

repo = pathlib.Path(sys.argv[1]).resolve()
project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
url = json.loads(metadata.distribution(project["name"]).read_text("direct_url.json") or "{}")
if not url.get("dir_info", {}).get("editable") or url.get("url") != repo.as_uri():
    sys.exit(1)

def wanted(reqs):
    for text in reqs:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        if req.name == project["name"]:  # nagtune[analytics,dask]
            for extra in req.extras:
                yield from wanted(project["optional-dependencies"][extra])
        else:
            yield req

for req in wanted([*project["dependencies"], *project["optional-dependencies"]["test"]]):
    if not req.specifier.contains(metadata.version(req.name), prereleases=True):
        sys.exit(1)

# The C extensions, built in place by the editable install: there, and newer than their sources.
for source in (repo / "parsers" / "_fastscan.c", repo / "analytics" / "sources" / "_fastingest.c"):
    built = list(source.parent.glob(source.stem + ".*.so"))
    if not built or max(p.stat().st_mtime for p in built) < source.stat().st_mtime:
        sys.exit(1)
PY
}
if ! python_deps_ok; then
  echo "install-test-deps: $VENV: pip install -e .[test]"
  "$PYTHON" -m pip install -q -e ".[test]"
  python_deps_ok || { echo "install-test-deps: requirements still unmet after pip install" >&2; exit 1; }
fi

# --- Etsy StatsD ---------------------------------------------------------------
statsd_version() {
  node -p "require('./.test-tools/node_modules/statsd/package.json').version" 2>/dev/null || true
}
if [ "$(statsd_version)" != "$STATSD_VERSION" ]; then
  echo "install-test-deps: npm install statsd@$STATSD_VERSION into .test-tools/"
  mkdir -p .test-tools
  npm install --prefix .test-tools --omit=optional --no-audit --no-fund "statsd@$STATSD_VERSION"
  [ "$(statsd_version)" = "$STATSD_VERSION" ] || { echo "install-test-deps: statsd not in .test-tools/" >&2; exit 1; }
fi
