"""Too chatty: which services and hosts make noise, with a score and the reasons in words.

What makes an alert noise, per service (or per host and service, or per host):

- ``alerts``, ``notifications``: the log's lines, as Nagios' summary.cgi counts
  them; ``alerts_while_host_down`` of a service's alerts were written during a
  HARD problem of its host: counted, shown, and scored on the host's row;
- ``alerts_per_week``, ``notifications_per_week``: the counts per week of the
  span the node's log covers inside the window (``hours_of_data``);
- ``transient_share``: share of its problems that fixed themselves before
  HARD, or were HARD for less than ``transient_minutes``;
- ``flap_percent``: the peak of Nagios' weighted percent state change over
  the last 21 recorded check states, recomputed from the log (see
  :func:`nagtune.analytics.findings.flapping.percent_at_alerts`);
- ``off_hours_share``: share of alerts at night (before 08:00, from 20:00)
  or at weekends, in ``timezone``;
- ``alerts_per_problem``: alerts per real problem (HARD and lasting).

``score = log1p(volume per week) * (NOISE_FLOOR + noise)``: volume weighs
SOFT alerts, HARD alerts and notifications (``*_WEIGHT`` below); noise (0..1)
weighs transient share, flapping, alerts per problem and off hours
(``NOISE_WEIGHTS``), so volume ranks and noise breaks ties and lifts the
services whose alerts are not worth waking anyone for. The table of
components is in docs/analytics.md ("The chatty score").
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ...parsers import events as ev
from .._frames import (
    CHATTY_COLUMNS,
    CHATTY_HOST_COLUMNS,
    CHATTY_HOST_SERVICE_COLUMNS,
    category_mask,
    codes_in,
    empty,
    epoch_seconds,
    keys_of_codes,
    object_keys,
)
from . import _groups, flapping

TRANSIENT_MINUTES = 15.0  # a HARD problem shorter than this (about 3 check intervals) is transient
HIGH_FLAP_THRESHOLD = flapping.DEFAULT_HIGH  # Nagios' default high_service_flap_threshold

# The score's components (docs/analytics.md, "The chatty score").
# Volume: alerts per week weighted by whom they reach. SOFT lines page nobody;
# a notification reaches a person.
SOFT_ALERT_WEIGHT = 0.25
HARD_ALERT_WEIGHT = 1.0
NOTIFICATION_WEIGHT = 2.0
# Noise, 0..1: the weights sum to 1; each component is a share, or capped at 1.
NOISE_WEIGHTS = {
    "transient_share": 0.35,
    "flapping": 0.25,  # flap_percent / FLAPPING_FULL, capped at 1
    "alerts_per_problem": 0.25,  # alerts_per_problem / ALERTS_PER_PROBLEM_FULL, capped at 1
    "off_hours_share": 0.15,
}
FLAPPING_FULL = 2 * HIGH_FLAP_THRESHOLD  # flap percent at which flapping counts fully
ALERTS_PER_PROBLEM_FULL = 20.0  # alerts per real problem at which that counts fully
NOISE_FLOOR = 0.5  # a service with no noise keeps half its volume score: volume ranks first


def _hard_host_episodes(episodes: pd.DataFrame) -> pd.DataFrame | None:
    """The host problems that reached HARD: only a confirmed problem is "host down"."""
    if episodes is None or len(episodes) == 0 or "kind" not in episodes:
        return None
    hosts = episodes[((episodes["kind"] == "host") & episodes["hard"]).to_numpy(dtype=bool)]
    return hosts if len(hosts) else None


def _host_problem_of(alerts: pd.DataFrame, hosts: pd.DataFrame | None, seconds: np.ndarray) -> np.ndarray:
    """Per service alert, the row in ``hosts`` (HARD host problems) it was written during, else -1.

    ``alerts`` has categorical ``node`` and ``host``; ``seconds`` are its times in epoch seconds."""
    found = np.full(len(alerts), -1, dtype=np.int64)
    if hosts is None:
        return found
    # The host episodes' (node, host) as codes of the alerts' categories: one integer key each.
    node = codes_in(hosts["node"], alerts["node"].cat.categories)
    host = codes_in(hosts["host"], alerts["host"].cat.categories)
    known = (node >= 0) & (host >= 0)
    if not known.any():
        return found
    located = _groups.locate(
        keys_of_codes(node, host)[known],
        epoch_seconds(hosts["start"])[known],
        epoch_seconds(hosts["end"])[known],
        object_keys(alerts, with_service=False),
        seconds,
    )
    return np.where(located >= 0, np.flatnonzero(known)[np.maximum(located, 0)], -1)


def _off_hours(seconds: np.ndarray, timezone: str) -> np.ndarray:
    """Night (before 08:00, from 20:00) or weekend in ``timezone``, of times in epoch ``seconds``."""
    if timezone == "UTC":
        # Hour and weekday from epoch seconds: pandas' field accessors cost 0.2 s per 10 M alerts.
        hour = (seconds // 3600) % 24
        weekend = (seconds // 86400 + 3) % 7 >= 5  # 1970-01-01 was a Thursday (Monday = 0)
    else:
        local = pd.Series(pd.to_datetime(seconds, unit="s", utc=True)).dt.tz_convert(timezone)
        hour = local.dt.hour.to_numpy()
        weekend = local.dt.day_of_week.to_numpy() >= 5
    return (hour < 8) | (hour >= 20) | weekend


def weeks_between(first, last) -> float:
    """Weeks from ``first`` to ``last``: at least ``MIN_HOURS_OF_DATA``, so one line is not a rate of zero span."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return MIN_HOURS_OF_DATA / HOURS_PER_WEEK
    return max(float((last - first) / pd.Timedelta(hours=1)), MIN_HOURS_OF_DATA) / HOURS_PER_WEEK


