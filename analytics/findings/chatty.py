"""Too chatty: which services make noise, with a score and the reasons in words.

What makes an alert noise, per service (or per host and service):

- ``alerts_per_week``, ``notifications_per_week``: volume (service alerts written while
  the host was DOWN or UNREACHABLE are the host's, and not counted);
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

import numpy as np
import pandas as pd

from ...parsers import events as ev
from . import _groups, flapping
from .._frames import (CHATTY_COLUMNS, CHATTY_HOST_SERVICE_COLUMNS, category_mask, codes_in, empty, epoch_seconds,
                      keys_of_codes, object_keys)

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
    "flapping": 0.25,            # flap_percent / FLAPPING_FULL, capped at 1
    "alerts_per_problem": 0.25,  # alerts_per_problem / ALERTS_PER_PROBLEM_FULL, capped at 1
    "off_hours_share": 0.15,
}
FLAPPING_FULL = 2 * HIGH_FLAP_THRESHOLD  # flap percent at which flapping counts fully
ALERTS_PER_PROBLEM_FULL = 20.0           # alerts per real problem at which that counts fully
NOISE_FLOOR = 0.5  # a service with no noise keeps half its volume score: volume ranks first


def _during_host_problems(alerts: pd.DataFrame, episodes: pd.DataFrame, seconds: np.ndarray) -> np.ndarray:
    """True for service alerts written while their host was DOWN/UNREACHABLE: the host's noise, not theirs.

    ``alerts`` has categorical ``node`` and ``host``; ``seconds`` are its times in epoch seconds."""
    mask = np.zeros(len(alerts), dtype=bool)
    if episodes is None or len(episodes) == 0 or "kind" not in episodes:
        return mask
    hosts = episodes[(episodes["kind"] == "host").to_numpy()]
    if hosts.empty:
        return mask
    # The host episodes' (node, host) as codes of the alerts' categories: one integer key each.
    node = codes_in(hosts["node"], alerts["node"].cat.categories)
    host = codes_in(hosts["host"], alerts["host"].cat.categories)
    known = (node >= 0) & (host >= 0)
    if not known.any():
        return mask
    found = _groups.locate(keys_of_codes(node, host)[known], epoch_seconds(hosts["start"])[known],
                           epoch_seconds(hosts["end"])[known], object_keys(alerts, with_service=False), seconds)
    return found >= 0


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
    """Weeks from ``first`` to ``last``: at least a day, so a short log does not inflate rates."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return 1.0 / 7.0
    return max(float((last - first) / pd.Timedelta(days=7)), 1.0 / 7.0)


def _weeks(events: pd.DataFrame) -> float:
    return weeks_between(events["time"].min(), events["time"].max())


# The episode columns rank_chatty reads: what api.rank_logs asks build_episodes for.
EPISODE_COLUMNS_READ = ["kind", "node_class", "cell", "node", "host", "service", "start", "end", "duration", "hard",
                        "open"]


