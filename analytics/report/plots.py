"""The report's plots: matplotlib on the headless Agg backend, one PNG each.

Every function takes analytics frames, writes one PNG and returns its path,
or None when there is nothing to draw (an empty week draws no empty axes).
Names from monitored machines are drawn as plain text: mathtext is off, so a
``$`` in a service description is a dollar sign, not a formula.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Nagios' own colours, darkened enough to read on white.
STATE_COLOURS = {
    "OK": "#2e9e44",
    "WARNING": "#f0a30a",
    "CRITICAL": "#d62728",
    "UNKNOWN": "#8e44ad",
}
DPI = 100
RC = {"text.parse_math": False, "font.size": 9, "axes.titlesize": 11, "figure.dpi": DPI}
ALERT_KINDS = ("service_alert", "host_alert")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _short(text: str, width: int = 48) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _save(fig, path: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def chatty_bar(chatty: pd.DataFrame, path: str, top: int = 15) -> str | None:
    """Horizontal bars of the top ``top`` services by pages per week (notification lines), alert lines beside.

    Pages per week is a unit a team lead can weigh; the ranking's score is
    not drawn (it has no unit). Services that paged nobody are left out.
    """
    if chatty.empty or "notifications_per_week" not in chatty:
        return None
    pages = pd.to_numeric(chatty["notifications_per_week"], errors="coerce").fillna(0)
    rows = chatty.assign(_pages=pages)
    rows = rows[rows["_pages"] > 0].sort_values("_pages", ascending=False, kind="stable").head(top).iloc[::-1]
    if rows.empty:
        return None
    labels = [_short(f"{s}  @ {n}") for s, n in zip(rows["service"], rows["node"])]
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(10, 1.2 + 0.38 * len(rows)), layout="constrained")
        bars = ax.barh(range(len(rows)), rows["_pages"].astype(float), color="#d9534f")
        ax.set_yticks(range(len(rows)), labels)
        for bar, per_week in zip(bars, pd.to_numeric(rows["alerts_per_week"], errors="coerce").fillna(0)):
            ax.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f"  {per_week:,.0f} alert lines/week",
                va="center",
                fontsize=8,
            )
        ax.set_xlabel("pages per week (notification lines, one per contact)")
        ax.set_title(f"Top {len(rows)} services by pages per week (service @ Nagios node)")
        ax.margins(x=0.25)
        ax.grid(axis="x", alpha=0.3)
        return _save(fig, path)


def hour_of_week(events: pd.DataFrame, timezone: str = "UTC") -> np.ndarray:
    """7 x 24 alert counts (Monday first, hours in ``timezone``)."""
    alerts = events.loc[events["kind"].isin(ALERT_KINDS), "time"]
    grid = np.zeros((7, 24), dtype=np.int64)
    if len(alerts):
        times = pd.to_datetime(alerts, utc=True).dt.tz_convert(timezone)
        np.add.at(grid, (times.dt.day_of_week.to_numpy(), times.dt.hour.to_numpy()), 1)
    return grid


def hour_of_week_heatmap(events: pd.DataFrame, path: str, timezone: str = "UTC") -> str | None:
    """When alerts fire: a day x hour heatmap of alert lines (hours in ``timezone``)."""
    grid = hour_of_week(events, timezone)
    if not grid.any():
        return None
    with plt.rc_context(RC):
        # Fixed margins: the labels are known (days, hours), the constrained layout would cost more.
        fig, ax = plt.subplots(figsize=(10, 3.6))
        fig.subplots_adjust(left=0.06, right=0.95, top=0.91, bottom=0.14)
        image = ax.imshow(grid, aspect="auto", cmap="YlOrRd", interpolation="nearest")
        ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
        ax.set_yticks(range(7), DAYS)
        ax.set_xlabel(f"hour of day ({timezone})")
        ax.set_ylabel("day of week")
        ax.set_title("Alerts by hour of week")
        fig.colorbar(image, ax=ax, label="alert lines", fraction=0.05, pad=0.015, shrink=1.0, anchor=(0.0, 0.5))
        return _save(fig, path)


def _intervals(lines: pd.DataFrame, start, end) -> list[tuple[str, float, float]]:
    """(state, from, to) in matplotlib date numbers; state holds until the next line."""
    import matplotlib.dates as mdates

    times = list(pd.to_datetime(lines["time"], utc=True)) + [end]
    states = ["OK"] + list(lines["state"].astype(str))
    times = [start] + times
    out = []
    for state, t0, t1 in zip(states, times[:-1], times[1:]):
        t0, t1 = max(t0, start), min(t1, end)
        if t1 > t0:
            a, b = mdates.date2num(t0), mdates.date2num(t1)
            out.append((state, a, b - a))
    return out


def state_timeline(events: pd.DataFrame, services: pd.DataFrame, path: str, start=None, end=None) -> str | None:
    """One row per (node, host, service) in ``services``: its state through the window."""
    if services.empty or events.empty:
        return None
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    start = pd.Timestamp(start if start is not None else events["time"].min())
    end = pd.Timestamp(end if end is not None else events["time"].max())
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    end = end.tz_localize("UTC") if end.tzinfo is None else end
    # A window longer than the history: draw the history, not a week of nothing.
    start = max(start, pd.Timestamp(events["time"].min()))
    lines = events[events["kind"] == "service_alert"][["time", "node", "host", "service", "state"]]
    keys = [tuple(map(str, k)) for k in services[["node", "host", "service"]].itertuples(index=False)]
    lines = lines[lines["service"].isin({k[2] for k in keys}) & lines["host"].isin({k[1] for k in keys})]
    lines = lines.astype({"node": str, "host": str, "service": str})
    groups = dict(tuple(lines.groupby(["node", "host", "service"], sort=False)))
    keys = keys[::-1]
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(11, 1.4 + 0.42 * len(keys)), layout="constrained")
        for row, key in enumerate(keys):
            found = groups.get(key)
            found = found.sort_values("time", kind="stable") if found is not None else found
            spans = _intervals(found, start, end) if found is not None else []
            for state in STATE_COLOURS:
                bars = [(a, w) for s, a, w in spans if s == state]
                if bars:
                    ax.broken_barh(bars, (row - 0.4, 0.8), color=STATE_COLOURS[state], linewidth=0)
        ax.set_yticks(range(len(keys)), [_short(f"{s} on {h}", 44) for _, h, s in keys])
        ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
        ax.set_ylim(-0.6, len(keys) - 0.4)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %H:%M", tz="UTC"))
        ax.set_xlabel("time (UTC)")
        ax.set_title("State of the top chatty services through the window")
        fig.legend(
            handles=[Patch(color=c, label=s) for s, c in STATE_COLOURS.items()],
            loc="outside lower center",
            ncol=4,
            frameon=False,
        )
        return _save(fig, path)


def what_if(
    curve: pd.DataFrame,
    path: str,
    title: str,
    current=None,
    suggested=None,
    x: str | None = None,
    y: str = "alerts",
    xlabel: str | None = None,
) -> str | None:
    """Alerts that would have fired against the setting or threshold, with now/suggested marked."""
    if curve is None or curve.empty:
        return None
    x = x or curve.columns[0]
    with plt.rc_context(RC):
        # Fixed margins, not the constrained layout: a report draws a dozen of these and the
        # layout pass would be a large share of each. One title line, counts up to 6 digits.
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.14)
        ax.plot(
            curve[x].astype(float), curve[y].astype(float), marker="o", ms=3, color="#1f77b4", label=y.replace("_", " ")
        )
        for column, style in (("long_problems_caught", "--"), ("notifications", ":")):
            if column in curve.columns:
                ax.plot(curve[x].astype(float), curve[column].astype(float), style, label=column.replace("_", " "))
        for value, colour, label in ((current, "#7f7f7f", "now"), (suggested, "#2e9e44", "suggested")):
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            ax.axvline(value, color=colour, linestyle="--", linewidth=1.2, label=f"{label}: {value:g}")
        ax.set_xlabel(xlabel or x.replace("_", " "))
        ax.set_ylabel("lines in the window")
        ax.set_title(_short(title, 70))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        return _save(fig, path)


WHAT_IF_DPI = 80  # small panels of one line each: sharp enough, and a fifth of the pixels to encode


def what_if_grid(panels: list[dict], path: str, columns: int = 2) -> str | None:
    """The what-if curves of several changes as small multiples: one figure, one panel each.

    Each panel is a dict with ``curve``, ``x``, ``title``, and optionally
    ``current``, ``suggested``, ``xlabel`` (as :func:`what_if`). One figure
    with one legend costs a fraction of one figure per change: a report
    draws at most its first screen's changes.
    """
    panels = [p for p in panels if p.get("curve") is not None and len(p["curve"])]
    if not panels:
        return None
    rows = -(-len(panels) // columns)
    styles = (
        ("alerts", "-", "#1f77b4", "alert lines"),
        ("notifications", ":", "#d62728", "notifications"),
        ("long_problems_caught", "--", "#ff7f0e", "long problems caught"),
    )
    marks = (("current", "#7f7f7f", "now"), ("suggested", "#2e9e44", "suggested"))
    with plt.rc_context({**RC, "font.size": 8, "axes.titlesize": 8.5}):
        fig, axes = plt.subplots(rows, columns, figsize=(10, 0.5 + 2.5 * rows), squeeze=False)
        # Fixed margins, not the constrained layout: its pass over ten panels would cost more than drawing them.
        fig.subplots_adjust(
            left=0.07,
            right=0.98,
            top=1 - 0.45 / (0.5 + 2.5 * rows),
            bottom=0.35 / (0.5 + 2.5 * rows),
            hspace=0.6,
            wspace=0.18,
        )
        for ax, panel in zip(axes.flat, panels):
            curve, x = panel["curve"], panel["x"]
            xs = curve[x].astype(float)
            for column, style, colour, label in styles:
                if column in curve.columns:
                    ax.plot(
                        xs,
                        curve[column].astype(float),
                        style,
                        color=colour,
                        label=label,
                        marker="o" if column == "alerts" else None,
                        ms=2.5,
                    )
            for key, colour, label in marks:
                try:
                    value = float(panel.get(key))
                except (TypeError, ValueError):
                    continue
                ax.axvline(value, color=colour, linestyle="--", linewidth=1.2, label=label)
            # An explicit title height skips matplotlib's search for room above each panel.
            ax.set_title(_short(panel["title"], 66), loc="left", y=1.0, pad=3)
            ax.set_xlabel(panel.get("xlabel") or x.replace("_", " "), labelpad=1)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
            ax.xaxis.set_major_locator(MaxNLocator(6, integer=x == "max_check_attempts"))
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        # One legend for all panels: every label any panel drew, once.
        handles = {}
        for ax in axes.flat[: len(panels)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, handle)
        fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=len(handles), frameon=False)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fig.savefig(path, dpi=WHAT_IF_DPI)
        plt.close(fig)
        return path


def trend(weeks: pd.DataFrame, path: str) -> str | None:
    """Week-over-week lines of alerts, notifications and episodes (one point per report run)."""
    if weeks.empty:
        return None
    weeks = weeks.sort_values("window_start")
    labels = pd.to_datetime(weeks["window_start"], utc=True).dt.strftime("%Y-%m-%d")
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        fig.subplots_adjust(left=0.1, right=0.98, top=0.91, bottom=0.14)
        for column, colour in (("notifications", "#d62728"), ("night_pages", "#1f3f77")):
            if column in weeks.columns:
                ax.plot(range(len(weeks)), weeks[column].astype(float), marker="o", color=colour, label=column)
        ax.set_xticks(range(len(weeks)), labels)
        ax.set_xlabel("week starting (UTC)")
        ax.set_ylabel("count per week")
        ax.set_title("Pages per week (notification lines) and night pages")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
        return _save(fig, path)
