"""The weekly threshold report: one :class:`~.api.Analysis` to HTML, Markdown, tables and plots.

Everything shown comes from the analysis frames; this module only chooses,
formats and lays out. Output in ``out_dir``::

    report.html          self-contained (PNGs inline as base64, no scripts); links to the
                         full CSV of each table and, with ``nagios_url``, to Nagios' pages
    report.md            the same content for a wiki or a merge request
    tables/NAME.parquet  every table in full (compressed, typed)
    tables/NAME.csv      every table shown in the page, in full (spreadsheet formulas
                         neutralised); NAME.csv.gz above ``CSV_PLAIN_ROWS`` rows
    plots/NAME.png       every plot
    history/             snapshots for next week's comparison (see :mod:`.history`)

The first section is the decision: "Changes for this week" (:mod:`.changes`),
then "Problems nobody was told about", the on-call burden (:mod:`.burden`)
and week over week; everything else is below.

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
from ..findings import retune
from ..run import parallel
from . import burden, changes, history, plots

TOP = 15  # chatty services in the bar chart and the new/resolved comparison
CSV_PLAIN_ROWS = 50_000  # a longer CSV is written gzipped (a 1,000-node week stays small on disk)
TIMELINE_TOP = 10
HTML_ROWS = 25  # rows of a table shown in HTML/Markdown; the CSV has them all
WHAT_IF_MAX = 12  # what-if curves of what_if_curves' default (the report draws its first screen's changes)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUMMARY_KEYS = [
    "notifications",
    "night_pages",
    "weekend_pages",
    "contacts_paged",
    "most_pages_per_contact",
    "notifications_avoidable",
    "night_pages_avoidable",
    "soft_lines_added",
    "nodes",
    "cells",
    "alerts",
    "episodes",
    "hard_episodes",
    "transient_share",
    "open_problems",
    "chatty_services",
    "quiet_findings",
    "retune_suggestions",
    "name_collisions",
    "automation_candidates",
    "coverage_hours",
    "window_hours",
]
SUMMARY_LABELS = {
    "notifications": "pages (notification lines, one per contact)",
    "night_pages": "pages at night (team's time zone)",
    "weekend_pages": "pages at weekends (team's time zone)",
    "contacts_paged": "contacts paged",
    "most_pages_per_contact": "most pages of one contact",
    "night_pages_avoidable": "night pages the changes would have saved (estimate)",
    "soft_lines_added": "SOFT alert lines the changes add to the log (not pages)",
    "coverage_hours": "hours of the window the data covers",
    "window_hours": "hours in the window",
    "nodes": "Nagios nodes",
    "cells": "cells",
    "alerts": "alert lines (service + host)",
    "episodes": "problem episodes",
    "hard_episodes": "episodes that reached HARD",
    "transient_share": "share of episodes that never reached HARD",
    "open_problems": "problems still open at the end",
    "chatty_services": "services ranked chatty",
    "quiet_findings": "not-chatty-enough findings",
    "retune_suggestions": "retune suggestions",
    "notifications_avoidable": "pages the changes would have saved",
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
    empty_reason: str = ""  # why the window holds no event, and where the data is


# --- numbers ------------------------------------------------------------------


def summarize(
    analysis, window_start, window_end, page_frame: pd.DataFrame | None = None, changes_all: pd.DataFrame | None = None
) -> dict:
    """The summary numbers of one window, straight from the analysis frames.

    :param page_frame: :func:`.burden.pages` of the window (night and weekend
        pages, contacts); default: counted in UTC.
    :param changes_all: :func:`.changes.changes_for_week` with no limit: the
        pages saved are those of changes that save pages, never a negative sum.
    """
    ev, ep = analysis.events, analysis.episodes
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series(dtype=str)
    names = analysis.names
    collides = names["collides_with"].fillna("").astype(str).str.len().gt(0) if len(names) else pd.Series(dtype=bool)
    if page_frame is None:
        page_frame = burden.pages(ev, burden.OnCallHours())
    if changes_all is None:
        changes_all = changes.changes_for_week(analysis.retunes, ev, burden.night_share(page_frame), limit=None)
    per_contact = page_frame.groupby("contact", observed=True).size() if len(page_frame) else pd.Series(dtype="int64")
    hard = int(ep["hard"].astype(bool).sum()) if len(ep) else 0
    window_start, window_end = pd.Timestamp(window_start), pd.Timestamp(window_end)
    if len(ev):
        covered = (ev["time"].max() - ev["time"].min()).total_seconds() / 3600
    else:
        covered = 0.0
    return {
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "data_start": ev["time"].min().isoformat() if len(ev) else None,
        "data_end": ev["time"].max().isoformat() if len(ev) else None,
        "coverage_hours": round(covered, 1),
        "window_hours": round((window_end - window_start).total_seconds() / 3600, 1),
        "notifications": int(kinds.isin(["service_notification", "host_notification"]).sum()),
        "night_pages": int(page_frame["night"].sum()) if len(page_frame) else 0,
        "weekend_pages": int(page_frame["weekend"].sum()) if len(page_frame) else 0,
        "contacts_paged": int(len(per_contact)),
        "most_pages_per_contact": int(per_contact.max()) if len(per_contact) else 0,
        "notifications_avoidable": int(changes_all["pages_saved"].sum()) if len(changes_all) else 0,
        "night_pages_avoidable": int(changes_all["night_pages_saved"].sum()) if len(changes_all) else 0,
        "soft_lines_added": int(changes_all["soft_lines_added"].sum()) if len(changes_all) else 0,
        "nodes": int(ev["node"].nunique()) if len(ev) else 0,
        "cells": int(ev["cell"].nunique()) if len(ev) else 0,
        "alerts": int(kinds.isin(["service_alert", "host_alert"]).sum()),
        "episodes": int(len(ep)),
        "hard_episodes": hard,
        "transient_share": round(1 - hard / len(ep), 4) if len(ep) else 0.0,
        "open_problems": int(ep["open"].astype(bool).sum()) if len(ep) else 0,
        "chatty_services": int(len(analysis.chatty)),
        "quiet_findings": int(len(analysis.quiet)),
        "retune_suggestions": int(len(analysis.retunes)),
        "name_collisions": int(collides.sum()),
        "automation_candidates": int(len(analysis.automation)),
    }


def by_class(by_cell: pd.DataFrame) -> pd.DataFrame:
    """The per-cell breakdown added up per environment and node class."""
    counts = ["nodes", "services", "alerts", "notifications", "episodes", "hard_episodes", "quiet_findings"]
    if by_cell.empty:
        return pd.DataFrame(columns=["environment", "node_class", "cells", *counts])
    frame = by_cell.astype({"environment": str, "node_class": str, "cell": str})
    out = frame.groupby(["environment", "node_class"]).agg(cells=("cell", "nunique"), **{c: (c, "sum") for c in counts})
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
        if not (
            _is_time(frame[column])
            or pd.api.types.is_numeric_dtype(out[column])
            or pd.api.types.is_bool_dtype(out[column])
        ):
            out[column] = _neutralise_column(out[column])
    return out


def _parquet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of mixed values as text: Parquet wants one type per column."""
    out = frame
    for column in frame.columns:
        if frame[column].dtype == object:
            values = frame[column].dropna()
            if len(values) and not all(isinstance(v, str) for v in values.head(1000)):
                out = out.copy() if out is frame else out
                out[column] = frame[column].map(
                    lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)
                )
    return out


