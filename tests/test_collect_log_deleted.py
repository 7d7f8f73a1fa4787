"""The log deleted (and not recreated): one Error line, state kept; it comes back: go on."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, alert_lines, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_deleted_log_errors_then_a_new_log_is_read_from_start(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first, later = alert_lines(20), alert_lines(15, BASE + 3600, seed=2)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    state_file = next(state.glob("*.state.json"))
    before = state_file.read_bytes()
    log.unlink()

    gone = collect(log, state, *graphite_args(carbon))

    assert gone.returncode == 1
    assert gone.stderr.decode() == f"Error: cannot read {log}: No such file or directory\n"
    assert state_file.read_bytes() == before
    log.write_bytes(later)
    back = collect(log, state, *graphite_args(carbon))
    assert back.returncode == 0
    # the old content is gone: said once (inode reuse makes it look truncated)
    assert b"was not found" in back.stderr and len(back.stderr.splitlines()) == 1
    assert_carbon_has(carbon, first + later)