HOURS_PER_WEEK = 168.0
MIN_HOURS_OF_DATA = 1.0  # a node whose window holds less than this is rated as if it held this


def hours_per_node(frame: pd.DataFrame) -> np.ndarray:
    """Per node category code, the hours its events span (at least ``MIN_HOURS_OF_DATA``).

    Rates are per the span each node's log covers inside the window, never
    the whole window's: files of nodes archived years apart, or a 50-minute
    run in a 7-day window, are rated over the data that is there. A node's
    events are all in one partition, so any split by node gives the same."""
    codes = frame["node"].cat.codes.to_numpy()
    count = len(frame["node"].cat.categories)
    seconds = epoch_seconds(frame["time"])
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, codes, seconds)
    np.maximum.at(last, codes, seconds)
    hours = np.where(last >= first, (last - first) / 3600.0, 0.0)
    return np.maximum(hours, MIN_HOURS_OF_DATA)


# The episode columns rank_chatty reads: what api.rank_logs asks build_episodes for.
EPISODE_COLUMNS_READ = [
    "kind",
    "node_class",
    "cell",
    "node",
    "host",
    "service",
    "start",
    "end",
    "duration",
    "hard",
    "open",
]


def rank_chatty(
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    by: str = "service",
    top=None,
    transient_minutes: float = TRANSIENT_MINUTES,
    timezone: str = "UTC",
    weeks: float | None = None,
    include_hosts: bool = False,
) -> pd.DataFrame:
    """Services (or hosts) ranked by how much noise they make, noisiest first.

    :param by: ``"service"`` (per node and service, hosts summed),
        ``"host_service"`` (per node, host and service) or ``"host"`` (host
        alerts and notifications per node and host).
    :param top: keep the first ``top`` rows.
    :param weeks: the rates' span in weeks for every node; default: each
        node's own span of data (:func:`hours_per_node`).
    :param include_hosts: with ``by="service"`` or ``"host_service"``, the
        hosts' rows ranked among the services' (``object == "host"``,
        ``service`` empty).
    :returns: ``CHATTY_COLUMNS``, ``CHATTY_HOST_SERVICE_COLUMNS`` or
        ``CHATTY_HOST_COLUMNS``, sorted by ``score`` descending; ``reasons``
        says in words why each row is there. Objects without a single alert
        never appear. Service alerts written during a HARD host problem are
        counted (``alerts``, ``alerts_while_host_down``) but not scored: they
        are the host's noise, scored on the host's row.
    """
    columns = {"service": CHATTY_COLUMNS, "host_service": CHATTY_HOST_SERVICE_COLUMNS, "host": CHATTY_HOST_COLUMNS}.get(
        by
    )
    if columns is None:
        raise ValueError(f"by must be 'service', 'host_service' or 'host', not {by!r}")
    if events is None or len(events) == 0:
        return empty(columns)
    # The columns the ranking reads, as categoricals (the ingest's are; a hand-made frame's
    # are made so here). Selecting columns copies nothing.
    frame = events[["node_class", "cell", "node", "host", "service", "time", "state", "state_type", "kind"]]
    for column in ("node_class", "cell", "node", "host", "service", "state", "kind"):
        if not isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame = frame.assign(**{column: frame[column].astype("category")})
    node_hours = (
        hours_per_node(frame)
        if weeks is None
        else np.full(len(frame["node"].cat.categories), float(weeks) * HOURS_PER_WEEK)
    )
    hard_hosts = _hard_host_episodes(episodes)
    parts = []
    if by != "host":
        parts.append(_ranked(frame, episodes, hard_hosts, "service", by, node_hours, transient_minutes, timezone))
    if by == "host" or include_hosts:
        parts.append(_ranked(frame, episodes, hard_hosts, "host", by, node_hours, transient_minutes, timezone))
    parts = [part for part in parts if part is not None]
    if not parts:
        return empty(columns)
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    keys = [c for c in ("node_class", "cell", "node", "host", "service") if c in columns]
    # Sorted on the score as shown, ties by name: the order api.combine gives the parts of any split.
    table = table.sort_values(["score"] + keys, ascending=[False] + [True] * len(keys), kind="stable").reset_index(
        drop=True
    )
    if top is not None:
        table = table.head(int(top))
    return table[columns].reset_index(drop=True)