def write_table(frame: pd.DataFrame, directory: str, name: str, csv: bool = True) -> str | None:
    """``NAME.parquet`` (zstd), and with ``csv`` ``NAME.csv`` (formulas neutralised;
    ``NAME.csv.gz`` above ``CSV_PLAIN_ROWS`` rows). Returns the CSV's file name, or None."""
    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, metric_component(name))
    _parquet_frame(frame).to_parquet(stem + ".parquet", index=False, compression="zstd")
    if not csv:
        return None
    target = stem + (".csv" if len(frame) <= CSV_PLAIN_ROWS else ".csv.gz")
    _csv_frame(frame).to_csv(target, index=False)
    return os.path.basename(target)


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
    """Header and formatted cells of the first ``limit`` rows (text; escaping is the template's job).

    A column ``_href_NAME`` beside ``NAME`` makes that column's cells links:
    each cell is then ``{"text": ..., "href": ...}`` (href None: plain text).
    """
    columns = [
        c for c in (columns or [c for c in frame.columns if not str(c).startswith("_href_")]) if c in frame.columns
    ]
    shown = frame.head(limit)
    cells = [[fmt(v) for v in row] for row in shown[columns].astype(object).itertuples(index=False)]
    for index, column in enumerate(columns):
        links = f"_href_{column}"
        if links in shown.columns:
            for row, href in zip(cells, shown[links]):
                row[index] = {"text": row[index], "href": href if isinstance(href, str) and href else None}
    return {"columns": columns, "rows": cells, "total": len(frame), "shown": len(shown)}


def nagios_link(pattern: str | None, node, host, service="", cell="") -> str | None:
    """The Nagios page of one service: ``pattern`` with ``{node}``, ``{host}``, ``{service}``
    and ``{cell}`` replaced by their URL-quoted values (None without a pattern)."""
    if not pattern:
        return None
    from urllib.parse import quote

    values = {"node": node, "host": host, "service": service, "cell": cell}
    return pattern.format_map({k: quote(str(v if v is not None else ""), safe="") for k, v in values.items()})


def check_url_pattern(pattern: str | None) -> None:
    """A ``--nagios-url`` pattern that can be filled in, else :class:`ReportError`."""
    if not pattern:
        return
    if not pattern.startswith(("http://", "https://")):
        raise ReportError(f"--nagios-url {pattern}: give an http:// or https:// URL pattern")
    try:
        nagios_link(pattern, "n", "h", "s", "c")
    except (KeyError, IndexError, ValueError) as exc:
        raise ReportError(
            f"--nagios-url {pattern}: only {{node}}, {{host}}, {{service}} and {{cell}} can be filled in ({exc})"
        ) from None


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
            eps = eps[_keys(eps).isin(set(_keys(cache.get("rows", analysis.retunes))))]
            cache["episodes"] = {k: g for k, g in eps.groupby(["node", "host", "service"], observed=True)}
        eps = cache["episodes"].get(key)
        if eps is None or eps.empty:
            return None
        current, suggested = int(row["current"]), int(row["suggested"])
        points = []
        for attempts in range(1, max(current, suggested) + 4):
            replay = retune.replay_max_check_attempts(eps, attempts, current=current)
            points.append(
                (
                    attempts,
                    int(replay["alerts_after"].sum()),
                    int(replay["notifications_after"].sum()),
                    int((replay["long_problem"] & replay["hard_after"]).sum()),
                )
            )
        curve = pd.DataFrame(points, columns=["max_check_attempts", "alerts", "notifications", "long_problems_caught"])
        return curve, "max_check_attempts", current, suggested
    if str(row["directive"]).startswith("warning threshold"):
        if "values" not in cache:
            # Only the services drawn (cache["rows"], default every suggestion): reading numbers
            # out of every line costs.
            from ..sources.ingest import values_from_output

            drawn = cache.get("rows", analysis.retunes)
            wanted = set(_keys(drawn))
            events = analysis.events
            events = events[events["service"].astype(str).isin(set(drawn["service"].astype(str))).to_numpy()]
            values = values_from_output(events[_keys(events).isin(wanted).to_numpy()])
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


