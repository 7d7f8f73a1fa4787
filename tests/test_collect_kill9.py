"""kill -9 at every step of a run: the next run leaves whisper exactly right.

Graphite must end with exact totals whatever step dies. StatsD counters add:
its counts must arrive exactly once, except for the one documented window
(killed after the UDP send and before the spool file is removed), where that
batch arrives twice.
"""

from __future__ import annotations

import signal
import socket
from collections import Counter

import pytest

from nagtune.collect.run import CRASH_STEPS

from .collect_helpers import alert_lines, append, assert_carbon_has, collect, expected_totals, graphite_args

pytestmark = pytest.mark.slow


def _drain(sock) -> Counter:
    got: Counter = Counter()
    sock.settimeout(0.3)
    try:
        while True:
            for line in sock.recv(65535).decode().split("\n"):
                name, _, rest = line.partition(":")
                if ".nagtune." not in name:
                    got[name] += int(rest.split("|")[0])
    except TimeoutError:
        return got


def test_kill9_at_each_step_then_next_run_delivers_exact_totals(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    args = (*graphite_args(carbon), "--output", "statsd", "--statsd", f"127.0.0.1:{udp.getsockname()[1]}")
    everything = alert_lines(20)
    log.write_bytes(everything)
    assert collect(log, state, *args).returncode == 0
    assert _drain(udp) == expected_totals(everything)

    for index, step in enumerate(CRASH_STEPS):
        chunk = alert_lines(25, seed=index + 1)
        everything += chunk
        append(log, chunk)

        crashed = collect(log, state, *args, env={"NAGTUNE_CRASH_AT": step})
        assert crashed.returncode == -signal.SIGKILL, (step, crashed.stderr)
        recovered = collect(log, state, *args)
        assert recovered.returncode == 0, (step, recovered.stderr)

        statsd_counts = _drain(udp)
        doubled = 2 if step == "after_statsd_send" else 1
        assert statsd_counts == Counter({k: v * doubled for k, v in expected_totals(chunk).items()}), step
        assert_carbon_has(carbon, everything)
    udp.close()


def test_kill9_while_holding_the_lock_never_blocks_the_next_run(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(20))
    crashed = collect(log, state, *graphite_args(carbon), env={"NAGTUNE_CRASH_AT": "after_lock"})
    assert crashed.returncode == -signal.SIGKILL
    run = collect(log, state, *graphite_args(carbon))
    assert run.returncode == 0 and b"another" not in run.stderr
    assert_carbon_has(carbon, log.read_bytes())
