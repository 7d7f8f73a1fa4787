"""Nagios 4.4.6's service state machine, replayed over a sequence of check results.

The one replay engine of nagtune: retune's suggestions, the report and the
notebook all count alerts and notifications through :func:`replay_service`,
so their numbers cannot disagree. It is checked against the real daemon
(``tests/test_retune_oracle.py``): the same scripted results run through
nagios4 under libfaketime log exactly the alerts, notifications and
FLAPPING lines this module predicts.

What it models, per service (``base/checks.c``, ``base/notifications.c``,
``base/flapping.c``):

- **SOFT/HARD**: from OK (or HARD), a failing result is attempt 1; while
  SOFT every result is the next attempt, checked ``retry_interval`` later,
  and logged as a SOFT alert line (``log_service_retries``); attempt
  ``max_check_attempts`` is HARD. A HARD problem is checked at
  ``check_interval`` and logs a line only when its state changes. An OK
  result after a problem logs a recovery line (SOFT or HARD as the problem
  was).
- **Notifications**: at a HARD change to a problem state and at every later
  HARD problem check once ``notification_interval`` has passed since the
  last one (never again when it is 0); the first not before
  ``first_notification_delay`` after the last OK check; a recovery only
  after a notified problem; each only for states in ``notification_options``
  and with notifications enabled; none while flapping.
- **Flap detection**: HARD results and OK results (soft recoveries too) go
  into a 21-entry history that starts all OK; the weighted percent state
  change (0.75 for the oldest change to 1.25 for the newest, times 100/20)
  starts flapping at ``>= high`` and stops it at ``<= low``; FLAPPINGSTART
  and FLAPPINGSTOP notifications are sent with the ``f`` option.

A result sequence is replayed *by order*: the n-th check of a changed
configuration gets the n-th result. That is exact for the scripted checks
of the oracle tests; on a real node it assumes a check a retry earlier or
later would have returned the same result (see docs/retune.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .flapping import HISTORY, nagios_flap_percent

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
STATE_CODES = {name: code for code, name in STATE_NAMES.items()}
_OPTION_OF_STATE = {WARNING: "w", CRITICAL: "c", UNKNOWN: "u"}


@dataclass(frozen=True)
class ServiceSettings:
    """The directives that decide what a service logs; intervals in ``interval_length`` units."""

    max_check_attempts: int = 3
    check_interval: float = 5.0
    retry_interval: float = 1.0
    notification_interval: float = 30.0
    first_notification_delay: float = 0.0
    notifications_enabled: bool = True
    notification_options: str = "w,u,c,r,f,s"
    flap_detection_enabled: bool = True
    low_flap_threshold: float = 5.0  # already resolved: 0 on the object means nagios.cfg's
    high_flap_threshold: float = 20.0
    interval_length: int = 60

    def with_(self, **changes) -> ServiceSettings:
        return replace(self, **changes)

    def takes(self, option: str) -> bool:
        options = {part.strip() for part in self.notification_options.split(",")}
        return option in options and "n" not in options


@dataclass
class ServiceReplay:
    """What Nagios logs for one service over the replayed results."""

    alerts: list = field(default_factory=list)  # (time, state name, SOFT/HARD, attempt)
    notifications: list = field(default_factory=list)  # (time, PROBLEM/RECOVERY/FLAPPINGSTART/FLAPPINGSTOP)
    flapping: list = field(default_factory=list)  # (time, STARTED/STOPPED, percent)
    percents: list = field(default_factory=list)  # percent state change after each recorded result
    problems: list = field(default_factory=list)  # dicts: start, hard (time or None), end, notified
    checks: int = 0
    end: float = 0.0

    @property
    def alert_count(self) -> int:
        return len(self.alerts)

    @property
    def notification_count(self) -> int:
        return len(self.notifications)

    @property
    def max_percent(self) -> float:
        return max(self.percents, default=0.0)


def replay_service(results, settings: ServiceSettings, times=None, start: float = 0.0) -> ServiceReplay:
    """Replay ``results`` (exit codes 0-3, in check order) under ``settings``.

    :param times: the epoch seconds of each result as it ran; None simulates
        Nagios' schedule from ``start`` (``check_interval`` after an OK or
        HARD result, ``retry_interval`` after a SOFT problem).
    """
    out = ServiceReplay()
    unit = float(settings.interval_length)
    state, hard = OK, True
    attempt = 1
    last_ok = start
    history = [OK] * HISTORY
    flapping = False
    flap_start_notified = False
    notified = False  # a problem notification went out for the current problem
    no_more = False
    next_notification = 0.0
    problem = None
    now = start
    for index, result in enumerate(results):
        result = int(result)
        if result not in STATE_NAMES:
            result = UNKNOWN
        if times is not None:
            now = float(times[index])
        elif index:
            now += unit * (settings.retry_interval if (not hard and state != OK) else settings.check_interval)
        out.checks += 1
        notify_problem = notify_recovery = False
        if result == OK:
            if state != OK:
                # A soft recovery is logged as the next attempt; a hard one keeps its attempt.
                out.alerts.append((now, "OK", "HARD" if hard else "SOFT", attempt if hard else attempt + 1))
                notify_recovery = hard and notified
                problem["end"] = now
                out.problems.append(problem)
                problem = None
            state, hard, attempt = OK, True, 1
            notified, no_more = False, False
            last_ok = now
        else:
            if state == OK:
                attempt = 1
                problem = {"start": now, "first_check": index, "hard": None, "end": None, "notified": False}
                hard = settings.max_check_attempts <= 1
                state = result
                out.alerts.append((now, STATE_NAMES[state], "HARD" if hard else "SOFT", attempt))
                notify_problem = hard
            elif not hard:
                attempt += 1
                state = result
                hard = attempt >= settings.max_check_attempts
                out.alerts.append((now, STATE_NAMES[state], "HARD" if hard else "SOFT", attempt))
                notify_problem = hard
            else:
                changed = result != state
                state = result
                if changed:
                    out.alerts.append((now, STATE_NAMES[state], "HARD", attempt))
                    no_more = False
                notify_problem = True
                if not changed and (no_more or now < next_notification):
                    notify_problem = False
            if hard and problem["hard"] is None:
                problem["hard"] = now
        # Flap detection runs before the notification decision of the same check.
        if hard or result == OK:
            history = history[1:] + [state]
            percent = nagios_flap_percent(history)
            out.percents.append(percent)
            if settings.flap_detection_enabled:
                if not flapping and percent >= settings.high_flap_threshold:
                    flapping = True
                    out.flapping.append((now, "STARTED", percent))
                    flap_start_notified = settings.notifications_enabled and settings.takes("f")
                    if flap_start_notified:
                        out.notifications.append((now, "FLAPPINGSTART"))
                elif flapping and percent <= settings.low_flap_threshold:
                    flapping = False
                    out.flapping.append((now, "STOPPED", percent))
                    if flap_start_notified and settings.takes("f"):
                        out.notifications.append((now, "FLAPPINGSTOP"))
                    flap_start_notified = False
        if notify_recovery and settings.takes("r") and settings.notifications_enabled and not flapping:
            out.notifications.append((now, "RECOVERY"))
        if notify_problem and state != OK and _may_notify(settings, state, flapping, notified, now, last_ok, unit):
            out.notifications.append((now, "PROBLEM"))
            notified = True
            problem["notified"] = True
            if settings.notification_interval > 0:
                next_notification = now + settings.notification_interval * unit
            else:
                no_more = True
    if problem is not None:
        out.problems.append(problem)
    out.end = now
    return out


def _may_notify(settings, state, flapping, notified, now, last_ok, unit) -> bool:
    if not settings.notifications_enabled or flapping or not settings.takes(_OPTION_OF_STATE[state]):
        return False
    if not notified and now < last_ok + settings.first_notification_delay * unit:
        return False
    return True


# ---------------------------------------------------------------- settings and checks of a node


def settings_for(row, config, seen: dict | None = None) -> tuple[ServiceSettings, list[str]]:
    """A service's settings from its ``objects.cache`` row (None: unknown) and the
    node's :class:`~nagtune.analytics.sources.nagios_cfg.NagiosConfig`; and, in words,
    what had to be assumed.

    :param seen: values read off the log or the checks (``max_check_attempts``:
        the attempt its HARD alerts reached; ``check_interval``: the usual gap
        between checks, in interval units), used where ``row`` has none.
    """
    import math

    def number(name):
        if row is None:
            return None
        value = row.get(name) if hasattr(row, "get") else None
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(value) else value

    defaults = ServiceSettings()
    assumed = []
    values = {}
    for name in (
        "max_check_attempts",
        "check_interval",
        "retry_interval",
        "notification_interval",
        "first_notification_delay",
    ):
        value = number(name)
        if value is None and seen and seen.get(name) is not None:
            value = seen[name]
            assumed.append(f"{name} {value:g} (seen in the log, no objects.cache entry)")
        elif value is None:
            assumed.append(f"{name} {getattr(defaults, name):g} (Nagios' default)")
            value = getattr(defaults, name)
        values[name] = int(value) if name == "max_check_attempts" else value
    notes_on = number("notifications_enabled")
    flap_on = number("flap_detection_enabled")
    if notes_on is None:
        assumed.append("notifications enabled")
    if flap_on is None:
        assumed.append("flap detection enabled on the service")
    low, high = number("low_flap_threshold"), number("high_flap_threshold")
    options = str(row.get("notification_options") or "") if row is not None and hasattr(row, "get") else ""
    if not options:
        assumed.append("notification_options w,u,c,r,f,s")
        options = defaults.notification_options
    if config.path is None:
        assumed.append("no nagios.cfg: interval_length 60 and Nagios' default flap thresholds")
    elif config.assumed:
        assumed.append("nagios.cfg gives no " + ", ".join(config.assumed) + " (Nagios' defaults)")
    settings = ServiceSettings(
        interval_length=config.interval_length,
        notifications_enabled=config.enable_notifications and notes_on != 0,
        flap_detection_enabled=config.enable_flap_detection and flap_on != 0,
        low_flap_threshold=low if low else config.low_flap_threshold,
        high_flap_threshold=high if high else config.high_flap_threshold,
        notification_options=options,
        **values,
    )
    return settings, assumed


def checks_of(perfdata, key) -> tuple[list, list] | None:
    """(epoch seconds, exit codes) of every check of ``key`` = (node, host, service)
    in a perfdata frame (:func:`nagtune.analytics.sources.ingest.load_perfdata`; one row per
    label, so one check per distinct time), or None when it has none."""
    import numpy as np

    from .._frames import epoch_seconds

    if perfdata is None or not len(perfdata):
        return None
    mine = perfdata[
        (perfdata["node"].astype(str) == key[0])
        & (perfdata["host"].astype(str) == key[1])
        & (perfdata["service"].astype(str) == key[2])
    ]
    if mine.empty:
        return None
    seconds = epoch_seconds(mine["time"])
    order = np.argsort(seconds, kind="stable")
    seconds = seconds[order]
    states = mine["state"].astype(str).to_numpy()[order]
    first = np.r_[True, seconds[1:] != seconds[:-1]]
    codes = [STATE_CODES.get(state, UNKNOWN) for state in states[first]]
    return [float(second) for second in seconds[first]], codes


def long_problems(replay: ServiceReplay, seconds: float) -> list[dict]:
    """Problems of a replay that went HARD and lasted ``seconds`` or more (open ones to its end)."""
    return [
        p
        for p in replay.problems
        if p["hard"] is not None and ((p["end"] if p["end"] is not None else replay.end) - p["start"]) >= seconds
    ]
