"""A partial last line is left for the next run, never counted half."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_partial_last_line_waits_for_its_end(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(20)
    line = f"[{BASE + 500}] SERVICE ALERT: web09-c0001;PING;CRITICAL;HARD;3;PING CRITICAL\n".encode()
    log.write_bytes(first + line[:30])  # Nagios is mid-write
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    assert_carbon_has(carbon, first)

    append(log, line[30:])
    assert collect(log, state, *graphite_args(carbon)).returncode == 0

    assert_carbon_has(carbon, first + line)
