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
``window_end`` (by default the time of the last event). ``ended_by`` says
what ended it: ``recovery`` (an OK/UP alert or snapshot), ``restart`` (Nagios
started again after its last line and nothing more was logged about it: its
end is unknown, so it ends at the restart), ``gap`` (it never went HARD and
nothing was logged about it for ``SOFT_GAP``: it ends at its last line), or
``window_end`` (still open). ``starts_before_window`` is also True when the
object's first line is a HARD alert past attempt 1: its SOFT attempts, which
Nagios always logs, lie before the log.

Host problems have ``service == ""``. Service problems say in ``host_down``
whether their host was DOWN/UNREACHABLE at some point during them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...parsers import events as ev
from .._frames import (
    EPISODE_COLUMNS,
    category_mask,
    category_rank,
    category_strings,
    naive_utc,
    object_keys,
    release_freed_memory,
)
from . import _groups

# Added after the contract's columns (add, don't rename).
EXTRA_COLUMNS = ["host_down", "starts_before_window", "first_hard", "kind", "ended_by"]
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
    frame["ended_by"] = pd.Series(dtype="object")
    return frame


def _as_categories(events: pd.DataFrame) -> pd.DataFrame:
    out = events
    for column in (
        "node",
        "host",
        "service",
        "node_class",
        "cell",
        "environment",
        "kind",
        "state",
        "state_type",
        "command",
    ):
        if column in out and not isinstance(out[column].dtype, pd.CategoricalDtype):
            out = out.assign(**{column: out[column].astype("category")})
    return out


# A problem that never went HARD and has no line for this long before the window's end lost its
# end: Nagios logs every SOFT attempt and every recovery, even from SOFT, within
# max_check_attempts x retry_interval (minutes on any sane configuration).
SOFT_GAP = pd.Timedelta(hours=1)


