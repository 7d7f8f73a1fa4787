"""A minute split across two cron runs reaches whisper as its full total."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def _line(t: int, host: str = "web01") -> bytes:
    return f"[{t}] SERVICE ALERT: {host};PING;CRITICAL;HARD;3;PING CRITICAL\n".encode()


def test_minute_split_across_runs_is_sent_as_its_total(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    minute = BASE + 600
    first = _line(minute + 1) + _line(minute + 2)
    second = _line(minute + 40) + _line(minute + 50) + _line(minute + 59)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    name = "nagios.default.cell.c0001.nagios-c0001-01.service_alerts.web01.ping.CRITICAL.HARD"
    assert carbon.fetch(name, minute, minute, lambda p: p == [(minute, 2.0)]) == [(minute, 2.0)]

    with open(log, "ab") as handle:
        handle.write(second)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0

    assert carbon.fetch(name, minute, minute, lambda p: p == [(minute, 5.0)]) == [(minute, 5.0)]
    assert_carbon_has(carbon, first + second)
