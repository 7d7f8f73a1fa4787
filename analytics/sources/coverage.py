"""What a command read and what it could not, in one line each, for stderr.

Every command over logs says: the files and lines read, the share it could
not parse (with the first such line, and why when the reason is known), the
span of data found against the window asked, and how many events fell
outside the window. An empty result always says where the data is.

The ingest gives the counts (``attrs`` of its events frame: ``files``,
``lines``, ``unparsed``, ``duplicates``, and from :func:`data_range`
``first``/``last`` of every line and ``first_signal``/``last_signal`` of the
alerts and notifications, as epoch seconds, plus ``outside_window``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...parsers import events as ev
from ...parsers.unreadable import first_unreadable, unparsed_text

SIGNAL_KINDS = (ev.SERVICE_ALERT, ev.HOST_ALERT, ev.SERVICE_NOTIFICATION, ev.HOST_NOTIFICATION)
# Counts that add up over groups of nodes; the others are the earliest or the latest.
FIRST_KEYS = ("first", "first_signal")
LAST_KEYS = ("last", "last_signal")

UNPARSED_WARN_SHARE = 0.0  # any unparsed line is said; the share tells how much it matters


def data_range(events: pd.DataFrame) -> dict:
    """First and last time of every event and of the alerts and notifications, as epoch seconds
    (None when there are none): what the window is compared with."""
    found = {key: None for key in FIRST_KEYS + LAST_KEYS}
    if events is None or len(events) == 0:
        return found
    times = events["time"]
    found["first"], found["last"] = int(times.min().timestamp()), int(times.max().timestamp())
    kind = events["kind"]
    signal = kind.isin(SIGNAL_KINDS).to_numpy()
    if signal.any():
        chosen = times[signal]
        found["first_signal"], found["last_signal"] = int(chosen.min().timestamp()), int(chosen.max().timestamp())
    return found


def merge_counts(counts: dict, more: dict) -> dict:
    """Counts of two groups of nodes as one: sums, and the earliest/latest of the times."""
    for key, value in more.items():
        if key in FIRST_KEYS or key in LAST_KEYS:
            if value is None:
                continue
            known = counts.get(key)
            counts[key] = value if known is None else (min(known, value) if key in FIRST_KEYS else max(known, value))
        elif isinstance(value, (int, float, np.integer)):
            counts[key] = counts.get(key, 0) + value
    return counts


def newest_signal(events: pd.DataFrame):
    """The time of the newest alert or notification (else of the newest line, else None):
    where a default window ends. A log whose last line is an error a month after the
    last alert must not leave the window empty."""
    if events is None or len(events) == 0:
        return None
    signal = events["kind"].isin(SIGNAL_KINDS).to_numpy()
    return events["time"][signal].max() if signal.any() else events["time"].max()


def _when(seconds) -> str:
    return "?" if seconds is None else pd.Timestamp(int(seconds), unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M")


def _span(seconds: float) -> str:
    hours = seconds / 3600
    if hours < 1:
        return f"{seconds / 60:.0f} min"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"
    days = hours / 24
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"


def window_text(since, until) -> str:
    if since is None and until is None:
        return "no window asked (all the data)"
    return (
        f"window asked {_when(None if since is None else since.timestamp())} .. "
        f"{'now' if until is None else _when(until.timestamp())} UTC"
    )


def covered_seconds(counts: dict, since, until) -> float | None:
    """Seconds of the window the data covers (its own first to last line, clipped to the window)."""
    first, last = counts.get("first"), counts.get("last")
    if first is None or last is None:
        return None
    # ``first``/``last`` are of every line read, before the window: clip them to it.
    if since is not None:
        first = max(first, since.timestamp())
    if until is not None:
        last = min(last, until.timestamp())
    return max(0.0, last - first)


def lines(counts: dict, since=None, until=None, files: list[str] | None = None, rates: bool = True) -> list[str]:
    """What was read and what could not be, one line each (no prefix); ``rates``: and what the
    rates per week rest on."""
    out = []
    total, bad = int(counts.get("lines", 0)), int(counts.get("unparsed", 0))
    read = f"read {int(counts.get('files', 0))} file(s), {total:,} line(s)"
    if counts.get("duplicates"):
        read += f", {int(counts['duplicates']):,} seen twice (counted once)"
    out.append(read)
    if bad:
        out.append(unparsed_text(total, bad, first_unreadable(files) if files else None))
    first, last = counts.get("first"), counts.get("last")
    if first is None:
        out.append(f"no dated line found; {window_text(since, until)}")
    else:
        data = f"data found {_when(first)} .. {_when(last)} UTC"
        if counts.get("first_signal") is not None:
            data += f" (alerts and notifications {_when(counts['first_signal'])} .. {_when(counts['last_signal'])})"
        out.append(f"{data}; {window_text(since, until)}")
        if since is not None or until is not None:
            out.append(f"{int(counts.get('outside_window', 0)):,} event(s) outside the window")
        if rates:
            out.append(rates_text(counts, since, until))
    return out


EXTRAPOLATED_BELOW_DAYS = 6.9  # a week of data less its last hours is a week, not an extrapolation


def rates_text(counts: dict, since=None, until=None) -> str:
    """What the rates per week rest on: ``5 h of data in a 7-day window``."""
    covered = covered_seconds(counts, since, until)
    if covered is None:
        return "no data in the window"
    if since is None and until is None:
        span = f"{_span(covered)} of data"
    else:
        end = until.timestamp() if until is not None else pd.Timestamp.now(tz="UTC").timestamp()
        start = since.timestamp() if since is not None else counts["first"]
        span = f"{_span(covered)} of data in a {_span(max(end - start, 0))} window"
    note = ", extrapolated" if covered < EXTRAPOLATED_BELOW_DAYS * 86400 else ""
    return f"{span}: rates are per week of each node's own data in the window (hours_of_data){note}"


def all_unreadable(counts: dict) -> bool:
    return int(counts.get("lines", 0)) > 0 and int(counts.get("unparsed", 0)) >= int(counts.get("lines", 0))


def empty_reason(counts: dict, since=None, until=None) -> str:
    """Why a table is empty, and where the data is."""
    if not counts:
        return "nothing found"
    if int(counts.get("lines", 0)) == 0:
        return "nothing found: the files hold no line"
    if counts.get("first") is None:
        return "nothing found: no line could be read (see above)"
    where = f"the data runs {_when(counts['first'])} .. {_when(counts['last'])} UTC"
    if counts.get("first_signal") is not None:
        where += f", alerts and notifications {_when(counts['first_signal'])} .. {_when(counts['last_signal'])} UTC"
    if int(counts.get("outside_window", 0)) and (since is not None or until is not None):
        return f"nothing in the {window_text(since, until).replace('window asked ', 'window ')}: {where}"
    if counts.get("first_signal") is None:
        return f"nothing found: no alert or notification in the logs; {where}"
    return f"nothing found; {where}"
