"""Column lists, empty frames and small array helpers shared by the analytics stages.

Every public function returns a DataFrame with exactly the columns listed
here, in this order, even when there is nothing to report, so callers
(report, notebooks, the Dask engine) can rely on the shape.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EVENT_COLUMNS = [
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
    "contact",
    "command",
    "attempt",
    "output",
    "author",
    "comment",
]
# Names and states repeat a lot: categoricals. Free text: strings.
EVENT_CATEGORIES = [
    "node",
    "node_class",
    "cell",
    "environment",
    "kind",
    "host",
    "service",
    "state",
    "state_type",
    "contact",
    "command",
]
EVENT_STRINGS = ["output", "author", "comment"]

PERFDATA_COLUMNS = [
    "time",
    "node",
    "host",
    "service",
    "state",
    "label",
    "value",
    "uom",
    "warn",
    "crit",
    "min",
    "max",
]
VALUE_COLUMNS = ["time", "node", "host", "service", "state", "label", "value", "uom"]

OBJECT_COLUMNS = [
    "node",
    "object_type",
    "host",
    "service",
    "max_check_attempts",
    "check_interval",
    "retry_interval",
    "notification_interval",
    "notifications_enabled",
    "flap_detection_enabled",
    "low_flap_threshold",
    "high_flap_threshold",
    "active_checks_enabled",
    "check_command",
    "first_notification_delay",
    "notification_options",
]

EPISODE_COLUMNS = [
    "node",
    "node_class",
    "cell",
    "environment",
    "host",
    "service",
    "start",
    "end",
    "duration",
    "worst_state",
    "hard",
    "max_attempt",
    "alerts",
    "notifications",
    "acknowledged",
    "in_downtime",
    "flapping",
    "open",
    "detection_delay",
]

CHATTY_METRICS = [
    "score",
    "alerts_per_week",
    "notifications_per_week",
    "transient_share",
    "flap_percent",
    "off_hours_share",
    "alerts_per_problem",
    "reasons",
]
# Raw counts and what the rates rest on, after the metrics (added, never renamed):
# ``alerts`` and ``notifications`` are the log's lines (summary.cgi's counts);
# ``alerts_while_host_down`` of them were written while the host was in a HARD
# problem (counted, and attributed to the host's row too); ``hours_of_data`` is
# the span the node's log covers inside the window, which the rates are per;
# ``object`` says ``service`` or ``host``.
CHATTY_COUNTS = ["alerts", "notifications", "alerts_while_host_down", "hours_of_data", "object"]
# A service ranking (hosts summed) lists hosts next to services: ``host`` names
# the host of a host row and is empty on service rows.
CHATTY_COLUMNS = ["node_class", "cell", "node", "service"] + CHATTY_METRICS + CHATTY_COUNTS + ["host"]
CHATTY_HOST_SERVICE_COLUMNS = ["node_class", "cell", "node", "host", "service"] + CHATTY_METRICS + CHATTY_COUNTS
CHATTY_HOST_COLUMNS = ["node_class", "cell", "node", "host"] + CHATTY_METRICS + CHATTY_COUNTS

# ``occurrences``: the problems or episodes one finding stands for; ``evidence``: what it rests
# on (``log``, ``log + objects.cache``; see docs/findings.md).
QUIET_COLUMNS = [
    "node_class",
    "cell",
    "node",
    "host",
    "service",
    "finding",
    "detail",
    "duration",
    "occurrences",
    "evidence",
]

RETUNE_COLUMNS = [
    "node",
    "host",
    "service",
    "directive",
    "current",
    "suggested",
    "alerts_before",
    "alerts_after",
    "notifications_before",
    "notifications_after",
    "extra_detection_minutes",
    "long_problems_before",
    "long_problems_after",
    "reason",
    "replay_basis",
    "alerts_logged",
    "notifications_logged",
    "alerts_after_low",
    "alerts_after_high",
    "notifications_after_low",
    "notifications_after_high",
]
# replay_basis: what the before/after numbers rest on (REPLAY_EXACT: every check, replayed by
# nagtune.analytics.findings.replay; else the logged alerts only, an estimate). alerts_logged /
# notifications_logged: the lines the log has for the service in the window. *_after_low/high:
# the range the after-counts can take where the checks between logged alerts are unknown
# (equal to the after-count on an exact replay).
REPLAY_EXACT = "every check (perfdata), Nagios state machine"
REPLAY_ESTIMATE = "logged alerts only (estimate: checks between alerts unknown)"


def fill_retune_columns(frame):
    """Rows made from the logged alerts only: their basis said, their logged counts their befores."""
    if "replay_basis" not in frame:
        frame["replay_basis"] = REPLAY_ESTIMATE
    frame["replay_basis"] = frame["replay_basis"].fillna(REPLAY_ESTIMATE)
    for logged, before in (("alerts_logged", "alerts_before"), ("notifications_logged", "notifications_before")):
        if logged not in frame:
            frame[logged] = frame[before]
        frame[logged] = frame[logged].fillna(frame[before]).astype("int64")
    for point in ("alerts_after", "notifications_after"):
        for bound in (f"{point}_low", f"{point}_high"):
            if bound not in frame:
                frame[bound] = frame[point]
            frame[bound] = frame[bound].fillna(frame[point]).astype("int64")
    return frame


NAME_COLUMNS = ["kind", "raw", "metric_name", "collides_with"]

AUTOMATION_COLUMNS = [
    "node_class",
    "cell",
    "node",
    "host",
    "service",
    "pattern",
    "detail",
    "episodes",
    "when",
]

BY_CELL_COLUMNS = [
    "environment",
    "cell",
    "node_class",
    "nodes",
    "services",
    "alerts",
    "notifications",
    "episodes",
    "hard_episodes",
    "transient_share",
    "quiet_findings",
]


def empty(columns: list[str]) -> pd.DataFrame:
    """A frame with the given columns and no rows."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in columns})


