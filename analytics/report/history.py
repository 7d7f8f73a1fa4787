"""The report's memory: one small snapshot per reported window, in ``OUT/history/``.

A snapshot is the window's summary numbers (JSON) and three small Parquet
frames: the chatty ranking, the retune suggestions, and alert and
notification counts per node, host and service. The next report compares
itself with the newest snapshot of an earlier window. Re-running a window
replaces its snapshot.

A change between two weeks is shown only when it is larger than noise
(:func:`significant`): with ``a`` problems last week and ``b`` this week, under
"nothing changed" ``b`` is Binomial(a + b, t_now / (t_now + t_before)) (the
conditional test of two Poisson counts, t the windows' lengths). A change is
shown when the two-sided p-value is below ``LEVEL`` divided by the number of
services compared (Bonferroni: a steady fleet of thousands of services shows
no churn by chance) and ``a + b >= MIN_COUNT``.
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
LEVEL = 0.01  # family-wise: the chance that a steady fleet shows any change at all
MIN_COUNT = 10  # fewer lines in the two weeks together say nothing
CHRONIC_WEEKS = 3  # in the top list this many weeks running (this one included)


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


def alert_counts(events: pd.DataFrame, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Service alert lines, notification lines (pages) and problems (episodes) per node, host and service."""
    columns = ALERT_KEY + ["alerts", "notifications", "problems"]
    kinds = events["kind"]
    rows = events.loc[kinds.isin(["service_alert", "service_notification"]).to_numpy(), ALERT_KEY + ["kind"]]
    if rows.empty:
        counts = pd.DataFrame(
            {c: pd.Series(dtype="object") for c in ALERT_KEY}
            | {"alerts": pd.Series(dtype="int64"), "notifications": pd.Series(dtype="int64")}
        )
    else:
        # Grouped on the categorical codes (observed only), named as text afterwards: a fleet's
        # week has millions of lines, and text keys for each would cost more than the rest.
        counts = rows.groupby(ALERT_KEY + ["kind"], observed=True).size().unstack("kind", fill_value=0)
        counts.columns = counts.columns.astype(str)
        counts = counts.reindex(columns=["service_alert", "service_notification"], fill_value=0)
        counts.columns = ["alerts", "notifications"]
        counts = counts.astype("int64").reset_index()
        counts = counts.astype({c: str for c in ALERT_KEY})
    if episodes is not None and len(episodes):
        eps = episodes[episodes["kind"].astype(str) == "service"] if "kind" in episodes else episodes
        problems = eps.groupby(ALERT_KEY, observed=True).size().rename("problems").reset_index()
        problems = problems.astype({c: str for c in ALERT_KEY})
        counts = counts.merge(problems, on=ALERT_KEY, how="outer")
    else:
        counts["problems"] = 0
    return counts.fillna({"alerts": 0, "notifications": 0, "problems": 0}).astype(
        {"alerts": "int64", "notifications": "int64", "problems": "int64"}
    )[columns]


def save(
    directory: str, window_start, summary: dict, chatty: pd.DataFrame, retunes: pd.DataFrame, alerts: pd.DataFrame
) -> None:
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


def significant(
    before, now, ratio: float = 1.0, tests: int = 1, level: float = LEVEL, minimum: int = MIN_COUNT
) -> np.ndarray:
    """Which pairs of counts differ by more than noise (see the module doc).

    :param before, now: counts of the two windows (arrays of the same length).
    :param ratio: length of this window / length of the earlier one.
    :param tests: how many pairs are compared in all (the level is divided by it).
    """
    from scipy.stats import binom

    a = np.asarray(before, dtype=np.int64)
    b = np.asarray(now, dtype=np.int64)
    n = a + b
    p = ratio / (1.0 + ratio)
    low = binom.cdf(b, n, p)
    high = binom.sf(b - 1, n, p)
    p_value = np.minimum(1.0, 2 * np.minimum(low, high))
    return (n >= minimum) & (p_value < level / max(int(tests), 1))


