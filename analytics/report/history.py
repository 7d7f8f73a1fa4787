"""The report's memory: one small snapshot per reported window, in ``OUT/history/``.

A snapshot is the window's summary numbers (JSON) and three small Parquet
frames: the chatty ranking, the retune suggestions, and alert counts per
node, host and service. The next report compares itself with the newest
snapshot of an earlier window: new offenders, resolved ones, and what became
of last week's suggestions. Re-running a window replaces its snapshot.
"""
from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

KEY = ["node", "service"]  # a chatty service, as ranked
ALERT_KEY = ["node", "host", "service"]


@dataclass
class Snapshot:
    window_start: pd.Timestamp
    summary: dict
    chatty: pd.DataFrame
    retunes: pd.DataFrame
    alerts: pd.DataFrame  # node, host, service, alerts


def _stamp(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y%m%dT%H%M%SZ")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as strings: snapshots from different weeks must concatenate."""
    return frame.astype({c: "object" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


def alert_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Service alert lines per node, host and service."""
    alerts = events[events["kind"] == "service_alert"]
    if alerts.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ALERT_KEY} | {"alerts": pd.Series(dtype="int64")})
    counts = _plain(alerts[ALERT_KEY]).groupby(ALERT_KEY).size().rename("alerts")
    return counts.reset_index()


def save(directory: str, window_start, summary: dict, chatty: pd.DataFrame, retunes: pd.DataFrame,
         alerts: pd.DataFrame) -> None:
    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, _stamp(window_start))
    _plain(chatty).to_parquet(stem + "-chatty.parquet", index=False)
    _plain(retunes).to_parquet(stem + "-retunes.parquet", index=False)
    _plain(alerts).to_parquet(stem + "-alerts.parquet", index=False)
    # The summary goes last: its presence marks a complete snapshot.
    tmp = stem + "-summary.json.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1, default=str)
    os.replace(tmp, stem + "-summary.json")


def _load(stem: str) -> Snapshot:
    with open(stem + "-summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    return Snapshot(
        window_start=pd.Timestamp(summary["window_start"]),
        summary=summary,
        chatty=pd.read_parquet(stem + "-chatty.parquet"),
        retunes=pd.read_parquet(stem + "-retunes.parquet"),
        alerts=pd.read_parquet(stem + "-alerts.parquet"),
    )


def summaries(directory: str) -> pd.DataFrame:
    """Every snapshot's summary numbers, oldest first (for the trend plot)."""
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "*-summary.json"))):
        with open(path, encoding="utf-8") as handle:
            rows.append(json.load(handle))
    if not rows:
        return pd.DataFrame(columns=["window_start"])
    frame = pd.DataFrame(rows)
    frame["window_start"] = pd.to_datetime(frame["window_start"], utc=True)
    return frame.sort_values("window_start").reset_index(drop=True)


def previous(directory: str, window_start) -> Snapshot | None:
    """The newest snapshot of a window that started before ``window_start``."""
    current = _stamp(window_start)
    stems = [p[: -len("-summary.json")] for p in sorted(glob.glob(os.path.join(directory, "*-summary.json")))]
    earlier = [s for s in stems if os.path.basename(s) < current]
    return _load(earlier[-1]) if earlier else None


def changes(summary: dict, before: dict | None, keys: list[str]) -> list[dict]:
    """[{name, value, previous, change}] for the summary numbers in ``keys``."""
    rows = []
    for key in keys:
        value = summary.get(key)
        old = before.get(key) if before else None
        change = None
        if isinstance(value, (int, float)) and isinstance(old, (int, float)):
            change = round(value - old, 4) if isinstance(value, float) or isinstance(old, float) else value - old
        rows.append({"name": key, "value": value, "previous": old, "change": change})
    return rows


def new_and_resolved(chatty: pd.DataFrame, before: pd.DataFrame, top: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top-``top`` offenders that were not there last time, and last time's that left the top."""
    now = _plain(chatty.head(top))
    then = _plain(before.head(top))
    now_keys = set(map(tuple, now[KEY].astype(str).to_numpy()))
    then_keys = set(map(tuple, then[KEY].astype(str).to_numpy()))
    new = now.loc[np.array([tuple(k) not in then_keys for k in now[KEY].astype(str).to_numpy()], dtype=bool)]
    gone = then.loc[np.array([tuple(k) not in now_keys for k in then[KEY].astype(str).to_numpy()], dtype=bool)]
    all_now = _plain(chatty)[KEY + ["score", "alerts_per_week"]].astype({"node": str, "service": str})
    gone = gone[KEY + ["score", "alerts_per_week", "reasons"]].astype({"node": str, "service": str}).merge(
        all_now, on=KEY, how="left", suffixes=("_before", "_now"))
    return new.reset_index(drop=True), gone.reset_index(drop=True)


def suggestion_effects(before: Snapshot, retunes_now: pd.DataFrame, alerts_now: pd.DataFrame) -> pd.DataFrame:
    """What became of last week's suggestions: alerts then and now, and whether the change was made.

    ``applied`` is ``yes`` when this week's current value is last week's
    suggestion, ``no`` when the current value is still last week's, and
    ``unknown`` when no current value is known (no object config given).
    """
    columns = ["node", "host", "service", "directive", "was", "suggested", "alerts_last_week",
               "alerts_this_week", "change", "applied"]
    last = _plain(before.retunes)
    if last.empty:
        return pd.DataFrame(columns=columns)
    last = last.astype({c: str for c in ALERT_KEY + ["directive"]})
    now = alert_counts_frame(alerts_now)
    merged = last.merge(now, on=ALERT_KEY, how="left")
    merged["alerts_this_week"] = merged["alerts"].fillna(0).astype("int64")
    merged["alerts_last_week"] = merged["alerts_before"]
    merged["change"] = merged["alerts_this_week"] - merged["alerts_last_week"].astype("int64")
    current = _plain(retunes_now)[ALERT_KEY + ["directive", "current"]].astype(
        {c: str for c in ALERT_KEY + ["directive"]}).rename(columns={"current": "current_now"})
    merged = merged.merge(current.drop_duplicates(ALERT_KEY + ["directive"]),
                          on=ALERT_KEY + ["directive"], how="left")

    def applied(row) -> str:
        now_value, was, suggested = row["current_now"], row["current"], row["suggested"]
        if pd.isna(now_value) or now_value in ("", None) or pd.isna(was) or was in ("", None):
            return "unknown"
        if str(now_value) == str(suggested):
            return "yes"
        return "no" if str(now_value) == str(was) else "unknown"

    merged["applied"] = merged.apply(applied, axis=1) if len(merged) else []
    merged = merged.rename(columns={"current": "was"})
    return merged[columns].reset_index(drop=True)


def alert_counts_frame(alerts: pd.DataFrame) -> pd.DataFrame:
    return _plain(alerts).astype({c: str for c in ALERT_KEY})