def _ranked(
    frame: pd.DataFrame,
    episodes: pd.DataFrame,
    hard_hosts,
    what: str,
    by: str,
    node_hours: np.ndarray,
    transient_minutes: float,
    timezone: str,
) -> pd.DataFrame | None:
    """The table rows of one kind of object (``what``: ``"service"`` or ``"host"``), unsorted."""
    kind = frame["kind"]
    alert_kind, note_kind = (
        (ev.SERVICE_ALERT, ev.SERVICE_NOTIFICATION) if what == "service" else (ev.HOST_ALERT, ev.HOST_NOTIFICATION)
    )
    alert_rows = np.flatnonzero(category_mask(kind, (alert_kind,)))
    if not len(alert_rows):
        return None
    with_service = what == "service"
    keys = (
        ["node_class", "cell", "node"]
        + (["host"] if by != "service" or not with_service else [])
        + (["service"] if with_service else [])
    )

    def codes_at(column: str, rows: np.ndarray) -> np.ndarray:
        return frame[column].cat.codes.to_numpy()[rows]

    # Flapping: per object (Nagios keeps one history per host and per service object),
    # over every alert: the ones the host caused are in Nagios' history too.
    object_key = keys_of_codes(
        codes_at("node", alert_rows),
        codes_at("host", alert_rows),
        codes_at("service", alert_rows) if with_service else None,
    )
    # Epoch seconds once: the sort, the flap history, the host-down mask and the night
    # hours all read them, and each conversion walks every alert.
    seconds = epoch_seconds(frame["time"].iloc[alert_rows])  # of the alerts only
    order = _groups.order_by_key_then_time(object_key, seconds)
    alert_rows, object_key, seconds = alert_rows[order], object_key[order], seconds[order]
    # The alerts taken once, already in (object, time) order. Their times are not taken:
    # ``seconds`` has them.
    sorted_frame = frame.drop(columns=["time", "kind"]).take(alert_rows)
    del order
    flap_frame = sorted_frame
    if not with_service and "UP" in sorted_frame["state"].cat.categories:
        # Nagios' flap history counts a host's UP as its OK.
        flap_frame = (
            sorted_frame.assign(state=sorted_frame["state"].cat.rename_categories({"UP": "OK"}))
            if "OK" not in sorted_frame["state"].cat.categories
            else sorted_frame.assign(state=sorted_frame["state"].astype(str).replace("UP", "OK").astype("category"))
        )
    percent = flapping.percent_at_alerts(flap_frame, object_key, seconds=seconds)
    del flap_frame
    while_down = (
        (_host_problem_of(sorted_frame, hard_hosts, seconds) >= 0)
        if with_service
        else np.zeros(len(alert_rows), dtype=bool)
    )

    # Grouped by one integer per row rather than by the categorical keys: pandas would
    # build an int64 code array per key.
    def group_key_of(node: np.ndarray, host: np.ndarray, service: np.ndarray | None) -> np.ndarray:
        if not with_service or by == "host_service":
            return keys_of_codes(node, host, service if with_service else None)
        return keys_of_codes(node, service)

    def group_keys(rows: np.ndarray) -> np.ndarray:
        return group_key_of(
            codes_at("node", rows), codes_at("host", rows), codes_at("service", rows) if with_service else None
        )

    def table_rows(keys_: np.ndarray, known: np.ndarray | bool = True) -> np.ndarray:
        """The table row of each key (of ``known`` ones), -1 where it has none."""
        position = np.searchsorted(group_values, keys_)
        found = known & (position < len(group_values))
        found[found] = group_values[position[found]] == keys_[found]
        return np.where(found, position, -1)

    # The alerts are in object order: each object's are one run, summed with reduceat (no
    # groupby over every alert); a service's objects (one per host) are then summed per service.
    starts = np.flatnonzero(np.r_[True, object_key[1:] != object_key[:-1]])
    hard = (sorted_frame["state_type"] == "HARD").to_numpy(dtype=bool)
    per_object = {
        "alerts": np.diff(np.r_[starts, len(object_key)]),
        "own_hard": np.add.reduceat((hard & ~while_down).astype(np.int64), starts),
        "while_down": np.add.reduceat(while_down.astype(np.int64), starts),
        "flap_percent": np.maximum.reduceat(percent, starts),
        "_off": np.add.reduceat(_off_hours(seconds, timezone).astype(np.int64), starts),
    }
    del hard, percent, while_down
    if not with_service or by == "host_service":
        group_values, first_rows, per_group = object_key[starts], starts, per_object
    else:
        group_values, first_object, group = np.unique(
            group_keys(alert_rows[starts]), return_index=True, return_inverse=True
        )
        first_rows = starts[first_object]
        flap = np.zeros(len(group_values))
        np.maximum.at(flap, group, per_object["flap_percent"])
        per_group = {
            name: np.bincount(group, per_object[name]).astype(np.int64)
            for name in ("alerts", "own_hard", "while_down", "_off")
        }
        per_group["flap_percent"] = flap
    del object_key
    table = pd.DataFrame(
        {
            "alerts": per_group["alerts"],
            "own_hard": per_group["own_hard"],
            "alerts_while_host_down": per_group["while_down"],
            "flap_percent": per_group["flap_percent"],
            "off_hours_share": per_group["_off"] / per_group["alerts"],
            "hours_of_data": node_hours[sorted_frame["node"].cat.codes.to_numpy()[first_rows]],
        },
        index=pd.MultiIndex.from_arrays([sorted_frame[k].array.take(first_rows) for k in keys], names=keys),
    )
    del per_object, per_group, sorted_frame
    # Notifications per row of the table, by the same integer keys; those of objects that
    # never alerted have no row.
    note_rows = table_rows(group_keys(np.flatnonzero(category_mask(kind, (note_kind,)))))
    table["notifications"] = np.bincount(note_rows[note_rows >= 0], minlength=len(group_values)).astype(np.int64)
    if not with_service:
        # The service alerts written during each host's HARD problems: the host's noise.
        service_rows = np.flatnonzero(category_mask(kind, (ev.SERVICE_ALERT,)))
        service_alerts = frame.take(service_rows)
        problem = _host_problem_of(service_alerts, hard_hosts, epoch_seconds(service_alerts["time"]))
        attributed = table_rows(group_keys(service_rows[problem >= 0]))
        table["alerts_while_host_down"] = np.bincount(attributed[attributed >= 0], minlength=len(group_values))
        del service_rows, service_alerts, problem, attributed
    del alert_rows

    # Episodes: transient share and real problems, per row of the table by the same integer keys.
    # Names the alerts never had (another frame's episodes) have no row.
    of_kind = (
        (episodes["kind"] == what).to_numpy(dtype=bool)
        if "kind" in episodes
        else ((episodes["service"] != "") == with_service).to_numpy(dtype=bool)
    )
    rows = np.flatnonzero(of_kind)
    name_codes = {
        column: codes_in(episodes[column], frame[column].cat.categories)[rows]
        for column in (("node", "host", "service") if with_service else ("node", "host"))
    }
    position = table_rows(
        group_key_of(name_codes["node"], name_codes["host"], name_codes.get("service")),
        known=np.min(list(name_codes.values()), axis=0, initial=0) >= 0,
    )
    found = position >= 0
    transient = (
        ~episodes["hard"].to_numpy(dtype=bool)[rows]
        | (episodes["duration"].to_numpy()[rows] < np.timedelta64(int(transient_minutes * 60e9), "ns"))
        & ~episodes["open"].to_numpy(dtype=bool)[rows]
    )[found]
    position = position[found]
    table["problems"] = np.bincount(position, minlength=len(group_values)).astype(float)
    table["transient"] = np.bincount(position, weights=transient, minlength=len(group_values))
    table["real"] = table["problems"] - table["transient"]
    del of_kind, rows, name_codes, position, found, transient
    table.index = table.index.set_levels([level.astype(str) for level in table.index.levels])

    weeks = table["hours_of_data"] / HOURS_PER_WEEK
    own_alerts = table["alerts"] - (table["alerts_while_host_down"] if with_service else 0)
    table["alerts_per_week"] = table["alerts"] / weeks
    table["notifications_per_week"] = table["notifications"] / weeks
    table["transient_share"] = np.where(
        table["problems"] > 0, table["transient"] / table["problems"].clip(lower=1), 0.0
    )
    table["alerts_per_problem"] = own_alerts / table["real"].clip(lower=1)
    noise = (
        NOISE_WEIGHTS["transient_share"] * table["transient_share"]
        + NOISE_WEIGHTS["flapping"] * (table["flap_percent"] / FLAPPING_FULL).clip(upper=1.0)
        + NOISE_WEIGHTS["alerts_per_problem"] * (table["alerts_per_problem"] / ALERTS_PER_PROBLEM_FULL).clip(upper=1.0)
        + NOISE_WEIGHTS["off_hours_share"] * table["off_hours_share"]
    )
    # A host's row carries the service alerts its HARD problems caused, as SOFT lines.
    soft = own_alerts - table["own_hard"] + (0 if with_service else table["alerts_while_host_down"])
    volume = (
        SOFT_ALERT_WEIGHT * soft + HARD_ALERT_WEIGHT * table["own_hard"] + NOTIFICATION_WEIGHT * table["notifications"]
    ) / weeks
    table["score"] = np.log1p(volume) * (NOISE_FLOOR + noise)
    table["object"] = what
    # Column by column into plain Python values: a row object per ranked object cost
    # more than the wording itself.
    table["reasons"] = list(
        map(partial(_reasons, what, transient_minutes), *(table[column].tolist() for column in _REASON_COLUMNS))
    )
    for column in (
        "score",
        "alerts_per_week",
        "notifications_per_week",
        "flap_percent",
        "alerts_per_problem",
        "hours_of_data",
    ):
        table[column] = table[column].astype(float).round(2)
    for column in ("transient_share", "off_hours_share"):
        table[column] = table[column].astype(float).round(3)
    table["alerts_while_host_down"] = table["alerts_while_host_down"].astype(np.int64)
    table = table.reset_index()
    for column in ("host", "service"):
        if column not in table:
            table[column] = ""
    return table