def what_if_curves(
    analysis, limit: int = WHAT_IF_MAX, rows: pd.DataFrame | None = None
) -> list[tuple[int, pd.Series, tuple]]:
    """(row number, retune row, (curve, x, current, suggested)) for the first ``limit`` suggestions,
    or for ``rows`` (suggestion rows) when given."""
    rows = analysis.retunes.head(limit) if rows is None else rows
    out, cache = [], {"rows": rows}
    for number, row in rows.reset_index(drop=True).iterrows():
        found = curve_for(analysis, row, cache)
        if found is not None and len(found[0]):
            out.append((number, row, found))
    return out


# --- the report -----------------------------------------------------------------


def _sections(analysis, tables: dict[str, pd.DataFrame], wow: dict, hours: burden.OnCallHours) -> list[dict]:
    """Section id, title, explanation, plots and tables, in reading order: the decision first."""
    changes_frame = tables["changes"]
    shown_saving = int(changes_frame["pages_saved"].sum()) if len(changes_frame) else 0
    night_saving = int(changes_frame["night_pages_saved"].sum()) if len(changes_frame) else 0
    summary = wow["summary"]
    total = summary["notifications"]
    night_start, night_end = hours.night
    if len(changes_frame):
        decision = (
            f"These {len(changes_frame)} changes save {shown_saving:,} of this week's {total:,} pages "
            f"(about {night_saving:,} of them at night, {night_start:02d}:00-{night_end:02d}:00 "
            f"{hours.timezone}), replayed on this week's history; paged: the contacts those pages went to. "
            f"Each line is one edit: the directive "
            f"from its current value to the new one, where it applies (one host, or the same service "
            f"across a node, a cell or a node class), and the minutes later a real problem would be "
            f"seen. Larger max_check_attempts also write "
            f"{int(changes_frame['soft_lines_added'].sum()):,} more SOFT alert lines to the log; "
            f"those are not pages."
        )
    else:
        decision = "No change saves pages this week: " + (
            "nothing paged anyone."
            if total == 0
            else "no replayed change removes a notification without missing a long HARD CRITICAL problem."
        )
    return [
        {
            "id": "changes",
            "title": "Changes for this week",
            "text": decision,
            "plots": [],
            "tables": [
                (
                    "Changes, most pages saved first",
                    "changes",
                    [
                        "rank",
                        "service",
                        "change",
                        "where",
                        "pages_saved",
                        "night_pages_saved",
                        "paged",
                        "pages_before",
                        "detection_delay",
                        "soft_lines_added",
                        "evidence",
                    ],
                )
            ],
        },
        {
            "id": "quiet",
            "title": "Problems nobody was told about",
            "text": "Long HARD problems without a notification, notifications switched off, slow detection, "
            "services that stay OK while their host or siblings fail.",
            "plots": [],
            "tables": [("Findings", "quiet", None)],
        },
        {
            "id": "burden",
            "title": "On-call burden",
            "text": f"Who was paged: one page is one notification line (Nagios writes one per contact). Times in "
            f"{hours.timezone}; night {night_start:02d}:00-{night_end:02d}:00, working hours "
            f"{hours.working[0]:02d}:00-{hours.working[1]:02d}:00 Monday to Friday; a night belongs to "
            f"the date it starts on.",
            "plots": [],
            "tables": [
                ("Pages per contact", "pages_per_contact", None),
                ("Pages per contact group", "pages_per_contact_group", None),
                ("Worst nights", "worst_nights", None),
            ],
        },
        {
            "id": "week-over-week",
            "title": "Week over week",
            "text": (
                "Compared with the report of the week starting " + wow["previous_start"] + ". "
                if wow["previous"]
                else "No earlier report in this directory yet: this run starts the history. "
            )
            + f"A service is listed as new or resolved only when its number of problems changed by more than "
            f"noise: "
            f"a two-sided conditional binomial test of the two weeks' counts (Poisson, scaled by the "
            f"windows' lengths) at the {history.LEVEL:g} level divided by the number of services compared "
            f"(Bonferroni), with at least {history.MIN_COUNT} lines in the two weeks together. Chronic: in "
            f"the top {wow['top']} list {history.CHRONIC_WEEKS} or more reports running. The effect of a "
            f"suggestion is shown only where this week's objects.cache has the suggested setting.",
            "plots": ["trend"],
            "tables": [
                ("Numbers of the week", "summary", None),
                ("New offenders", "new_offenders", None),
                ("Resolved offenders", "resolved_offenders", None),
                ("Chronic offenders", "chronic_offenders", None),
                ("Last week's suggestions", "suggestion_effects", None),
            ],
        },
        {
            "id": "chatty",
            "title": "Top chatty services",
            "text": "Services ranked across nodes and cells; pages per week is notification lines per week. "
            "The reasons column says why each is here.",
            "plots": ["chatty", "hour_of_week", "timeline"],
            "tables": [
                (
                    "Per service",
                    "chatty",
                    [
                        "node_class",
                        "cell",
                        "node",
                        "service",
                        "notifications_per_week",
                        "alerts_per_week",
                        "score",
                        "transient_share",
                        "flap_percent",
                        "off_hours_share",
                        "alerts_per_problem",
                        "reasons",
                    ],
                ),
                ("Per host and service", "chatty_host_service", None),
            ],
        },
        {
            "id": "retunes",
            "title": "Every retune suggestion",
            "text": "One concrete change per flagged service, replayed on this window's history: alerts and "
            "notifications before and after, minutes later each real problem would be seen "
            "(negative: sooner, for the retry_interval suggestions of services slow to go HARD). "
            "The change column is the directive to edit in the service definition, from its current "
            "value (the object config's when given, else what the log shows) to the suggested one. "
            "Never suggested: a change whose replay misses a long HARD CRITICAL problem. "
            "The what-if figure replays each change of the first screen on the host where it saves "
            "the most pages: lines in the window against the directive's value, now and suggested marked.",
            "plots": [name for name in wow["what_if_plots"]],
            "tables": [
                (
                    "Suggestions",
                    "retunes",
                    [
                        "node",
                        "host",
                        "service",
                        "change",
                        "notifications_before",
                        "notifications_after",
                        "alerts_before",
                        "alerts_after",
                        "extra_detection_minutes",
                        "long_problems_before",
                        "long_problems_after",
                        "reason",
                    ],
                )
            ],
        },
        {
            "id": "names",
            "title": "Name audit",
            "text": "The metric name the collector ships for each service and host; collisions first.",
            "plots": [],
            "tables": [("Names", "names", None)],
        },
        {
            "id": "automation",
            "title": "Automation candidates",
            "text": "Recurring problems (same service, same hour) and problems a person acknowledged that then "
            "resolved on their own.",
            "plots": [],
            "tables": [("Candidates", "automation", None)],
        },
        {
            "id": "breakdown",
            "title": "Per cell and per class",
            "text": "The window's numbers per environment, cell and node class.",
            "plots": [],
            "tables": [("Per cell", "by_cell", None), ("Per class", "by_class", None)],
        },
    ]


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    env.filters["fmt"] = fmt
    return env


