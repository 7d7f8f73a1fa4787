"""Retune suggestions, each replayed on the history it came from.

For each service the chatty ranking flags, one concrete change:

- ``max_check_attempts``: more attempts before HARD. Replayed per problem:
  a problem whose failing checks (its logged SOFT attempts, plus its HARD
  re-checks at ``check_interval`` until the OK recovery) reach ``attempts``
  still goes HARD (``retry_interval`` minutes later per extra attempt);
  one with fewer stays SOFT, sends no notification and writes its SOFT lines
  and its recovery only. See :func:`replay_max_check_attempts`.
- ``flap detection``: enable it, or lower ``low/high_flap_threshold``, so a
  service whose state flips back and forth is reported once as flapping
  instead of notifying at every flip. Replayed by recomputing Nagios' flap
  detection over the history (see :mod:`nagtune.analytics.findings.flapping`).
- ``warning threshold (-w)``: when neither of those saves a notification:
  from the values the check reported (perfdata file or Graphite series, or
  numbers in the output text), the warning level that would have cut most
  WARNING alerts while the critical level, unchanged, still catches every
  CRITICAL. See :func:`replay_threshold` and :func:`what_if_curve`.
- ``critical threshold (-c)``: when there is no warning level to move, the
  critical level that turns the most CRITICAL checks into WARNING ones
  while every value of a long HARD CRITICAL problem stays CRITICAL.

Then, for services slow to go HARD, a shorter ``retry_interval``
(:mod:`nagtune.analytics.findings.retry`).

When a service has both a ``max_check_attempts`` and a flap-detection
change, the one that saves more notifications is shown (ties: attempts,
the simpler change). A suggestion is kept only if its replay catches every
long HARD CRITICAL problem the history had (``long_problems_after ==
long_problems_before``); this is asserted, not assumed.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ...parsers import events as ev
from .._frames import REPLAY_EXACT, RETUNE_COLUMNS, empty, epoch_seconds, fill_retune_columns, rows_of
from ..sources.nagios_cfg import NagiosConfig, unknown_config
from ..sources.objects import DEFAULT_RETRY_MINUTES, current_attempts, object_row
from . import flapping
from . import replay as engine
from .episodes import LONG_PROBLEM, is_long_problem
from .retry import add_to, suggest_faster_detection

MAX_EXTRA_ATTEMPTS = 4
DEFAULT_CHECK_MINUTES = 5.0  # Nagios' default check_interval, the estimate when objects.cache is missing
MAX_EXTRA_DETECTION = pd.Timedelta(minutes=10)  # per problem: later than this is not worth the quiet


class RetuneError(AssertionError):
    """A suggestion whose replay would miss a long HARD CRITICAL: a bug, never shown."""


# ---------------------------------------------------------------- max_check_attempts


def _service_episodes(episodes_or_events) -> pd.DataFrame:
    frame = episodes_or_events
    if "kind" in frame and "start" not in frame:  # events: build the episodes first
        from .episodes import build_episodes

        frame = build_episodes(frame)
    if "kind" in frame:
        frame = frame[frame["kind"] == "service"]
    return frame


def _hard_failing_checks(hard_for: np.ndarray, interval_seconds: float, slack: float = 0.1) -> tuple:
    """(low, high) failing checks of the HARD part of problems that stayed HARD for
    ``hard_for`` seconds, checked every ``interval_seconds``: the HARD check itself and
    the re-checks before the recovery (the recovery check is OK, not counted). Checks
    run a few seconds late, so a ratio within ``slack`` of a whole number is that number."""
    ratio = hard_for / interval_seconds
    low = np.maximum(1, np.floor(ratio + slack)).astype(np.int64)
    high = np.maximum(1, np.ceil(ratio - slack)).astype(np.int64)
    return low, high


def replay_max_check_attempts(
    episodes_or_events,
    attempts: int,
    current: int | None = None,
    retry_interval_minutes: float = DEFAULT_RETRY_MINUTES,
    long=LONG_PROBLEM,
    check_interval_minutes: float | None = None,
) -> pd.DataFrame:
    """Replay the service problems with ``max_check_attempts = attempts`` from the logged alerts.

    :param episodes_or_events: episodes (of one service, or many) or events.
    :param current: the attempts in force; default the largest attempt seen.
    :param check_interval_minutes: the ``check_interval`` in force; None: unknown,
        Nagios' default (5 minutes) is the point estimate and the range spans
        every check interval from ``retry_interval`` up.
    :returns: per episode: ``hard_after`` (would still go HARD),
        ``alerts_before/after``, ``notifications_before/after`` (and
        ``alerts_after_low/high``, ``notifications_after_low/high``: the range
        the unknown checks between alerts allow), ``failing_checks`` (point,
        ``failing_checks_low/high``), ``extra_detection`` (Timedelta, 0 for
        problems that stay SOFT), ``long_problem`` and ``caught_after``.

    The model (Nagios' own rules): a problem's failing checks are its logged
    SOFT attempts (every SOFT attempt writes a line, so these are known) plus,
    for a HARD problem, the HARD check and the re-checks at ``check_interval``
    until the recovery; the recovery check is OK and not counted. The log
    does not have the HARD re-checks: they are the time spent HARD over
    ``check_interval``. Replayed by order (as :mod:`.replay`), the same
    failing results with ``attempts`` go HARD when they reach it: its SOFT
    lines grow by ``attempts - current`` and its notifications stay; fewer
    stay SOFT, with one line per failing check and the recovery, and notify
    nobody.
    """
    eps = _service_episodes(episodes_or_events)
    if current is None:
        current = int(eps["max_attempt"].max()) if len(eps) else 1
    retry = pd.Timedelta(minutes=retry_interval_minutes)
    duration = eps["duration"]
    hard = eps["hard"].to_numpy(dtype=bool)
    logged_attempts = eps["max_attempt"].to_numpy().astype(np.int64)
    detection = eps["detection_delay"] if "detection_delay" in eps else pd.Series(pd.NaT, index=eps.index)
    hard_for = (duration - detection.fillna(pd.Timedelta(0))).dt.total_seconds().clip(lower=0).to_numpy(dtype=float)
    retry_seconds = retry.total_seconds()
    if check_interval_minutes:
        point_low, point_high = _hard_failing_checks(hard_for, check_interval_minutes * 60.0)
        point = np.maximum(1, np.round(hard_for / (check_interval_minutes * 60.0))).astype(np.int64)
        low, high = point_low, point_high
    else:
        point = np.maximum(1, np.round(hard_for / (DEFAULT_CHECK_MINUTES * 60.0))).astype(np.int64)
        low = np.ones(len(eps), dtype=np.int64)  # a check interval as long as the problem: the HARD check only
        high = _hard_failing_checks(hard_for, max(retry_seconds, 1.0))[1]  # re-checked as often as retried
    low, high = np.minimum(low, point), np.maximum(high, point)
    soft_attempts = np.where(hard, logged_attempts - 1, logged_attempts)

    def failing(hard_checks):
        return soft_attempts + np.where(hard, hard_checks, 0)

    recovered = ~eps["open"].to_numpy(dtype=bool)
    alerts_before = eps["alerts"].to_numpy().astype(np.int64)
    notes_before = eps["notifications"].to_numpy().astype(np.int64)

    def counts(failed):
        stays_hard = hard & (failed >= attempts)
        # Still HARD: attempts - current more SOFT lines; the rest as logged. Now SOFT:
        # one line per failing check and the recovery. Never HARD before: unchanged.
        alerts = np.where(
            stays_hard, alerts_before + (attempts - logged_attempts), np.where(hard, failed + recovered, alerts_before)
        )
        return stays_hard, alerts, np.where(hard & ~stays_hard, 0, notes_before)

    failed = failing(point)
    hard_after, alerts_after, notes_after = counts(failed)
    _, alerts_low, notes_low = counts(failing(low))
    _, alerts_high, notes_high = counts(failing(high))
    extra = np.where(hard_after, max(0, attempts - current), 0) * retry
    long_problem = is_long_problem(eps, long).to_numpy()
    return pd.DataFrame(
        {
            "node": eps["node"].to_numpy(),
            "host": eps["host"].to_numpy(),
            "service": eps["service"].to_numpy(),
            "start": eps["start"].to_numpy(),
            "duration": duration.to_numpy(),
            "hard_before": hard,
            "hard_after": hard_after,
            "failing_checks": failed,
            "failing_checks_low": failing(low),
            "failing_checks_high": failing(high),
            "alerts_before": alerts_before,
            "alerts_after": alerts_after.astype(np.int64),
            "alerts_after_low": alerts_low.astype(np.int64),
            "alerts_after_high": alerts_high.astype(np.int64),
            "notifications_before": notes_before,
            "notifications_after": notes_after.astype(np.int64),
            "notifications_after_low": notes_low.astype(np.int64),
            "notifications_after_high": notes_high.astype(np.int64),
            "extra_detection": pd.to_timedelta(extra),
            "long_problem": long_problem,
            "caught_after": hard_after | ~long_problem,
        }
    )


# ---------------------------------------------------------------- thresholds

_RANGE = re.compile(r"^(@)?(?:(~|-?[0-9.]+(?:[eE][-+]?\d+)?)?:)?(-?[0-9.]+(?:[eE][-+]?\d+)?)?$")


def parse_range(text: str) -> tuple[float, float, bool]:
    """Nagios range syntax -> (low, high, inside).

    ``10``: alert outside 0..10; ``10:``: below 10; ``~:10``: above 10;
    ``10:20``: outside 10..20; ``@10:20``: inside 10..20.
    """
    text = str(text).strip()
    match = _RANGE.match(text)
    if not text or match is None or (match[2] is None and match[3] is None):
        raise ValueError(f"not a Nagios range: {text!r}")
    inside, low_text, high_text = bool(match[1]), match[2], match[3]
    if ":" in text:
        low = -math.inf if low_text == "~" else float(low_text) if low_text else 0.0
        high = float(high_text) if high_text else math.inf
    else:
        low, high = 0.0, float(high_text)
    return low, high, inside


def in_alert(values, spec) -> np.ndarray:
    """True where a value raises an alert under the range ``spec`` (None or "" never alerts)."""
    values = np.asarray(values, dtype=float)
    if spec is None or (isinstance(spec, float) and math.isnan(spec)) or str(spec).strip() == "":
        return np.zeros(values.shape, dtype=bool)
    low, high, inside = parse_range(spec)
    within = (values >= low) & (values <= high)
    return within if inside else ~within


def states_for(values, warn, crit) -> np.ndarray:
    """0 OK, 1 WARNING, 2 CRITICAL per value, as a plugin with ``-w warn -c crit`` decides."""
    return np.where(in_alert(values, crit), 2, np.where(in_alert(values, warn), 1, 0))


def replay_threshold(values, warn, crit) -> pd.DataFrame:
    """States and alerts of a series of check values under ``-w warn -c crit``.

    :param values: the values in time order (a Series, array, or a frame
        with a ``value`` column).
    :returns: one row per value: ``value``, ``state`` (0/1/2) and ``alert``
        (True where the state differs from the previous value's: the checks
        that would have written an alert line).
    """
    if isinstance(values, pd.DataFrame):
        values = values["value"]
    array = np.asarray(values, dtype=float)
    state = states_for(array, warn, crit)
    alert = np.r_[state[:1] != 0, state[1:] != state[:-1]] if len(state) else np.zeros(0, dtype=bool)
    return pd.DataFrame({"value": array, "state": state, "alert": alert})


def what_if_curve(
    values, kind: str = "warn", thresholds=None, warn=None, crit=None, direction: str = "above"
) -> pd.DataFrame:
    """Alerts and CRITICAL checks against a sweep of one threshold, for plots.

    :param kind: ``"warn"`` or ``"crit"``: which level moves; the other stays.
    :param thresholds: levels to try (default: 40 quantiles of the values).
    :param direction: ``"above"`` (alert when the value is higher, e.g. load)
        or ``"below"`` (alert when lower, e.g. free space).
    :returns: columns threshold, alerts, warnings, criticals.
    """
    if isinstance(values, pd.DataFrame):
        values = values["value"]
    array = np.asarray(values, dtype=float)
    if thresholds is None:
        thresholds = np.unique(np.quantile(array, np.linspace(0.5, 1.0, 40))) if len(array) else []
    rows = []
    for level in thresholds:
        spec = f"~:{level:g}" if direction == "above" else f"{level:g}:"
        w, c = (spec, crit) if kind == "warn" else (warn, spec)
        replay = replay_threshold(array, w, c)
        rows.append(
            (
                float(level),
                int(replay["alert"].sum()),
                int((replay["state"] == 1).sum()),
                int((replay["state"] == 2).sum()),
            )
        )
    return pd.DataFrame(rows, columns=["threshold", "alerts", "warnings", "criticals"])


def _threshold_suggestion(
    series: pd.DataFrame, warn, crit, direction: str
) -> tuple[str, pd.DataFrame, pd.DataFrame] | None:
    """The warning level that removes the most WARNING alerts and leaves CRITICAL untouched."""
    values = series["value"].to_numpy(dtype=float)
    before = replay_threshold(values, warn, crit)
    if before["alert"].sum() == 0 or (before["state"] == 1).sum() == 0:
        return None
    criticals = before["state"] == 2
    # Candidate warning levels: just past the values that warned, the most permissive first.
    warned = values[(before["state"] == 1).to_numpy()]
    levels = sorted(set(np.quantile(warned, [0.5, 0.75, 0.9, 0.99, 1.0]).round(3)), reverse=direction == "below")
    for level in reversed(levels) if direction == "above" else levels:
        spec = f"~:{level:g}" if direction == "above" else f"{level:g}:"
        after = replay_threshold(values, spec, crit)
        if (after["state"][criticals] != 2).any():
            continue
        if after["alert"].sum() < before["alert"].sum():
            return spec, before, after
    return None


# ---------------------------------------------------------------- suggestions


def suggest_retunes(
    events,
    episodes,
    objects=None,
    perfdata=None,
    top: int = 20,
    long=LONG_PROBLEM,
    weeks: float | None = None,
    window_end=None,
    config=None,
) -> pd.DataFrame:
    """One replayed change for each of the ``top`` chattiest host/services.

    :param objects: frame of :func:`nagtune.analytics.sources.objects.load_objects`
        (current values); without it the current values are read off the log.
    :param perfdata: frame of :func:`nagtune.analytics.sources.ingest.load_perfdata`;
        without it, values printed in the plugin output are used.
    :param weeks: window length for the ranking's rates (see :func:`rank_chatty`).
    :param window_end: the end of the analysed window, where the flap replay's
        checks stop (default: the last event).
    :returns: ``RETUNE_COLUMNS``, the chatty services' suggestions in ranking
        order, then up to ``top`` faster-detection ones
        (:func:`nagtune.analytics.findings.retry.suggest_faster_detection`) for services
        without a suggestion; every row's ``long_problems_after`` equals its
        ``long_problems_before``.
    """
    return add_to(
        suggest_chatty_retunes(events, episodes, objects, perfdata, top, long, weeks, window_end, config=config),
        suggest_faster_detection(events, episodes, objects, perfdata=perfdata, config=config),
        top,
    )


def suggest_chatty_retunes(
    events,
    episodes,
    objects=None,
    perfdata=None,
    top: int = 20,
    long=LONG_PROBLEM,
    weeks: float | None = None,
    window_end=None,
    ranked=None,
    config=None,
) -> pd.DataFrame:
    """The first part of :func:`suggest_retunes`: the chatty services' suggestions
    only, in ranking order (the engines add the faster-detection ones themselves).

    :param ranked: ``rank_chatty(events, episodes, by="host_service", weeks=weeks)``
        where the caller has made it already (its first ``top`` rows are used);
        else it is made here.
    :param config: the node's :class:`~nagtune.analytics.sources.nagios_cfg.NagiosConfig`, or a
        dict of them by node name; None: Nagios' defaults, said in each reason.
    """
    from .chatty import rank_chatty

    if events is None or len(events) == 0 or episodes is None or len(episodes) == 0:
        return empty(RETUNE_COLUMNS)
    ranked = (
        rank_chatty(events, episodes, by="host_service", top=top, weeks=weeks) if ranked is None else ranked.head(top)
    )
    svc_eps = episodes[episodes["kind"] == "service"] if "kind" in episodes else episodes
    keys = set(zip(ranked["node"].astype(str), ranked["host"].astype(str), ranked["service"].astype(str)))
    grouped = {
        tuple(map(str, key)): group
        for key, group in rows_of(svc_eps, keys).groupby(["node", "host", "service"], observed=True)
    }
    service_events = rows_of(
        events[events["kind"].isin([ev.SERVICE_ALERT, ev.SERVICE_NOTIFICATION, ev.SERVICE_FLAPPING]).to_numpy()], keys
    )
    history = {
        tuple(map(str, key)): group for key, group in service_events.groupby(["node", "host", "service"], observed=True)
    }
    end = events["time"].max() if window_end is None else window_end
    values = None
    rows = []
    for row in ranked.itertuples():
        key = (row.node, row.host, row.service)
        eps = grouped.get(key)
        if eps is None or eps.empty:
            continue
        checks = engine.checks_of(perfdata, key)
        if checks is not None:
            # Every check is known: the engine replays them as Nagios ran them.
            suggestion = _replayed_suggestion(
                key, checks, objects, _config_of(config, key[0]), history.get(key), long, rows_of(perfdata, {key}), eps
            )
            if suggestion is not UNREPRODUCED:
                if suggestion is not None:
                    rows.append(suggestion)
                continue
        candidates = [
            found
            for found in (
                _attempts_suggestion(eps, objects, key, long),
                _flap_suggestion(history.get(key), eps, objects, key, long, end),
            )
            if found is not None
        ]
        # The most notifications saved; on a tie the first (attempts: the simpler change).
        suggestion = max(
            candidates, key=lambda found: found["notifications_before"] - found["notifications_after"], default=None
        )
        if suggestion is None:
            if values is None:
                values = _values(events, perfdata, keys)
            level_context = (_config_of(config, key[0]), history.get(key))
            suggestion = _warn_suggestion(values, objects, key, eps, long, level_context) or _crit_suggestion(
                values, objects, key, eps, long, level_context
            )
        if suggestion is not None and (suggestion["alerts_before"], suggestion["notifications_before"]) == (
            suggestion["alerts_after"],
            suggestion["notifications_after"],
        ):
            suggestion = None  # a change whose replay changes no count is never shown
        if suggestion is not None:
            if suggestion["long_problems_after"] != suggestion["long_problems_before"]:
                raise RetuneError(f"replay of {suggestion['directive']} on {key} misses a long HARD CRITICAL")
            rows.append(suggestion)
    if not rows:
        return empty(RETUNE_COLUMNS)
    return fill_retune_columns(pd.DataFrame(rows))[RETUNE_COLUMNS]


def _check_interval_of(objects, key) -> float | None:
    row = object_row(objects, key)
    if row is not None and pd.notna(row["check_interval"]) and row["check_interval"] > 0:
        return float(row["check_interval"])
    return None


def _range_text(low: int, high: int) -> str:
    return f"{low}" if low == high else f"{low}-{high}"


def _attempts_suggestion(eps, objects, key, long) -> dict | None:
    current, retry = current_attempts(objects, *key, eps)
    check_interval = _check_interval_of(objects, key)
    long_before = int(is_long_problem(eps, long).sum())
    best = None
    for attempts in range(current + 1, current + MAX_EXTRA_ATTEMPTS + 1):
        replay = replay_max_check_attempts(
            eps,
            attempts,
            current=current,
            retry_interval_minutes=retry,
            long=long,
            check_interval_minutes=check_interval,
        )
        if not replay["caught_after"].all():
            break  # more attempts only miss more
        if replay["extra_detection"].max() > MAX_EXTRA_DETECTION:
            break
        saved = (
            replay["notifications_before"].sum() - replay["notifications_after"].sum(),
            replay["alerts_before"].sum() - replay["alerts_after"].sum(),
        )
        # Notifications are what wake people: the most notifications saved wins, the fewest attempts on a tie.
        if saved[0] > 0 and (best is None or saved[0] > best[1][0]):
            best = (attempts, saved, replay)
    if best is None:
        return None
    attempts, _, replay = best
    caught = int((replay["long_problem"] & replay["hard_after"]).sum())
    notes_saved = int(replay["notifications_before"].sum() - replay["notifications_after"].sum())
    stays_soft = int((replay["hard_before"] & ~replay["hard_after"]).sum())
    sums = {
        column: int(replay[column].sum())
        for column in (
            "alerts_after",
            "alerts_after_low",
            "alerts_after_high",
            "notifications_after",
            "notifications_after_low",
            "notifications_after_high",
        )
    }
    interval_said = (
        f"HARD re-checks every {check_interval:g} min (objects.cache)"
        if check_interval
        else f"check_interval unknown: assumed {DEFAULT_CHECK_MINUTES:g} min (Nagios' default), the range "
        f"spans any check_interval from retry_interval ({retry:g} min) up"
    )
    return dict(
        node=key[0],
        host=key[1],
        service=key[2],
        directive="max_check_attempts",
        current=str(current),
        suggested=str(attempts),
        alerts_before=int(replay["alerts_before"].sum()),
        notifications_before=int(replay["notifications_before"].sum()),
        **sums,
        # Every problem that still goes HARD does so this much later (also future ones).
        extra_detection_minutes=round((attempts - current) * retry, 1),
        long_problems_before=long_before,
        long_problems_after=caught,
        reason=(
            f"{stays_soft} HARD problems cleared within {attempts - 1} failing checks: "
            f"with {attempts} attempts they stay SOFT ({notes_saved} notifications fewer); "
            + (
                f"all {long_before} long HARD CRITICAL problems are still caught, "
                if long_before
                else "no long HARD CRITICAL problem in this history; "
            )
            + f"real problems go HARD at most {(attempts - current) * retry:g} min later; "
            f"an estimate from the logged alerts: the checks between them are unknown, so the after-counts "
            f"are a range (alerts {_range_text(sums['alerts_after_low'], sums['alerts_after_high'])}, "
            f"notifications {_range_text(sums['notifications_after_low'], sums['notifications_after_high'])}); "
            f"failing checks = the logged SOFT attempts + the time spent HARD over check_interval; "
            f"{interval_said}"
        ),
    )


# ---------------------------------------------------------------- flap detection

_PRINTED_THRESHOLD = re.compile(r"([<>]=?)\s*([0-9.]+)% threshold")


def _current_flap_settings(objects, key, history) -> tuple[bool | None, float, float, float | None, str]:
    """(enabled, low, high, check interval in seconds, where that came from).

    From ``objects.cache`` when given (a threshold of 0 there means nagios.cfg's,
    assumed at its defaults); else from the thresholds Nagios printed in its
    FLAPPING ALERT lines; else unknown (``enabled`` None).
    """
    low, high, interval = flapping.DEFAULT_LOW, flapping.DEFAULT_HIGH, None
    row = object_row(objects, key)
    if row is not None:
        if pd.notna(row["low_flap_threshold"]) and row["low_flap_threshold"] > 0:
            low = float(row["low_flap_threshold"])
        if pd.notna(row["high_flap_threshold"]) and row["high_flap_threshold"] > 0:
            high = float(row["high_flap_threshold"])
        if pd.notna(row["check_interval"]) and row["check_interval"] > 0:
            interval = float(row["check_interval"]) * 60.0
        enabled = None if pd.isna(row["flap_detection_enabled"]) else bool(row["flap_detection_enabled"])
        return enabled, low, high, interval, "objects.cache"
    lines = history[history["kind"] == ev.SERVICE_FLAPPING]["output"].astype(str) if history is not None else []
    for text in lines:
        for sign, number in _PRINTED_THRESHOLD.findall(text):
            if sign.startswith(">"):
                high = float(number)
            else:
                low = float(number)
    return (True if len(lines) else None), low, high, interval, "the log's FLAPPING ALERT lines"


def _flap_candidates(enabled, low, high) -> list[tuple[float, float]]:
    """Thresholds to try, the least change first: as they are (when off), then lower
    by 5 points, down to nagios.cfg's default high threshold and no further: below
    it flap detection would mute services that merely fail now and then."""
    ratio = low / high if high > 0 else flapping.DEFAULT_LOW / flapping.DEFAULT_HIGH
    candidates = [] if enabled else [(low, high)]
    level = high - 5.0
    while level >= flapping.DEFAULT_HIGH:
        candidates.append((round(level * ratio, 1), level))
        level -= 5.0
    return candidates


def _flap_suggestion(history, eps, objects, key, long, end) -> dict | None:
    if history is None or history.empty:
        return None
    alerts = history[history["kind"] == ev.SERVICE_ALERT]
    notes = history[history["kind"] == ev.SERVICE_NOTIFICATION]
    if alerts.empty or notes.empty:
        return None
    enabled, low, high, interval, source = _current_flap_settings(objects, key, history)
    long_flags = is_long_problem(eps, long).to_numpy()
    best = None
    for candidate_low, candidate_high in _flap_candidates(enabled, low, high):
        replay = flapping.replay_flap_thresholds(
            alerts,
            notes,
            eps,
            candidate_low,
            candidate_high,
            interval_seconds=interval,
            end=end,
            long_problems=long_flags,
        )
        problems = replay.problems
        if not problems["caught_after"].all():
            continue
        long_delay = problems.loc[problems["long_problem"], "delay"].max() if long_flags.any() else pd.Timedelta(0)
        if pd.notna(long_delay) and long_delay > MAX_EXTRA_DETECTION:
            continue
        saved = replay.notifications_before - replay.notifications_after
        if saved > 0 and (best is None or saved > best[0]):
            best = (saved, candidate_low, candidate_high, replay, long_delay)
    if best is None:
        return None
    saved, new_low, new_high, replay, long_delay = best
    long_before = int(long_flags.sum())
    quiet_problems = int((replay.problems["notified_before"] & ~replay.problems["notified_after"]).sum())
    current = (
        "off" if enabled is False else f"{low:g}/{high:g}" if enabled else f"unknown (assumed off; {low:g}/{high:g})"
    )
    delay_minutes = 0.0 if pd.isna(long_delay) else round(long_delay / pd.Timedelta(minutes=1), 1)
    return dict(
        node=key[0],
        host=key[1],
        service=key[2],
        directive="flap_detection_enabled, low/high_flap_threshold"
        if not enabled
        else "low_flap_threshold / high_flap_threshold",
        current=current,
        suggested=f"on, {new_low:g}/{new_high:g}",
        alerts_before=int(len(alerts)),
        alerts_after=int(len(alerts)),
        notifications_before=replay.notifications_before,
        notifications_after=replay.notifications_after,
        extra_detection_minutes=delay_minutes,
        long_problems_before=long_before,
        long_problems_after=int((replay.problems["long_problem"] & replay.problems["caught_after"]).sum()),
        reason=(
            f"state flips often enough for flap detection at {new_low:g}/{new_high:g}% to hold back the "
            f"notifications of {quiet_problems} problems; replayed over the logged alerts with the checks "
            f"between them filled in at the check interval (an estimate): {replay.flap_periods} "
            f"flapping periods ({replay.flap_notifications} FLAPPINGSTART/STOP notifications), "
            f"{saved} notifications fewer; "
            + (
                f"all {long_before} long HARD CRITICAL problems are still notified, at most "
                f"{delay_minutes:g} min later; "
                if long_before
                else "no long HARD CRITICAL problem in this history; "
            )
            + f"current settings from {source}"
        ),
    )


def _values(events, perfdata, keys: set) -> pd.DataFrame:
    """The values reported by the ranked (node, host, service) ``keys``: from
    perfdata when a site keeps it, else from the numbers in plugin output.

    Only the ranked keys' rows are read: pulling numbers out of every output
    of a fleet's week cost more time and memory than the rest of the report.
    """
    if perfdata is not None and len(perfdata):
        return rows_of(perfdata, keys)
    from ..sources.ingest import values_from_output

    return values_from_output(rows_of(events, keys))


def _current_levels(values, key):
    """(label, series, warn, crit, direction, inferred) of the service's most reported
    value, or None: the levels it declares in perfdata, else inferred from the states
    it reported at each value (no WARNING seen: no warning band, ``warn == crit``)."""
    if values is None or values.empty:
        return None
    mine = values[
        (values["node"].astype(str) == key[0])
        & (values["host"].astype(str) == key[1])
        & (values["service"].astype(str) == key[2])
    ]
    if mine.empty:
        return None
    label = mine["label"].astype(str).value_counts().index[0]
    series = mine[mine["label"].astype(str) == label].sort_values("time", kind="stable")
    inferred = False
    if "warn" in series and series["warn"].astype(str).str.len().gt(0).any():
        warn, crit = str(series["warn"].iloc[-1]), str(series["crit"].iloc[-1])
    else:
        state = series["state"].astype(str)
        warn_values = series["value"][state == "WARNING"]
        crit_values = series["value"][state == "CRITICAL"]
        ok_values = series["value"][state == "OK"]
        problem_values = warn_values if len(warn_values) else crit_values
        if problem_values.empty or ok_values.empty:
            return None
        inferred = True
        if problem_values.median() > ok_values.median():
            warn = f"~:{ok_values.max():g}"
            crit = (
                warn
                if warn_values.empty
                else f"~:{warn_values.max():g}"
                if crit_values.empty
                else f"~:{min(crit_values.min(), max(warn_values.max(), ok_values.max())):g}"
            )
        else:
            warn = f"{ok_values.min():g}:"
            crit = (
                warn
                if warn_values.empty
                else f"{warn_values.min():g}:"
                if crit_values.empty
                else f"{max(crit_values.max(), warn_values.min()):g}:"
            )
    try:
        _, high, inside = parse_range(warn)
        parse_range(crit)
    except ValueError:
        return None
    direction = "below" if math.isinf(high) and not inside else "above"
    return label, series, warn, crit, direction, inferred


def _warn_suggestion(values, objects, key, eps, long, context=(None, None)) -> dict | None:
    levels = _current_levels(values, key)
    if levels is None:
        return None
    label, series, warn, crit, direction, inferred = levels
    found = _threshold_suggestion(series, warn, crit, direction)
    if found is None:
        return None
    spec, before, after = found
    return _level_row(
        key,
        "warning threshold (-w)",
        warn,
        spec,
        before,
        after,
        eps,
        int(is_long_problem(eps, long).sum()),
        (series, objects, *context),
        f"{label}: {int((before['state'] == 1).sum())} WARNING checks, "
        f"{int((after['state'] == 1).sum())} with -w {spec}; critical level {crit} unchanged, "
        f"every CRITICAL value still CRITICAL"
        + ("; current levels inferred from the states the check reported" if inferred else ""),
    )


def _level_row(key, directive, current, spec, before, after, eps, long_before, replay_context, reason) -> dict | None:
    """A threshold suggestion from the values known (the logged alerts' or the perfdata's):
    alerts replayed on the values; notifications replayed by the engine on the states
    before and after, with the service's settings, so both counts come from one state
    machine. None when the engine's replay of the states before does not give the logged
    notifications: then the notifications after would not be Nagios' either."""
    series, objects, config, history = replay_context
    notifications = int(eps["notifications"].sum())
    times = epoch_seconds(series["time"]).astype(float)
    row = object_row(objects, key)
    hard = eps[eps["hard"]]
    # The times between known values are not check intervals here: only the attempts HARD reached.
    seen = {"max_check_attempts": int(hard["max_attempt"].max())} if row is None and len(hard) else None
    settings, _ = engine.settings_for(row, config if config is not None else unknown_config(), seen)
    # The OK checks between known values are missing, so flap detection over them would see
    # flips Nagios never saw: it is replayed only where Nagios logged flapping for the service.
    flapped = history is not None and bool((history["kind"] == ev.SERVICE_FLAPPING).any())
    settings = settings.with_(flap_detection_enabled=settings.flap_detection_enabled and flapped)
    lines = _lines_per_notification(history)
    replayed = [
        engine.replay_service(frame["state"].to_numpy(), settings, times=times).notification_count * lines
        for frame in (before, after)
    ]
    if replayed[0] != notifications:
        return None  # the known values do not explain the logged notifications: no consistent after-count
    return dict(
        node=key[0],
        host=key[1],
        service=key[2],
        directive=directive,
        current=current,
        suggested=spec,
        alerts_before=int(before["alert"].sum()),
        alerts_after=int(after["alert"].sum()),
        notifications_before=notifications,
        notifications_after=replayed[1],
        extra_detection_minutes=0.0,
        long_problems_before=long_before,
        long_problems_after=long_before,
        reason=reason + "; an estimate over the known values only (checks with no known value are taken to keep "
        "their state); notifications replayed through Nagios' state machine on the states before and after"
        + ("" if flapped else " (flap detection left out: Nagios logged no flapping for the service)"),
    )


def _critical_level(series: pd.DataFrame, warn, crit, direction: str, must_stay: np.ndarray):
    """The critical level that turns the most CRITICAL checks into WARNING ones while
    every value in ``must_stay`` (those of long HARD CRITICAL problems) stays CRITICAL."""
    values = series["value"].to_numpy(dtype=float)
    before = replay_threshold(values, warn, crit)
    criticals = (before["state"] == 2).to_numpy()
    must_stay = must_stay & criticals  # a long problem's recovery check is in its span, and OK
    movable = values[criticals & ~must_stay]
    if not len(movable):
        return None
    low, high, _ = parse_range(warn)
    levels = sorted(
        set(np.quantile(movable, [0.5, 0.75, 0.9, 0.99, 1.0]).round(3)), reverse=direction == "above"
    )  # the most permissive first
    for level in levels:
        # Never inside the warning band's own alert side: a critical level must be past the warning one.
        if (direction == "above" and level < high) or (direction == "below" and level > low):
            continue
        spec = f"~:{level:g}" if direction == "above" else f"{level:g}:"
        after = replay_threshold(values, warn, spec)
        if (after["state"].to_numpy()[must_stay] != 2).any():
            continue
        if (after["state"] == 2).sum() < criticals.sum():
            return spec, before, after
    return None


def _values_in(series: pd.DataFrame, episodes: pd.DataFrame) -> np.ndarray:
    """True for the values reported during one of ``episodes`` (start to end, inclusive)."""
    times = epoch_seconds(series["time"])
    inside = np.zeros(len(times), dtype=bool)
    for start, end in zip(epoch_seconds(episodes["start"]), epoch_seconds(episodes["end"])):
        inside |= (times >= start) & (times <= end)
    return inside


def _crit_suggestion(values, objects, key, eps, long, context=(None, None)) -> dict | None:
    levels = _current_levels(values, key)
    if levels is None:
        return None
    label, series, warn, crit, direction, inferred = levels
    long_eps = eps[is_long_problem(eps, long)]
    must_stay = _values_in(series, long_eps)
    found = _critical_level(series, warn, crit, direction, must_stay)
    if found is None:
        return None
    spec, before, after = found
    long_before = len(long_eps)
    criticals_before, criticals_after = int((before["state"] == 2).sum()), int((after["state"] == 2).sum())
    # The spared checks still alert, as WARNING: whoever takes warnings is still told, not the pager.
    return _level_row(
        key,
        "critical threshold (-c)",
        crit,
        spec,
        before,
        after,
        eps,
        long_before,
        (series, objects, *context),
        f"{label}: {criticals_before} CRITICAL checks, {criticals_after} with -c {spec}, the "
        f"{criticals_before - criticals_after} others WARNING instead (they still alert); "
        + (
            f"every value of the {long_before} long HARD CRITICAL problems still CRITICAL; "
            if long_before
            else "no long HARD CRITICAL problem in this history; "
        )
        + f"warning level {warn} unchanged"
        + ("; current levels inferred from the states the check reported" if inferred else ""),
    )


# ---------------------------------------------------------------- replayed over every check


def _config_of(config, node: str) -> NagiosConfig:
    if isinstance(config, dict):
        config = config.get(node, config.get(None))
    return config if config is not None else unknown_config()


def _lines_per_notification(history) -> int:
    """Notification lines per notification of one service (its contacts), 1 if none logged."""
    if history is None:
        return 1
    notes = history[history["kind"] == ev.SERVICE_NOTIFICATION]
    if notes.empty:
        return 1
    return max(1, int(notes.groupby("time").size().median()))


def _still_caught(before: engine.ServiceReplay, after: engine.ServiceReplay, long_seconds: float) -> bool:
    """Every long HARD problem of ``before`` still goes HARD, and is still notified if it was,
    in ``after`` (problems matched by their first failing check)."""
    by_first = {problem["first_check"]: problem for problem in after.problems}
    for problem in engine.long_problems(before, long_seconds):
        twin = by_first.get(problem["first_check"])
        if twin is None or twin["hard"] is None or (problem["notified"] and not twin["notified"]):
            return False
    return True


def _replayed_row(
    key, directive, current, suggested, before, after, lines, logged, long_seconds, extra_minutes, reason, assumed
) -> dict:
    long_before = len(engine.long_problems(before, long_seconds))
    said = f"; assumed: {', '.join(assumed)}" if assumed else ""
    return dict(
        node=key[0],
        host=key[1],
        service=key[2],
        directive=directive,
        current=current,
        suggested=suggested,
        alerts_before=before.alert_count,
        alerts_after=after.alert_count,
        notifications_before=before.notification_count * lines,
        notifications_after=after.notification_count * lines,
        extra_detection_minutes=round(extra_minutes, 1),
        long_problems_before=long_before,
        long_problems_after=long_before,
        reason=reason + said,
        replay_basis=REPLAY_EXACT,
        alerts_logged=logged[0],
        notifications_logged=logged[1],
    )


def _seen_settings(eps, times, unit_seconds: float) -> dict:
    """What the log and the checks show of a service's settings (for a node without objects.cache)."""
    hard = eps[eps["hard"]]
    attempts = int(hard["max_attempt"].max()) if len(hard) else None
    gaps = np.diff(np.asarray(times, dtype=float))
    usual = float(np.median(gaps)) / unit_seconds if len(gaps) else None
    return {"max_check_attempts": attempts, "check_interval": round(usual, 2) if usual else None}


def _replayed_suggestion(key, checks, objects, config, history, long, values=None, eps=None) -> dict | None:
    """The one change, of max_check_attempts or flap detection, that saves the most
    notifications when every check of the service is replayed (:mod:`.replay`)."""
    times, codes = checks
    row = object_row(objects, key)
    seen = _seen_settings(eps, times, config.interval_length) if row is None and eps is not None else None
    settings, assumed = engine.settings_for(row, config, seen)
    before = engine.replay_service(codes, settings, times=times)
    lines = _lines_per_notification(history)
    logged = (
        (0, 0)
        if history is None
        else (int((history["kind"] == ev.SERVICE_ALERT).sum()), int((history["kind"] == ev.SERVICE_NOTIFICATION).sum()))
    )
    if (before.alert_count, before.notification_count * lines) != logged:
        # What the model leaves out shaped this service's log (a host outage, downtime, an
        # acknowledgement, contacts with other options): its numbers would not be Nagios'.
        return UNREPRODUCED
    long_seconds = pd.Timedelta(long).total_seconds()
    unit = settings.interval_length / 60.0  # minutes per interval unit
    found = []
    # max_check_attempts: the fewest attempts that save the most notifications.
    best = None
    for attempts in range(settings.max_check_attempts + 1, settings.max_check_attempts + MAX_EXTRA_ATTEMPTS + 1):
        extra = (attempts - settings.max_check_attempts) * settings.retry_interval * unit
        if pd.Timedelta(minutes=extra) > MAX_EXTRA_DETECTION:
            break
        after = engine.replay_service(codes, settings.with_(max_check_attempts=attempts), start=times[0])
        if not _still_caught(before, after, long_seconds):
            break
        saved = before.notification_count - after.notification_count
        if saved > 0 and (best is None or saved > best[0]):
            best = (saved, attempts, after, extra)
    if best is not None:
        saved, attempts, after, extra = best
        soft = sum(1 for p in before.problems if p["hard"] is not None) - sum(
            1 for p in after.problems if p["hard"] is not None
        )
        found.append(
            (
                saved,
                _replayed_row(
                    key,
                    "max_check_attempts",
                    str(settings.max_check_attempts),
                    str(attempts),
                    before,
                    after,
                    lines,
                    logged,
                    long_seconds,
                    extra,
                    f"{soft} HARD problems recover within {attempts - 1} retries of "
                    f"{settings.retry_interval * unit:g} min: with {attempts} attempts they stay SOFT "
                    f"({saved * lines} notifications fewer); the fewest attempts that save this many; every long HARD "
                    f"problem still goes HARD, {extra:g} min later",
                    assumed,
                ),
            )
        )
    # Flap detection: on, or lower thresholds (the least change first).
    for low, high in _flap_candidates(
        settings.flap_detection_enabled, settings.low_flap_threshold, settings.high_flap_threshold
    ):
        changed = settings.with_(flap_detection_enabled=True, low_flap_threshold=low, high_flap_threshold=high)
        after = engine.replay_service(codes, changed, times=times)
        saved = before.notification_count - after.notification_count
        if saved <= 0 or not _still_caught(before, after, long_seconds):
            continue
        current = (
            f"on, {settings.low_flap_threshold:g}/{settings.high_flap_threshold:g}"
            if settings.flap_detection_enabled
            else "off"
        )
        starts = sum(1 for _, what, _ in after.flapping if what == "STARTED")
        found.append(
            (
                saved,
                _replayed_row(
                    key,
                    "low_flap_threshold / high_flap_threshold"
                    if settings.flap_detection_enabled
                    else "flap_detection_enabled, low/high_flap_threshold",
                    current,
                    f"on, {low:g}/{high:g}",
                    before,
                    after,
                    lines,
                    logged,
                    long_seconds,
                    0.0,
                    f"percent state change over 21 checks reaches {after.max_percent:.1f}% (replayed over every "
                    f"check; {before.max_percent:.1f}% was the most before): flap detection at {low:g}/{high:g}% "
                    f"starts {starts} flapping periods and holds back their notifications ({saved * lines} fewer, "
                    f"FLAPPINGSTART/STOP included); every long HARD problem is still notified",
                    assumed,
                ),
            )
        )
        break
    # notification_interval: re-notify a standing problem at most hourly; its first notification is kept.
    if 0 < settings.notification_interval * unit < RENOTIFY_MINUTES:
        changed = settings.with_(notification_interval=RENOTIFY_MINUTES / unit)
        after = engine.replay_service(codes, changed, times=times)
        saved = before.notification_count - after.notification_count
        if saved > 0 and _still_caught(before, after, long_seconds):
            found.append(
                (
                    saved,
                    _replayed_row(
                        key,
                        "notification_interval",
                        f"{settings.notification_interval * unit:g}",
                        f"{RENOTIFY_MINUTES:g}",
                        before,
                        after,
                        lines,
                        logged,
                        long_seconds,
                        0.0,
                        f"standing HARD problems are notified again every {settings.notification_interval * unit:g} min: "
                        f"re-notifying at most hourly sends {saved * lines} notifications fewer; every problem's first "
                        f"notification and its recovery still go out",
                        assumed,
                    ),
                )
            )
    if not found:
        return _replayed_level(key, checks, before, settings, lines, logged, long_seconds, values, assumed)
    # The most notifications saved; on a tie the first (attempts: the simpler change).
    return max(found, key=lambda item: item[0])[1]


RENOTIFY_MINUTES = 60.0  # a standing problem is worth a reminder once an hour, not more
UNREPRODUCED = "unreproduced"  # the replay of every check does not give the logged counts
DRIVES_STATE = 0.95  # a label whose levels explain this share of the checks' states drives them
HEADROOM = 0.10  # a new level lies this share of its value past the values it must not alert on


def _driving_label(values, key, times, codes):
    """(label, per-check values, warn, crit) of the perfdata label whose own warn;crit
    levels give the state the check reported at (nearly) every check, or None."""
    if values is None or values.empty or "warn" not in values:
        return None
    mine = values[
        (values["node"].astype(str) == key[0])
        & (values["host"].astype(str) == key[1])
        & (values["service"].astype(str) == key[2])
    ]
    seconds = {second: index for index, second in enumerate(times)}
    best = None
    for label, rows in mine.groupby(mine["label"].astype(str), observed=True):
        warn, crit = str(rows["warn"].iloc[-1]), str(rows["crit"].iloc[-1])
        try:
            parse_range(warn), parse_range(crit)
        except ValueError:
            continue
        per_check = np.full(len(times), np.nan)
        where = [seconds.get(float(second)) for second in epoch_seconds(rows["time"])]
        for index, value in zip(where, rows["value"].to_numpy(dtype=float)):
            if index is not None:
                per_check[index] = value
        known = ~np.isnan(per_check)
        if known.sum() < len(times) * DRIVES_STATE:
            continue
        agree = (states_for(per_check[known], warn, crit) == np.asarray(codes)[known]).mean()
        if agree >= DRIVES_STATE and (best is None or agree > best[0]):
            best = (agree, label, per_check, warn, crit)
    return None if best is None else best[1:]


def _with_headroom(level: float, direction: str) -> float:
    margin = abs(level) * HEADROOM or HEADROOM
    return float(f"{(level + margin) if direction == 'above' else (level - margin):.3g}")


def _replayed_level(key, checks, before, settings, lines, logged, long_seconds, values, assumed) -> dict | None:
    """A warning level from the label that drives the state, replayed through the engine:
    the WARNING values' highest (or lowest) plus headroom, below the critical level."""
    times, codes = checks
    found = _driving_label(values, key, times, codes)
    if found is None:
        return None
    label, per_check, warn, crit = found
    low, high, inside = parse_range(warn)
    if inside:
        return None  # an inside range (@a:b) has no single side to move
    if not math.isinf(low) and low != 0 and not math.isinf(high):
        return None  # a two-sided range (10:20): no single level to move
    direction = "below" if math.isinf(high) else "above"
    state_now = states_for(np.nan_to_num(per_check), warn, crit)
    warned = per_check[state_now == 1]
    if not len(warned):
        return None
    crit_low, crit_high, _ = parse_range(crit)
    for quantile in (1.0, 0.99, 0.9, 0.75):
        level = _with_headroom(float(np.quantile(warned, quantile)), direction)
        if (direction == "above" and level >= crit_high) or (direction == "below" and level <= crit_low):
            continue  # past the critical level: it would no longer be a warning band
        spec = f"~:{level:g}" if direction == "above" else f"{level:g}:"
        after_codes = np.where(np.isnan(per_check), codes, states_for(np.nan_to_num(per_check), spec, crit))
        after = engine.replay_service(after_codes, settings, times=times)
        if (after.alert_count, after.notification_count) == (before.alert_count, before.notification_count):
            continue  # a no-op is never shown
        if not _still_caught(before, after, long_seconds):
            continue
        if after.notification_count > before.notification_count or after.alert_count > before.alert_count:
            continue
        return _replayed_row(
            key,
            "warning threshold (-w)",
            warn,
            spec,
            before,
            after,
            lines,
            logged,
            long_seconds,
            0.0,
            f"{label} drives the state (its perfdata levels {warn};{crit} give the reported state at every "
            f"check); -w {spec} is the {quantile:.0%} quantile of its WARNING values plus {HEADROOM:.0%} "
            f"headroom, critical level {crit} unchanged; every long HARD problem still notified",
            assumed,
        )
    return None
