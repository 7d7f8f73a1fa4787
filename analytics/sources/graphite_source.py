"""Graphite as a second source: the what/when/where metrics back into an events frame.

For sites that keep no log archives centrally: ``nagtune collect`` (or the
parser under logster) ships per-minute counts named
``PREFIX.ENV.CLASS.CELL.NODE.FAMILY.HOST.SERVICE.LEVELS`` (see
:mod:`nagtune.parsers.metrics`). This module reads them back through the
render API (``/metrics/find`` for the nodes, ``/render?format=json`` for the
counts) and expands each count into that many event rows stamped in its
minute, so every analytics function runs on it unchanged.

What Graphite cannot give back, and what is rebuilt instead:

- Names are the metric-safe ones (``disk_space_var``, not ``Disk Space /var``);
  compare with log results through :func:`~nagtune.parsers.names.metric_component`.
- Order inside a minute is lost. Lines of one host/service in one minute
  are laid out as Nagios writes them: a problem's SOFT attempts, then its
  HARD line, then the recovery; several recoveries in one minute split the
  problem lines between them. Rows are spread over the minute's seconds.
- Attempts are counted again per problem (SOFT lines 1, 2, ...; the HARD
  line one more). Plugin output, contacts and authors are empty.

Only the default ``host_service`` granularity with path names (not tags)
can be read back: the others drop the host or the service.

It also reads the *perfdata* series a site ships to Graphite with its own
tool (graphios, a perfdata command ...), for the threshold retunes: see
:func:`load_perfdata_from_graphite`.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd

from ...parsers import metrics as m
from ...parsers.names import metric_prefix
from .._frames import EVENT_CATEGORIES, EVENT_COLUMNS, EVENT_STRINGS, VALUE_COLUMNS, epoch_seconds

# Levels after the family, per family, as MetricNamer writes them (host_service granularity).
FAMILY_LEVELS = {
    m.SERVICE_ALERTS: ("host", "service", "state", "state_type"),
    m.HOST_ALERTS: ("host", "state", "state_type"),
    m.SERVICE_NOTIFICATIONS: ("host", "service", "state_type", "state"),
    m.HOST_NOTIFICATIONS: ("host", "state_type", "state"),
    m.SERVICE_FLAPPING: ("host", "service", "state"),
    m.HOST_FLAPPING: ("host", "state"),
    m.SERVICE_DOWNTIME: ("host", "service", "state"),
    m.HOST_DOWNTIME: ("host", "state"),
    m.SERVICE_ACKNOWLEDGEMENTS: ("host", "service"),
    m.HOST_ACKNOWLEDGEMENTS: ("host",),
}
KIND_OF_FAMILY = {family: kind for kind, family in m.FAMILY_OF_KIND.items()}
ACK_COMMAND = {family: command for command, family in m.ACKNOWLEDGE_COMMANDS.items()}
ALERT_KINDS = ("service_alert", "host_alert")
RECOVERED = {"OK", "UP"}
WHERE = ("environment", "node_class", "cell", "node")


class GraphiteError(RuntimeError):
    """The render API could not be read (unreachable, an error status, not JSON)."""


def _get(url: str, path: str, params: list[tuple[str, str]], timeout: float, flag: str = "--graphite"):
    """JSON of one render API call; errors name the command-line ``flag`` that gave ``url``."""
    address = f"{url.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(address, timeout=timeout) as reply:
            return json.load(reply)
    except urllib.error.HTTPError as exc:
        raise GraphiteError(f"{flag} {url}: {path} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GraphiteError(f"{flag} {url}: cannot reach the render API ({reason})") from None
    except ValueError:
        raise GraphiteError(f"{flag} {url}: {path} did not answer JSON; is this a Graphite render API?") from None


def find_nodes(url: str, prefix: str = "nagios", timeout: float = 30.0) -> list[str]:
    """Metric paths of every Nagios node under ``prefix`` (``PREFIX.ENV.CLASS.CELL.NODE``)."""
    query = ".".join([metric_prefix(prefix)] + ["*"] * 4)
    # The completer format names each match by its full path (treejson's id
    # keeps the query's wildcards in graphite-api).
    found = _get(url, "/metrics/find", [("query", query), ("format", "completer")], timeout)
    return sorted(
        item["path"].rstrip(".")
        for item in found.get("metrics", [])
        if not int(item.get("is_leaf", 0)) and "path" in item
    )


def _epoch(value) -> int:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return int(stamp.timestamp())


def _no_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {"path": pd.Series(dtype=object), "minute": pd.Series(dtype="int64"), "count": pd.Series(dtype="int64")}
    )


def fetch_counts(url: str, node_path: str, since, until, timeout: float = 60.0) -> pd.DataFrame:
    """Non-zero per-minute counts of one node: [path, minute, count], one render call."""
    targets = [
        ("target", ".".join([node_path, family] + ["*"] * len(levels))) for family, levels in FAMILY_LEVELS.items()
    ]
    # Graphite's from is exclusive and until inclusive: ask one second wider and cut below.
    params = targets + [("format", "json"), ("from", str(_epoch(since) - 1)), ("until", str(_epoch(until)))]
    series = _get(url, "/render", params, timeout)
    paths, minutes, counts = [], [], []
    for item in series:
        points = np.array([(v, t) for v, t in item["datapoints"] if v], dtype=float).reshape(-1, 2)
        if len(points):
            paths.append(np.full(len(points), item["target"], dtype=object))
            counts.append(np.rint(points[:, 0]).astype(np.int64))
            minutes.append(points[:, 1].astype(np.int64))
    if not paths:
        return _no_counts()
    return pd.DataFrame(
        {"path": np.concatenate(paths), "minute": np.concatenate(minutes), "count": np.concatenate(counts)}
    )


def _split_paths(paths: pd.Series, root_levels: int) -> pd.DataFrame:
    """One column per level of each distinct path: where, family, host, service, state, state_type."""
    rows = []
    for path in paths.unique():
        parts = path.split(".")
        where, family, rest = parts[root_levels - 4 : root_levels], parts[root_levels], parts[root_levels + 1 :]
        levels = FAMILY_LEVELS.get(family)
        if levels is None or len(rest) != len(levels):
            continue
        row = dict(
            zip(WHERE, where),
            path=path,
            family=family,
            host="",
            service="",
            state="",
            state_type="",
            command=ACK_COMMAND.get(family, ""),
        )
        row.update(zip(levels, rest))
        row["kind"] = KIND_OF_FAMILY.get(family, "external_command")
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["path", *WHERE, "family", "kind", "host", "service", "state", "state_type", "command"]
    )


def _alert_order(group: list[tuple[str, str]], previous: str) -> list[int]:
    """Positions of one minute's alert lines of one object, in a plausible Nagios order.

    ``group`` is [(state, state_type)]; ``previous`` the state before the minute.
    """
    oks = [i for i, (state, _) in enumerate(group) if state in RECOVERED]
    problems = sorted(
        (i for i, (state, _) in enumerate(group) if state not in RECOVERED), key=lambda i: (group[i][1] != "SOFT", i)
    )
    order: list[int] = []
    if previous not in RECOVERED and oks:
        order.append(oks.pop(0))
    # A problem still open at the end of the minute cannot be told from one
    # that recovered inside it; recoveries close the minute's problems.
    chunks = min(max(len(oks), 1), max(len(problems), 1))
    for index, chunk in enumerate(np.array_split(np.array(problems, dtype=int), chunks) if problems else []):
        chunk = sorted(chunk.tolist(), key=lambda i: (group[i][1] != "SOFT", i))
        order.extend(chunk)
        if index < len(oks):
            order.append(oks[index])
    order.extend(oks[chunks:] if problems else oks)
    return order


def _lay_out_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Order alert rows inside their minute, give them seconds and attempts."""
    alerts = alerts.sort_values(["node", "host", "service", "minute"], kind="stable").reset_index(drop=True)
    seconds = np.zeros(len(alerts), dtype=np.int64)
    rank = np.zeros(len(alerts), dtype=np.int64)
    attempts = np.zeros(len(alerts), dtype=np.int64)
    states, types = alerts["state"].to_numpy(), alerts["state_type"].to_numpy()
    for _, index in alerts.groupby(["node", "host", "service"], sort=False).indices.items():
        previous, soft, hard = "OK", 0, 0
        minutes = alerts["minute"].to_numpy()[index]
        for same in np.split(index, np.flatnonzero(np.diff(minutes)) + 1):
            group = list(zip(states[same], types[same]))
            order = _alert_order(group, previous)
            for position, local in enumerate(order):
                row = same[local]
                state, state_type = group[local]
                if state in RECOVERED:
                    attempts[row], soft, hard = max(soft, 1) if state_type == "SOFT" else 1, 0, 0
                elif state_type == "SOFT":
                    soft += 1
                    attempts[row] = soft
                else:
                    hard = hard or soft + 1
                    attempts[row] = hard
                seconds[row] = position * 60 // len(order)
                rank[row] = position
                previous = state
    return alerts.assign(second=seconds, rank=rank, attempt=attempts)