_REASON_COLUMNS = (
    "alerts",
    "alerts_per_week",
    "hours_of_data",
    "notifications",
    "notifications_per_week",
    "alerts_while_host_down",
    "problems",
    "transient_share",
    "flap_percent",
    "alerts_per_problem",
    "real",
    "off_hours_share",
)


def _reasons(
    what: str,
    transient_minutes: float,
    alerts,
    alerts_per_week,
    hours_of_data,
    notifications,
    notifications_per_week,
    alerts_while_host_down,
    problems,
    transient_share,
    flap_percent,
    alerts_per_problem,
    real,
    off_hours_share,
) -> str:
    """Why a row (of ``_REASON_COLUMNS``) is in the ranking, in plain words, strongest reason first."""
    reasons = []
    reasons.append(f"{alerts} alerts, {alerts_per_week:.1f} alerts/week over {human_hours(hours_of_data)} of data")
    if notifications:
        reasons.append(f"{notifications} notifications, {notifications_per_week:.1f} notifications/week")
    if alerts_while_host_down:
        reasons.append(
            f"{alerts_while_host_down} service alerts "
            + (
                "while the host was down (the host's noise, scored on its row)"
                if what == "service"
                else "while it was down, attributed to it"
            )
        )
    if problems and transient_share >= 0.5:
        reasons.append(
            f"{transient_share:.0%} of {int(problems)} problems were transient "
            f"(cleared before HARD or within {transient_minutes:g} min)"
        )
    if flap_percent >= HIGH_FLAP_THRESHOLD:
        reasons.append(
            f"flapping: state changed {flap_percent:.0f}% over 21 checks "
            f"(Nagios' default threshold {HIGH_FLAP_THRESHOLD:g}%)"
        )
    if alerts_per_problem >= 5:
        if real:
            reasons.append(f"{alerts_per_problem:.0f} alerts per real problem")
        else:
            reasons.append("no problem lasted: every alert was noise")
    if off_hours_share >= 0.5:
        reasons.append(f"{off_hours_share:.0%} of alerts at night or at weekends")
    return "; ".join(reasons)


def human_hours(hours: float) -> str:
    """``50 min``, ``5 h``, ``3.2 days``: a span of data in words."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days"
