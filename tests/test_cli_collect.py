"""``nagtune collect`` as a command: errors, dry runs, --help, --max-age.

click's CliRunner drives the click command in-process; a subprocess is used
where the exit code and stderr of a whole cron run matter.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from nagtune.cli_collect import collect as collect_command

from .collect_helpers import NODE, PREFIX, alert_lines, expected_points, expected_totals


def run_cli(*args: str) -> "object":
    return CliRunner().invoke(collect_command, list(args), catch_exceptions=False)


def run_process(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A whole cron run through the installed entry point, ``nagtune.cli.main``."""
    return subprocess.run([sys.executable, "-c", "import sys; from nagtune.cli import main; sys.argv[0] = 'nagtune'; main()",
                           "collect", *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=60)


def graphite_lines(text: str) -> dict:
    points = {}
    for line in text.splitlines():
        name, value, stamp = line.split(" ")
        points[(name, int(stamp))] = int(value)
    return points


def alert_points(points: dict) -> dict:
    return {k: v for k, v in points.items() if ".nagtune." not in k[0]}


# --- step 1: --max-age ---------------------------------------------------------------------

def test_max_age_warns_about_old_points_and_still_ships(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    old = (int(time.time()) - 30 * 86400) // 3600 * 3600  # a month ago
    data = alert_lines(40, start=old)
    log.write_bytes(data)

    run = run_process(str(log), "--state-dir", str(state), "--node", NODE, "--prefix", PREFIX,
                      "--output", "stdout", "--max-age", "86400")

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    expect = expected_points(data)
    assert alert_points(graphite_lines(run.stdout)) == expect
    warnings = [line for line in run.stderr.splitlines() if "older than max_age" in line]
    assert warnings == [f"warning: {len(expect)} points are older than max_age (86400 s); "
                        f"whisper drops points older than its retention"]