def change_examples(retunes: pd.DataFrame, change_list: pd.DataFrame) -> pd.DataFrame:
    """For each listed change, the suggestion row behind it that saves the most pages (its
    what-if curve stands for the change), with the change's ``rank``, ``change`` and ``hosts``."""
    if change_list.empty or retunes.empty:
        return retunes.head(0).assign(rank=[], change=[], hosts=[])
    rows = retunes.assign(
        _service=retunes["service"].astype(str),
        _directive=retunes["directive"].astype(str),
        _suggested=retunes["suggested"].map(changes._text),
        _saved=pd.to_numeric(retunes["notifications_before"], errors="coerce")
        - pd.to_numeric(retunes["notifications_after"], errors="coerce"),
    )
    listed = change_list[["rank", "service", "directive", "suggested", "change", "hosts"]].rename(
        columns={"service": "_service", "directive": "_directive", "suggested": "_suggested"}
    )
    rows = rows.merge(listed, on=["_service", "_directive", "_suggested"], how="inner")
    rows = rows.sort_values(["rank", "_saved"], ascending=[True, False], kind="stable").drop_duplicates("rank")
    return rows.drop(columns=["_service", "_directive", "_suggested", "_saved"]).reset_index(drop=True)


def _what_if_panels(analysis, change_list: pd.DataFrame) -> list[dict]:
    """One what-if panel per change on the first screen: the replay of its biggest saving."""
    examples = change_examples(analysis.retunes, change_list)
    panels = []
    for _, row, (curve, x, current, suggested) in what_if_curves(analysis, rows=examples):
        where = f"{row['host']}" + (f" (1 of {int(row['hosts'])} hosts)" if int(row["hosts"]) > 1 else "")
        panels.append(
            {
                "curve": curve,
                "x": x,
                "current": current,
                "suggested": suggested,
                "title": f"{int(row['rank'])}. {row['service']} on {where}",
                "xlabel": str(row["directive"]),
            }
        )
    return panels