def counts_to_events(counts: pd.DataFrame, prefix: str = "nagios") -> pd.DataFrame:
    """[path, minute, count] rows of Graphite into an events frame (one row per counted line)."""
    root_levels = len(metric_prefix(prefix).split(".")) + 4 if metric_prefix(prefix) else 4
    names = _split_paths(counts["path"], root_levels)
    rows = counts.merge(names, on="path", how="inner")
    rows = rows.loc[rows.index.repeat(rows["count"])].drop(columns=["count", "path"]).reset_index(drop=True)
    is_alert = rows["kind"].isin(ALERT_KINDS)
    alerts = _lay_out_alerts(rows[is_alert])
    others = rows[~is_alert].assign(attempt=0)
    # Other lines of an object go where they belong among its alerts: after the
    # minute's first HARD problem line (or at its start), recoveries at its end.
    key = ["node", "host", "service", "minute"]
    first_hard = (
        alerts[(alerts["state_type"] == "HARD") & ~alerts["state"].isin(RECOVERED)]
        .groupby(key)[["second", "rank"]]
        .min()
    )
    last = alerts.groupby(key)[["second", "rank"]].max().add_suffix("_last")
    late = others["state_type"].eq("RECOVERY") | others["state"].isin(["STOPPED", "CANCELLED"])
    others = others.join(first_hard, on=key).join(last, on=key)
    others["second"] = np.where(late, others["second_last"], others["second"]).astype(float)
    others["rank"] = np.where(late, others["rank_last"], others["rank"]).astype(float) + 0.5
    others = others.fillna({"second": 0, "rank": -0.5}).drop(columns=["second_last", "rank_last"])
    events = pd.concat([alerts, others], ignore_index=True)
    events["time"] = pd.to_datetime(events["minute"] + events["second"].astype("int64"), unit="s", utc=True).astype(
        "datetime64[ns, UTC]"
    )
    events = events.sort_values(["time", "node", "host", "service", "rank"], kind="stable").reset_index(drop=True)
    events["attempt"] = events["attempt"].where(events["kind"].isin(ALERT_KINDS)).astype("Int16")
    for column in ("contact", *EVENT_STRINGS):
        events[column] = ""
    events = events[EVENT_COLUMNS]
    return events.astype({c: "category" for c in EVENT_CATEGORIES} | {c: "string" for c in EVENT_STRINGS})