def _per_service(counts: pd.DataFrame) -> pd.DataFrame:
    """Alert counts per node and service (the chatty ranking's key)."""
    frame = alert_counts_frame(counts)
    for column in ("notifications", "problems"):  # a snapshot written before these were kept
        if column not in frame:
            frame = frame.assign(**{column: 0})
    return frame.groupby(KEY, as_index=False)[["alerts", "notifications", "problems"]].sum()


def new_and_resolved(
    chatty: pd.DataFrame,
    before: pd.DataFrame,
    top: int,
    counts_now: pd.DataFrame | None = None,
    counts_before: pd.DataFrame | None = None,
    ratio: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Services that entered the top ``top`` with significantly more problems than last week,
    and last week's top services with significantly fewer now.

    Problems (episodes), not alert lines, are what is tested: one flapping
    problem writes dozens of lines at once, so line counts vary far more
    than a Poisson count and a steady service would look like news. A
    service that only moved in the ranking, or whose count moved within
    noise, is in neither list (see :func:`significant`).
    """
    columns = KEY + ["problems_last_week", "problems_this_week", "alerts_last_week", "alerts_this_week", "change"]
    now = _plain(chatty.head(top))[KEY].astype(str)
    then = _plain(before.head(top))[KEY].astype(str)
    if counts_now is None or counts_before is None:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=columns)
    keys = pd.concat([now, then]).drop_duplicates()
    if keys.empty:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=columns)
    merged = keys.merge(
        _per_service(counts_before).add_suffix("_last_week").rename(columns={f"{k}_last_week": k for k in KEY}),
        on=KEY,
        how="left",
    ).merge(
        _per_service(counts_now).add_suffix("_this_week").rename(columns={f"{k}_this_week": k for k in KEY}),
        on=KEY,
        how="left",
    )
    counted = [c for c in columns if c.endswith("_week")]
    merged[counted] = merged[counted].fillna(0).astype("int64")
    merged["change"] = merged["problems_this_week"] - merged["problems_last_week"]
    moved = significant(merged["problems_last_week"], merged["problems_this_week"], ratio=ratio, tests=len(merged))
    in_now = merged.set_index(KEY).index.isin(now.set_index(KEY).index)
    in_then = merged.set_index(KEY).index.isin(then.set_index(KEY).index)
    new = merged[moved & in_now & ~in_then & (merged["change"] > 0)]
    gone = merged[moved & in_then & ~in_now & (merged["change"] < 0)]
    return new[columns].reset_index(drop=True), gone[columns].reset_index(drop=True)


def snapshots(directory: str, window_start) -> list[Snapshot]:
    """Every complete snapshot of a window that started before ``window_start``, oldest first."""
    current = _stamp(window_start)
    stems = [p[: -len("-summary.json")] for p in sorted(glob.glob(os.path.join(directory, "*-summary.json")))]
    return [_load(s) for s in stems if os.path.basename(s) < current]


def chronic(chatty: pd.DataFrame, earlier: list[Snapshot], top: int, weeks: int = CHRONIC_WEEKS) -> pd.DataFrame:
    """This week's top ``top`` services that were in the top list of every one of the
    ``weeks - 1`` reports before, with the number of weeks running."""
    columns = KEY + ["weeks_running"]
    now = _plain(chatty.head(top))[KEY].astype(str)
    if now.empty:
        return pd.DataFrame(columns=columns)
    running = np.ones(len(now), dtype=np.int64)
    still = np.ones(len(now), dtype=bool)
    keys = list(map(tuple, now.to_numpy()))
    for snapshot in reversed(earlier):
        tops = set(map(tuple, _plain(snapshot.chatty.head(top))[KEY].astype(str).to_numpy()))
        still &= np.array([k in tops for k in keys], dtype=bool)
        running += still
        if not still.any():
            break
    out = now.assign(weeks_running=running)
    return out[out["weeks_running"] >= weeks].reset_index(drop=True)[columns]


def _applied(directive: str, was, suggested, row) -> str:
    """``applied`` / ``not applied`` / ``unknown`` from the new week's objects.cache row."""
    if row is None:
        return "unknown (no objects.cache row)"
    directive = str(directive)
    if directive == "max_check_attempts":
        now = row.get("max_check_attempts")
        if pd.isna(now):
            return "unknown (no objects.cache row)"
        return "applied" if str(int(now)) == str(suggested).strip() else "not applied"
    if directive.startswith("retry_interval"):
        now = row.get("retry_interval")
        if pd.isna(now):
            return "unknown (no objects.cache row)"
        try:
            return "applied" if float(now) == float(str(suggested).split()[0]) else "not applied"
        except ValueError:
            return "unknown (no objects.cache row)"
    if "flap" in directive:
        # "on, 5/20": flap detection on, low 5 %, high 20 %.
        import re

        wanted = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", str(suggested))]
        enabled = row.get("flap_detection_enabled")
        if "on" in str(suggested) and (enabled is None or pd.isna(enabled) or int(enabled) != 1):
            return "not applied"
        have = [row.get("low_flap_threshold"), row.get("high_flap_threshold")]
        if len(wanted) == 2 and any(v is None or pd.isna(v) or float(v) != w for v, w in zip(have, wanted)):
            return "not applied"
        return "applied"
    # Thresholds: the suggested range in the check command, the old one gone.
    command = str(row.get("check_command") or "")
    if str(suggested) and str(suggested) in command and (not str(was) or str(was) not in command):
        return "applied"
    return "not applied"


def suggestion_effects(
    before: Snapshot, alerts_now: pd.DataFrame, objects_now: pd.DataFrame | None, ratio: float = 1.0
) -> pd.DataFrame:
    """What became of last week's suggestions.

    ``applied`` comes from this week's ``objects.cache`` (the setting seen
    changed to the suggestion); the pages before and after, and whether the
    change is larger than noise, are given only for applied changes: a
    count that moved where nothing was changed is not an effect.
    """
    columns = [
        "node",
        "host",
        "service",
        "directive",
        "was",
        "suggested",
        "applied",
        "pages_last_week",
        "pages_this_week",
        "change",
        "beyond_noise",
    ]
    last = _plain(before.retunes)
    if last.empty:
        return pd.DataFrame(columns=columns)
    last = last.astype({c: str for c in ALERT_KEY + ["directive"]})
    now = alert_counts_frame(alerts_now)
    merged = last.merge(now[ALERT_KEY + ["notifications"]], on=ALERT_KEY, how="left")
    rows_of = {}
    if objects_now is not None and len(objects_now):
        services = objects_now[objects_now["object_type"].astype(str) == "service"]
        for record in services.to_dict("records"):
            rows_of[(str(record["node"]), str(record["host"]), str(record["service"]))] = record
    merged["applied"] = [
        _applied(d, w, s, rows_of.get((n, h, v)))
        for n, h, v, d, w, s in zip(
            merged["node"],
            merged["host"],
            merged["service"],
            merged["directive"],
            merged["current"],
            merged["suggested"],
        )
    ]
    applied = merged["applied"] == "applied"
    last_pages = pd.to_numeric(merged.get("notifications_before"), errors="coerce").fillna(0).astype("int64")
    this_pages = merged["notifications"].fillna(0).astype("int64")
    merged["pages_last_week"] = last_pages.where(applied)
    merged["pages_this_week"] = this_pages.where(applied)
    merged["change"] = (this_pages - last_pages).where(applied)
    beyond = significant(last_pages, this_pages, ratio=ratio, tests=max(int(applied.sum()), 1))
    merged["beyond_noise"] = pd.Series(np.where(beyond, "yes", "no"), index=merged.index).where(applied, "")
    merged = merged.rename(columns={"current": "was"})
    out = merged[columns].sort_values("applied", key=lambda s: s != "applied", kind="stable")
    return out.reset_index(drop=True)


def alert_counts_frame(alerts: pd.DataFrame) -> pd.DataFrame:
    return _plain(alerts).astype({c: str for c in ALERT_KEY})
