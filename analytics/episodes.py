"""Events to problem episodes: one row per problem of a host or a service.

A problem runs from its first non-OK line (SOFT or HARD) to the next OK
(UP for hosts). State snapshots (``CURRENT``/``INITIAL ... STATE``, written
after every start and log rotation) are never alerts, but they say what the
state was, so they can:

- open a problem at the start of the window (the log begins while a service
  is already CRITICAL: ``alerts`` is 0 and ``starts_before_window`` is True),
- close one that recovered while Nagios was down (a restart says OK),
- open one that began while Nagios was down (a restart says CRITICAL).

A problem with no recovery by ``window_end`` is ``open``; its ``end`` is
``window_end`` (by default the time of the last event).

Host problems have ``service == ""``. Service problems say in ``host_down``
whether their host was DOWN/UNREACHABLE at some point during them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..parsers import events as ev
from ._frames import (EPISODE_COLUMNS, category_rank, category_strings, object_keys, order_by_key_then_time,
                      release_freed_memory)

# Added after the contract's columns (add, don't rename).
EXTRA_COLUMNS = ["host_down", "starts_before_window", "first_hard", "kind"]
ALL_COLUMNS = EPISODE_COLUMNS + EXTRA_COLUMNS

SEVERITY = {"OK": 0, "UP": 0, "WARNING": 1, "UNKNOWN": 2, "CRITICAL": 3, "UNREACHABLE": 2, "DOWN": 3}
_SERVICE_OBSERVATIONS = (ev.SERVICE_ALERT, ev.CURRENT_SERVICE_STATE, ev.INITIAL_SERVICE_STATE)
_HOST_OBSERVATIONS = (ev.HOST_ALERT, ev.CURRENT_HOST_STATE, ev.INITIAL_HOST_STATE)


LONG_PROBLEM = pd.Timedelta(minutes=30)  # a HARD CRITICAL this long is a real problem that must be caught


def is_long_problem(episodes: pd.DataFrame, long=LONG_PROBLEM) -> pd.Series:
    """HARD CRITICAL problems that lasted at least ``long``: never to be missed."""
    return episodes["hard"] & (episodes["worst_state"] == "CRITICAL") & (episodes["duration"] >= pd.Timedelta(long))


def empty_episodes() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ALL_COLUMNS})
    for c in ("start", "end", "first_hard"):
        frame[c] = pd.Series(dtype="datetime64[ns, UTC]")
    for c in ("duration", "detection_delay"):
        frame[c] = pd.Series(dtype="timedelta64[ns]")
    for c in ("hard", "acknowledged", "in_downtime", "flapping", "open", "host_down", "starts_before_window"):
        frame[c] = pd.Series(dtype=bool)
    for c in ("max_attempt", "alerts", "notifications"):
        frame[c] = pd.Series(dtype="int64")
    return frame


def _as_categories(events: pd.DataFrame) -> pd.DataFrame:
    out = events
    for column in ("node", "host", "service", "node_class", "cell", "environment", "kind", "state",
                   "state_type", "command"):
        if column in out and not isinstance(out[column].dtype, pd.CategoricalDtype):
            out = out.assign(**{column: out[column].astype("category")})
    return out


def _problem_rows(events: pd.DataFrame, rows: np.ndarray, key: np.ndarray, host_key: np.ndarray) -> pd.DataFrame:
    """Episodes of one level (hosts or services) from its observation ``rows``
    of ``events``, sorted by ``key`` (one per object) then time."""
    states = events["state"]
    per_category = pd.Series(states.cat.categories).map(SEVERITY).fillna(0).to_numpy().astype(np.int8)
    codes = states.cat.codes.to_numpy()[rows]
    severity = np.where(codes >= 0, per_category[np.maximum(codes, 0)], 0).astype(np.int8)
    bad = severity > 0
    same = np.r_[False, key[1:] == key[:-1]]
    prev_bad = np.r_[False, bad[:-1]] & same
    starts = bad & ~prev_bad
    recovery = ~bad & prev_bad
    member = np.flatnonzero(bad | recovery)
    if not len(member):
        return None
    # Members are in episode order: an episode is a run of them, reduced with reduceat.
    first = np.flatnonzero(starts[member])
    event_rows = rows[member]
    kinds = events["kind"]
    alert_codes = [kinds.cat.categories.get_loc(k) for k in (ev.SERVICE_ALERT, ev.HOST_ALERT)
                   if k in kinds.cat.categories]
    is_alert = np.isin(kinds.cat.codes.to_numpy()[event_rows], alert_codes)
    state_type = events["state_type"]
    hard_code = state_type.cat.categories.get_loc("HARD") if "HARD" in state_type.cat.categories else -2
    hard = (state_type.cat.codes.to_numpy()[event_rows] == hard_code) & bad[member]
    times = events["time"].to_numpy()[event_rows].view(np.int64)
    attempt = events["attempt"].to_numpy(dtype=np.int64, na_value=0)[event_rows]
    never = np.iinfo(np.int64).max
    first_hard = np.minimum.reduceat(np.where(hard, times, never), first)
    result = pd.DataFrame({
        # Times only grow within an episode: its first and last member.
        "start": times[first].view("datetime64[ns]"),
        "recovered": np.logical_or.reduceat(recovery[member], first),
        "end_time": times[np.r_[first[1:], len(member)] - 1].view("datetime64[ns]"),
        "severity": np.maximum.reduceat(severity[member], first),
        "first_hard": np.where(first_hard == never, np.datetime64("NaT", "ns").view(np.int64),
                               first_hard).view("datetime64[ns]"),
        "max_attempt": np.maximum.reduceat(np.where(bad[member], attempt, 0), first),
        "alerts": np.add.reduceat(is_alert.astype(np.int64), first),
    })
    first_rows = member[first]
    for column in ("node", "node_class", "cell", "environment", "host", "service"):
        result[column] = events[column].array.take(rows[first_rows])
    result["_key"] = key[first_rows]
    result["_hostkey"] = host_key[first_rows]
    result["starts_before_window"] = ~is_alert[first] & ~same[first_rows]
    return result


def _intervals(events: pd.DataFrame, kind: str, with_service: bool) -> pd.DataFrame:
    """STARTED .. STOPPED/CANCELLED/DISABLED intervals of flapping or downtime, per key."""
    rows = events[events["kind"] == kind]
    if rows.empty:
        return pd.DataFrame({"_k": np.array([], np.int64), "i_start": pd.Series(dtype="datetime64[ns]"),
                             "i_end": pd.Series(dtype="datetime64[ns]")})
    rows = rows.assign(_k=object_keys(rows, with_service)).sort_values(["_k", "time"], kind="stable")
    started = (rows["state"] == "STARTED").to_numpy()
    key = rows["_k"].to_numpy()
    # An interval starts at STARTED and ends at the next line of the key that is not STARTED.
    ends = rows[~started][["_k", "time"]].rename(columns={"time": "i_end"})
    starts = rows[started][["_k", "time"]].rename(columns={"time": "i_start"})
    merged = pd.merge_asof(starts.sort_values("i_start"), ends.sort_values("i_end"), left_on="i_start",
                           right_on="i_end", by="_k", direction="forward", allow_exact_matches=True)
    merged["i_end"] = merged["i_end"].fillna(pd.Timestamp.max)
    del key
    return merged


def _overlaps(episodes: pd.DataFrame, key_column: str, intervals: pd.DataFrame) -> np.ndarray:
    """For each episode: does any interval of its key overlap [start, end]?"""
    if intervals.empty or episodes.empty:
        return np.zeros(len(episodes), dtype=bool)
    left = pd.DataFrame({"_k": episodes[key_column].to_numpy(), "start": episodes["start"].to_numpy(),
                         "end": episodes["end"].to_numpy(), "_i": np.arange(len(episodes))})
    right = intervals.sort_values("i_start")
    # The last interval that started at or before the episode's end ...
    m = pd.merge_asof(left.sort_values("end"), right, left_on="end", right_on="i_start", by="_k",
                      direction="backward")
    # ... overlaps if it ends at or after the episode's start (intervals of a key do not nest).
    hit = (m["i_end"] >= m["start"]).fillna(False).to_numpy()
    out = np.zeros(len(episodes), dtype=bool)
    out[m["_i"].to_numpy()[hit]] = True
    return out


def _count_in(episodes: pd.DataFrame, key_column: str, points: pd.DataFrame) -> np.ndarray:
    """For each episode: how many of ``points`` (with _k, time) of its key fall in [start, end]."""
    if points.empty or episodes.empty:
        return np.zeros(len(episodes), dtype=np.int64)
    eps = pd.DataFrame({"_k": episodes[key_column].to_numpy(), "start": episodes["start"].to_numpy(),
                        "end": episodes["end"].to_numpy(), "_i": np.arange(len(episodes))}).sort_values("start")
    m = pd.merge_asof(points[["_k", "time"]].sort_values("time"), eps, left_on="time", right_on="start",
                      by="_k", direction="backward")
    m = m[(m["time"] <= m["end"]).fillna(False)]
    return np.bincount(m["_i"].to_numpy().astype(np.int64), minlength=len(episodes))


def build_episodes(events: pd.DataFrame, window_end=None) -> pd.DataFrame:
    """Problem episodes of every host and service in ``events``.

    :param events: frame from :func:`nagtune.analytics.ingest.load_events`.
    :param window_end: end of the analysed window; problems not recovered by
        then are ``open`` and end there. Default: the last event's time.
    :returns: one row per episode, columns ``EPISODE_COLUMNS`` then
        ``host_down``, ``starts_before_window``, ``first_hard``, ``kind``
        (``service`` or ``host``), sorted by node, host, service, start.
    """
    if events is None or len(events) == 0:
        return empty_episodes()
    # Only the columns episodes need: filtering never copies the output text.
    needed = [c for c in ("time", "node", "node_class", "cell", "environment", "kind", "host", "service",
                          "state", "state_type", "attempt", "command") if c in events]
    events = _as_categories(events[needed])
    # Work in naive UTC (numpy datetime64); localise the result at the end.
    times = pd.to_datetime(events["time"], utc=True).dt.tz_convert(None).dt.as_unit("ns")
    events = events.assign(time=times)
    if window_end is None:
        window_end = times.max()
    else:
        window_end = pd.Timestamp(window_end)
        window_end = window_end.tz_convert(None) if window_end.tzinfo is not None else window_end
    kinds = events["kind"]
    time_ns = events["time"].to_numpy().view(np.int64)
    service_key, host_key = object_keys(events, True), object_keys(events, False)
    parts = []
    for level, observed in (("service", _SERVICE_OBSERVATIONS), ("host", _HOST_OBSERVATIONS)):
        rows = np.flatnonzero(kinds.isin(observed).to_numpy())
        if not len(rows):
            continue
        key = (service_key if level == "service" else host_key)[rows]
        order = order_by_key_then_time(key, time_ns[rows])
        rows = rows[order]
        part = _problem_rows(events, rows, key[order], host_key[rows])
        if part is not None:
            part["kind"] = level
            parts.append(part)
    if not parts:
        return empty_episodes()
    eps = pd.concat(parts, ignore_index=True)
    eps["open"] = ~eps["recovered"].to_numpy()
    end = eps["end_time"].where(eps["recovered"], window_end)
    eps["end"] = end.where(end >= eps["start"], eps["start"])
    eps["duration"] = eps["end"] - eps["start"]
    eps["hard"] = eps["first_hard"].notna()
    eps["detection_delay"] = eps["first_hard"] - eps["start"]
    names = {0: "OK", 1: "WARNING", 2: "UNKNOWN", 3: "CRITICAL"}
    host_names = {0: "UP", 1: "DOWN", 2: "UNREACHABLE", 3: "DOWN"}
    worst = np.where(eps["kind"] == "host", 4 + eps["severity"].to_numpy(), eps["severity"].to_numpy())
    eps["worst_state"] = pd.Index([names[i] for i in range(4)] + [host_names[i] for i in range(4)],
                                  dtype="str").take(worst).array

    # Notifications, acknowledgements, downtime, flapping and host-down during each episode.
    is_service = (eps["kind"] == "service").to_numpy()
    eps["_okey"] = np.where(is_service, eps["_key"], eps["_hostkey"])
    eps["_level"] = np.where(is_service, 1, 0)
    level_key = eps["_okey"].to_numpy() * 2 + eps["_level"].to_numpy()
    eps["_lk"] = level_key

    def points(mask, with_service):
        rows = events[mask.to_numpy() if hasattr(mask, "to_numpy") else mask]
        if rows.empty:
            return pd.DataFrame({"_k": np.array([], np.int64), "time": pd.Series(dtype="datetime64[ns]")})
        return pd.DataFrame({"_k": object_keys(rows, with_service) * 2 + (1 if with_service else 0),
                             "time": rows["time"].to_numpy()})

    notes = pd.concat([points(kinds == ev.SERVICE_NOTIFICATION, True),
                       points(kinds == ev.HOST_NOTIFICATION, False)], ignore_index=True)
    eps["notifications"] = _count_in(eps, "_lk", notes)
    state_type = events["state_type"]
    command = events["command"]
    acks = pd.concat([
        points((kinds == ev.SERVICE_NOTIFICATION) & (state_type == "ACKNOWLEDGEMENT"), True),
        points((kinds == ev.HOST_NOTIFICATION) & (state_type == "ACKNOWLEDGEMENT"), False),
        points((kinds == ev.EXTERNAL_COMMAND) & (command == "ACKNOWLEDGE_SVC_PROBLEM"), True),
        points((kinds == ev.EXTERNAL_COMMAND) & (command == "ACKNOWLEDGE_HOST_PROBLEM"), False),
    ], ignore_index=True)
    eps["acknowledged"] = _count_in(eps, "_lk", acks) > 0

    def level_intervals(kind, with_service):
        found = _intervals(events, kind, with_service)
        found["_k"] = found["_k"] * 2 + (1 if with_service else 0)
        return found

    svc_down = level_intervals(ev.SERVICE_DOWNTIME, True)
    host_down_iv = level_intervals(ev.HOST_DOWNTIME, False)
    eps["_hk"] = eps["_hostkey"].to_numpy() * 2
    eps["in_downtime"] = _overlaps(eps, "_lk", svc_down) | _overlaps(eps, "_hk", host_down_iv)
    eps["flapping"] = (_overlaps(eps, "_lk", level_intervals(ev.SERVICE_FLAPPING, True))
                       | _overlaps(eps, "_lk", level_intervals(ev.HOST_FLAPPING, False)))
    host_eps = eps[~is_service]
    host_problem = pd.DataFrame({"_k": host_eps["_hostkey"].to_numpy() * 2, "i_start": host_eps["start"].to_numpy(),
                                 "i_end": host_eps["end"].to_numpy()})
    eps["host_down"] = _overlaps(eps, "_hk", host_problem) & is_service
    for column in ("max_attempt", "alerts", "notifications"):
        eps[column] = eps[column].astype("int64")
    for column in ("hard", "open", "acknowledged", "in_downtime", "flapping", "host_down", "starts_before_window"):
        eps[column] = eps[column].astype(bool)
    # Sorted by node, host and service as strings, through the ranks of their categories.
    order = np.lexsort((eps["start"].to_numpy(), category_rank(eps["service"]), category_rank(eps["host"]),
                        category_rank(eps["node"])))
    eps = eps.take(order).reset_index(drop=True)
    for column in ("node", "node_class", "cell", "environment", "host", "service"):
        eps[column] = category_strings(eps[column])
    for column in ("start", "end", "first_hard"):
        eps[column] = pd.to_datetime(eps[column]).dt.tz_localize("UTC").dt.as_unit("ns")
    for column in ("duration", "detection_delay"):
        eps[column] = eps[column].astype("timedelta64[ns]")
    eps = eps[ALL_COLUMNS]
    del events, service_key, host_key, time_ns
    release_freed_memory()
    return eps
