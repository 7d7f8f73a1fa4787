"""The weekly threshold report: one :class:`~.api.Analysis` to HTML, Markdown, tables and plots.

Everything shown comes from the analysis frames; this module only chooses,
formats and lays out. Output in ``out_dir``::

    report.html        self-contained (PNGs inline as base64, no scripts, no links out)
    report.md          the same content for a wiki or a merge request
    tables/NAME.csv    every table in full (spreadsheet formulas neutralised)
    tables/NAME.json   the same, as JSON records
    plots/NAME.png     every plot
    history/           snapshots for next week's comparison (see :mod:`.history`)

Hostile text (plugin output, service names) is escaped for each medium:
Jinja2 autoescaping in HTML, entities and ``\\|`` in Markdown, a leading
``'`` in CSV cells that a spreadsheet would run as a formula, and
:func:`~nagtune.parsers.names.metric_component` for file names.
"""
from __future__ import annotations

import base64
import functools
import json
import math
import os
from dataclasses import dataclass, field

import jinja2
import numpy as np
import pandas as pd

from ...parsers.names import metric_component
from . import history, plots
from ..findings import retune
from ..run import parallel

TOP = 15  # chatty services in the bar chart and the new/resolved comparison
TIMELINE_TOP = 10
HTML_ROWS = 25  # rows of a table shown in HTML/Markdown; the CSV has them all
WHAT_IF_MAX = 12  # what-if plots, one per threshold suggestion
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUMMARY_KEYS = [
    "nodes", "cells", "alerts", "notifications", "episodes", "hard_episodes", "transient_share",
    "open_problems", "chatty_services", "quiet_findings", "retune_suggestions",
    "alerts_avoidable", "notifications_avoidable", "name_collisions", "automation_candidates",
]
SUMMARY_LABELS = {
    "nodes": "Nagios nodes",
    "cells": "cells",
    "alerts": "alert lines (service + host)",
    "notifications": "notifications sent",
    "episodes": "problem episodes",
    "hard_episodes": "episodes that reached HARD",
    "transient_share": "share of episodes that never reached HARD",
    "open_problems": "problems still open at the end",
    "chatty_services": "services ranked chatty",
    "quiet_findings": "not-chatty-enough findings",
    "retune_suggestions": "retune suggestions",
    "alerts_avoidable": "alert lines the suggestions would have avoided",
    "notifications_avoidable": "notifications the suggestions would have avoided",
    "name_collisions": "service names that collide as metric names",
    "automation_candidates": "automation candidates",
}


@dataclass
class Report:
    out_dir: str
    html: str
    markdown: str
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: dict[str, str] = field(default_factory=dict)  # name -> PNG path


# --- numbers ------------------------------------------------------------------


def summarize(analysis, window_start, window_end) -> dict:
    """The summary numbers of one window, straight from the analysis frames."""
    ev, ep = analysis.events, analysis.episodes
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series(dtype=str)
    names = analysis.names
    collides = names["collides_with"].fillna("").astype(str).str.len().gt(0) if len(names) else pd.Series(dtype=bool)
    retunes = analysis.retunes
    avoidable = notes_avoidable = 0
    if len(retunes):
        avoidable = int((pd.to_numeric(retunes["alerts_before"]) - pd.to_numeric(retunes["alerts_after"])).sum())
        notes_avoidable = int((pd.to_numeric(retunes["notifications_before"])
                               - pd.to_numeric(retunes["notifications_after"])).sum())
    hard = int(ep["hard"].astype(bool).sum()) if len(ep) else 0
    return {
        "window_start": pd.Timestamp(window_start).isoformat(),
        "window_end": pd.Timestamp(window_end).isoformat(),
        "nodes": int(ev["node"].nunique()) if len(ev) else 0,
        "cells": int(ev["cell"].nunique()) if len(ev) else 0,
        "alerts": int(kinds.isin(["service_alert", "host_alert"]).sum()),
        "notifications": int(kinds.isin(["service_notification", "host_notification"]).sum()),
        "episodes": int(len(ep)),
        "hard_episodes": hard,
        "transient_share": round(1 - hard / len(ep), 4) if len(ep) else 0.0,
        "open_problems": int(ep["open"].astype(bool).sum()) if len(ep) else 0,
        "chatty_services": int(len(analysis.chatty)),
        "quiet_findings": int(len(analysis.quiet)),
        "retune_suggestions": int(len(retunes)),
        "alerts_avoidable": avoidable,
        "notifications_avoidable": notes_avoidable,
        "name_collisions": int(collides.sum()),
        "automation_candidates": int(len(analysis.automation)),
    }