def rank_chatty(events: pd.DataFrame, episodes: pd.DataFrame, by: str = "service", top=None,
                transient_minutes: float = TRANSIENT_MINUTES, timezone: str = "UTC",
                weeks: float | None = None) -> pd.DataFrame:
    """Services ranked by how much noise they make, noisiest first.

    :param by: ``"service"`` (per node and service, hosts summed) or
        ``"host_service"`` (per node, host and service).
    :param top: keep the first ``top`` rows.
    :param weeks: length of the analysed window in weeks, for the rates;
        default: the span of ``events`` (the Dask engine gives every node
        the whole window's).
    :returns: ``CHATTY_COLUMNS`` (or ``CHATTY_HOST_SERVICE_COLUMNS``) sorted by
        ``score`` descending; ``reasons`` says in words why each row is there.
        Services without a single alert never appear.
    """
    if by not in ("service", "host_service"):
        raise ValueError(f"by must be 'service' or 'host_service', not {by!r}")
    columns = CHATTY_COLUMNS if by == "service" else CHATTY_HOST_SERVICE_COLUMNS
    keys = ["node_class", "cell", "node"] + (["host"] if by == "host_service" else []) + ["service"]
    if events is None or len(events) == 0:
        return empty(columns)
    kind = events["kind"]

    def rows_of_kind(name: str) -> np.ndarray:
        return np.flatnonzero(category_mask(kind, (name,)) if isinstance(kind.dtype, pd.CategoricalDtype)
                              else (kind == name).to_numpy())

    alert_rows = rows_of_kind(ev.SERVICE_ALERT)
    if not len(alert_rows):
        return empty(columns)
    weeks = _weeks(events) if weeks is None else max(float(weeks), 1.0 / 7.0)
    # The columns the ranking reads, as categoricals (the ingest's are; a hand-made frame's
    # are made so here). Selecting columns copies nothing.
    frame = events[list(dict.fromkeys(keys + ["host", "time", "state", "state_type"]))]
    for column in ("node_class", "cell", "node", "host", "service", "state"):
        if column in frame and not isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame = frame.assign(**{column: frame[column].astype("category")})

    def codes_at(column: str, rows: np.ndarray) -> np.ndarray:
        return frame[column].cat.codes.to_numpy()[rows]

    # Flapping: per host and service (Nagios keeps one history per service object),
    # over every alert: the ones the host caused are in Nagios' history too.
    object_key = keys_of_codes(codes_at("node", alert_rows), codes_at("host", alert_rows),
                               codes_at("service", alert_rows))
    # Epoch seconds once: the sort, the flap history, the host-down mask and the night
    # hours all read them (0.5 s per 6.5 M alerts each time they were made).
    seconds = epoch_seconds(frame["time"].iloc[alert_rows])  # of the alerts only
    order = _groups.order_by_key_then_time(object_key, seconds)
    alert_rows, object_key, seconds = alert_rows[order], object_key[order], seconds[order]
    # The alerts taken once, already in (object, time) order: selected then sorted, they were
    # copied twice (0.3 s per 5 M alerts). Their times are not taken: ``seconds`` has them.
    sorted_frame = frame.drop(columns="time").take(alert_rows)
    del order
    percent = flapping.percent_at_alerts(sorted_frame, object_key, seconds=seconds)
    own = ~_during_host_problems(sorted_frame, episodes, seconds)
    if not own.any():
        return empty(columns)
    if not own.all():
        sorted_frame, object_key, percent, seconds = sorted_frame[own], object_key[own], percent[own], seconds[own]
        alert_rows = alert_rows[own]
    del own
    # Grouped by one integer per row (node, [host,] service) rather than by the
    # five categorical keys: pandas would build an int64 code array per key.
    def group_key_of(node: np.ndarray, host: np.ndarray, service: np.ndarray) -> np.ndarray:
        return keys_of_codes(node, host, service) if by == "host_service" else keys_of_codes(node, service)

    def group_keys(rows: np.ndarray) -> np.ndarray:
        return group_key_of(codes_at("node", rows), codes_at("host", rows), codes_at("service", rows))

    def table_rows(keys: np.ndarray, known: np.ndarray | bool = True) -> np.ndarray:
        """The table row of each key (of ``known`` ones), -1 where it has none."""
        position = np.searchsorted(group_values, keys)
        found = known & (position < len(group_values))
        found[found] = group_values[position[found]] == keys[found]
        return np.where(found, position, -1)

    # The alerts are in object order: each object's are one run, summed with reduceat (no
    # groupby over every alert); a service's objects (one per host) are then summed per service.
    starts = np.flatnonzero(np.r_[True, object_key[1:] != object_key[:-1]])
    hard = (sorted_frame["state_type"] == "HARD").to_numpy(dtype=bool)
    per_object = {
        "alerts": np.diff(np.r_[starts, len(object_key)]),
        "hard_alerts": np.add.reduceat(hard.astype(np.int64), starts),
        "flap_percent": np.maximum.reduceat(percent, starts),
        "_off": np.add.reduceat(_off_hours(seconds, timezone).astype(np.int64), starts),
    }
    del hard, percent
    if by == "host_service":
        group_values, first_rows, per_group = object_key[starts], starts, per_object
    else:
        group_values, first_object, group = np.unique(group_keys(alert_rows[starts]), return_index=True,
                                                      return_inverse=True)
        first_rows = starts[first_object]
        flap = np.zeros(len(group_values))
        np.maximum.at(flap, group, per_object["flap_percent"])
        per_group = {"alerts": np.bincount(group, per_object["alerts"]).astype(np.int64),
                     "hard_alerts": np.bincount(group, per_object["hard_alerts"]).astype(np.int64),
                     "flap_percent": flap, "_off": np.bincount(group, per_object["_off"])}
    del object_key
    table = pd.DataFrame({
        "alerts": per_group["alerts"],
        "hard_alerts": per_group["hard_alerts"],
        "flap_percent": per_group["flap_percent"],
        "off_hours_share": per_group["_off"] / per_group["alerts"],
    }, index=pd.MultiIndex.from_arrays([sorted_frame[k].array.take(first_rows) for k in keys], names=keys))
    del per_object, per_group, sorted_frame
    # Notifications per row of the table, by the same integer keys (a groupby on the five
    # categorical keys and a reindex cost 0.2 s per 5 M lines); those of objects that never
    # alerted have no row.
    note_rows = table_rows(group_keys(rows_of_kind(ev.SERVICE_NOTIFICATION)))
    table["notifications"] = np.bincount(note_rows[note_rows >= 0], minlength=len(group_values)).astype(float)
    del alert_rows

    # Episodes: transient share and real problems, per row of the table by the same integer keys
    # (a groupby over their five string columns and a join cost 0.15 s per 5 M lines). Names
    # the alerts never had (another frame's episodes) have no row.
    is_service = (episodes["kind"] == "service").to_numpy(dtype=bool) if "kind" in episodes \
        else (episodes["service"] != "").to_numpy(dtype=bool)
    rows = np.flatnonzero(is_service)
    name_codes = {column: codes_in(episodes[column], frame[column].cat.categories)[rows]
                  for column in ("node", "host", "service")}
    position = table_rows(group_key_of(name_codes["node"], name_codes["host"], name_codes["service"]),
                          known=np.min(list(name_codes.values()), axis=0, initial=0) >= 0)
    found = position >= 0
    transient = (~episodes["hard"].to_numpy(dtype=bool)[rows]
                 | (episodes["duration"].to_numpy()[rows] < np.timedelta64(int(transient_minutes * 60e9), "ns"))
                 & ~episodes["open"].to_numpy(dtype=bool)[rows])[found]
    position = position[found]
    table["problems"] = np.bincount(position, minlength=len(group_values)).astype(float)
    table["transient"] = np.bincount(position, weights=transient, minlength=len(group_values))
    table["real"] = table["problems"] - table["transient"]
    del is_service, rows, name_codes, position, found, transient
    table.index = table.index.set_levels([level.astype(str) for level in table.index.levels])

    table["alerts_per_week"] = table["alerts"] / weeks
    table["notifications_per_week"] = table["notifications"] / weeks
    table["transient_share"] = np.where(table["problems"] > 0, table["transient"] / table["problems"].clip(lower=1), 0.0)
    table["alerts_per_problem"] = table["alerts"] / table["real"].clip(lower=1)
    noise = (NOISE_WEIGHTS["transient_share"] * table["transient_share"]
             + NOISE_WEIGHTS["flapping"] * (table["flap_percent"] / FLAPPING_FULL).clip(upper=1.0)
             + NOISE_WEIGHTS["alerts_per_problem"]
             * (table["alerts_per_problem"] / ALERTS_PER_PROBLEM_FULL).clip(upper=1.0)
             + NOISE_WEIGHTS["off_hours_share"] * table["off_hours_share"])
    soft_per_week = (table["alerts"] - table["hard_alerts"]) / weeks
    volume = (SOFT_ALERT_WEIGHT * soft_per_week + HARD_ALERT_WEIGHT * table["hard_alerts"] / weeks
              + NOTIFICATION_WEIGHT * table["notifications_per_week"])
    table["score"] = np.log1p(volume) * (NOISE_FLOOR + noise)
    table["reasons"] = [_reasons(row, transient_minutes) for row in table.itertuples()]
    for column in ("score", "alerts_per_week", "notifications_per_week", "flap_percent", "alerts_per_problem"):
        table[column] = table[column].astype(float).round(2)
    for column in ("transient_share", "off_hours_share"):
        table[column] = table[column].astype(float).round(3)
    # Sorted on the score as shown, ties by name: the order api.combine gives the parts of any split.
    table = table.reset_index().sort_values(["score"] + keys, ascending=[False] + [True] * len(keys),
                                            kind="stable").reset_index(drop=True)
    if top is not None:
        table = table.head(int(top))
    return table[columns].reset_index(drop=True)


def _reasons(row, transient_minutes: float) -> str:
    """Why a row is in the ranking, in plain words, strongest reason first."""
    reasons = []
    reasons.append(f"{row.alerts_per_week:.1f} alerts/week")
    if row.notifications_per_week >= 1:
        reasons.append(f"{row.notifications_per_week:.1f} notifications/week")
    if row.problems and row.transient_share >= 0.5:
        reasons.append(f"{row.transient_share:.0%} of {int(row.problems)} problems were transient "
                       f"(cleared before HARD or within {transient_minutes:g} min)")
    if row.flap_percent >= HIGH_FLAP_THRESHOLD:
        reasons.append(f"flapping: state changed {row.flap_percent:.0f}% over 21 checks "
                       f"(Nagios' default threshold {HIGH_FLAP_THRESHOLD:g}%)")
    if row.alerts_per_problem >= 5:
        if row.real:
            reasons.append(f"{row.alerts_per_problem:.0f} alerts per real problem")
        else:
            reasons.append("no problem lasted: every alert was noise")
    if row.off_hours_share >= 0.5:
        reasons.append(f"{row.off_hours_share:.0%} of alerts at night or at weekends")
    return "; ".join(reasons)