def load_events_from_graphite(
    url: str, since, until, prefix: str = "nagios", timeout: float = 60.0, nodes: list[str] | None = None
) -> pd.DataFrame:
    """Events between ``since`` and ``until`` from the what/when/where metrics in Graphite.

    :param url: the render API, e.g. ``http://graphite:8080``.
    :param since: start of the window (anything :class:`pandas.Timestamp` reads; naive means UTC).
    :param until: end of the window.
    :param prefix: the metric prefix ``nagtune collect`` was given.
    :param nodes: node paths to read (default: every node :func:`find_nodes` finds).
    :returns: an events frame with the analytics' columns; names are metric-safe.
    """
    start, end = _epoch(since), _epoch(until)
    frames = [fetch_counts(url, node, since, until, timeout) for node in (nodes or find_nodes(url, prefix, timeout))]
    counts = pd.concat(frames, ignore_index=True) if frames else _no_counts()
    counts = counts[(counts["minute"] >= start - start % 60) & (counts["minute"] < end)]
    events = counts_to_events(counts, prefix)
    events.attrs["source"] = f"graphite:{url}"
    return events


# ---------------------------------------------------------------- perfdata series

PERFDATA_PATTERN = "perfdata.{host}.{service}.{label}"
_FIELDS = ("node", "host", "service", "label")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def loose_name(text: str) -> str:
    """The form two names are matched in when a shipper sanitized one of them:
    lower case, every run of other characters one ``_`` (``Disk Space /var`` and
    ``Disk_Space__var`` both give ``disk_space_var``)."""
    return _NOT_WORD.sub("_", str(text).lower()).strip("_")


def check_pattern(pattern: str) -> list[str]:
    """The levels of a perfdata series pattern; ValueError, saying how to write it, if it is not one."""
    levels = pattern.split(".")
    fields = [level[1:-1] for level in levels if level.startswith("{") and level.endswith("}")]
    unknown = [f for f in fields if f not in _FIELDS]
    missing = [f for f in ("host", "service", "label") if fields.count(f) != 1]
    if (
        unknown
        or missing
        or any(
            ("{" in level or "}" in level or "*" in level) and not (level.startswith("{") and level.endswith("}"))
            for level in levels
        )
    ):
        raise ValueError(
            f"perfdata pattern {pattern!r}: each of {{host}}, {{service}}, {{label}} (and optionally "
            f"{{node}}) must be one whole level, once, e.g. {PERFDATA_PATTERN!r}"
        )
    return levels


