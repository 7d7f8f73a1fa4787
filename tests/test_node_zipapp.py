"""dist/nagtune-node.pyz, as an operator rolls it out: built by scripts/build-node.sh,
copied to a node whose Python has nothing installed, run from cron as
``python3 -I nagtune-node.pyz collect ...`` against a real carbon-cache.

Which interpreters, and why:
- ``python3`` from PATH (the one a node's cron finds), in a virtualenv made
  without pip or site-packages, so click and tomli can only come
  from inside the file (checked first: a test that passed because the test
  machine has click installed would prove nothing);
- Python 3.8, the oldest the node side supports (Ubuntu 20.04's), found as
  ``python3.8`` on PATH or in pyenv's versions/. CI's machine has it through
  pyenv. Without it this test FAILS rather than skips: the 3.8 promise would
  otherwise go untested without anyone noticing.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import zipfile
from collections import Counter
from importlib import metadata
from pathlib import Path

import pytest

from .collect_helpers import BASE, NODE, PREFIX, alert_lines, assert_carbon_has, whisper_totals

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def python38() -> str:
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    # pyenv's own build first: its shim `python3.8` on PATH fails unless 3.8 is selected.
    candidates = [
        *sorted(glob.glob(os.path.join(root, "versions", "3.8.*", "bin", "python3.8"))),
        shutil.which("python3.8"),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 8))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.stdout.strip() == "True":
            return candidate
    pytest.fail(
        "no Python 3.8 here (python3.8 on PATH or pyenv's versions/3.8.*): the node side's "
        "oldest supported Python cannot be tested",
        pytrace=False,
    )


def python3() -> str:
    found = shutil.which("python3")
    if not found:
        pytest.fail("no python3 on PATH", pytrace=False)
    return found


@pytest.fixture(scope="module")
def node_pyz(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("dist") / "nagtune-node.pyz"
    build = subprocess.run(
        ["bash", str(REPO / "scripts" / "build-node.sh"), str(output)], capture_output=True, text=True, timeout=600
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return output


def bare_python(interpreter: str, where: Path) -> Path:
    """A virtualenv of ``interpreter`` with nothing installed: a node's bare Python."""
    subprocess.run([interpreter, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    for module in ("click", "tomli", "nagtune"):
        probe = subprocess.run([str(python), "-I", "-c", f"import {module}"], capture_output=True, timeout=60)
        assert probe.returncode != 0, f"{module} is importable outside the zipapp: the test would prove nothing"
    return python


def test_the_zipapp_holds_the_node_side_only(node_pyz):
    names = zipfile.ZipFile(node_pyz).namelist()
    assert "__main__.py" in names
    for needed in (
        "nagtune/cli_collect.py",
        "nagtune/collect/run.py",
        "nagtune/outputs/graphite.py",
        "nagtune/parsers/scan.py",
        "nagtune/parsers/nagios_logster.py",
        "click/core.py",
        "tomli/__init__.py",
    ):
        assert needed in names
    assert not [n for n in names if n.startswith("nagtune/analytics") or n.endswith((".so", ".c"))]


@pytest.mark.parametrize("interpreter", [python3, python38], ids=["python3", "python3.8"])
def test_the_zipapp_collects_into_real_carbon(tmp_path, carbon, node_pyz, interpreter):
    python = bare_python(interpreter(), tmp_path / "venv")
    version = subprocess.run(
        [str(python), "-I", "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if interpreter is python38:
        assert version == "(3, 8)"
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    # Settings from a TOML file: below 3.11 it is read by the tomli inside the zipapp.
    config = tmp_path / "collect.toml"
    config.write_text(
        f'prefix = "{PREFIX}"\nnode = "{NODE}"\n\n'
        f'[graphite]\nhost = "{carbon.host}"\nport = {carbon.line_port}\ntimeout = 2\n'
    )
    first, second = alert_lines(60), alert_lines(40, BASE + 600, seed=1)

    def cron_run():
        return subprocess.run(
            [str(python), "-I", str(node_pyz), "collect", "--config", str(config), "--state-dir", str(state), str(log)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    log.write_bytes(first)
    run = cron_run()
    assert (run.returncode, run.stderr) == (0, "")
    with open(log, "ab") as handle:
        handle.write(second)
    run = cron_run()
    assert (run.returncode, run.stderr) == (0, "")

    # Whisper holds exactly what the reference parser counts in the whole log, once.
    assert_carbon_has(carbon, first + second)
    lines_metric = f"{PREFIX}.default.cell.c0001.{NODE}.nagtune.lines"
    assert lines_metric in carbon.list_metrics()
    # The self metrics are per-minute totals of the runs in that minute: they add up to every line read.
    lines = (first + second).count(b"\n")
    assert whisper_totals(carbon, [lines_metric], Counter({lines_metric: lines})) == Counter({lines_metric: lines})


@pytest.mark.parametrize("interpreter", [python3, python38], ids=["python3", "python3.8"])
def test_the_zipapp_refuses_central_commands_in_one_line(tmp_path, node_pyz, interpreter):
    python = bare_python(interpreter(), tmp_path / "venv")
    run = subprocess.run(
        [str(python), "-I", str(node_pyz), "rank", "--top", "5", "x.log"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: nagtune rank "), run.stderr
    assert "nagtune[analytics]" in lines[0]
    # The version comes from the metadata the build puts in the file.
    version = subprocess.run(
        [str(python), "-I", str(node_pyz), "--version"], capture_output=True, text=True, timeout=60
    )
    assert (version.returncode, version.stdout) == (0, f"nagtune, version {metadata.version('nagtune')}\n")


def test_bytecode_for_the_nodes_python_is_used_by_it(tmp_path):
    """BYTECODE_PYTHON=python3.8: 3.8 loads the modules from the .pyc files in the
    zipapp (a zipapp cannot cache bytecode itself); another Python still runs it."""
    interpreter = python38()
    output = tmp_path / "nagtune-node.pyz"
    build = subprocess.run(
        ["bash", str(REPO / "scripts" / "build-node.sh"), str(output)],
        env={**os.environ, "BYTECODE_PYTHON": interpreter},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "nagtune/collect/run.pyc" in zipfile.ZipFile(output).namelist()
    probe = "import nagtune.collect.run as m, sys; print(m.__file__.rsplit('/', 1)[-1])"
    for python, loaded_from in ((interpreter, "run.pyc"), (python3(), "run.py")):
        result = subprocess.run(
            [python, "-I", "-c", f"import sys; sys.path.insert(0, {str(output)!r}); {probe}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == loaded_from, result.stderr
        run = subprocess.run(
            [
                python,
                "-I",
                str(output),
                "collect",
                "--dry-run",
                "--node",
                "nagios-c0001-01",
                "--state-dir",
                str(tmp_path / "state"),
                str(REPO / "data" / "samples" / "nagios-c0001-01" / "nagios.log"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0 and ".service_alerts." in run.stdout, run.stderr
