"""Carbon down, then back up: the run spools, the next sends the spool first."""

from __future__ import annotations

import pytest

from .collect_helpers import alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_carbon_down_then_up_spools_and_delivers_every_alert(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(60)
    log.write_bytes(first)
    carbon.stop()

    down = collect(log, state, *graphite_args(carbon))

    assert down.returncode == 75, down.stderr
    assert b"Connection refused" in down.stderr and b"spooled" in down.stderr
    assert list((state / "spool").rglob("*.spool"))

    second = alert_lines(40, start=int(first.split(b"]")[-2].split(b"[")[-1]) + 5, seed=1)
    append(log, second)
    carbon.start()
    up = collect(log, state, *graphite_args(carbon))

    assert up.returncode == 0, up.stderr
    assert not list((state / "spool").rglob("*.spool"))
    assert_carbon_has(carbon, first + second)