def by_class(by_cell: pd.DataFrame) -> pd.DataFrame:
    """The per-cell breakdown added up per environment and node class."""
    counts = ["nodes", "services", "alerts", "notifications", "episodes", "hard_episodes", "quiet_findings"]
    if by_cell.empty:
        return pd.DataFrame(columns=["environment", "node_class", "cells", *counts])
    frame = by_cell.astype({"environment": str, "node_class": str, "cell": str})
    out = frame.groupby(["environment", "node_class"]).agg(
        cells=("cell", "nunique"), **{c: (c, "sum") for c in counts})
    return out.reset_index()


# --- files --------------------------------------------------------------------


def neutralise(value):
    """A CSV cell a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutralise_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [neutralise(c) for c in column.cat.categories]
        if len(set(categories)) == len(categories):  # else fall through to the values
            return column.cat.rename_categories(categories)
    text = column.astype("string")
    risky = text.str[:1].isin(list(FORMULA_START)).fillna(False).to_numpy(dtype=bool)
    if column.dtype == object and risky.any():  # numbers in an object column stay numbers
        risky = risky & np.fromiter((isinstance(v, str) for v in column), dtype=bool, count=len(column))
    out = column.astype(object)  # an object column keeps 3 as 3 (not 3.0)
    if risky.any():
        out = out.copy()
        out[risky] = ("'" + text[risky]).astype(object)
    return out


def _whole_seconds(column: pd.Series) -> np.ndarray | None:
    """The column's non-missing values in whole seconds since the epoch (or as durations),
    or None when one has a fraction of a second (pandas then prints fractions for all)."""
    values = column.to_numpy(dtype="datetime64[ns]" if column.dtype.kind == "M" else "timedelta64[ns]", copy=False)
    present = values[~np.isnat(values)]
    ticks = present.view("int64")
    if (ticks % 1_000_000_000).any():
        return None
    return ticks // 1_000_000_000


def _as_text(numbers: np.ndarray, width: int = 1):
    import pyarrow.compute as pc
    return pc.utf8_lpad(pc.cast(numbers, "string"), width, "0")


_TIME_FORMS = {  # medium: (strftime format, suffix) for UTC times, as pandas writes them
    "csv": ("%Y-%m-%d %H:%M:%S", "+00:00"),
    "json": ("%Y-%m-%dT%H:%M:%S", "Z"),  # to_json(date_format="iso", date_unit="s")
}


def _times_as_text(column: pd.Series, medium: str) -> pd.Series | None:
    """The text pandas writes for a datetime (UTC) or timedelta column in ``medium``
    (``csv``: ``to_csv``; ``json``: ``to_json(date_format="iso", date_unit="s")``), made at once.

    pandas formats such values one by one: on a week of 1,000 nodes that was
    6 of the 9 s spent writing tables. Only the forms the report's tables have
    are made here (whole seconds; UTC times; durations not negative, and for
    CSV not all whole days, which pandas prints as ``N days`` alone); None for
    any other, which pandas then formats itself. ``tests/test_report.py`` holds
    the text to pandas' own.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    missing = column.isna().to_numpy()
    if missing.all():
        return None
    if column.dtype.kind == "M":
        if str(getattr(column.dtype, "tz", None)) != "UTC" or _whole_seconds(column) is None:
            return None
        stamps = pa.array(column[~missing].to_numpy(dtype="datetime64[s]"))
        layout, suffix = _TIME_FORMS[medium]
        text = pc.binary_join_element_wise(pc.strftime(stamps, format=layout), suffix, "")
    else:
        seconds = _whole_seconds(column)
        if seconds is None or (seconds < 0).any() or (medium == "csv" and not (seconds % 86_400).any()):
            return None
        days, rest = np.divmod(seconds, 86_400)
        hours, rest = np.divmod(rest, 3_600)
        minutes, secs = np.divmod(rest, 60)
        if medium == "csv":
            parts = [_as_text(days), " days ", _as_text(hours, 2), ":", _as_text(minutes, 2), ":", _as_text(secs, 2)]
        else:
            parts = ["P", _as_text(days), "DT", _as_text(hours), "H", _as_text(minutes), "M", _as_text(secs), "S"]
        text = pc.binary_join_element_wise(*parts, "")
    out = np.full(len(column), None, dtype=object)
    out[~missing] = text.to_numpy(zero_copy_only=False)
    return pd.Series(out, index=column.index, dtype=object)


