"""A 1 MB line (a runaway plugin output) among ordinary ones."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, alert_lines, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_one_megabyte_line_is_counted_once(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    huge = f"[{BASE + 301}] SERVICE ALERT: web01-c0001;HTTP;CRITICAL;HARD;3;".encode() + b"x" * (1 << 20) + b"\n"
    data = alert_lines(10) + huge + alert_lines(10, BASE + 600, seed=1)
    log.write_bytes(data[: len(data) - 5000])
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    log.write_bytes(data)
    run = collect(log, state, *graphite_args(carbon))

    assert run.returncode == 0, run.stderr
    assert_carbon_has(carbon, data)
