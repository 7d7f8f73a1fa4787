"""StatsD: many counters per datagram, each <= the limit, every one arrives."""

from __future__ import annotations

import socket

import pytest

from .collect_helpers import BASE, alert_lines, collect, expected_totals


def _capture(sock) -> list[bytes]:
    datagrams = []
    sock.settimeout(0.5)
    try:
        while True:
            datagrams.append(sock.recv(65535))
    except TimeoutError:
        return datagrams


@pytest.mark.parametrize("limit", [1432, 512])
def test_statsd_datagrams_are_packed_and_bounded(tmp_path, limit):
    log = tmp_path / "nagios.log"
    data = alert_lines(3000, hosts=40)
    log.write_bytes(data)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    run = collect(
        log,
        tmp_path / "state",
        "--output",
        "statsd",
        "--statsd",
        f"127.0.0.1:{udp.getsockname()[1]}",
        "--statsd-max-datagram",
        str(limit),
    )
    assert run.returncode == 0, run.stderr
    datagrams = _capture(udp)
    udp.close()

    lines = [line for d in datagrams for line in d.split(b"\n")]
    assert all(len(d) <= limit for d in datagrams)
    payload = sum(len(line) + 1 for line in lines)
    assert len(datagrams) <= payload // (limit - 100) + 1  # packed, not one per metric
    counts = {}
    for line in lines:
        name, _, rest = line.decode().partition(":")
        counts[name] = counts.get(name, 0) + int(rest.split("|")[0])
    expect = expected_totals(data)
    assert {k: v for k, v in counts.items() if ".nagtune." not in k} == dict(expect)


@pytest.mark.slow
def test_every_counter_reaches_carbon_through_real_statsd(tmp_path, carbon, statsd):
    log = tmp_path / "nagios.log"
    data = alert_lines(400, BASE, hosts=10)
    log.write_bytes(data)
    run = collect(log, tmp_path / "state", "--output", "statsd", "--statsd", f"{statsd.host}:{statsd.port}")
    assert run.returncode == 0, run.stderr

    expect = expected_totals(data)
    for name, value in expect.items():
        assert carbon.total(f"stats_counts.{name}", expect=value) == value
    received = carbon.total("stats_counts.statsd.metrics_received", expect=len(expect) + 1)
    packets = carbon.total("stats_counts.statsd.packets_received")
    assert received == len(expect) + 1  # + the lines self counter (zero counters are not sent)
    assert packets < received / 5
