"""An unreadable log: one Error line naming it, non-zero exit, state kept.

As root (CI), who reads everything, the collector runs here as root
WITHOUT the capabilities that bypass file permissions (setpriv drops
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), on a log owned by nobody, mode 600; as another user, on its own log, mode 000.
"""

from __future__ import annotations

import os
import pwd

import pytest

from .collect_helpers import BASE, NO_DAC, alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_permission_denied_is_one_error_line_and_keeps_state(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(20)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    state_file = next(state.glob("*.state.json"))
    before = state_file.read_bytes()
    append(log, alert_lines(10, BASE + 600, seed=1))
    as_root = os.geteuid() == 0
    if as_root:
        os.chown(log, pwd.getpwnam("nobody").pw_uid, -1)
        log.chmod(0o600)
    else:  # our own file, no read permission
        log.chmod(0o000)

    denied = collect(log, state, *graphite_args(carbon), prefix_cmd=NO_DAC if as_root else ())
    log.chmod(0o600)
    if as_root:
        os.chown(log, 0, -1)

    assert denied.returncode == 1
    assert denied.stderr.decode() == f"Error: cannot read {log}: Permission denied\n"
    assert state_file.read_bytes() == before
    ok = collect(log, state, *graphite_args(carbon))  # access restored
    assert ok.returncode == 0, ok.stderr
    assert_carbon_has(carbon, log.read_bytes())


def test_log_that_is_a_directory_is_an_error(tmp_path):
    (tmp_path / "nagios.log").mkdir()
    run = collect(tmp_path / "nagios.log", tmp_path / "state", "--output", "stdout")
    assert run.returncode == 1
    assert run.stderr.decode() == f"Error: cannot read {tmp_path / 'nagios.log'}: Is a directory\n"
