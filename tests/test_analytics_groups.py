"""The per-object sorts and interval joins (analytics/findings/_groups.py) and episode runs, held to brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.analytics.findings import _groups

# Few keys and few distinct times: ties, shared boundaries and empty groups are the cases that matter.
KEYS = st.integers(-3, 3).map(lambda k: k * (1 << 40) + 7)
TIMES = st.integers(0, 12)


def _episodes(draw_list):
    keys = np.array([k for k, _, _ in draw_list], dtype=np.int64)
    starts = np.array([s for _, s, _ in draw_list], dtype=np.int64)
    ends = starts + np.array([d for _, _, d in draw_list], dtype=np.int64)
    return keys, starts, ends


EPISODES = st.lists(st.tuples(KEYS, TIMES, st.integers(0, 5)), max_size=25)
POINTS = st.lists(st.tuples(KEYS, TIMES), max_size=40)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(KEYS, TIMES), max_size=60), with_times=st.booleans())
def test_order_is_lexsort(rows, with_times):
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    times = np.array([t for _, t in rows], dtype=np.int64)
    got = _groups.order_by_key_then_time(keys, times if with_times else None)
    expected = np.lexsort((times, keys)) if with_times else np.argsort(keys, kind="stable")
    assert got.tolist() == expected.tolist()


def test_order_of_rows_already_in_time_order_per_key():
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
def test_locate_is_the_latest_start_then_the_end(episodes, points):
    keys, starts, ends = _episodes(episodes)
    point_keys = np.array([k for k, _ in points], dtype=np.int64)
    point_times = np.array([t for _, t in points], dtype=np.int64)
    got = _groups.locate(keys, starts, ends, point_keys, point_times)
    assert got.tolist() == _brute_locate(keys, starts, ends, point_keys, point_times)
    counts = _groups.count_in(keys, starts, ends, point_keys, point_times)
    assert counts.tolist() == [int((got == i).sum()) for i in range(len(keys))]


@settings(max_examples=300, deadline=None)
@given(episodes=EPISODES, intervals=EPISODES)
def test_overlapping_is_any_interval_of_the_key(episodes, intervals):
    keys, starts, ends = _episodes(episodes)
    interval_keys, interval_starts, interval_ends = _episodes(intervals)
    got = _groups.overlapping(keys, starts, ends, interval_keys, interval_starts, interval_ends)
    expected = [
        any(
            interval_keys[j] == keys[i] and interval_starts[j] <= ends[i] and interval_ends[j] >= starts[i]
            for j in range(len(interval_keys))
        )
        for i in range(len(keys))
    ]
    assert got.tolist() == expected


def test_intervals_that_nest_still_overlap():
    # A long interval holding a short one that ends before the episode: the short one
    # starts last, but the long one still covers the episode.
    got = _groups.overlapping([1], [50], [60], [1, 1], [0, 10], [100, 20])
    assert got.tolist() == [True]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 4)), max_size=30), huge=st.booleans()
)
def test_a_combined_key_sorts_as_its_tuple(rows, huge):
    codes = [np.array([row[i] for row in rows], dtype=np.int64) for i in range(3)]
    # Sizes whose product leaves int64 take the rank of the tuple instead of the mixed radix.
    sizes = [2**40, 2**40, 5] if huge else [4, 3, 5]
    key = _groups.combined_key(codes, sizes)
    assert np.argsort(key, kind="stable").tolist() == np.lexsort(codes[::-1]).tolist()
    assert len(set(key.tolist())) == len(set(rows))


def _brute_runs(rows, key, times, states, kinds, types, attempts, severity_of, alert_of, hard_of):
    """Episode runs row by row: a run of non-OK rows of one key and the recovery that ends it."""
    never = np.iinfo(np.int64).min
    episodes, current = [], None
    for i, row in enumerate(rows.tolist()):
        new_key = i == 0 or key[i] != key[i - 1]
        if new_key:
            current = None
        severity = int(severity_of[states[row]])
        if severity == 0 and current is None:
            continue
        is_alert = bool(alert_of[kinds[row]])
        if current is None:
            current = [i, int(times[row]), 0, never, 0, False, 0, 0, not is_alert and new_key]
            episodes.append(current)
        current[2] = int(times[row])
        current[7] += is_alert
        if severity > 0:
            if hard_of[types[row]] and (current[3] == never or times[row] < current[3]):
                current[3] = int(times[row])
            current[4] = max(current[4], severity)
            current[6] = max(current[6], max(int(attempts[row]), 0))
        else:
            current[5] = True
            current = None
    return [[episode[i] for episode in episodes] for i in range(9)]


@settings(max_examples=300, deadline=None)
@given(
    observations=st.lists(
        st.tuples(st.integers(0, 2), st.integers(-1, 4), st.integers(-1, 2), st.integers(-1, 2), st.integers(-1, 6)),
        max_size=40,
    )
)
def test_episode_runs_are_the_row_by_row_runs(observations):
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
    got = [np.asarray(column).tolist() for column in _runs_in_numpy(*args)]
    expected = _brute_runs(*args)
    assert [[int(v) for v in column] for column in got] == [[int(v) for v in column] for column in expected]