def naive_utc(times: pd.Series) -> pd.Series:
    """A datetime Series as naive UTC; naive times are taken as UTC already."""
    # Times with a zone (every events frame's) lose it without a copy; pd.to_datetime would
    # convert every row for nothing.
    return (
        times.dt.tz_convert(None)
        if isinstance(times.dtype, pd.DatetimeTZDtype)
        else pd.to_datetime(times, utc=True).dt.tz_convert(None)
    )


def epoch_seconds(times: pd.Series):
    """int64 seconds of a datetime Series (tz-aware or not) without going through objects."""
    return naive_utc(times).to_numpy().astype("datetime64[s]").view(np.int64)  # a view: no int64 copy


def category_strings(values) -> pd.api.extensions.ExtensionArray:
    """A categorical's values as pandas strings, taken from its categories.

    ``astype(str)`` builds one Python object per row; taking from the few
    categories is many times faster on millions of rows, same result.
    """
    categorical = values.array if isinstance(values, pd.Series) else values
    codes = categorical.codes
    if len(codes) and codes.min() < 0:
        return pd.Series(categorical).astype(str).array  # missing values: keep astype's "nan"
    return pd.Index(categorical.categories.astype(str), dtype="str").take(codes).array


def category_rank(values):
    """Per row, the rank of its category in string order: sorting by it sorts the values as strings."""
    categorical = values.array if isinstance(values, pd.Series) else values
    names = np.asarray(categorical.categories.astype(str), dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    return rank[categorical.codes]


def release_freed_memory() -> None:
    """Hand the memory a big stage freed back to the operating system.

    glibc keeps freed heap memory for reuse: after a stage's many medium-sized
    numpy temporaries (one heap per parse thread) that is hundreds of MB still
    counted in the process' RSS (417 MB after a 10 M-line ingest).
    ``malloc_trim`` returns it, as Dask's workers do; Arrow's pool likewise
    keeps what it freed. A no-op where there is no glibc.
    """
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def codes_in(values, categories) -> np.ndarray:
    """Per value, its position in ``categories`` (-1: absent or missing). Each distinct value is
    looked up once: on Arrow strings this is 3x faster than ``get_indexer`` of every row, and
    ``to_numpy`` first would make a Python string of each (0.9 s per 650 k rows)."""
    codes, distinct = pd.factorize(values)
    return np.append(pd.Index(categories).get_indexer(distinct), -1)[codes]


def category_mask(values, wanted) -> np.ndarray:
    """Rows of a categorical whose value is in ``wanted``: a lookup per category, not per row."""
    categorical = values.array if isinstance(values, pd.Series) else values
    table = np.zeros(len(categorical.categories) + 1, dtype=bool)  # the last one: missing (code -1)
    table[[categorical.categories.get_loc(v) for v in wanted if v in categorical.categories]] = True
    return table[categorical.codes]


def object_keys(frame: pd.DataFrame, with_service: bool) -> np.ndarray:
    """One int64 per (node, host[, service]) from the category codes; same frame -> same keys."""
    return keys_of_codes(
        frame["node"].cat.codes.to_numpy(),
        frame["host"].cat.codes.to_numpy(),
        frame["service"].cat.codes.to_numpy() if with_service else None,
    )


def keys_of_codes(node: np.ndarray, host: np.ndarray, service: np.ndarray | None = None) -> np.ndarray:
    """:func:`object_keys` of category codes (of the same categories: same codes, same key)."""
    # In place: the narrow codes are widened chunk by chunk, not into int64 copies of every column.
    key = node.astype(np.int64)
    key <<= 24
    key += host
    if service is not None:
        key <<= 20
        key += service
    return key


def rows_of(frame: pd.DataFrame, keys: set) -> pd.DataFrame:
    """The rows of ``frame`` whose (node, host, service) is in ``keys`` (string triples), in their order."""
    columns = ("node", "host", "service")
    # Cheap per-column membership first (categoricals), exact triples on what is left.
    mask = np.ones(len(frame), dtype=bool)
    for position, column in enumerate(columns):
        mask &= frame[column].isin({key[position] for key in keys}).to_numpy()
    near = frame[mask]
    exact = pd.MultiIndex.from_arrays([near[c].astype(str) for c in columns]).isin(list(keys))
    return near[exact]
