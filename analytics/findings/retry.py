"""Faster detection: a shorter ``retry_interval`` for services slow to go HARD, replayed.

The not-chatty-enough side of the retunes. A problem goes HARD, and
notifies, after ``max_check_attempts - 1`` retries, one every
``retry_interval`` minutes: 4 attempts at 15 minutes is 45 minutes of a
real outage nobody hears about. For each service whose HARD problems took
at least 15 minutes from the first SOFT result to HARD (the quiet finding
``slow_detection``) this suggests the longest retry interval that brings
that under 10 minutes (1 minute when even that does not), and replays every
problem of the service with it:

- a HARD problem goes HARD ``(attempts - 1) * retry`` after its start, or as
  before if that was sooner: the minutes gained are the detection it buys;
- a problem that stayed SOFT, from its first failing check to its OK
  recovery ``d``, fails ``ceil(d / retry)`` checks (the checks before the
  recovery time; the recovery check itself is OK); if that reaches the attempts it now goes HARD
  too: one HARD line and its notifications (as many lines as the service's
  problem notifications had contacts, else one) and, if it recovered, a
  recovery notification to the same contacts. That is the price, in alerts
  and notifications, shown beside the gain.

The retry interval in force comes from ``objects.cache``, else from the log:
the median time between two SOFT attempts of one problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...parsers import events as ev
from .._frames import RETUNE_COLUMNS, empty, fill_retune_columns, rows_of
from ..sources.objects import current_attempts, object_row
from .episodes import LONG_PROBLEM, is_long_problem
from .quiet import SLOW  # slower than this from first SOFT to HARD is the quiet finding slow_detection
from .replay import checks_of as engine_checks

DIRECTIVE = "retry_interval"
TARGET = pd.Timedelta(minutes=10)  # what the suggestion aims for
CANDIDATES = (10.0, 5.0, 3.0, 2.0, 1.0)  # minutes, the least change first


def replay_retry_interval(
    episodes: pd.DataFrame, retry_minutes: float, attempts: int, contacts: int = 1
) -> pd.DataFrame:
    """One service's problems replayed with ``retry_interval = retry_minutes``.

    :param episodes: the service's episodes (:func:`build_episodes`).
    :param attempts: its ``max_check_attempts``.
    :param contacts: notification lines per notified problem (one per contact).
    :returns: per problem: ``hard_before``, ``hard_after``, ``detection_before``,
        ``detection_after`` (first SOFT to HARD; NaT if it stays SOFT),
        ``earlier`` (Timedelta gained), ``alerts_before/after``,
        ``notifications_before/after``.
    """
    retry = pd.Timedelta(minutes=retry_minutes)
    hard = episodes["hard"].to_numpy()
    before = episodes["detection_delay"].reset_index(drop=True)
    to_hard = (attempts - 1) * retry
    # Checks at 0, retry, 2 * retry, ... before the recovery time fail; the recovery check is OK.
    failed = np.ceil(episodes["duration"] / retry).to_numpy().astype(np.int64)
    newly_hard = ~hard & (failed >= attempts)
    after = pd.Series(pd.NaT, index=before.index, dtype="timedelta64[ns]")
    after[hard] = before[hard].clip(upper=to_hard)
    after[newly_hard] = to_hard
    recovered = ~episodes["open"].to_numpy()
    alerts = episodes["alerts"].to_numpy()
    notifications = episodes["notifications"].to_numpy()
    # A problem that now goes HARD: its SOFT lines up to the last retry, a HARD line, its recovery.
    alerts_after = np.where(newly_hard, (attempts - 1) + 1 + recovered, alerts)
    notifications_after = np.where(newly_hard, contacts * (1 + recovered), notifications)
    return pd.DataFrame(
        {
            "start": episodes["start"].to_numpy(),
            "duration": episodes["duration"].to_numpy(),
            "hard_before": hard,
            "hard_after": hard | newly_hard,
            "detection_before": before.to_numpy(),
            "detection_after": after.to_numpy(),
            "earlier": (before - after).where(hard).to_numpy(),
            "alerts_before": alerts,
            "alerts_after": alerts_after.astype(np.int64),
            "notifications_before": notifications,
            "notifications_after": notifications_after.astype(np.int64),
        }
    )


def _retry_in_force(row, soft_gaps: pd.Series) -> tuple[float | None, str]:
    if row is not None and pd.notna(row["retry_interval"]) and row["retry_interval"] > 0:
        return float(row["retry_interval"]), "objects.cache"
    if len(soft_gaps):
        return round(_minutes(soft_gaps.median()), 1), "the log (SOFT attempts)"
    return None, ""


def _soft_gaps(alerts: pd.DataFrame) -> pd.Series:
    """Time between consecutive SOFT problem attempts of one service (attempt n to n + 1)."""
    rows = alerts[(alerts["state_type"] == "SOFT") & (alerts["state"] != "OK")].sort_values("time", kind="stable")
    attempt = rows["attempt"].astype("float").to_numpy()
    gaps = rows["time"].diff()
    following = np.r_[False, attempt[1:] == attempt[:-1] + 1]
    return gaps[following]


def _contacts(notes: pd.DataFrame) -> int:
    """Lines per problem notification of one service (its contacts), 1 if it never notified."""
    problems = notes[notes["state_type"] == "PROBLEM"]
    if problems.empty:
        return 1
    return int(problems.groupby("time").size().median())


def _replayed_faster(key, checks, objects, config, history, eps):
    """The faster-detection row replayed through the engine over every check, None when
    no shorter retry gains anything, or ``UNREPRODUCED`` when the replay of the settings
    in force does not give the logged counts (the caller falls back to the estimate)."""
    from . import replay as engine
    from .retune import UNREPRODUCED, _lines_per_notification, _replayed_row, _seen_settings

    times, codes = checks
    row = object_row(objects, key)
    seen = _seen_settings(eps, times, config.interval_length) if row is None else None
    settings, assumed = engine.settings_for(row, config, seen)
    before = engine.replay_service(codes, settings, times=times)
    lines = _lines_per_notification(history)
    logged = (int((history["kind"] == ev.SERVICE_ALERT).sum()), int((history["kind"] == ev.SERVICE_NOTIFICATION).sum()))
    if (before.alert_count, before.notification_count * lines) != logged:
        return UNREPRODUCED
    unit = settings.interval_length / 60.0
    current = settings.retry_interval * unit
    faster = [r for r in CANDIDATES if r < current]
    if settings.max_check_attempts < 2 or not faster:
        return None
    retry = next(
        (r for r in faster if (settings.max_check_attempts - 1) * pd.Timedelta(minutes=r) <= TARGET), faster[-1]
    )
    after = engine.replay_service(codes, settings.with_(retry_interval=retry / unit), start=times[0])
    hard_after = {p["first_check"]: p["hard"] - p["start"] for p in after.problems if p["hard"] is not None}
    gains = [
        (p["hard"] - p["start"]) - hard_after[p["first_check"]]
        for p in before.problems
        if p["hard"] is not None and p["first_check"] in hard_after
    ]
    if not gains or sum(gains) <= 0:
        return None
    gained = sum(gains) / len(gains) / 60.0
    slowest = max((p["hard"] - p["start"]) / 60.0 for p in before.problems if p["hard"] is not None)
    newly = sum(1 for p in after.problems if p["hard"] is not None) - len(
        hard_after.keys() & {p["first_check"] for p in before.problems if p["hard"] is not None}
    )
    return _replayed_row(
        key,
        DIRECTIVE,
        f"{current:g}",
        f"{retry:g}",
        before,
        after,
        lines,
        logged,
        LONG_PROBLEM.total_seconds(),
        -gained,
        f"HARD problems took up to {slowest:g} min from the first SOFT result to HARD with "
        f"{settings.max_check_attempts} attempts {current:g} min apart: with retry_interval {retry:g} they go "
        f"HARD after {(settings.max_check_attempts - 1) * retry:g} min, {gained:.0f} min earlier on average"
        + (f"; {newly} problems that stayed SOFT now go HARD" if newly else "")
        + "; replayed over every check",
        assumed,
    )


def suggest_faster_detection(
    events: pd.DataFrame, episodes: pd.DataFrame, objects=None, top: int | None = None, perfdata=None, config=None
) -> pd.DataFrame:
    """A shorter ``retry_interval`` for each service slow to go HARD, replayed.

    :param perfdata, config: the perfdata frame and nagios.cfg(s) (see
        :func:`nagtune.analytics.findings.retune.suggest_chatty_retunes`): a service whose
        every check is known is replayed through :mod:`nagtune.analytics.findings.replay`.
    :returns: ``RETUNE_COLUMNS`` with ``directive == "retry_interval"``,
        ``extra_detection_minutes`` negative (minutes earlier, on average over
        the service's HARD problems), the services that gain most first, at
        most ``top`` (all when None).
    """
    if episodes is None or len(episodes) == 0:
        return empty(RETUNE_COLUMNS)
    service_eps = episodes[episodes["kind"] == "service"] if "kind" in episodes else episodes
    slow = service_eps[service_eps["hard"] & (service_eps["detection_delay"] >= SLOW)]
    if slow.empty:
        return empty(RETUNE_COLUMNS)
    keys = set(zip(slow["node"].astype(str), slow["host"].astype(str), slow["service"].astype(str)))
    mine = rows_of(events[events["kind"].isin([ev.SERVICE_ALERT, ev.SERVICE_NOTIFICATION]).to_numpy()], keys)
    history = {tuple(map(str, key)): group for key, group in mine.groupby(["node", "host", "service"], observed=True)}
    rows = []
    for key, eps in rows_of(service_eps, keys).groupby(["node", "host", "service"], observed=True):
        key = tuple(map(str, key))
        lines = history.get(key, mine.iloc[:0])
        checks = engine_checks(perfdata, key)
        if checks is not None:
            from .retune import UNREPRODUCED, _config_of

            found = _replayed_faster(key, checks, objects, _config_of(config, key[0]), lines, eps)
            if found is not UNREPRODUCED:
                if found is not None:
                    rows.append(found)
                continue
        current, source = _retry_in_force(
            object_row(objects, key), _soft_gaps(lines[lines["kind"] == ev.SERVICE_ALERT])
        )
        attempts, _ = current_attempts(objects, *key, eps)
        if current is None or attempts < 2:
            continue
        faster = [r for r in CANDIDATES if r < current]
        if not faster:
            continue
        retry = next((r for r in faster if (attempts - 1) * pd.Timedelta(minutes=r) <= TARGET), faster[-1])
        contacts = _contacts(lines[lines["kind"] == ev.SERVICE_NOTIFICATION])
        replay = replay_retry_interval(eps, retry, attempts, contacts)
        gained = replay["earlier"].dropna()
        if gained.empty or gained.mean() <= pd.Timedelta(0):
            continue
        long_before = int(is_long_problem(eps).sum())
        newly = int((replay["hard_after"] & ~replay["hard_before"]).sum())
        slowest = eps["detection_delay"].max()
        rows.append(
            dict(
                node=key[0],
                host=key[1],
                service=key[2],
                directive=DIRECTIVE,
                current=f"{current:g}" + ("" if source == "objects.cache" else " (from the log)"),
                suggested=f"{retry:g}",
                alerts_before=int(replay["alerts_before"].sum()),
                alerts_after=int(replay["alerts_after"].sum()),
                notifications_before=int(replay["notifications_before"].sum()),
                notifications_after=int(replay["notifications_after"].sum()),
                extra_detection_minutes=-round(_minutes(gained.mean()), 1),
                long_problems_before=long_before,
                long_problems_after=int((is_long_problem(eps).to_numpy() & replay["hard_after"].to_numpy()).sum()),
                reason=(
                    f"{int((eps['detection_delay'] >= SLOW).sum())} HARD problems took {_minutes(SLOW):g} min or "
                    f"more from the first SOFT result to HARD (up to {_minutes(slowest):g} min) with {attempts} attempts "
                    f"{current:g} min apart: with retry_interval {retry:g} they go HARD after "
                    f"{(attempts - 1) * retry:g} min, {_minutes(gained.mean()):.0f} min earlier on "
                    f"average; {newly} short problems that stayed SOFT would go HARD too"
                    + (f" ({newly * contacts} notifications or more)" if newly else "")
                    + f"; retry interval in force from {source}"
                ),
            )
        )
    if not rows:
        return empty(RETUNE_COLUMNS)
    frame = order_by_gain(fill_retune_columns(pd.DataFrame(rows))[RETUNE_COLUMNS])
    return (frame if top is None else frame.head(top)).reset_index(drop=True)


def _minutes(delta) -> float:
    return float(pd.Timedelta(delta) / pd.Timedelta(minutes=1))


def order_by_gain(frame: pd.DataFrame) -> pd.DataFrame:
    """Faster-detection rows, the most minutes gained first, ties by name."""
    return frame.sort_values(["extra_detection_minutes", "node", "host", "service"], kind="stable")


def add_to(suggestions: pd.DataFrame, faster: pd.DataFrame, top: int) -> pd.DataFrame:
    """The chatty services' ``suggestions``, then the ``top`` faster-detection rows
    of services that have none there (one change per service, most gained first)."""
    taken = set(
        zip(suggestions["node"].astype(str), suggestions["host"].astype(str), suggestions["service"].astype(str))
    )
    keep = [
        key not in taken
        for key in zip(faster["node"].astype(str), faster["host"].astype(str), faster["service"].astype(str))
    ]
    extra = order_by_gain(faster[np.asarray(keep, dtype=bool)]).head(top)
    frames = [frame for frame in (suggestions, extra) if len(frame)]
    if not frames:
        return empty(RETUNE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[RETUNE_COLUMNS]
