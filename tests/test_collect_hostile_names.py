"""Hostile host/service names and prefix forge no metric and break no batch."""

from __future__ import annotations

import pytest

from .collect_helpers import BASE, NODE, alert_lines, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow

HOSTILE = [
    ("evil host\nforged.metric 666 0", "PING"),
    ("web01;tag=x", "Disk Space /var 1 0\nforged 1 0"),
    ("dots.in.host", "svc.with.dots"),
    ("ünïcødé", "naïve ☃"),
    ("web01 c0001", "PING"),
    ("web01_c0001", "PING"),  # collides with the line above after sanitising
]


def test_hostile_names_and_prefix_forge_nothing(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    lines = b"".join(
        f"[{BASE + 60 * i}] SERVICE ALERT: {host.replace(chr(10), ' ')};{service.replace(chr(10), ' ')};"
        f"CRITICAL;HARD;3;out\n".encode()
        for i, (host, service) in enumerate(HOSTILE)
    )
    data = alert_lines(10) + lines
    log.write_bytes(data)
    prefix = "evil prefix\nforged.prefix 1 0\n;x=y"

    run = collect(log, state, *graphite_args(carbon), "--prefix", prefix)

    assert run.returncode == 0, run.stderr
    assert run.stderr.count(b"warning:") == 1 and b"gets a suffix" in run.stderr
    assert_carbon_has(carbon, data, prefix=prefix)
    metrics = carbon.list_metrics()
    assert all(m.startswith("evil_prefix_forged.prefix_1_0_x_y.default.cell.c0001." + NODE) for m in metrics), metrics
    assert not [m for m in metrics if m.startswith("forged")]

    again = collect(log, state, *graphite_args(carbon), "--prefix", prefix)  # registry kept: no new warning
    assert again.returncode == 0 and b"warning" not in again.stderr
