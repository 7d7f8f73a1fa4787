"""logrotate copytruncate: the copy is finished, then the live log from 0."""

from __future__ import annotations

import shutil

import pytest

from .collect_helpers import BASE, alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_copytruncate_finishes_the_copy_then_reads_the_truncated_log(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first, unread, after = alert_lines(30), alert_lines(20, BASE + 400, seed=1), alert_lines(10, BASE + 900, seed=2)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    append(log, unread)
    shutil.copyfile(log, tmp_path / "nagios.log.1")
    with open(log, "r+b") as handle:
        handle.truncate(0)
    append(log, after)

    run = collect(log, state, *graphite_args(carbon))

    assert run.returncode == 0, run.stderr
    assert b"not found" not in run.stderr
    assert_carbon_has(carbon, first + unread + after)
