"""Output formatters as pure functions; StatsD packing by size."""

from __future__ import annotations

import pytest

from nagtune.outputs.graphite import batches, format_points
from nagtune.outputs.statsd import format_counters, pack
from nagtune.parsers.metrics import MetricPoint


@pytest.mark.parametrize(
    "points, expected",
    [
        ([], b""),
        ([MetricPoint("a.b", 3, 60)], b"a.b 3 60\n"),
        ([MetricPoint("a.b", 3, 60), MetricPoint("a.c", 1, 120)], b"a.b 3 60\na.c 1 120\n"),
    ],
)
def test_graphite_plaintext(points, expected):
    assert format_points(points) == expected


@pytest.mark.parametrize("name", ["a b", "a\nforged 1 0", "", "a\tb"])
def test_graphite_refuses_unsafe_names(name):
    with pytest.raises(ValueError):
        format_points([MetricPoint(name, 1, 60)])


def test_graphite_batches_split_on_lines():
    payload = b"".join(b"m%d 1 60\n" % i for i in range(25))
    assert [b.count(b"\n") for b in batches(payload, 10)] == [10, 10, 5]
    assert b"".join(batches(payload, 10)) == payload


def test_statsd_counters_format():
    assert format_counters([("a.b", 2), ("c", 1)]) == b"a.b:2|c\nc:1|c\n"
    with pytest.raises(ValueError):
        format_counters([("a:b", 1)])


@pytest.mark.parametrize("limit", [64, 512, 1432])
def test_statsd_pack_fills_datagrams_up_to_the_limit(limit):
    payload = format_counters((f"nagios.svc{i:04d}.CRITICAL", i) for i in range(500))
    datagrams = pack(payload, limit)
    assert all(len(d) <= limit for d in datagrams)
    assert b"\n".join(datagrams) + b"\n" == payload
    line = len(b"nagios.svc0000.CRITICAL:0|c") + 1
    assert len(datagrams) <= -(-len(payload) // (limit - line)) + 1  # nearly full


def test_statsd_line_longer_than_the_limit_goes_alone():
    assert pack(b"short:1|c\n" + b"x" * 100 + b":1|c\nend:1|c\n", 50) == [
        b"short:1|c",
        b"x" * 100 + b":1|c",
        b"end:1|c",
    ]