def _draw_plots(
    analysis,
    plots_dir: str,
    window_start,
    window_end,
    top: int,
    summary: dict,
    history_dir: str | None,
    timezone: str = "UTC",
    change_list: pd.DataFrame | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Every plot of the report: {name: PNG path} of those drawn, and the what-if plots' names."""
    made: dict[str, str | None] = {}
    made["chatty"] = plots.chatty_bar(analysis.chatty, os.path.join(plots_dir, "chatty.png"), top=top)
    made["hour_of_week"] = plots.hour_of_week_heatmap(
        analysis.events, os.path.join(plots_dir, "hour_of_week.png"), timezone
    )
    timeline_rows = analysis.chatty_host_service.head(TIMELINE_TOP)
    made["timeline"] = plots.state_timeline(
        analysis.events, timeline_rows, os.path.join(plots_dir, "timeline.png"), window_start, window_end
    )
    what_if_plots = []
    if change_list is not None and len(change_list):
        made["whatif"] = plots.what_if_grid(
            _what_if_panels(analysis, change_list), os.path.join(plots_dir, "whatif.png")
        )
        what_if_plots = ["whatif"] if made["whatif"] else []
    weeks = history.summaries(history_dir) if history_dir else pd.DataFrame(columns=["window_start"])
    weeks = weeks[weeks["window_start"] != pd.Timestamp(summary["window_start"])] if len(weeks) else weeks
    weeks = pd.concat(
        [
            weeks,
            pd.DataFrame([dict(summary)]).assign(window_start=lambda f: pd.to_datetime(f["window_start"], utc=True)),
        ],
        ignore_index=True,
    )
    made["trend"] = plots.trend(weeks, os.path.join(plots_dir, "trend.png"))
    return {k: v for k, v in made.items() if v}, what_if_plots


def _with_links(frame: pd.DataFrame, column: str, pattern: str | None) -> pd.DataFrame:
    """``frame`` with ``_href_COLUMN``: each row's Nagios page (rows with node, host, service)."""
    if not pattern or frame.empty or not {"node", "host", "service"} <= set(frame.columns):
        return frame
    cells = frame["cell"] if "cell" in frame.columns else pd.Series("", index=frame.index)
    links = [
        nagios_link(pattern, n, h, s, c) for n, h, s, c in zip(frame["node"], frame["host"], frame["service"], cells)
    ]
    return frame.assign(**{f"_href_{column}": links})


def _change_rows(retunes: pd.DataFrame, change_list: pd.DataFrame) -> pd.DataFrame:
    """The suggestion rows behind each listed change (rank, node, host, service, ...)."""
    if change_list.empty or retunes.empty:
        return pd.DataFrame(
            columns=["rank", "node", "host", "service", "change", "notifications_before", "notifications_after"]
        )
    rows = retunes.astype({c: str for c in ("node", "host", "service", "directive")})
    rows["suggested"] = rows["suggested"].map(changes._text)
    saved = pd.to_numeric(rows["notifications_before"]) - pd.to_numeric(rows["notifications_after"])
    rows = rows[(saved > 0).to_numpy()]
    out = rows.merge(
        change_list[["rank", "service", "directive", "suggested"]],
        on=["service", "directive", "suggested"],
        how="inner",
    )
    return (
        out[
            [
                "rank",
                "node",
                "host",
                "service",
                "change",
                "notifications_before",
                "notifications_after",
                "alerts_before",
                "alerts_after",
                "extra_detection_minutes",
                "reason",
            ]
        ]
        .sort_values(["rank", "node", "host"], kind="stable")
        .reset_index(drop=True)
    )


SHOWN_TABLES = {
    "changes",
    "change_rows",
    "quiet",
    "pages_per_contact",
    "pages_per_contact_group",
    "worst_nights",
    "summary",
    "new_offenders",
    "resolved_offenders",
    "chronic_offenders",
    "suggestion_effects",
    "chatty",
    "chatty_host_service",
    "retunes",
    "names",
    "automation",
    "by_cell",
    "by_class",
}


def build_report(
    analysis,
    out_dir: str,
    window_start,
    window_end,
    source: str = "logs",
    top: int = TOP,
    keep_history: bool = True,
    processes: int | None = None,
    hours: burden.OnCallHours | None = None,
    objects=None,
    nagios_url: str | None = None,
    changes_shown: int = changes.CHANGES_SHOWN,
) -> Report:
    """Write the report for ``analysis`` (one window) into ``out_dir``; see the module doc.

    :param processes: above 1, the plots are drawn in a forked process while
        this one writes the tables; default: so from ``api.PROCESS_EVENTS`` events.
    :param hours: the team's time zone, night and working hours (default UTC,
        night 22-7, working 9-18).
    :param objects: this week's objects.cache (path(s) or a frame from
        :func:`.objects.load_objects`): contact groups, and whether last
        week's suggestions were applied.
    :param nagios_url: a URL pattern of each service's Nagios page, with
        ``{node}``, ``{host}``, ``{service}``, ``{cell}`` (see :func:`nagios_link`).
    """
    hours = hours or burden.OnCallHours()
    check_url_pattern(nagios_url)
    window_start, window_end = pd.Timestamp(window_start), pd.Timestamp(window_end)
    plots_dir = os.path.join(out_dir, "plots")
    tables_dir = os.path.join(out_dir, "tables")
    history_dir = os.path.join(out_dir, "history")
    os.makedirs(plots_dir, exist_ok=True)

    objects_frame, groups = _objects_and_groups(objects)
    page_frame = burden.pages(analysis.events, hours)
    night = burden.night_share(page_frame)
    retunes = analysis.retunes.copy()
    retunes.insert(
        3,
        "change",
        [
            changes.change_text(d, c, s)
            for d, c, s in zip(retunes["directive"], retunes["current"], retunes["suggested"])
        ],
    )
    all_changes = changes.changes_for_week(analysis.retunes, analysis.events, night, limit=None)
    change_list = all_changes.head(changes_shown)
    summary = summarize(analysis, window_start, window_end, page_frame, all_changes)
    alerts_now = history.alert_counts(analysis.events, analysis.episodes)
    earlier = history.snapshots(history_dir, window_start) if keep_history else []
    before = earlier[-1] if earlier else None
    ratio = 1.0
    if before is not None and before.summary.get("window_hours"):
        ratio = summary["window_hours"] / float(before.summary["window_hours"]) or 1.0

    summary_rows = history.changes(summary, before.summary if before else None, SUMMARY_KEYS)
    single = change_list[change_list["scope"] == "host"] if len(change_list) else change_list
    change_links = change_list
    if nagios_url and len(single):
        # A change on one host links to that service's Nagios page.
        first = _change_rows(retunes, change_list).drop_duplicates("rank").set_index("rank")
        change_links = change_list.assign(
            _href_where=[
                nagios_link(nagios_url, first.at[r, "node"], first.at[r, "host"], first.at[r, "service"])
                if scope == "host" and r in first.index
                else None
                for r, scope in zip(change_list["rank"], change_list["scope"])
            ]
        )
    tables: dict[str, pd.DataFrame] = {
        "changes": change_links,
        "change_rows": _change_rows(retunes, all_changes),
        "quiet": _with_links(analysis.quiet, "service", nagios_url),
        "pages_per_contact": burden.per_contact(page_frame),
        "pages_per_contact_group": burden.per_contact_group(page_frame, groups),
        "worst_nights": burden.worst_nights(page_frame),
        "summary": pd.DataFrame(
            [{**r, "name": SUMMARY_LABELS.get(r["name"], r["name"])} for r in summary_rows],
            columns=["name", "value", "previous", "change"],
            dtype=object,
        ),
        "chatty": analysis.chatty,
        "chatty_host_service": _with_links(analysis.chatty_host_service, "service", nagios_url),
        "retunes": _with_links(retunes, "service", nagios_url),
        "names": analysis.names.sort_values(
            "collides_with", key=lambda s: s.fillna("").astype(str).eq(""), kind="stable"
        )
        if len(analysis.names)
        else analysis.names,
        "automation": analysis.automation,
        "by_cell": analysis.by_cell,
        "by_class": by_class(analysis.by_cell),
        "episodes": analysis.episodes,
        "hour_of_week": pd.DataFrame(
            plots.hour_of_week(analysis.events, hours.timezone),
            columns=[f"{h:02d}" for h in range(24)],
            index=pd.Index(plots.DAYS, name="day"),
        ).reset_index(),
    }
    if before is not None:
        tables["new_offenders"], tables["resolved_offenders"] = history.new_and_resolved(
            analysis.chatty, before.chatty, top, alerts_now, before.alerts, ratio
        )
        tables["suggestion_effects"] = history.suggestion_effects(before, alerts_now, objects_frame, ratio)
    else:
        tables["new_offenders"], tables["resolved_offenders"] = history.new_and_resolved(
            analysis.chatty, analysis.chatty.head(0), top
        )
        tables["suggestion_effects"] = history.suggestion_effects(
            history.Snapshot(window_start, {}, analysis.chatty.head(0), analysis.retunes.head(0), alerts_now),
            alerts_now,
            objects_frame,
        )
    tables["chronic_offenders"] = history.chronic(analysis.chatty, earlier, top)
    # The plots (half the report's time) are drawn in a forked child while this
    # process writes the tables: the two share nothing but the analysis.
    if processes is None:
        from ..run.api import default_analysis_processes

        processes = default_analysis_processes(analysis.events)
    drawing = parallel.Forked(
        functools.partial(
            _draw_plots,
            analysis,
            plots_dir,
            window_start,
            window_end,
            top,
            summary,
            history_dir if keep_history else None,
            hours.timezone,
            change_list,
        ),
        "the plots",
        fork=processes > 1,
    )
    csv_files = {}
    try:
        for name, frame in tables.items():
            plain = frame[[c for c in frame.columns if not str(c).startswith("_href_")]]
            csv_files[name] = write_table(plain, tables_dir, name, csv=name in SHOWN_TABLES)
        plot_paths, what_if_plots = drawing.result()
    finally:
        drawing.close()

    plot_titles = {
        "chatty": "Top services by pages per week",
        "hour_of_week": "Alerts by hour of week",
        "timeline": "States of the chattiest hosts and services",
        "trend": "Week over week",
        "whatif": "What-if replays of this week's changes",
    }
    wow = {
        "previous": before.summary if before else None,
        "what_if_plots": what_if_plots,
        "summary": summary,
        "previous_start": before.summary["window_start"][:16].replace("T", " ") if before else None,
        "top": top,
    }
    sections = _sections(analysis, tables, wow, hours)
    for section in sections:
        section["plots"] = [
            {"name": p, "file": f"plots/{p}.png", "title": plot_titles.get(p, p), "data": _png_data(plot_paths.get(p))}
            for p in section["plots"]
            if p in plot_paths
        ]
        section["tables"] = [
            {"title": title, "name": name, "csv": csv_files.get(name), **rows_of(tables[name], columns)}
            for title, name, columns in section["tables"]
        ]
    for table in sections[0]["tables"]:
        table["detail"] = csv_files.get("change_rows")
    context = {
        "window_start": fmt(window_start),
        "window_end": fmt(window_end),
        "coverage": _coverage_text(summary, analysis.empty_reason),
        "rates": rates_header(analysis.events, window_start, window_end),
        "previous_start": wow["previous_start"],
        "source": source,
        "sections": sections,
        "timezone": hours.timezone,
        "table_files": sorted(f for f in csv_files.values() if f),
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
    return Report(
        out_dir=out_dir,
        html=html_path,
        markdown=md_path,
        summary=summary,
        tables=tables,
        plots=plot_paths,
        empty_reason=analysis.empty_reason if not summary.get("data_start") else "",
    )


def rates_header(events: pd.DataFrame, window_start, window_end) -> str:
    """What the weekly rates rest on (``5 h of data in a 7-day window: ...``), as the CLI's
    tables say it (:func:`.coverage.rates_text`), from what the ingest read (``events.attrs``)
    or, for events without those counts (a store), from the events' own times."""
    from ..sources import coverage

    if events.empty:
        return ""  # the coverage line says why there is nothing
    counts = {key: value for key, value in events.attrs.items() if key in ("first", "last")}
    if counts.get("first") is None and len(events):
        counts = {"first": events["time"].min().timestamp(), "last": events["time"].max().timestamp()}
    text = coverage.rates_text(counts, pd.Timestamp(window_start), pd.Timestamp(window_end))
    return text[:1].upper() + text[1:] + "."


def _coverage_text(summary: dict, empty_reason: str = "") -> str:
    """How much of the window the data covers, said plainly when it is not all of it; when
    nothing is in the window, where the data is."""
    if not summary.get("data_start"):
        return f"No events in this window: {empty_reason}." if empty_reason else "No events in this window."
    covered, window = summary["coverage_hours"], summary["window_hours"]
    first = pd.Timestamp(summary["data_start"]).strftime("%Y-%m-%d %H:%M")
    last = pd.Timestamp(summary["data_end"]).strftime("%Y-%m-%d %H:%M")
    text = f"Data from {first} to {last} UTC: {covered:,.1f} of the window's {window:,.0f} hours"
    if window and covered < 0.9 * window:
        text += f" (only {covered / window:.0%}: weekly rates are extrapolated)"
    return text + "."


def _objects_and_groups(objects) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """(objects frame or None, contact groups) from objects.cache path(s) or a frame (whose
    ``attrs["contact_groups"]`` holds its groups, as the store's frame does)."""
    from ..sources.objects import ObjectsError, load_objects, read_contact_groups

    if objects is None or (isinstance(objects, (list, tuple)) and not objects):
        return None, read_contact_groups([])
    if isinstance(objects, pd.DataFrame):
        groups = objects.attrs.get("contact_groups")
        return objects, read_contact_groups([]) if groups is None else groups
    paths = [objects] if isinstance(objects, (str, os.PathLike)) else list(objects)
    paths = [os.path.join(p, "objects.cache") if os.path.isdir(p) else p for p in map(str, paths)]
    try:
        frame = load_objects(paths)
    except ObjectsError as exc:
        raise ReportError(str(exc)) from None
    return frame, read_contact_groups(paths)


# --- one service up close --------------------------------------------------------


@dataclass
class ServiceLook:
    """Everything the report knows about one service (see :func:`look_at`)."""

    service: str
    hosts: pd.DataFrame  # node, host: where it runs
    events: pd.DataFrame  # its alert and notification lines
    episodes: pd.DataFrame  # its problems
    pages: pd.DataFrame  # its notification lines with contact, night, weekend
    retunes: pd.DataFrame  # the suggestions for it
    quiet: pd.DataFrame  # problems nobody was told about
    timeline: str | None = None  # PNG of its states, when out_dir is given

    def __repr__(self) -> str:
        return (
            f"{self.service} on {len(self.hosts)} host(s): {len(self.events):,} lines, "
            f"{len(self.episodes):,} problems, {len(self.pages):,} pages "
            f"({int(self.pages['night'].sum()) if len(self.pages) else 0} at night), "
            f"{len(self.retunes)} suggestion(s), {len(self.quiet)} silent finding(s)"
        )


def look_at(
    analysis,
    service: str,
    host: str | None = None,
    node: str | None = None,
    hours: burden.OnCallHours | None = None,
    out_dir: str | None = None,
) -> ServiceLook:
    """One call for one service: its lines, problems, pages, suggestions and silent findings.

    :param host, node: narrow to one host or node (default: everywhere it runs).
    :param out_dir: also draw its state timeline there.
    """

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty or "service" not in frame:
            return frame.head(0) if frame is not None else pd.DataFrame()
        keep = frame["service"].astype(str) == service
        if host is not None and "host" in frame:
            keep &= frame["host"].astype(str) == host
        if node is not None and "node" in frame:
            keep &= frame["node"].astype(str) == node
        return frame[keep.to_numpy()]

    events = mine(analysis.events)
    if events.empty:
        raise ReportError(
            f"no lines of service {service!r}"
            + (f" on host {host!r}" if host else "")
            + (f" on node {node!r}" if node else "")
            + " in this window"
        )
    pages = burden.pages(events, hours or burden.OnCallHours())
    hosts = events[["node", "host"]].astype(str).drop_duplicates().reset_index(drop=True)
    timeline = None
    if out_dir:
        rows = hosts.assign(service=service)
        start, end = events["time"].min(), events["time"].max() + pd.Timedelta(minutes=1)
        timeline = plots.state_timeline(
            analysis.events, rows, os.path.join(out_dir, f"timeline-{metric_component(service)}.png"), start, end
        )
    return ServiceLook(
        service=service,
        hosts=hosts,
        events=events,
        episodes=mine(analysis.episodes),
        pages=pages,
        retunes=mine(analysis.retunes),
        quiet=mine(analysis.quiet),
        timeline=timeline,
    )


# --- from archives or Graphite to a written report -------------------------------


class ReportError(ValueError):
    """A report that cannot be made as asked (bad window, no input)."""


def _window_text(start, end) -> str:
    return f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC"


def resolve_window(since, until, newest=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) in UTC. ``until`` defaults to ``newest`` (the last line seen), else now;
    ``since`` is a date, or a duration (``7d``) counted back from the end."""
    from ..sources.ingest import IngestError, parse_when

    try:
        # The window is [start, end): one second past the newest line keeps that line in.
        end = parse_when(until) or (
            parse_when(newest) + pd.Timedelta(seconds=1) if newest is not None else pd.Timestamp.now(tz="UTC")
        )
        start = parse_when(since, now=end)
    except IngestError as exc:
        raise ReportError(f"--since/--until: {exc}") from None
    if start is None:
        raise ReportError("--since is required: a duration like 7d or a date")
    if start >= end:
        raise ReportError(f"--since {since} starts at or after the end of the window ({end:%Y-%m-%d %H:%M} UTC)")
    return start, end


def analyze_window(
    paths=None,
    since="7d",
    until=None,
    graphite: str | None = None,
    prefix: str = "nagios",
    objects=None,
    perfdata=None,
    cache_dir=None,
    store_dir: str | None = None,
    perfdata_graphite: tuple[str, str] | None = None,
    processes: int | None = None,
):
    """(analysis, start, end, source) for one window, from log archives, a store or Graphite.

    :param processes: for :func:`.api.analyze`.
    :param perfdata_graphite: (render API URL, series pattern) to read the
        checks' values from (see :func:`.graphite_source.load_perfdata_from_graphite`)
        instead of perfdata files.
    """
    from ...parsers.unreadable import first_unreadable, read_text
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
        analysis = api.analyze(
            events, objects=objects, perfdata=values_from_graphite(events, start, end, perfdata), processes=processes
        )
        if events.empty:
            analysis.empty_reason = (
                f"nothing in the window {_window_text(start, end)}: "
                f"Graphite at {graphite} has no alert metrics under {prefix!r} in it"
            )
        return analysis, start, end, f"Graphite at {graphite}"
    if store_dir:
        from ..sources import store

        try:
            start, end = resolve_window(since, until, store.newest_signal(store_dir))
            events = store.load_events(store_dir, start, end)
        except store.StoreError as exc:
            raise ReportError(str(exc)) from None
        if objects is None:
            objects = store.load_objects_frame(store_dir)
        perfdata = values_from_graphite(events, start, end, None)
        analysis = api.analyze(
            events,
            until=end,
            objects=objects,
            perfdata=store.load_perfdata(store_dir, start, end) if perfdata is None else perfdata,
            processes=processes,
        )
        nodes = events["node"].nunique() if len(events) else 0
        if events.empty:
            analysis.empty_reason = f"nothing in the window {_window_text(start, end)}: " + store.span_text(store_dir)
        return analysis, start, end, f"the event store {store_dir} ({nodes} Nagios node{'s' if nodes != 1 else ''})"
    if not paths:
        raise ReportError("give log archives (node directories or files), --store DIR or --graphite URL")
    events = ingest.load_events(paths, cache_dir=cache_dir)
    # The newest alert or notification: a trailing error line a month later must not empty the window.
    start, end = resolve_window(since, until, coverage.newest_signal(events))
    # Keep only the window's rows before analysing: holding the whole history
    # beside the window's copy would double the peak memory of the report.
    read, found, total = dict(events.attrs), coverage.data_range(events), len(events)
    if coverage.all_unreadable(read):
        files = [path for _, path in ingest.resolve_paths(list(paths))]
        raise ReportError(
            "no line could be read: "
            + read_text(int(read.get("files", 0)), int(read["lines"]), int(read["unparsed"]), first_unreadable(files))
        )
    events = ingest.window(events, start, end)
    empty_reason = (
        coverage.empty_reason({**read, **found, "outside_window": total - len(events)}, start, end)
        if events.empty
        else ""
    )
    if objects is None:
        objects = api.find_side_files(paths, "objects.cache") or None
    perfdata = values_from_graphite(events, start, end, perfdata)
    if perfdata is None:
        perfdata = api.find_side_files(paths, "service-perfdata.log") or None
    analysis = api.analyze(events, until=end, objects=objects, perfdata=perfdata, processes=processes)
    analysis.empty_reason = empty_reason
    nodes = analysis.events["node"].nunique() if len(analysis.events) else 0
    return analysis, start, end, f"the event logs of {nodes} Nagios node{'s' if nodes != 1 else ''}"


def make_report(
    paths=None,
    out_dir: str = "report",
    since="7d",
    until=None,
    graphite: str | None = None,
    prefix: str = "nagios",
    objects=None,
    perfdata=None,
    cache_dir=None,
    top: int = TOP,
    keep_history: bool = True,
    store_dir: str | None = None,
    perfdata_graphite: tuple[str, str] | None = None,
    processes: int | None = None,
    hours: burden.OnCallHours | None = None,
    nagios_url: str | None = None,
    changes_shown: int = changes.CHANGES_SHOWN,
) -> Report:
    """Everything ``nagtune report`` does: analyse one window and write the report.

    :param processes: forked processes for the analysis (a share of whole nodes
        each) and the plots; default one per core (at most 4) from
        ``api.PROCESS_EVENTS`` events in the window, else everything here.
    :param hours, nagios_url, changes_shown: see :func:`build_report`.
    """
    from ..run import api

    check_url_pattern(nagios_url)
    analysis, start, end, source = analyze_window(
        paths,
        since,
        until,
        graphite,
        prefix,
        objects,
        perfdata,
        cache_dir,
        store_dir=store_dir,
        perfdata_graphite=perfdata_graphite,
        processes=processes,
    )
    if objects is None and paths and not graphite and not store_dir:
        objects = api.find_side_files(paths, "objects.cache") or None
    elif objects is None and store_dir:
        from ..sources import store

        objects = store.load_objects_frame(store_dir)
    return build_report(
        analysis,
        out_dir,
        start,
        end,
        source=source,
        top=top,
        keep_history=keep_history,
        processes=processes,
        hours=hours,
        objects=objects,
        nagios_url=nagios_url,
        changes_shown=changes_shown,
    )
