"""The collector's column-wise aggregation equals the count-by-count one.

``aggregate`` takes a fast path (columns, C-level map/compress) when no line
needs clamping, and falls back to one count at a time otherwise. Hypothesis
drives both over several runs in a row (open totals carried from run to run,
texts that share a name, lines that are counted but not shipped) and checks
that the points, the StatsD deltas and the committed state agree.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.collect import run
from nagtune.collect.config import build
from nagtune.collect.state import CollectState
from nagtune.parsers import scan as scan_module

NOW = 1_700_000_000 - 1_700_000_000 % 60 + 30  # mid-minute


class _Scan:
    def __init__(self, by_minute: dict, keys: dict) -> None:
        self.by_minute, self.keys = by_minute, keys


class _Namer:
    """Texts name themselves by their key: several texts may share one name."""

    @staticmethod
    def name(key: str) -> str:
        return f"nagios.test.{key}"

    def name_all(self, keys: list) -> list[str]:
        return list(map(self.name, keys))


# (minute offset behind NOW's minute, text id) -> count, over a few runs
_run = st.dictionaries(
    st.tuples(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=7)),
    st.integers(min_value=1, max_value=5),
    max_size=40,
)
# text id -> the key it names (None: counted, not shipped); ids 0..7 onto 4 names
_keys = st.fixed_dictionaries({i: st.sampled_from([None, "a", "b", "c", "d"]) for i in range(8)})


def _scan(run_counts: dict, keys: dict, now: int) -> _Scan:
    now_index = now // 60
    by_minute: dict = {}
    for (back, text), value in run_counts.items():
        by_minute.setdefault(now_index - back, Counter())[b"t%d" % text] = value
    return _Scan(by_minute, {b"t%d" % text: key for text, key in keys.items()})


def _points(points) -> list:
    return sorted(points)


@settings(max_examples=300, deadline=None)
@given(
    runs=st.lists(_run, min_size=1, max_size=4),
    keys=_keys,
    open_window=st.integers(min_value=1, max_value=150),
    steps=st.lists(st.integers(0, 90), min_size=4, max_size=4),
)
def test_columns_equal_one_by_one(runs, keys, open_window, steps, tmp_path_factory):
    config = build(
        {},
        {
            "log": "/dev/null",
            "state_dir": str(tmp_path_factory.mktemp("st")),
            "node": "nagios-c0001-01",
            "outputs": ["stdout"],
            "open_window": open_window,
        },
    )
    fast, slow = CollectState(log="x"), CollectState(log="x")
    now = NOW
    for run_counts, step in zip(runs, steps):
        now += step * 60
        scan = _scan(run_counts, keys, now)
        before = copy.deepcopy(fast)
        fast_report, slow_report = run.RunReport(), run.RunReport()
        fast_points, fast_deltas = run.aggregate(fast, copy.deepcopy(scan), _Namer(), now, config, fast_report)
        # the pure-Python columns alike (the C ones above)
        pure = copy.deepcopy(before)
        try:
            scan_module.use_compiled(False)
            pure_points, pure_deltas = run.aggregate(pure, copy.deepcopy(scan), _Namer(), now, config, run.RunReport())
        finally:
            scan_module.use_compiled(True)
        assert _points(pure_points) == _points(fast_points) and pure.totals == fast.totals
        assert +pure_deltas == +fast_deltas
        # the reference: every count through the one-at-a-time path
        names = {text: _Namer.name(key) for text, key in scan.keys.items() if key is not None}
        slow_points, slow_deltas = run._aggregate_each(slow, scan.by_minute, names, now - now % 60, slow_report)
        run.aggregate(slow, _Scan({}, {}), _Namer(), now, config, run.RunReport())  # close minutes alike
        assert _points(fast_points) == _points(slow_points)
        assert +fast_deltas == +slow_deltas
        assert fast.totals == slow.totals
        assert (fast.newest_minute, fast.floor) == (slow.newest_minute, slow.floor)
        assert (fast_report.late_lines, fast_report.future_lines) == (slow_report.late_lines, slow_report.future_lines)


def test_points_format_as_graphite_lines():
    points = run.Points(["a.b", "c"], [3, 1], [60, 120 + 2**40])
    try:
        for compiled in (True, False):  # the C formatter and the pure-Python fallback
            assert scan_module.use_compiled(compiled) == compiled
            assert points.graphite_payload() == b"a.b 3 60\nc 1 %d\n" % (120 + 2**40)
            with pytest.raises(ValueError, match="ASCII"):
                run.Points(["ok", "caf\u00e9"], [1, 1], [60, 60]).graphite_payload()
    finally:
        scan_module.use_compiled(True)
    points = run.Points(["a.b", "c"], [3, 1], [60, 120])
    assert list(points) == [("a.b", 3, 60), ("c", 1, 120)]
    assert points == [("a.b", 3, 60), ("c", 1, 120)]
