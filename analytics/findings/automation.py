"""Automation candidates: problems a script could handle instead of a person.

- ``recurring_hour_of_day``: the same service's problems start at the same
  hour of the day on at least ``min_days`` different days (a cron job, a
  backup, a log rotation);
- ``recurring_hour_of_week``: the same weekday and hour in at least
  ``min_weeks`` different weeks;
- ``acked_then_self_resolved``: a person acknowledged the problem and it
  then recovered with nobody changing anything the log can see (an event
  handler or a better check would have done).
"""

from __future__ import annotations

import pandas as pd

from .._frames import AUTOMATION_COLUMNS, empty
from .quiet import human

MIN_DAYS = 3
MIN_WEEKS = 2
MIN_SHARE = 0.3  # of the service's problems: a pattern, not chance on a busy service
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def automation_candidates(
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    min_days: int = MIN_DAYS,
    min_weeks: int = MIN_WEEKS,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """Recurring problems and acknowledged problems that fixed themselves.

    :returns: ``AUTOMATION_COLUMNS``: where, ``pattern``, ``detail`` (words),
        ``episodes`` (how many problems fit), ``when`` (``daily 03:00``,
        ``Sun 02:00``, or the last acknowledgement's date).
    """
    if episodes is None or len(episodes) == 0:
        return empty(AUTOMATION_COLUMNS)
    eps = episodes[episodes["kind"] == "service"] if "kind" in episodes else episodes
    if eps.empty:
        return empty(AUTOMATION_COLUMNS)
    local = eps["start"].dt.tz_convert(timezone)
    day = local.dt.floor("D")
    # A week is known by its Monday (as pandas' "W" periods): no string per episode.
    eps = eps.assign(
        _hour=local.dt.hour,
        _day=day,
        _dow=local.dt.day_of_week,
        _week=day - pd.to_timedelta(local.dt.day_of_week, unit="D"),
    )
    keys = ["node", "host", "service"]
    rows = []
    totals = eps.groupby(keys).size()
    daily = eps.groupby(keys + ["_hour"]).agg(n=("start", "size"), days=("_day", "nunique"))
    share = daily["n"] / totals.reindex(daily.index.droplevel(-1)).to_numpy()
    for (node, host, service, hour), row in daily[(daily["days"] >= min_days) & (share >= MIN_SHARE)].iterrows():
        rows.append(
            dict(
                node=node,
                host=host,
                service=service,
                pattern="recurring_hour_of_day",
                detail=f"{row['n']} of {totals[(node, host, service)]} problems began between "
                f"{hour:02d}:00 and {hour:02d}:59 on {row['days']} different days",
                episodes=int(row["n"]),
                when=f"daily {hour:02d}:00",
            )
        )
    weekly = eps.groupby(keys + ["_dow", "_hour"]).agg(n=("start", "size"), weeks=("_week", "nunique"))
    share = weekly["n"] / totals.reindex(weekly.index.droplevel([-2, -1])).to_numpy()
    for (node, host, service, dow, hour), row in weekly[
        (weekly["weeks"] >= min_weeks) & (share >= MIN_SHARE)
    ].iterrows():
        rows.append(
            dict(
                node=node,
                host=host,
                service=service,
                pattern="recurring_hour_of_week",
                detail=f"{row['n']} problems began on {_DAYS[dow]} {hour:02d}:00-{hour:02d}:59 "
                f"in {row['weeks']} different weeks",
                episodes=int(row["n"]),
                when=f"{_DAYS[dow]} {hour:02d}:00",
            )
        )
    acked = eps[eps["acknowledged"] & ~eps["open"]]
    # One aggregation, not a Python loop over groups (thousands of services on a fleet).
    per_service = acked.groupby(keys, observed=True).agg(
        n=("start", "size"), median=("duration", "median"), last=("start", "max")
    )
    for (node, host, service), n, median, last in zip(
        per_service.index, per_service["n"], per_service["median"], per_service["last"]
    ):
        rows.append(
            dict(
                node=node,
                host=host,
                service=service,
                pattern="acked_then_self_resolved",
                detail=f"acknowledged {n} time(s), each then recovered on its own "
                f"(median {human(median)} from start to OK)",
                episodes=int(n),
                when=f"{last:%Y-%m-%d}",
            )
        )
    if not rows:
        return empty(AUTOMATION_COLUMNS)
    frame = pd.DataFrame(rows)
    ident = (
        (events.groupby("node", observed=True, sort=False)[["node_class", "cell"]].first().reset_index().astype(str))
        if len(events)
        else None
    )
    if ident is not None:
        frame = frame.merge(ident, on="node", how="left")
    else:
        frame["node_class"] = frame["cell"] = ""
    frame = frame.sort_values(
        ["episodes", "node", "host", "service"], ascending=[False, True, True, True], kind="stable"
    )
    return frame[AUTOMATION_COLUMNS].reset_index(drop=True)
