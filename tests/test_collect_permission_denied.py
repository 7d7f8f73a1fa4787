"""An unreadable log: one Error line naming it, non-zero exit, state kept.

The tests run as root, who reads everything; the collector runs here as root
WITHOUT the capabilities that bypass file permissions (setpriv drops
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), on a log owned by nobody, mode 600.
"""
from __future__ import annotations

import os
import pwd
import shutil

import pytest

from .collect_helpers import BASE, alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow

NO_DAC = ("setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_permission_denied_is_one_error_line_and_keeps_state(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(20)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    state_file = next(state.glob("*.state.json"))
    before = state_file.read_bytes()
    append(log, alert_lines(10, BASE + 600, seed=1))
    os.chown(log, pwd.getpwnam("nobody").pw_uid, -1)
    log.chmod(0o600)

    denied = collect(log, state, *graphite_args(carbon), prefix_cmd=NO_DAC)

    assert denied.returncode == 1
    assert denied.stderr.decode() == f"Error: cannot read {log}: Permission denied\n"
    assert state_file.read_bytes() == before
    ok = collect(log, state, *graphite_args(carbon))  # access restored (root again)
    assert ok.returncode == 0, ok.stderr
    assert_carbon_has(carbon, log.read_bytes())


def test_log_that_is_a_directory_is_an_error(tmp_path):
    (tmp_path / "nagios.log").mkdir()
    run = collect(tmp_path / "nagios.log", tmp_path / "state", "--output", "stdout")
    assert run.returncode == 1
    assert run.stderr.decode() == f"Error: cannot read {tmp_path / 'nagios.log'}: Is a directory\n"
