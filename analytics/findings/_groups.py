"""Per-object sorts and interval joins: what episodes and the ranking do on millions of rows.

Keys are int64 (one per host or service object, :func:`._frames.object_keys`),
times int64 nanoseconds (or seconds: any one unit). numpy and pandas do the
work: a C version measured only 1.2-1.3x faster on a cell node's episodes,
too little for a second implementation to keep in step
(docs/design/grammar-and-c.md). ``tests/test_analytics_groups.py`` holds each
function to brute force.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _int64(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def order_by_key_then_time(key, times=None) -> np.ndarray:
    """Order of rows by key, then time, ties in row order: ``np.lexsort((times, key))``.

    Events come node by node in time order, so each key's rows are nearly always
    in time order already: a stable sort on the key alone, checked, and a
    lexsort only when the check fails.
    """
    key = _int64(key)
    if times is not None:
        times = _int64(times)
    order = np.argsort(key, kind="stable")
    if times is None:
        return order
    sorted_key, sorted_times = key[order], times[order]
    if np.all((sorted_times[1:] >= sorted_times[:-1]) | (sorted_key[1:] != sorted_key[:-1])):
        return order
    return np.lexsort((times, key))


def combined_key(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One int64 per row that sorts as the tuple of ``codes`` (each in ``range(size)``):
    mixed radix, or the rank of the tuple when the sizes' product leaves int64."""
    if float(np.prod([max(size, 1) for size in sizes], dtype=float)) < 2.0**62:
        key = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64)
        for column, size in zip(codes, sizes):
            key = key * max(size, 1) + column
        return key
    return np.unique(np.rec.fromarrays(codes), return_inverse=True)[1].astype(np.int64).ravel()


def locate(episode_key, episode_start, episode_end, key, time) -> np.ndarray:
    """Per point, the episode it falls in: of the episodes with its key, the one
    that started last at or before it (ties: the later row), if the point is at
    or before its end; else -1.
    """
    episode_key, episode_start, episode_end = _int64(episode_key), _int64(episode_start), _int64(episode_end)
    key, time = _int64(key), _int64(time)
    found = np.full(len(key), -1, dtype=np.int64)
    if not len(key) or not len(episode_key):
        return found
    episodes = pd.DataFrame(
        {"_k": episode_key, "start": episode_start, "end": episode_end, "_i": np.arange(len(episode_key))}
    ).sort_values("start", kind="stable")
    points = pd.DataFrame({"_k": key, "time": time, "_p": np.arange(len(key))}).sort_values("time", kind="stable")
    # merge_asof takes, among equal starts, the last row: with a stable sort, the later episode.
    merged = pd.merge_asof(points, episodes, left_on="time", right_on="start", by="_k", direction="backward")
    inside = (merged["time"] <= merged["end"]).fillna(False).to_numpy()
    found[merged["_p"].to_numpy()[inside]] = merged["_i"].to_numpy()[inside].astype(np.int64)
    return found


def count_in(episode_key, episode_start, episode_end, key, time) -> np.ndarray:
    """Per episode, how many points :func:`locate` puts in it."""
    found = locate(episode_key, episode_start, episode_end, key, time)
    return np.bincount(found[found >= 0], minlength=len(episode_key)).astype(np.int64)


def overlapping(episode_key, episode_start, episode_end, interval_key, interval_start, interval_end) -> np.ndarray:
    """Per episode, whether an interval of its key overlaps it (starts at or before
    its end and ends at or after its start)."""
    episode_key, episode_start, episode_end = _int64(episode_key), _int64(episode_start), _int64(episode_end)
    interval_key, interval_start, interval_end = _int64(interval_key), _int64(interval_start), _int64(interval_end)
    hit = np.zeros(len(episode_key), dtype=bool)
    if not len(episode_key) or not len(interval_key):
        return hit
    order = np.lexsort((interval_start, interval_key))
    intervals = pd.DataFrame({"_k": interval_key[order], "i_start": interval_start[order]})
    # The latest end of the key's intervals so far: the intervals started by an episode's
    # end overlap it if the latest of their ends reaches its start.
    intervals["latest_end"] = pd.Series(interval_end[order]).groupby(interval_key[order]).cummax().to_numpy()
    episodes = pd.DataFrame(
        {"_k": episode_key, "start": episode_start, "end": episode_end, "_i": np.arange(len(episode_key))}
    ).sort_values("end", kind="stable")
    merged = pd.merge_asof(
        episodes,
        intervals.sort_values("i_start", kind="stable"),
        left_on="end",
        right_on="i_start",
        by="_k",
        direction="backward",
    )
    overlaps = (merged["latest_end"] >= merged["start"]).fillna(False).to_numpy()
    hit[merged["_i"].to_numpy()[overlaps]] = True
    return hit