def load_perfdata_from_graphite(
    url: str, since, until, events: pd.DataFrame, pattern: str = PERFDATA_PATTERN, timeout: float = 60.0
) -> pd.DataFrame:
    """Values the checks reported, from perfdata series in Graphite, for the threshold retunes.

    :param pattern: where the series are, one level per name:
        ``{host}``, ``{service}``, ``{label}`` and optionally ``{node}``,
        e.g. ``nagios.{host}.{service}.{label}`` (graphios with a prefix).
    :param events: the log events of the same window. Shippers sanitize names
        (``Disk_Space_var``): each series is matched to the one service of the
        events with the same :func:`loose_name` host and service (and node);
        its ``state`` is that service's state when the value was reported.
    :returns: ``VALUE_COLUMNS`` (``label`` as the series names it, ``uom``
        empty); ``attrs["unmatched"]`` lists the series paths
        that matched no service, or more than one (names that collide once
        sanitized are never guessed).
    """
    levels = check_pattern(pattern)
    target = ".".join("*" if level.startswith("{") else level for level in levels)
    position = {level[1:-1]: index for index, level in enumerate(levels) if level.startswith("{")}
    # Graphite stamps a value at its minute's start, and from is exclusive: a check
    # at 12:00:40 is at 12:00:00, so ask from the minute of `since`.
    start = _epoch(since)
    params = [
        ("target", target),
        ("format", "json"),
        ("from", str(start - start % 60 - 1)),
        ("until", str(_epoch(until))),
    ]
    series = _get(url, "/render", params, timeout, flag="--perfdata-graphite")
    alerts = events[events["kind"] == "service_alert"]
    # Every service the log names (state snapshots list the ones that never alert).
    services = events[["node", "host", "service"]].drop_duplicates().astype(str)
    services = services[services["service"].str.len() > 0]
    candidates: dict[tuple, list[tuple[str, str, str]]] = {}
    for node, host, service in services.itertuples(index=False):
        key = (loose_name(host), loose_name(service)) + ((loose_name(node),) if "node" in position else ())
        candidates.setdefault(key, []).append((node, host, service))
    frames, unmatched = [], []
    for item in series:
        parts = item["target"].split(".")
        if len(parts) != len(levels):
            unmatched.append(item["target"])
            continue
        key = (loose_name(parts[position["host"]]), loose_name(parts[position["service"]])) + (
            (loose_name(parts[position["node"]]),) if "node" in position else ()
        )
        found = candidates.get(key, [])
        if len(found) != 1:
            unmatched.append(item["target"])
            continue
        points = np.array([(t, v) for v, t in item["datapoints"] if v is not None], dtype=float).reshape(-1, 2)
        if len(points):
            node, host, service = found[0]
            stamps = [t for _, t in item["datapoints"]]
            step = int(min(np.diff(stamps))) if len(stamps) > 1 else 60
            frames.append(
                pd.DataFrame(
                    {
                        "time": points[:, 0].astype(np.int64),
                        "node": node,
                        "host": host,
                        "service": service,
                        "label": parts[position["label"]],
                        "value": points[:, 1],
                        "_last_second": points[:, 0] + step - 1,
                    }
                )
            )
    values = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                "time": pd.Series(dtype="int64"),
                "node": "",
                "host": "",
                "service": "",
                "label": "",
                "value": pd.Series(dtype=float),
                "_last_second": pd.Series(dtype=float),
            }
        )
    )
    values["state"] = _state_at(values, alerts)
    values["uom"] = ""
    values["time"] = pd.to_datetime(values["time"], unit="s", utc=True).astype("datetime64[ns, UTC]")
    for column in ("node", "host", "service", "state", "label", "uom"):
        values[column] = values[column].astype("category")
    values = values.sort_values(["node", "host", "service", "label", "time"], kind="stable")[VALUE_COLUMNS]
    values = values.reset_index(drop=True)
    values.attrs["unmatched"] = sorted(unmatched)
    return values


def _state_at(values: pd.DataFrame, alerts: pd.DataFrame) -> np.ndarray:
    """The state of each value's service when it was reported (OK before its first alert).

    Graphite keeps one value per step (a minute), stamped at the step's start;
    the check that reported it is the last one in the step, so the state is
    the one in force at the step's last second.
    """
    if values.empty:
        return np.array([], dtype=object)
    key = ["node", "host", "service"]
    left = (
        values[key]
        .astype(str)
        .assign(t=values["_last_second"].to_numpy().astype(np.int64), _row=np.arange(len(values)))
    )
    right = alerts[key].astype(str).assign(t=epoch_seconds(alerts["time"]), state=alerts["state"].astype(str))
    merged = pd.merge_asof(
        left.sort_values("t"), right.sort_values("t", kind="stable"), on="t", by=key, direction="backward"
    )
    states = np.empty(len(values), dtype=object)
    states[merged["_row"].to_numpy()] = merged["state"].fillna("OK").to_numpy()
    return states
