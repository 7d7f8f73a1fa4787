"""The wheel a user installs: top-level parsers/ and analytics/ land as
nagtune.parsers and nagtune.analytics, in one tree with the rest of nagtune.

An editable install maps the folders with an import hook, so it cannot show a
package-dir mistake; this test builds a real (non-editable) wheel, installs it
into a fresh virtualenv without system site-packages, and imports from there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import importlib, json, pathlib, sys
import nagtune
names = ["nagtune", "nagtune.parsers", "nagtune.collect", "nagtune.outputs", "nagtune.analytics",
         "nagtune.analytics.sources", "nagtune.analytics.findings", "nagtune.analytics.run",
         "nagtune.analytics.report"]
files = {name: importlib.import_module(name).__file__ for name in names}
root = pathlib.Path(nagtune.__file__).parent
print(json.dumps({"files": files, "root": str(root), "version": nagtune.__version__,
                  "extensions": sorted(p.relative_to(root).as_posix() for p in root.rglob("*.so")),
                  "templates": sorted(p.name for p in (root / "analytics" / "report" / "templates").iterdir()),
                  "pandas": "pandas" in sys.modules}))
"""


@pytest.mark.slow
def test_wheel_installs_parsers_and_analytics_under_nagtune(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("nagtune-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # No dependencies: importing the packages must not need them (pandas comes with the modules).
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True)
    # From an empty folder, so the checkout's own folders cannot be imported by accident.
    run = tmp_path / "elsewhere"
    run.mkdir()
    probe = subprocess.run([str(python), "-c", PROBE], check=True, cwd=run, capture_output=True, text=True)
    found = json.loads(probe.stdout)

    root = Path(found["root"])
    assert root.is_relative_to(venv), root
    for name, file in found["files"].items():
        assert Path(file).is_relative_to(root), (name, file)
    assert Path(found["files"]["nagtune.parsers"]) == root / "parsers" / "__init__.py"
    assert Path(found["files"]["nagtune.analytics"]) == root / "analytics" / "__init__.py"
    # Every C part pyproject.toml declares, and the report's templates, travel in the wheel.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for extension in pyproject["tool"]["setuptools"].get("ext-modules", []):
        where = "/".join(extension["sources"][0].split("/")[:-1])  # parsers/_fastscan.c -> parsers
        stem = extension["name"].rpartition(".")[2]
        assert any(p.startswith(f"{where}/{stem}.") for p in found["extensions"]), (extension, found["extensions"])
    assert {"report.html.j2", "report.md.j2"} <= set(found["templates"])
    assert not found["pandas"]
    # One version, written in pyproject.toml, read from the installed metadata.
    assert found["version"] == pyproject["project"]["version"]
