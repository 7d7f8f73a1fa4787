"""The real-server fixtures work end to end."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.slow

DAY = 86400


def test_old_point_lands_in_whisper_and_reads_back_through_render_api(carbon, graphite_render):
    ts = int(time.time()) - 10 * DAY
    ts -= ts % 60
    carbon.send(f"nagtune.test.alerts.CRITICAL 7 {ts}")

    assert carbon.fetch("nagtune.test.alerts.CRITICAL", ts - 60, ts + 60) == [(ts, 7.0)]
    assert "nagtune.test.alerts.CRITICAL" in carbon.list_metrics()

    series = graphite_render.render("nagtune.test.alerts.*", ts - 120, ts + 120)
    assert [s["target"] for s in series] == ["nagtune.test.alerts.CRITICAL"]
    points = {t: v for v, t in series[0]["datapoints"] if v is not None}
    assert points == {ts: 7.0}


def test_statsd_counters_in_one_datagram_all_reach_carbon(carbon, statsd):
    names = [f"nagtune.test.svc{i}" for i in range(5)]
    statsd.send(*(f"{name}:{i + 1}|c" for i, name in enumerate(names)))

    for i, name in enumerate(names):
        assert carbon.total(f"stats_counts.{name}", expect=i + 1) == i + 1
    assert {f"stats_counts.{n}" for n in names} <= set(carbon.list_metrics())
    # StatsD's own counters confirm it was one datagram of five metrics.
    assert carbon.total("stats_counts.statsd.packets_received", expect=1) == 1
    assert carbon.total("stats_counts.statsd.metrics_received", expect=len(names)) == len(names)
    assert statsd.admin("health").strip() == "health: up"


def test_carbon_stop_start_keeps_data_and_port(carbon):
    ts = int(time.time()) - 3 * DAY
    ts -= ts % 60
    carbon.send(f"nagtune.test.before 1 {ts}")
    assert carbon.total("nagtune.test.before", expect=1) == 1
    port, pid = carbon.line_port, carbon.pid

    carbon.stop()
    assert not carbon.running
    with pytest.raises(ConnectionRefusedError):
        carbon.send(f"nagtune.test.while_down 1 {ts}")

    carbon.start()
    assert carbon.line_port == port and carbon.pid != pid
    carbon.send(f"nagtune.test.after 2 {ts}")
    assert carbon.total("nagtune.test.after", expect=2) == 2
    assert carbon.total("nagtune.test.before") == 1
