"""Two runs at once never send a line twice; a busy lock is a quiet skip."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from nagtune.collect.lock import RunLock
from nagtune.collect.state import state_key

from .collect_helpers import NODE, PREFIX, alert_lines, collect, expected_totals

# Real collector processes racing for the lock and waiting on each other: the full lane only.
pytestmark = pytest.mark.slow


def test_second_run_while_locked_skips_with_one_line_and_exit_0(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(10))
    state.mkdir()
    with RunLock(str(state / (state_key(str(log)) + ".lock"))) as lock:
        lock.acquire()
        run = collect(log, state, "--output", "stdout")
    assert run.returncode == 0
    assert run.stdout == b""
    assert len(run.stderr.splitlines()) == 1 and b"another nagtune collect is running" in run.stderr
    assert not list(state.glob("*.state.json"))


def test_two_waiting_runs_at_once_count_each_line_once(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(200_000, step=1, hosts=50)
    log.write_bytes(data)
    command = [
        sys.executable,
        "-m",
        "nagtune.cli_collect",
        str(log),
        "--state-dir",
        str(state),
        "--node",
        NODE,
        "--prefix",
        PREFIX,
        "--output",
        "stdout",
        "--wait",
        "60",
    ]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    # As Graphite stores them: one value per (name, minute). The run that went second
    # re-sends the first one's minutes: the same totals, never a different value.
    stored: dict = {}
    for stdout, _ in outputs:
        for line in stdout.decode().splitlines():
            name, value, minute = line.split(" ")
            if ".nagtune." not in name:
                assert stored.setdefault((name, minute), int(value)) == int(value)
    sent: Counter = Counter()
    for (name, _), value in stored.items():
        sent[name] += value
    assert sent == expected_totals(data)
