"""Nagios' flap detection, recomputed from the event log and replayed with other thresholds.

What Nagios 4 does (``base/flapping.c``, ``check_for_service_flapping``,
called after every service check in ``base/checks.c``):

- it keeps the last 21 *recorded* states of each service; a check is recorded
  when its state is HARD or OK (soft recoveries included): SOFT problem
  states are not;
- the percent state change weighs each of the 20 changes between them from
  0.75 (oldest) to 1.25 (newest), times 100 / 20;
- after each recorded check: ``percent <= low`` stops flapping,
  ``percent >= high`` starts it, anything between keeps the current flag;
  thresholds of 0 on the object mean nagios.cfg's;
- while a service is flapping its problem and recovery notifications are not
  sent; FLAPPINGSTART / FLAPPINGSTOP notifications are sent instead. A
  problem still open when flapping ends is notified at its next HARD check.

A history starts all OK, as Nagios starts it, so a service's first problem
in the window is a change. The event log has state changes only. The checks between them returned the
earlier state and are put back, evenly over each gap, one per check interval
(at most 20 matter); the interval is the object's ``check_interval`` when
``objects.cache`` is given, else the shortest gap after a recorded alert of
that service (no longer than the 5-minute default, so a service that alerts
twice a day is not taken for one that changes at every check).

Checked against a real Nagios 4.4.6: on the bundled samples, the replay at
the objects' thresholds starts flapping at the very check of every
``SERVICE FLAPPING ALERT: ...;STARTED`` line, with the percent Nagios printed
(``tests/test_analytics_flapping.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._frames import epoch_seconds

HISTORY = 21  # Nagios' MAX_STATE_HISTORY_ENTRIES
LOW_CURVE, HIGH_CURVE = 0.75, 1.25  # weights of the oldest and the newest change
SLOPE = (HIGH_CURVE - LOW_CURVE) / (HISTORY - 2)
DEFAULT_CHECK_SECONDS = 300  # Nagios' default check_interval, 5 min
DEFAULT_LOW, DEFAULT_HIGH = 5.0, 20.0  # nagios.cfg's low/high_service_flap_threshold defaults
# Weight of a change d checks back (d = 0 is the newest), times 100 / 20.
_WEIGHTS = (LOW_CURVE + (HISTORY - 2 - np.arange(HISTORY - 1)) * SLOPE) * 100.0 / (HISTORY - 1)


def nagios_flap_percent(states) -> float:
    """Percent state change of one history of up to 21 recorded states, oldest first.

    The reference, line by line as in ``flapping.c``: change ``x`` (1..20,
    newest last) weighs ``0.75 + (x - 1) * 0.5 / 19``; the sum times 100 / 20.
    """
    states = list(states)[-HISTORY:]
    states = [states[0]] * (HISTORY - len(states)) + states if states else []
    total = 0.0
    for x in range(1, len(states)):
        if states[x] != states[x - 1]:
            total += (x - 1) * (HIGH_CURVE - LOW_CURVE) / (HISTORY - 2) + LOW_CURVE
    return total * 100.0 / (HISTORY - 1)


def recorded(alerts: pd.DataFrame) -> np.ndarray:
    """Alert rows Nagios puts into the flap history: HARD states and OK results."""
    return ((alerts["state_type"] == "HARD") | (alerts["state"] == "OK")).to_numpy(dtype=bool)


def check_seconds(
    times: np.ndarray, key: np.ndarray, is_recorded: np.ndarray, default: float = DEFAULT_CHECK_SECONDS
) -> np.ndarray:
    """Per row, the check interval of its service, seen in the log (see the module doc).

    ``times`` (epoch seconds) and ``key`` sorted by key then time.
    """
    n = len(times)
    if n == 0:
        return np.zeros(0)
    shortest = np.full(n, np.inf)
    np.subtract(times[1:], times[:-1], out=shortest[:-1], casting="unsafe")
    shortest[:-1][~(is_recorded[:-1] & (key[1:] == key[:-1]))] = np.inf
    shortest[shortest <= 0] = np.inf
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    per_key = np.minimum.reduceat(shortest, starts)
    del shortest
    return np.repeat(np.minimum(per_key, default), np.diff(np.r_[starts, n]))


def unlogged_checks(
    times: np.ndarray,
    key: np.ndarray,
    is_recorded: np.ndarray,
    interval: np.ndarray,
    end: float | None = None,
    with_spacing: bool = False,
):
    """Per alert row, how many unlogged checks followed it (0..20, int8); with
    ``with_spacing`` also their spacing in seconds.

    Only a recorded row is followed by recorded checks: after a SOFT problem
    the next check is a retry, which the log writes. The last row of a
    service is followed by checks up to ``end`` (none when ``end`` is None).
    """
    n = len(times)
    gap = np.zeros(n)
    if n:
        np.subtract(times[1:], times[:-1], out=gap[:-1], casting="unsafe")
        last = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
        gap[last] = 0.0 if end is None else np.maximum(end - times[last], 0.0)
    checks = gap / interval
    np.rint(checks, out=checks)
    count = np.clip(checks - 1, 0, HISTORY - 1).astype(np.int8)
    count[~is_recorded] = 0
    if not with_spacing:
        return count
    return count, gap / np.maximum(checks, 1)


def percent_at_alerts(alerts: pd.DataFrame, key: np.ndarray, interval=None, seconds=None) -> np.ndarray:
    """Percent state change after each recorded alert row (0 on the others), vectorised.

    :param alerts: service alert rows sorted by ``key`` then time.
    :param key: one integer per service object (node, host, service).
    :param interval: check interval in seconds per row; default from the log.
    :param seconds: ``epoch_seconds(alerts["time"])`` where the caller has them.

    Flapping peaks at an alert, never between two (the checks in between only
    age the changes out), so the rows alone give the peak. Each recorded row's
    position in its service's history comes from the unlogged checks before it;
    the weighted count over the window of 20 changes from prefix sums.
    """
    n = len(alerts)
    if n == 0:
        return np.zeros(0)
    times = epoch_seconds(alerts["time"]) if seconds is None else seconds
    is_recorded = recorded(alerts)
    state_codes = (
        alerts["state"].cat.codes.to_numpy()
        if isinstance(alerts["state"].dtype, pd.CategoricalDtype)
        else pd.factorize(alerts["state"])[0]
    )
    is_ok_row = (alerts["state"] == "OK").to_numpy(dtype=bool)
    if interval is None:
        interval = check_seconds(times, key, is_recorded)
    fills = unlogged_checks(times, key, is_recorded, interval)
    del times, interval
    rows = np.flatnonzero(is_recorded)
    percent = np.zeros(n)
    if not len(rows):
        return percent
    state = state_codes[rows]
    is_ok = is_ok_row[rows]
    del state_codes, is_ok_row
    key = key[rows]
    same = np.r_[False, key[1:] == key[:-1]]
    del key
    # A service's history starts as Nagios' does, all OK: a first problem is a change.
    change = np.where(same, np.r_[False, state[1:] != state[:-1]], ~is_ok)
    del state, is_ok
    # Position in the history: one step per recorded check, unlogged ones included.
    # (Temporaries freed as they go: on millions of alerts this is the ranking's peak.)
    step = np.r_[0, 1 + fills[rows][:-1]]
    del fills
    step[~same] = 0
    position = np.cumsum(step)
    del step
    group_start = np.flatnonzero(~same)
    del same
    group_sizes = np.diff(np.r_[group_start, len(rows)])
    position -= np.repeat(position[group_start], group_sizes)
    # A change d checks back (0..19) weighs 0.75 + (19 - d) * slope. Over the changes
    # in [position - 19, position]: count * (0.75 + (19 - position) * slope)
    # + slope * (sum of their positions); the window's first row by a binary search
    # on positions made increasing across services.
    global_position = np.repeat(np.arange(len(group_start)) * (np.int64(position.max()) + HISTORY + 1), group_sizes)
    global_position += position
    first = np.searchsorted(global_position, global_position - (HISTORY - 2), side="left")
    del global_position, group_sizes, group_start
    changes = np.r_[0, np.cumsum(change, dtype=np.int64)]
    count = changes[1:] - changes[first]
    del changes
    change_positions = np.r_[0, np.cumsum(np.where(change, position, 0), dtype=np.int64)]
    del change
    positions = change_positions[1:] - change_positions[first]
    del change_positions, first
    weighted = count * (LOW_CURVE + (HISTORY - 2 - position) * SLOPE)
    del count, position
    weighted += SLOPE * positions
    del positions
    percent[rows] = weighted * 100.0 / (HISTORY - 1)
    return percent


def check_history(alerts: pd.DataFrame, interval_seconds: float | None = None, end=None) -> pd.DataFrame:
    """Every recorded check of one service, the unlogged ones put back.

    :param alerts: the service's alert rows (time, state, state_type).
    :param interval_seconds: its check interval; default from the log.
    :param end: the end of the history (Timestamp); checks continue to it.
    :returns: ``time`` (epoch seconds), ``state``, ``logged`` (an alert line)
        and ``percent`` (Nagios' percent state change after that check).
    """
    alerts = alerts.sort_values("time", kind="stable")
    times = epoch_seconds(alerts["time"])
    key = np.zeros(len(alerts), dtype=np.int64)
    is_recorded = recorded(alerts)
    interval = (
        check_seconds(times, key, is_recorded)
        if interval_seconds is None
        else np.full(len(times), float(interval_seconds))
    )
    end_seconds = None if end is None else float(epoch_seconds(pd.Series([pd.Timestamp(end)]))[0])
    fills, spacing = unlogged_checks(times, key, is_recorded, interval, end_seconds, with_spacing=True)
    repeats = np.where(is_recorded, 1 + fills, 0)
    row = np.repeat(np.arange(len(times)), repeats)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    states = alerts["state"].astype(str).to_numpy()[row]
    change = np.r_[states[:1] != "OK", states[1:] != states[:-1]].astype(float)  # starts all OK, as Nagios'
    return pd.DataFrame(
        {
            "time": times[row] + offset * spacing[row],
            "state": states,
            "logged": offset == 0,
            "percent": np.convolve(change, _WEIGHTS)[: len(change)] if len(change) else np.zeros(0),
        }
    )


def flapping_flags(percent: np.ndarray, low: float, high: float, flapping_before: bool = False) -> np.ndarray:
    """Nagios' flag after each check: ``<= low`` stops, ``>= high`` starts, between keeps."""
    percent = np.asarray(percent, dtype=float)
    decision = np.where(percent <= low, -1, np.where(percent >= high, 1, 0))
    decided = np.where(decision != 0, np.arange(len(percent)), -1)
    last = np.maximum.accumulate(decided) if len(decided) else decided
    return np.where(last >= 0, decision[np.maximum(last, 0)] == 1, flapping_before)


@dataclass
class FlapReplay:
    """The effect of flap thresholds on one service's history (see :func:`replay_flap_thresholds`)."""

    checks: pd.DataFrame  # check_history plus ``flapping``
    problems: pd.DataFrame  # per service episode, what its notifications become
    flap_periods: int  # flapping periods under the replayed thresholds
    flap_notifications: int  # FLAPPINGSTART/STOP notifications they send
    notifications_before: int  # problem, recovery and flapping notifications in the history
    notifications_after: int


def replay_flap_thresholds(
    alerts: pd.DataFrame,
    notifications: pd.DataFrame,
    episodes: pd.DataFrame,
    low: float,
    high: float,
    interval_seconds: float | None = None,
    end=None,
    long_problems=None,
) -> FlapReplay:
    """Replay one service's history with flap detection on at ``low`` / ``high``.

    :param alerts: the service's SERVICE ALERT rows.
    :param notifications: its SERVICE NOTIFICATION rows (time, state_type
        holding the notification type, contact).
    :param episodes: its episodes (:func:`build_episodes`).
    :param long_problems: per episode, True for the problems that must be
        caught (default: none).
    :returns: a :class:`FlapReplay`. Per problem, in time order: ``notified_before`` (its
        problem notifications were sent), ``notified_after``,
        ``delay`` (how much later its first notification goes out, Timedelta)
        and ``caught_after`` (a long problem that is still notified, or has a
        HARD check outside flapping when it had no notification to begin with).

    Notifications are counted per line (one per contact), as in the log:
    a problem burst suppressed at the start of a problem that outlasts the
    flapping goes out at its first HARD check after, so it moves, and its
    lines are counted once; the flapping start and end send one line to each
    contact that got them in the history (else to each contact the service
    notifies: the count errs on the high side).
    """
    history = check_history(alerts, interval_seconds, end)
    flags = flapping_flags(history["percent"].to_numpy(), low, high)
    history["flapping"] = flags
    check_times = history["time"].to_numpy()

    def flapping_at(seconds: np.ndarray) -> np.ndarray:
        # Nagios decides flapping before it notifies: the check at that second counts.
        index = np.searchsorted(check_times, seconds, side="right") - 1
        return np.where(index >= 0, flags[np.maximum(index, 0)], False)

    kinds = notifications["state_type"].astype(str).to_numpy()
    note_times = epoch_seconds(notifications["time"]).astype(float)
    is_problem = kinds == "PROBLEM"
    is_recovery = kinds == "RECOVERY"
    is_flap_note = np.isin(kinds, ("FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGDISABLED"))
    suppressed = flapping_at(note_times)

    order = np.argsort(epoch_seconds(episodes["start"]), kind="stable")
    episodes = episodes.iloc[order]
    long_flags = (
        np.zeros(len(episodes), dtype=bool) if long_problems is None else np.asarray(long_problems, dtype=bool)[order]
    )
    starts = epoch_seconds(episodes["start"]).astype(float)
    ends = epoch_seconds(episodes["end"]).astype(float)
    first_hard = starts + episodes["detection_delay"].dt.total_seconds().fillna(np.inf).to_numpy()
    count = len(episodes)
    # The problem each notification belongs to (a service's problems do not overlap); `count`: none.
    which = np.searchsorted(starts, note_times, side="right") - 1
    inside = (which >= 0) & (note_times <= ends[np.maximum(which, 0)]) if count else np.zeros(len(which), bool)
    which = np.where(inside, which, count)

    def per_problem(mask):
        return np.bincount(which[mask], minlength=count + 1)[:count]

    def earliest(mask):
        first = np.full(count + 1, np.inf)
        np.minimum.at(first, which[mask], note_times[mask])
        return first[:count]

    first_burst = earliest(is_problem)
    first_kept = earliest(is_problem & ~suppressed)
    # Where a held-back first notification goes out: the first HARD problem check outside flapping.
    free_times = check_times[(history["state"].to_numpy() != "OK") & ~flags]
    lower = np.maximum(first_hard, first_burst)
    position = np.searchsorted(free_times, lower, side="left")
    free = free_times[np.minimum(position, len(free_times) - 1)] if len(free_times) else np.full(count, np.inf)
    free = np.where((position < len(free_times)) & (free <= ends), free, np.inf)
    first_sent = np.minimum(first_kept, free)
    notified_before = np.isfinite(first_burst)
    notified_after = notified_before & np.isfinite(first_sent)
    held_back = notified_after & (free < first_kept)
    burst_lines = per_problem(is_problem & (note_times == np.r_[first_burst, np.inf][which]))
    lines = (
        per_problem(is_problem & ~suppressed)
        + np.where(held_back, burst_lines, 0)
        # recoveries follow a problem that was notified only
        + np.where(notified_after, per_problem(is_recovery & ~suppressed), 0)
    )
    delay = np.where(notified_before, first_sent - np.where(notified_before, first_burst, 0.0), 0.0)
    problems = pd.DataFrame(
        {
            "start": episodes["start"].to_numpy(),
            "duration": episodes["duration"].to_numpy(),
            "notified_before": notified_before,
            "notified_after": notified_after,
            "notifications_before": per_problem(is_problem | is_recovery),
            "notifications_after": lines,
            "delay": pd.to_timedelta(np.where(np.isfinite(delay), delay, np.nan), unit="s"),
            "long_problem": long_flags,
            # A problem nobody was told about before is not made worse by flap detection.
            "caught_after": notified_after | ~notified_before | ~long_flags,
        }
    )
    # Notifications outside every problem (a recovery after the window's last one) keep their fate.
    kept_lines = int(lines.sum()) + int(((is_problem | is_recovery) & (which == count) & ~suppressed).sum())

    periods = int(np.sum(flags[1:] & ~flags[:-1]) + (flags[0] if len(flags) else 0))
    stops = int(np.sum(~flags[1:] & flags[:-1]))
    flap_contacts = (
        notifications["contact"][is_flap_note].nunique()
        if is_flap_note.any()
        else notifications["contact"][is_problem | is_recovery].nunique()
    )
    flap_lines = (periods + stops) * int(flap_contacts)
    before = int((is_problem | is_recovery | is_flap_note).sum())
    return FlapReplay(history, problems, periods, flap_lines, before, kept_lines + flap_lines)