def _with_times_as_text(frame: pd.DataFrame, medium: str) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if _is_time(out[column]):
            text = _times_as_text(out[column], medium)
            if text is not None:
                out[column] = text
    return out


def _is_time(column: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = _with_times_as_text(frame, "csv")
    for column in out.columns:
        if not (_is_time(frame[column]) or pd.api.types.is_numeric_dtype(out[column])
                or pd.api.types.is_bool_dtype(out[column])):
            out[column] = _neutralise_column(out[column])
    return out


def write_table(frame: pd.DataFrame, directory: str, name: str) -> None:
    """``NAME.csv`` (formulas neutralised) and ``NAME.json`` (records, ISO times)."""
    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, metric_component(name))
    _csv_frame(frame).to_csv(stem + ".csv", index=False)
    _with_times_as_text(frame, "json").to_json(stem + ".json", orient="records", date_format="iso", date_unit="s")


# --- formatting for HTML / Markdown -------------------------------------------


def fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, pd.Timedelta):
        minutes = int(value.total_seconds() // 60)
        days, rest = divmod(minutes, 1440)
        return (f"{days}d " if days else "") + f"{rest // 60}h{rest % 60:02d}m"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def rows_of(frame: pd.DataFrame, columns: list[str] | None = None, limit: int = HTML_ROWS) -> dict:
    """Header and formatted cells of the first ``limit`` rows (text; escaping is the template's job)."""
    columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    shown = frame.head(limit)
    cells = [[fmt(v) for v in row] for row in shown[columns].astype(object).itertuples(index=False)]
    return {"columns": columns, "rows": cells, "total": len(frame), "shown": len(shown)}


def md_cell(text: str) -> str:
    """Markdown table cell: no raw HTML, no column breaks, one line."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    for mark in ("*", "_", "[", "]"):
        text = text.replace(mark, "\\" + mark)
    return " ".join(text.split())


def _png_data(path: str | None) -> str | None:
    if not path:
        return None
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode("ascii")


# --- what-if curves -------------------------------------------------------------


def _level(spec) -> float | None:
    """The number of a Nagios range as drawn on a threshold axis (``~:5`` -> 5, ``10:`` -> 10)."""
    try:
        low, high, _ = retune.parse_range(str(spec))
    except (ValueError, TypeError):
        return None
    return high if math.isfinite(high) else low if math.isfinite(low) else None


def _keys(frame: pd.DataFrame) -> pd.Series:
    """node/host/service as one string per row, to select rows of a few services fast."""
    return frame["node"].astype(str) + "\x00" + frame["host"].astype(str) + "\x00" + frame["service"].astype(str)


def curve_for(analysis, row, cache: dict | None = None) -> tuple[pd.DataFrame, str, object, object] | None:
    """(curve, x column, current, suggested) behind one suggestion, from the analytics' replays.

    ``max_check_attempts``: :func:`~.retune.replay_max_check_attempts` for each
    number of attempts; thresholds: :func:`~.retune.what_if_curve` over the
    values the check reported.
    """
    cache = {} if cache is None else cache
    key = (str(row["node"]), str(row["host"]), str(row["service"]))
    if row["directive"] == "max_check_attempts":
        if "episodes" not in cache:
            eps = analysis.episodes
            eps = eps[eps["kind"] == "service"] if "kind" in eps else eps
            eps = eps[_keys(eps).isin(set(_keys(analysis.retunes)))]
            cache["episodes"] = {k: g for k, g in eps.groupby(["node", "host", "service"], observed=True)}
        eps = cache["episodes"].get(key)
        if eps is None or eps.empty:
            return None
        current, suggested = int(row["current"]), int(row["suggested"])
        points = []
        for attempts in range(1, max(current, suggested) + 4):
            replay = retune.replay_max_check_attempts(eps, attempts, current=current)
            points.append((attempts, int(replay["alerts_after"].sum()), int(replay["notifications_after"].sum()),
                           int((replay["long_problem"] & replay["hard_after"]).sum())))
        curve = pd.DataFrame(points, columns=["max_check_attempts", "alerts", "notifications", "long_problems_caught"])
        return curve, "max_check_attempts", current, suggested
    if str(row["directive"]).startswith("warning threshold"):
        if "values" not in cache:
            # Only the suggestions' services: reading numbers out of every line costs.
            keys = set(zip(*(analysis.retunes[c].astype(str) for c in ("node", "host", "service"))))
            values = retune._values(analysis.events, None, keys)
            cache["values"] = {k: g for k, g in values.groupby(["node", "host", "service"], observed=True)}
        mine = cache["values"].get(key)
        if mine is None or mine.empty:
            return None
        label = mine["label"].astype(str).value_counts().index[0]
        series = mine[mine["label"].astype(str) == label].sort_values("time", kind="stable")
        current, suggested = _level(row["current"]), _level(row["suggested"])
        # "10:" alerts below 10 (free space); "~:10" above 10 (load).
        direction = "below" if str(row["suggested"]).endswith(":") else "above"
        values = series["value"].to_numpy(dtype=float)
        levels = np.quantile(values, np.linspace(0, 1, 41)) if len(values) else np.array([])
        levels = np.unique(np.r_[levels, [v for v in (current, suggested) if v is not None]])
        curve = retune.what_if_curve(series, kind="warn", thresholds=levels, direction=direction)
        return curve[["threshold", "alerts"]], "threshold", current, suggested
    return None


def what_if_curves(analysis, limit: int = WHAT_IF_MAX) -> list[tuple[int, pd.Series, tuple]]:
    """(row number, retune row, (curve, x, current, suggested)) for the first ``limit`` suggestions."""
    out, cache = [], {}
    for number, row in analysis.retunes.head(limit).reset_index(drop=True).iterrows():
        found = curve_for(analysis, row, cache)
        if found is not None and len(found[0]):
            out.append((number, row, found))
    return out


# --- the report -----------------------------------------------------------------


def _sections(analysis, tables: dict[str, pd.DataFrame], wow: dict) -> list[dict]:
    """Section id, title, explanation, plots and tables, in reading order."""
    return [
        {"id": "week-over-week", "title": "Week over week",
         "text": "What changed since the previous report in this directory: services that entered "
                 "or left the top chatty list, and what last week's suggestions did."
                 + ("" if wow["previous"] else " No earlier report in this directory yet: this run starts the history."),
         "plots": ["trend"],
         "tables": [("New offenders", "new_offenders", None), ("Resolved offenders", "resolved_offenders", None),
                    ("Effect of last week's suggestions", "suggestion_effects", None)]},
        {"id": "chatty", "title": "Top chatty services",
         "text": "Services ranked by noise score across nodes and cells; the reasons column says why each is here.",
         "plots": ["chatty", "hour_of_week", "timeline"],
         "tables": [("Per service", "chatty", ["node_class", "cell", "node", "service", "score",
                                                "alerts_per_week", "notifications_per_week", "transient_share",
                                                "flap_percent", "off_hours_share", "alerts_per_problem", "reasons"]),
                    ("Per host and service", "chatty_host_service", None)]},
        {"id": "quiet", "title": "Not chatty enough",
         "text": "Problems nobody heard about: long HARD problems without notification, notifications off, "
                 "slow detection, services that stay OK while their host or siblings fail.",
         "plots": [], "tables": [("Findings", "quiet", None)]},
        {"id": "retunes", "title": "Retune suggestions",
         "text": "One concrete change per flagged service, replayed on this window's history: alerts and "
                 "notifications before and after, minutes later each real problem would be seen "
                 "(negative: sooner, for the retry_interval suggestions of services slow to go HARD). "
                 "The change column is the directive to edit in the service definition, from its current "
                 "value (the object config's when given, else what the log shows) to the suggested one. "
                 "Never suggested: a change whose replay misses a long HARD CRITICAL problem.",
         "plots": [name for name in wow["what_if_plots"]],
         "tables": [("Suggestions", "retunes", ["node", "host", "service", "change", "alerts_before", "alerts_after",
                                                "notifications_before", "notifications_after",
                                                "extra_detection_minutes", "long_problems_before",
                                                "long_problems_after", "reason"])]},
        {"id": "names", "title": "Name audit",
         "text": "Proposed machine-readable name of each service and host; collisions first.",
         "plots": [], "tables": [("Names", "names", None)]},
        {"id": "automation", "title": "Automation candidates",
         "text": "Recurring problems (same service, same hour) and problems a person acknowledged that then "
                 "resolved on their own.",
         "plots": [], "tables": [("Candidates", "automation", None)]},
        {"id": "breakdown", "title": "Per cell and per class",
         "text": "The window's numbers per environment, cell and node class.",
         "plots": [], "tables": [("Per cell", "by_cell", None), ("Per class", "by_class", None)]},
    ]


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        autoescape=autoescape, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters["md"] = md_cell
    env.filters["fmt"] = fmt
    return env


def _draw_plots(analysis, plots_dir: str, window_start, window_end, top: int, summary: dict,
                history_dir: str | None) -> tuple[dict[str, str], list[str]]:
    """Every plot of the report: {name: PNG path} of those drawn, and the what-if plots' names."""
    made: dict[str, str | None] = {}
    made["chatty"] = plots.chatty_bar(analysis.chatty, os.path.join(plots_dir, "chatty.png"), top=top)
    made["hour_of_week"] = plots.hour_of_week_heatmap(analysis.events, os.path.join(plots_dir, "hour_of_week.png"))
    timeline_rows = analysis.chatty_host_service.head(TIMELINE_TOP)
    made["timeline"] = plots.state_timeline(analysis.events, timeline_rows, os.path.join(plots_dir, "timeline.png"),
                                            window_start, window_end)
    what_if_plots = []
    for number, row, (curve, x, current, suggested) in what_if_curves(analysis):
        stem = "whatif-{:02d}-{}-{}-{}".format(number + 1, metric_component(str(row["host"])),
                                              metric_component(str(row["service"])),
                                              metric_component(str(row["directive"])))
        title = f"{row['service']} on {row['host']}: {row['directive']}"
        path = plots.what_if(curve, os.path.join(plots_dir, stem + ".png"), title, current=current,
                             suggested=suggested, x=x, xlabel=str(row["directive"]))
        if path:
            made[stem] = path
            what_if_plots.append(stem)
    weeks = history.summaries(history_dir) if history_dir else pd.DataFrame(columns=["window_start"])
    weeks = weeks[weeks["window_start"] != pd.Timestamp(summary["window_start"])] if len(weeks) else weeks
    weeks = pd.concat([weeks, pd.DataFrame([dict(summary)]).assign(
        window_start=lambda f: pd.to_datetime(f["window_start"], utc=True))], ignore_index=True)
    made["trend"] = plots.trend(weeks, os.path.join(plots_dir, "trend.png"))
    return {k: v for k, v in made.items() if v}, what_if_plots


def build_report(analysis, out_dir: str, window_start, window_end, source: str = "logs",
                 top: int = TOP, keep_history: bool = True, processes: int | None = None) -> Report:
    """Write the report for ``analysis`` (one window) into ``out_dir``; see the module doc.

    :param processes: above 1, the plots are drawn in a forked process while
        this one writes the tables; default: so from ``api.PROCESS_EVENTS`` events.
    """
    window_start, window_end = pd.Timestamp(window_start), pd.Timestamp(window_end)
    plots_dir = os.path.join(out_dir, "plots")
    tables_dir = os.path.join(out_dir, "tables")
    history_dir = os.path.join(out_dir, "history")
    os.makedirs(plots_dir, exist_ok=True)

    summary = summarize(analysis, window_start, window_end)
    alerts_now = history.alert_counts(analysis.events)
    before = history.previous(history_dir, window_start) if keep_history else None

    retunes = analysis.retunes.copy()
    retunes.insert(3, "change", [
        f"{d} {c} -> {s}" if pd.notna(c) and str(c) != "" else f"{d} -> {s}"
        for d, c, s in zip(retunes["directive"], retunes["current"], retunes["suggested"])])

    summary_rows = history.changes(summary, before.summary if before else None, SUMMARY_KEYS)
    tables: dict[str, pd.DataFrame] = {
        "summary": pd.DataFrame(summary_rows, columns=["name", "value", "previous", "change"], dtype=object),
        "chatty": analysis.chatty,
        "chatty_host_service": analysis.chatty_host_service,
        "quiet": analysis.quiet,
        "retunes": retunes,
        "names": analysis.names.sort_values("collides_with", key=lambda s: s.fillna("").astype(str).eq(""),
                                            kind="stable") if len(analysis.names) else analysis.names,
        "automation": analysis.automation,
        "by_cell": analysis.by_cell,
        "by_class": by_class(analysis.by_cell),
        "episodes": analysis.episodes,
        "hour_of_week": pd.DataFrame(plots.hour_of_week(analysis.events), columns=[f"{h:02d}" for h in range(24)],
                                     index=pd.Index(plots.DAYS, name="day")).reset_index(),
    }
    if before is not None:
        tables["new_offenders"], tables["resolved_offenders"] = history.new_and_resolved(
            analysis.chatty, before.chatty, top)
        tables["suggestion_effects"] = history.suggestion_effects(before, analysis.retunes, alerts_now)
    else:
        empty_chatty = analysis.chatty.head(0)
        tables["new_offenders"], tables["resolved_offenders"] = history.new_and_resolved(
            empty_chatty, empty_chatty, top)
        tables["suggestion_effects"] = pd.DataFrame(columns=[
            "node", "host", "service", "directive", "was", "suggested", "alerts_last_week",
            "alerts_this_week", "change", "applied"])
    # The plots (half the report's time) are drawn in a forked child while this
    # process writes the tables: the two share nothing but the analysis.
    if processes is None:
        from ..run.api import default_analysis_processes
        processes = default_analysis_processes(analysis.events)
    drawing = parallel.Forked(functools.partial(_draw_plots, analysis, plots_dir, window_start, window_end, top,
                                                summary, history_dir if keep_history else None),
                              "the plots", fork=processes > 1)
    try:
        for name, frame in tables.items():
            write_table(frame, tables_dir, name)
        plot_paths, what_if_plots = drawing.result()
    finally:
        drawing.close()

    plot_titles = {"chatty": "Top chatty services by noise score", "hour_of_week": "Alerts by hour of week",
                   "timeline": "States of the top chatty services", "trend": "Week over week"}
    wow = {"previous": before.summary if before else None, "what_if_plots": what_if_plots}
    sections = _sections(analysis, tables, wow)
    for section in sections:
        section["plots"] = [{"name": p, "file": f"plots/{p}.png", "title": plot_titles.get(p, p),
                             "data": _png_data(plot_paths.get(p))} for p in section["plots"] if p in plot_paths]
        section["tables"] = [{"title": title, "name": name, **rows_of(tables[name], columns)}
                             for title, name, columns in section["tables"]]
    context = {
        "summary": [{**row, "label": SUMMARY_LABELS[row["name"]]} for row in summary_rows],
        "window_start": fmt(window_start), "window_end": fmt(window_end),
        "previous_start": wow["previous"]["window_start"][:16].replace("T", " ") if wow["previous"] else None,
        "source": source, "sections": sections,
        "table_files": sorted(tables),
    }
    html_path = os.path.join(out_dir, "report.html")
    md_path = os.path.join(out_dir, "report.md")
    with open(html_path, "w", encoding="utf-8") as handle:
        handle.write(_environment(True).get_template("report.html.j2").render(context))
    with open(md_path, "w", encoding="utf-8") as handle:
        handle.write(_environment(False).get_template("report.md.j2").render(context))
    if keep_history:
        history.save(history_dir, window_start, summary, analysis.chatty, analysis.retunes, alerts_now)
    with open(os.path.join(out_dir, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    return Report(out_dir=out_dir, html=html_path, markdown=md_path, summary=summary, tables=tables,
                  plots=plot_paths)


# --- from archives or Graphite to a written report -------------------------------


class ReportError(ValueError):
    """A report that cannot be made as asked (bad window, no input)."""


def resolve_window(since, until, newest=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) in UTC. ``until`` defaults to ``newest`` (the last line seen), else now;
    ``since`` is a date, or a duration (``7d``) counted back from the end."""
    from ..sources.ingest import IngestError, parse_when

    try:
        # The window is [start, end): one second past the newest line keeps that line in.
        end = parse_when(until) or (parse_when(newest) + pd.Timedelta(seconds=1) if newest is not None
                                    else pd.Timestamp.now(tz="UTC"))
        start = parse_when(since, now=end)
    except IngestError as exc:
        raise ReportError(f"--since/--until: {exc}") from None
    if start is None:
        raise ReportError("--since is required: a duration like 7d or a date")
    if start >= end:
        raise ReportError(f"--since {since} starts at or after the end of the window ({end:%Y-%m-%d %H:%M} UTC)")
    return start, end


def analyze_window(paths=None, since="7d", until=None, graphite: str | None = None, prefix: str = "nagios",
                   objects=None, perfdata=None, cache_dir=None, store_dir: str | None = None,
                   perfdata_graphite: tuple[str, str] | None = None, processes: int | None = None):
    """(analysis, start, end, source) for one window, from log archives, a store or Graphite.

    :param processes: for :func:`.api.analyze`.
    :param perfdata_graphite: (render API URL, series pattern) to read the
        checks' values from (see :func:`.graphite_source.load_perfdata_from_graphite`)
        instead of perfdata files.
    """
    from ..run import api
    from ..sources import coverage, ingest

    def values_from_graphite(events, start, end, fallback):
        if perfdata_graphite is None:
            return fallback
        from ..sources.graphite_source import load_perfdata_from_graphite
        return load_perfdata_from_graphite(perfdata_graphite[0], start, end, events, perfdata_graphite[1])

    if graphite:
        from ..sources.graphite_source import load_events_from_graphite

        start, end = resolve_window(since, until)
        events = load_events_from_graphite(graphite, start, end, prefix=prefix)
        analysis = api.analyze(events, objects=objects, perfdata=values_from_graphite(events, start, end, perfdata),
                               processes=processes)
        return analysis, start, end, f"Graphite at {graphite}"
    if store_dir:
        from ..sources import store

        try:
            newest = max((info["max_ns"] for name, info in store.load_manifest(store_dir)["partitions"].items()
                          if name.startswith("events/")), default=None)
            start, end = resolve_window(since, until, None if newest is None else pd.Timestamp(newest, tz="UTC"))
            events = store.load_events(store_dir, start, end)
        except store.StoreError as exc:
            raise ReportError(str(exc)) from None
        if objects is None:
            objects = store.load_objects_frame(store_dir)
        perfdata = values_from_graphite(events, start, end, None)
        analysis = api.analyze(events, until=end, objects=objects,
                               perfdata=store.load_perfdata(store_dir, start, end) if perfdata is None else perfdata,
                               processes=processes)
        nodes = events["node"].nunique() if len(events) else 0
        return analysis, start, end, f"the event store {store_dir} ({nodes} Nagios node{'s' if nodes != 1 else ''})"
    if not paths:
        raise ReportError("give log archives (node directories or files), --store DIR or --graphite URL")
    events = ingest.load_events(paths, cache_dir=cache_dir)
    # The newest alert or notification: a trailing error line a month later must not empty the window.
    start, end = resolve_window(since, until, coverage.newest_signal(events))
    # Keep only the window's rows before analysing: holding the whole history
    # beside the window's copy would double the peak memory of the report.
    events = ingest.window(events, start, end)
    if objects is None:
        objects = api.find_side_files(paths, "objects.cache") or None
    perfdata = values_from_graphite(events, start, end, perfdata)
    if perfdata is None:
        perfdata = api.find_side_files(paths, "service-perfdata.log") or None
    analysis = api.analyze(events, until=end, objects=objects, perfdata=perfdata, processes=processes)
    nodes = analysis.events["node"].nunique() if len(analysis.events) else 0
    return analysis, start, end, f"the event logs of {nodes} Nagios node{'s' if nodes != 1 else ''}"


def make_report(paths=None, out_dir: str = "report", since="7d", until=None, graphite: str | None = None,
                prefix: str = "nagios", objects=None, perfdata=None, cache_dir=None, top: int = TOP,
                keep_history: bool = True, store_dir: str | None = None,
                perfdata_graphite: tuple[str, str] | None = None, processes: int | None = None) -> Report:
    """Everything ``nagtune report`` does: analyse one window and write the report.

    :param processes: forked processes for the analysis (a share of whole nodes
        each) and the plots; default one per core (at most 4) from
        ``api.PROCESS_EVENTS`` events in the window, else everything here.
    """
    analysis, start, end, source = analyze_window(paths, since, until, graphite, prefix, objects, perfdata, cache_dir,
                                                  store_dir=store_dir, perfdata_graphite=perfdata_graphite,
                                                  processes=processes)
    return build_report(analysis, out_dir, start, end, source=source, top=top, keep_history=keep_history,
                        processes=processes)
