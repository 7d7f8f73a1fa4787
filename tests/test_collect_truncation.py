"""The log truncated in place with no copy: read again from 0, say what was lost."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, alert_lines, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_truncated_log_is_read_from_start_with_a_warning(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first, after = alert_lines(40), alert_lines(10, BASE + 7200, seed=3)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    with open(log, "r+b") as handle:
        handle.truncate(0)
    log.write_bytes(after)

    run = collect(log, state, *graphite_args(carbon))

    assert run.returncode == 0, run.stderr
    assert b"truncated" in run.stderr and len(run.stderr.splitlines()) == 1
    assert_carbon_has(carbon, first + after)
