"""Bytes that are not UTF-8 neither stall the run nor break a name."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, alert_lines, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


def test_non_utf8_bytes_are_counted_under_safe_names(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = (
        alert_lines(10)
        + f"[{BASE + 300}] SERVICE ALERT: caf\xe9-latin1;Disk \xff\xfe;CRITICAL;HARD;3;out \x80\n".encode("latin-1")
        + b"\xff\xfe garbage without a timestamp \xc3\x28\n"
        + alert_lines(10, BASE + 600, seed=1)
    )
    log.write_bytes(data)

    run = collect(log, state, *graphite_args(carbon))

    assert run.returncode == 0, run.stderr
    assert_carbon_has(carbon, data)
    assert all(m.isascii() for m in carbon.list_metrics())