def restarts(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(node codes, times in ns) of each Nagios start: a ``LOG VERSION`` line not written by a log
    rotation in the same second (Nagios writes ``LOG VERSION`` at start-up and after each rotation)."""
    kinds = events["kind"]
    version = np.flatnonzero(category_mask(kinds, (ev.LOG_VERSION,)))
    rotation = np.flatnonzero(category_mask(kinds, (ev.LOG_ROTATION,)))
    node = events["node"].cat.codes.to_numpy().astype(np.int64)
    seconds = events["time"].to_numpy().view(np.int64) // 1_000_000_000
    rotated = set(zip(node[rotation].tolist(), seconds[rotation].tolist()))
    start = np.array(
        [(n, s) not in rotated for n, s in zip(node[version].tolist(), seconds[version].tolist())], dtype=bool
    )
    chosen = version[start] if len(version) else version
    return node[chosen], events["time"].to_numpy().view(np.int64)[chosen]


def _first_restart_after(events: pd.DataFrame, eps: pd.DataFrame, time_ns: np.ndarray) -> np.ndarray:
    """Per episode not recovered, the time (ns) of the first Nagios start on its node after its last
    line, else -1: what happened to it next is not in the log, so it ends there, end unknown."""
    found = np.full(len(eps), -1, dtype=np.int64)
    node_codes, times = restarts(events)
    if not len(times):
        return found
    episode_node = eps["node"].cat.codes.to_numpy().astype(np.int64)  # the events' categories
    last = eps["end_time"].to_numpy().view(np.int64)
    candidates = np.flatnonzero(~eps["recovered"].to_numpy(dtype=bool))
    order = np.lexsort((times, node_codes))
    node_codes, times = node_codes[order], times[order]
    for code in np.unique(episode_node[candidates]):
        mine = candidates[episode_node[candidates] == code]
        starts = times[node_codes == code]
        if not len(starts):
            continue
        position = np.searchsorted(starts, last[mine], side="right")
        has = position < len(starts)
        found[mine[has]] = starts[position[has]]
    return found


def _code_table(values: pd.Series, of_value) -> np.ndarray:
    """int8 per category of a categorical (``of_value(name)``), then 0 for a missing value (code -1)."""
    return np.array([of_value(name) for name in values.cat.categories] + [0], dtype=np.int8)


def _runs_in_numpy(rows, key, times, states, kinds, types, attempts, severity_of, alert_of, hard_of) -> tuple:
    """Per episode (a run of non-OK rows of one object, with the recovery that ends it):
    its first member row, start, end, first HARD time (INT64_MIN if none), worst
    severity, whether it recovered, highest attempt, alert count and whether it was
    already open when the window began."""
    severity = severity_of[states[rows]]
    bad = severity > 0
    same = np.r_[False, key[1:] == key[:-1]]
    prev_bad = np.r_[False, bad[:-1]] & same
    starts = bad & ~prev_bad
    member = np.flatnonzero(bad | (~bad & prev_bad))
    if not len(member):
        return tuple(np.zeros(0, dtype) for dtype in (np.int64,) * 4 + (np.int8, bool, np.int64, np.int64, bool))
    # Members are in episode order: an episode is a run of them, reduced with reduceat.
    first = np.flatnonzero(starts[member])
    event_rows = rows[member]
    is_alert = alert_of[kinds[event_rows]].astype(bool)
    member_bad = bad[member]
    at = times[event_rows]
    never = np.iinfo(np.int64).max
    first_hard = np.minimum.reduceat(np.where(hard_of[types[event_rows]].astype(bool) & member_bad, at, never), first)
    return (
        member[first],
        at[first],
        at[np.r_[first[1:], len(member)] - 1],
        np.where(first_hard == never, np.iinfo(np.int64).min, first_hard),
        np.maximum.reduceat(severity[member], first),
        np.logical_or.reduceat(~member_bad, first),
        np.maximum.reduceat(np.where(member_bad, np.maximum(attempts[event_rows], 0), 0).astype(np.int64), first),
        np.add.reduceat(is_alert.astype(np.int64), first),
        ~is_alert[first] & ~same[member[first]],
    )


def _problem_rows(
    events: pd.DataFrame, rows: np.ndarray, key: np.ndarray, host_shift: int, columns: dict
) -> pd.DataFrame:
    """Episodes of one level (hosts or services) from its observation ``rows``
    of ``events``, sorted by ``key`` (one per object) then time; ``columns``:
    the event columns and tables of :func:`_runs_in_numpy`."""
    found = _runs_in_numpy(rows, key, *columns.values())
    first, start, end_time, first_hard, severity, recovered, max_attempt, alerts, before_window = found
    if not len(first):
        return None
    result = pd.DataFrame(
        {
            "start": start.view("datetime64[ns]"),
            "recovered": recovered.astype(bool),
            "end_time": end_time.view("datetime64[ns]"),
            "severity": severity,
            "first_hard": first_hard.view("datetime64[ns]"),  # INT64_MIN is NaT
            "max_attempt": max_attempt,
            "alerts": alerts,
        }
    )
    for column in ("node", "node_class", "cell", "environment", "host", "service"):
        result[column] = events[column].array.take(rows[first])
    result["_key"] = key[first]
    result["_hostkey"] = key[first] >> host_shift
    result["starts_before_window"] = before_window.astype(bool)
    # The object's first line in the data is this problem's first: a HARD alert past attempt 1
    # then began before the log (its SOFT attempts, always logged, are not there).
    first_of_object = (first == 0) | (key[first] != key[np.maximum(first - 1, 0)])
    first_row = rows[first]
    result["_began_before_log"] = (
        first_of_object
        & columns["hard_of"][columns["types"][first_row]].astype(bool)
        & (columns["attempts"][first_row] > 1)
    )
    return result


def _intervals(events: pd.DataFrame, rows: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
    """STARTED .. STOPPED/CANCELLED/DISABLED intervals of flapping or downtime, per key,
    from the flapping or downtime ``rows`` of ``events`` and their object ``keys``."""
    if not len(rows):
        return pd.DataFrame(
            {"_k": np.array([], np.int64), "i_start": np.array([], np.int64), "i_end": np.array([], np.int64)}
        )
    lines = pd.DataFrame(
        {
            "_k": keys,
            "time": events["time"].to_numpy()[rows],
            "started": np.asarray(events["state"].array.take(rows) == "STARTED", dtype=bool),
        }
    )
    # An interval starts at STARTED and ends at the next line of the key that is not STARTED.
    ends = lines[~lines["started"]][["_k", "time"]].rename(columns={"time": "i_end"})
    starts = lines[lines["started"]][["_k", "time"]].rename(columns={"time": "i_start"})
    merged = pd.merge_asof(
        starts.sort_values("i_start", kind="stable"),
        ends.sort_values("i_end", kind="stable"),
        left_on="i_start",
        right_on="i_end",
        by="_k",
        direction="forward",
        allow_exact_matches=True,
    )
    # No end yet: it lasts; the times stay datetime64 until here so that no int64 goes through float.
    merged["i_end"] = merged["i_end"].fillna(pd.Timestamp.max).to_numpy(dtype="datetime64[ns]").view(np.int64)
    merged["i_start"] = merged["i_start"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    return merged


def build_episodes(
    events: pd.DataFrame, window_end=None, columns=None, categorical_names: bool = False
) -> pd.DataFrame:
    """Problem episodes of every host and service in ``events``.

    :param events: frame from :func:`nagtune.analytics.sources.ingest.load_events`.
    :param window_end: end of the analysed window; problems not recovered by
        then are ``open`` and end there. Default: the last event's time.
    :param columns: only these columns (in the usual order), and none of the
        work of the others: a stage that reads a few (the ranking reads
        ``chatty.EPISODE_COLUMNS_READ``) skips the joins of notifications,
        acknowledgements, downtime, flapping and host problems. Default: all.
    :param categorical_names: keep ``node``, ``node_class``, ``cell``,
        ``environment``, ``host`` and ``service`` as categoricals of the
        events' categories instead of strings: for a stage that only maps
        them back to the events (the ranking), a string per episode is work
        for nothing (0.2 s per 650 k episodes).
    :returns: one row per episode, columns ``EPISODE_COLUMNS`` then
        ``host_down``, ``starts_before_window``, ``first_hard``, ``kind``
        (``service`` or ``host``), sorted by node, host, service, start.
    """
    wanted = ALL_COLUMNS if columns is None else [c for c in ALL_COLUMNS if c in set(columns)]
    if columns is not None and len(wanted) != len(set(columns)):
        raise ValueError(f"no such episode columns: {sorted(set(columns) - set(ALL_COLUMNS))}")
    if events is None or len(events) == 0:
        return empty_episodes()[wanted]
    # Only the columns episodes need: filtering never copies the output text.
    needed = [
        c
        for c in (
            "time",
            "node",
            "node_class",
            "cell",
            "environment",
            "kind",
            "host",
            "service",
            "state",
            "state_type",
            "attempt",
            "command",
        )
        if c in events
    ]
    events = _as_categories(events[needed])
    # Work in naive UTC (numpy datetime64); localise the result at the end.
    times = naive_utc(events["time"])
    if times.dt.unit != "ns":  # the ingest's are ns: converting them anyway would copy them
        times = times.dt.as_unit("ns")
    events = events.assign(time=times)
    if window_end is None:
        window_end = times.max()
    else:
        window_end = pd.Timestamp(window_end)
        window_end = window_end.tz_convert(None) if window_end.tzinfo is not None else window_end
    kinds = events["kind"]
    time_ns = events["time"].to_numpy().view(np.int64)
    # A host's key is its services' keys without the service's 20 bits (object_keys): made from
    # them where needed, not as a second key of every row.
    service_key = object_keys(events, True)
    # The columns a problem is made of, as episode_runs takes them: codes and a table per code.
    columns = {
        "times": time_ns,
        "states": events["state"].cat.codes.to_numpy().astype(np.int16),
        "kinds": events["kind"].cat.codes.to_numpy().astype(np.int16),
        "types": events["state_type"].cat.codes.to_numpy().astype(np.int16),
        "attempts": events["attempt"].array.to_numpy(dtype=np.int16, na_value=-1),
        "severity_of": _code_table(events["state"], lambda name: SEVERITY.get(name, 0)),
        "alert_of": _code_table(kinds, lambda name: name in (ev.SERVICE_ALERT, ev.HOST_ALERT)),
        "hard_of": _code_table(events["state_type"], lambda name: name == "HARD"),
    }
    parts = []
    for level, observed in (("service", _SERVICE_OBSERVATIONS), ("host", _HOST_OBSERVATIONS)):
        rows = np.flatnonzero(category_mask(kinds, observed))
        if not len(rows):
            continue
        key = service_key[rows]
        if level == "host":
            key >>= 20
        order = _groups.order_by_key_then_time(key, time_ns[rows])
        rows = rows[order]
        part = _problem_rows(events, rows, key[order], 20 if level == "service" else 0, columns)
        if part is not None:
            part["kind"] = level
            parts.append(part)
    del columns
    if not parts:
        return empty_episodes()[wanted]
    eps = pd.concat(parts, ignore_index=True)
    eps["starts_before_window"] = eps["starts_before_window"].to_numpy(dtype=bool) | eps.pop(
        "_began_before_log"
    ).to_numpy(dtype=bool)
    restart = _first_restart_after(events, eps, time_ns)
    soft_gap = (
        ~eps["recovered"].to_numpy()
        & eps["first_hard"].isna().to_numpy()
        & (
            np.asarray(
                window_end.to_datetime64() if hasattr(window_end, "to_datetime64") else window_end,
                dtype="datetime64[ns]",
            )
            - eps["end_time"].to_numpy()
            > SOFT_GAP.to_timedelta64()
        )
    )
    ended_by = np.where(eps["recovered"].to_numpy(), "recovery", "window_end").astype(object)
    ended_by[soft_gap] = "gap"
    ended_by[restart >= 0] = "restart"  # the first evidence that Nagios' view of it was lost
    cut = ended_by != "window_end"
    eps["ended_by"] = ended_by
    eps["recovered"] = cut
    eps["end_time"] = np.where(restart >= 0, restart, eps["end_time"].to_numpy().view(np.int64)).view("datetime64[ns]")
    eps["open"] = ~eps["recovered"].to_numpy()
    end = eps["end_time"].where(eps["recovered"], window_end)
    eps["end"] = end.where(end >= eps["start"], eps["start"])
    eps["duration"] = eps["end"] - eps["start"]
    eps["hard"] = eps["first_hard"].notna()
    eps["detection_delay"] = eps["first_hard"] - eps["start"]
    if "worst_state" in wanted:
        names = {0: "OK", 1: "WARNING", 2: "UNKNOWN", 3: "CRITICAL"}
        host_names = {0: "UP", 1: "DOWN", 2: "UNREACHABLE", 3: "DOWN"}
        worst = np.where(eps["kind"] == "host", 4 + eps["severity"].to_numpy(), eps["severity"].to_numpy())
        eps["worst_state"] = (
            pd.Index([names[i] for i in range(4)] + [host_names[i] for i in range(4)], dtype="str").take(worst).array
        )

    # Notifications, acknowledgements, downtime, flapping and host-down during each episode.
    # Keys of one level: a service's is its object key * 2 + 1, a host's * 2, so host lines
    # never meet service episodes.
    is_service = (eps["kind"] == "service").to_numpy()
    level_key = np.where(is_service, eps["_key"].to_numpy() * 2 + 1, eps["_hostkey"].to_numpy() * 2)
    host_level_key = eps["_hostkey"].to_numpy() * 2
    starts = np.asarray(eps["start"].to_numpy(), dtype="datetime64[ns]").view(np.int64)
    ends = np.asarray(eps["end"].to_numpy(), dtype="datetime64[ns]").view(np.int64)
    joins = {"notifications", "acknowledged", "in_downtime", "flapping"} & set(wanted)
    service_level_key, host_only_key = (service_key * 2 + 1, (service_key >> 20) * 2) if joins else (None, None)

    def rows_where(column: str, value: str) -> np.ndarray:
        return category_mask(events[column], (value,))

    def count_lines(*selections) -> np.ndarray:
        """Per episode, the lines of ``selections`` ((mask, at service level)) inside it."""
        rows = [np.flatnonzero(mask) for mask, _ in selections]
        keys = np.concatenate(
            [(service_level_key if service else host_only_key)[r] for r, (_, service) in zip(rows, selections)]
        )
        return _groups.count_in(level_key, starts, ends, keys, time_ns[np.concatenate(rows)])

    if "notifications" in wanted or "acknowledged" in wanted:
        service_note, host_note = rows_where("kind", ev.SERVICE_NOTIFICATION), rows_where("kind", ev.HOST_NOTIFICATION)
        eps["notifications"] = count_lines((service_note, True), (host_note, False))
        ack, command = rows_where("state_type", "ACKNOWLEDGEMENT"), rows_where("kind", ev.EXTERNAL_COMMAND)
        eps["acknowledged"] = (
            count_lines(
                (service_note & ack, True),
                (host_note & ack, False),
                (command & rows_where("command", "ACKNOWLEDGE_SVC_PROBLEM"), True),
                (command & rows_where("command", "ACKNOWLEDGE_HOST_PROBLEM"), False),
            )
            > 0
        )
        del service_note, host_note, ack, command

    def overlapping(episode_key, kind, service):
        rows = np.flatnonzero(rows_where("kind", kind))
        found = _intervals(events, rows, (service_level_key if service else host_only_key)[rows])
        return _groups.overlapping(episode_key, starts, ends, found["_k"], found["i_start"], found["i_end"])

    if "in_downtime" in wanted:
        eps["in_downtime"] = overlapping(level_key, ev.SERVICE_DOWNTIME, True) | overlapping(
            host_level_key, ev.HOST_DOWNTIME, False
        )
    if "flapping" in wanted:
        eps["flapping"] = overlapping(level_key, ev.SERVICE_FLAPPING, True) | overlapping(
            level_key, ev.HOST_FLAPPING, False
        )
    if "host_down" in wanted:
        eps["host_down"] = (
            _groups.overlapping(
                host_level_key, starts, ends, host_level_key[~is_service], starts[~is_service], ends[~is_service]
            )
            & is_service
        )
    eps = eps[[c for c in eps.columns if c in wanted or c in ("node", "host", "service")]]
    for column in ("max_attempt", "alerts", "notifications"):
        if column in eps:
            eps[column] = eps[column].astype("int64")
    for column in ("hard", "open", "acknowledged", "in_downtime", "flapping", "host_down", "starts_before_window"):
        if column in eps:
            eps[column] = eps[column].astype(bool)
    # Sorted by node, host and service as strings, through the ranks of their categories.
    order = _groups.order_by_key_then_time(
        _groups.combined_key(
            [category_rank(eps[c]) for c in ("node", "host", "service")],
            [len(eps[c].cat.categories) for c in ("node", "host", "service")],
        ),
        starts,
    )
    eps = eps.take(order).reset_index(drop=True)
    eps = eps[wanted]
    for column in ("node", "node_class", "cell", "environment", "host", "service"):
        if column in eps and not categorical_names:
            eps[column] = category_strings(eps[column])
    for column in ("start", "end", "first_hard"):
        if column in eps:
            eps[column] = pd.to_datetime(eps[column]).dt.tz_localize("UTC").dt.as_unit("ns")
    for column in ("duration", "detection_delay"):
        if column in eps:
            eps[column] = eps[column].astype("timedelta64[ns]")
    # Dropped, not del'd: the helper functions above still name them (pyflakes reads a del as undefined).
    events = service_key = time_ns = service_level_key = host_only_key = None
    release_freed_memory()
    return eps
