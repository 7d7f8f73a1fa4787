"""The per-object sorts and interval joins (analytics/findings/_groups.py), C and numpy, held to brute force."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from nagtune.analytics.findings import _groups

# Few keys and few distinct times: ties, shared boundaries and empty groups are the cases that matter.
KEYS = st.integers(-3, 3).map(lambda k: k * (1 << 40) + 7)
TIMES = st.integers(0, 12)


@pytest.fixture(params=["c", "numpy"], scope="module")
def kernels(request):
    if request.param == "c":
        assert _groups._fastgroups is not None, "analytics/findings/_fastgroups.c was not built (pip install -e . with gcc)"
    _groups.use_compiled(request.param == "c")
    yield request.param
    _groups.use_compiled(True)


def _episodes(draw_list):
    keys = np.array([k for k, _, _ in draw_list], dtype=np.int64)
    starts = np.array([s for _, s, _ in draw_list], dtype=np.int64)
    ends = starts + np.array([d for _, _, d in draw_list], dtype=np.int64)
    return keys, starts, ends


EPISODES = st.lists(st.tuples(KEYS, TIMES, st.integers(0, 5)), max_size=25)
POINTS = st.lists(st.tuples(KEYS, TIMES), max_size=40)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(KEYS, TIMES), max_size=60), with_times=st.booleans())
def test_order_is_lexsort(kernels, rows, with_times):
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    times = np.array([t for _, t in rows], dtype=np.int64)
    got = _groups.order_by_key_then_time(keys, times if with_times else None)
    expected = np.lexsort((times, keys)) if with_times else np.argsort(keys, kind="stable")
    assert got.tolist() == expected.tolist()


def test_order_of_rows_already_in_time_order_per_key(kernels):
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 3000, 200_000) * (1 << 20)
    times = np.sort(rng.integers(0, 10**6, 200_000))
    times[100] = times[50_000]  # one key out of time order somewhere
    assert _groups.order_by_key_then_time(keys, times).tolist() == np.lexsort((times, keys)).tolist()


def _brute_locate(keys, starts, ends, point_keys, point_times):
    found = []
    for key, time in zip(point_keys.tolist(), point_times.tolist()):
        candidates = [i for i in range(len(keys)) if keys[i] == key and starts[i] <= time]
        if not candidates:
            found.append(-1)
            continue
        best = max(candidates, key=lambda i: (starts[i], i))
        found.append(best if time <= ends[best] else -1)
    return found


@settings(max_examples=300, deadline=None)
@given(episodes=EPISODES, points=POINTS)
def test_locate_is_the_latest_start_then_the_end(kernels, episodes, points):
    keys, starts, ends = _episodes(episodes)
    point_keys = np.array([k for k, _ in points], dtype=np.int64)
    point_times = np.array([t for _, t in points], dtype=np.int64)
    got = _groups.locate(keys, starts, ends, point_keys, point_times)
    assert got.tolist() == _brute_locate(keys, starts, ends, point_keys, point_times)
    counts = _groups.count_in(keys, starts, ends, point_keys, point_times)
    assert counts.tolist() == [int((got == i).sum()) for i in range(len(keys))]


@settings(max_examples=300, deadline=None)
@given(episodes=EPISODES, intervals=EPISODES)
def test_overlapping_is_any_interval_of_the_key(kernels, episodes, intervals):
    keys, starts, ends = _episodes(episodes)
    interval_keys, interval_starts, interval_ends = _episodes(intervals)
    got = _groups.overlapping(keys, starts, ends, interval_keys, interval_starts, interval_ends)
    expected = [any(interval_keys[j] == keys[i] and interval_starts[j] <= ends[i] and interval_ends[j] >= starts[i]
                    for j in range(len(interval_keys))) for i in range(len(keys))]
    assert got.tolist() == expected


def test_intervals_that_nest_still_overlap(kernels):
    # A long interval holding a short one that ends before the episode: the short one
    # starts last, but the long one still covers the episode.
    got = _groups.overlapping([1], [50], [60], [1, 1], [0, 10], [100, 20])
    assert got.tolist() == [True]


def test_the_c_kernels_refuse_arrays_of_unequal_length():
    assert _groups._fastgroups is not None
    with pytest.raises(ValueError, match="expected"):
        _groups._fastgroups.locate(np.zeros(2, np.int64), np.zeros(3, np.int64), np.zeros(2, np.int64),
                                   np.zeros(1, np.int64), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="int64"):
        _groups._fastgroups.order_by_key_time(b"abc")


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 4)), max_size=30),
       huge=st.booleans())
def test_a_combined_key_sorts_as_its_tuple(rows, huge):
    codes = [np.array([row[i] for row in rows], dtype=np.int64) for i in range(3)]
    # Sizes whose product leaves int64 take the rank of the tuple instead of the mixed radix.
    sizes = [2**40, 2**40, 5] if huge else [4, 3, 5]
    key = _groups.combined_key(codes, sizes)
    assert np.argsort(key, kind="stable").tolist() == np.lexsort(codes[::-1]).tolist()
    assert len(set(key.tolist())) == len(set(rows))


@settings(max_examples=300, deadline=None)
@given(observations=st.lists(st.tuples(st.integers(0, 2), st.integers(-1, 4), st.integers(-1, 2), st.integers(-1, 2),
                                       st.integers(-1, 6)), max_size=40))
def test_episode_runs_in_c_are_the_numpy_runs(observations):
    # Rows of a few objects in key-then-time order, states/kinds/types as codes (-1 missing).
    from nagtune.analytics.findings.episodes import _runs_in_numpy
    observations = sorted(observations, key=lambda o: o[0])
    n = len(observations)
    keys = np.array([o[0] for o in observations], dtype=np.int64) * (1 << 20)
    rows = np.arange(n, dtype=np.int64)[::-1].copy()  # rows are positions into the event columns
    columns = [np.array([o[i] for o in observations][::-1], dtype=np.int16) for i in (1, 2, 3, 4)]
    times = np.arange(n, dtype=np.int64)[::-1] * 10**9
    tables = [np.array(t, dtype=np.int8) for t in ([0, 3, 1, 0, 2, 0], [1, 0, 1, 0], [0, 1, 0, 0])]
    args = (rows, keys, times, *columns, *tables)
    compiled = _groups._fastgroups.episode_runs(*args)
    dtypes = (np.int64,) * 4 + (np.int8, np.uint8, np.int64, np.int64, np.uint8)
    got = [np.frombuffer(b, dtype=t).tolist() for b, t in zip(compiled, dtypes)]
    expected = [np.asarray(column).astype(t).tolist() for column, t in zip(_runs_in_numpy(*args), dtypes)]
    assert got == expected


def test_episodes_in_c_are_the_numpy_episodes():
    import pandas as pd
    from nagtune.analytics.findings.episodes import build_episodes
    from nagtune.analytics.sources.ingest import load_events
    from pathlib import Path
    events = load_events([str(Path(__file__).resolve().parent.parent / "data" / "samples")])
    with_c = build_episodes(events)
    _groups.use_compiled(False)
    try:
        in_numpy = build_episodes(events)
    finally:
        _groups.use_compiled(True)
    assert with_c["in_downtime"].any() and with_c["flapping"].any() and with_c["acknowledged"].any()
    pd.testing.assert_frame_equal(with_c, in_numpy)


# Alerts of a few services: gaps around the check interval (unlogged checks, ties, one second),
# states that change or not, SOFT rows that Nagios does not record.
ALERTS = st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0, 1, 60, 290, 300, 301, 450, 600, 900, 7000]),
                            st.sampled_from(["OK", "WARNING", "CRITICAL", "UNKNOWN"]), st.booleans()),
                  max_size=80)


@settings(max_examples=400, deadline=None)
@given(alerts=ALERTS)
# A service flapping longer than the 21-check history, and one whose gaps hide unlogged checks:
# where the window's edge and the put-back checks decide.
@example(alerts=[(0, 300, "CRITICAL" if i % 2 else "OK", True) for i in range(45)])
@example(alerts=[(1, (300, 900, 600, 7000)[i % 4], ("OK", "WARNING", "CRITICAL")[i % 3], i % 5 > 0) for i in range(60)])
def test_flap_percent_in_c_is_the_numpy_percent_bit_for_bit(alerts):
    """The C flap history (one pass per service) against percent_at_alerts' numpy arithmetic:
    the same float64 bits on every row, so a ranking never changes with the build."""
    import pandas as pd
    from nagtune.analytics.findings import flapping
    assert _groups._fastgroups is not None, "analytics/findings/_fastgroups.c was not built"
    keys = np.array(sorted(k for k, _, _, _ in alerts), dtype=np.int64)
    per_key_time: dict = {}
    times = []
    for key in keys.tolist():  # each service's alerts in time order, gaps as drawn
        per_key_time[key] = per_key_time.get(key, 1_700_000_000) + alerts[len(times)][1]
        times.append(per_key_time[key])
    frame = pd.DataFrame({
        "time": pd.to_datetime(np.array(times, dtype=np.int64), unit="s", utc=True),
        "state": pd.Categorical([state for _, _, state, _ in alerts]),
        "state_type": ["HARD" if hard else "SOFT" for _, _, _, hard in alerts],
    })
    _groups.use_compiled(True)
    in_c = flapping.percent_at_alerts(frame, keys)
    _groups.use_compiled(False)
    in_numpy = flapping.percent_at_alerts(frame, keys)
    _groups.use_compiled(True)
    assert in_c.view(np.int64).tolist() == in_numpy.view(np.int64).tolist()
    assert (in_numpy > 0).any() or not any(state != "OK" for _, _, state, hard in alerts if hard)
