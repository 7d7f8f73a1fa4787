"""One call for everything: :func:`analyze` runs every stage and keeps the frames."""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import pandas as pd

from . import automation, chatty, episodes as episodes_mod, ingest, names, objects as objects_mod
from . import quiet, retune
from ._frames import BY_CELL_COLUMNS, empty


@dataclass
class Analysis:
    """Every frame of one analysis; see docs/analytics.md for the columns."""

    events: pd.DataFrame  # one row per parsed log line
    episodes: pd.DataFrame  # one row per problem of a host or service
    chatty: pd.DataFrame  # too chatty, per node and service, by score
    chatty_host_service: pd.DataFrame  # too chatty, per node, host and service
    quiet: pd.DataFrame  # not chatty enough: one row per finding
    retunes: pd.DataFrame  # one replayed change per flagged service
    names: pd.DataFrame  # proposed metric names and collisions
    automation: pd.DataFrame  # recurring problems, acked problems that fixed themselves
    by_cell: pd.DataFrame  # summary per environment, cell and node class


def _node_dirs(paths) -> list[str]:
    """Directories among ``paths`` (globs expanded) that hold one node's files."""
    found = []
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else list(paths):
        for item in sorted(glob.glob(str(path))) or [str(path)]:
            if not os.path.isdir(item):
                continue
            if ingest.is_node_dir(item):
                found.append(item)
            else:
                found.extend(os.path.join(item, name) for name in sorted(os.listdir(item))
                             if ingest.is_node_dir(os.path.join(item, name)))
    return found


def find_side_files(paths, name: str) -> list[str]:
    """``objects.cache`` or ``service-perfdata.log`` files in the node directories of ``paths``."""
    return [os.path.join(d, name) for d in _node_dirs(paths) if os.path.isfile(os.path.join(d, name))]


def summarize_by_cell(events: pd.DataFrame, episodes: pd.DataFrame, quiet_frame: pd.DataFrame) -> pd.DataFrame:
    """Alerts, notifications, episodes and quiet findings per environment, cell and node class."""
    keys = ["environment", "cell", "node_class"]
    if events.empty:
        return empty(BY_CELL_COLUMNS)
    ev = events[keys + ["node", "kind", "host", "service"]].astype({k: "object" for k in keys})
    alerts = ev["kind"].isin(["service_alert", "host_alert"])
    notes = ev["kind"].isin(["service_notification", "host_notification"])
    base = ev.groupby(keys, observed=True).agg(nodes=("node", "nunique"))
    svc = ev[ev["kind"] == "service_alert"].assign(
        hs=lambda f: f["host"].astype(str) + "\x00" + f["service"].astype(str))
    base["services"] = svc.groupby(keys, observed=True)["hs"].nunique()
    base["alerts"] = ev[alerts].groupby(keys, observed=True).size()
    base["notifications"] = ev[notes].groupby(keys, observed=True).size()
    if not episodes.empty:
        ep = episodes.astype({k: "object" for k in keys})
        g = ep.groupby(keys, observed=True)
        base["episodes"] = g.size()
        base["hard_episodes"] = g["hard"].sum()
        base["transient_share"] = g["hard"].apply(lambda h: float((~h).mean()))
    if not quiet_frame.empty:
        q = quiet_frame.merge(ev[["node", "environment"]].drop_duplicates(), on="node", how="left")
        base["quiet_findings"] = q.astype({k: "object" for k in keys}).groupby(keys, observed=True).size()
    base = base.reindex(columns=BY_CELL_COLUMNS[3:])
    counts = ["nodes", "services", "alerts", "notifications", "episodes", "hard_episodes", "quiet_findings"]
    base[counts] = base[counts].fillna(0).astype("int64")
    base["transient_share"] = base["transient_share"].astype(float).fillna(0.0)
    return base.reset_index()[BY_CELL_COLUMNS]


def analyze(paths_or_events, since=None, until=None, objects=None, perfdata=None,
            cache_dir=None) -> Analysis:
    """Run every stage on log paths (node dirs, parents, files, globs) or an events frame.

    :param objects: an objects frame, a path to ``objects.cache``, or None to
        look for ``objects.cache`` in the node directories.
    :param perfdata: a perfdata frame, a path, or None to look for
        ``service-perfdata.log`` in the node directories.
    """
    paths = None
    if isinstance(paths_or_events, pd.DataFrame):
        events = paths_or_events
        if since is not None or until is not None:
            events = ingest.window(events, since, until)
    else:
        paths = paths_or_events
        events = ingest.load_events(paths, since=since, until=until, cache_dir=cache_dir)
    if objects is None and paths is not None:
        files = find_side_files(paths, "objects.cache")
        objects = objects_mod.load_objects(files) if files else None
    elif isinstance(objects, (str, os.PathLike, list, tuple)):
        objects = objects_mod.load_objects(objects)
    if perfdata is None and paths is not None:
        files = find_side_files(paths, "service-perfdata.log")
        perfdata = ingest.load_perfdata(files) if files else None
    elif isinstance(perfdata, (str, os.PathLike, list, tuple)):
        perfdata = ingest.load_perfdata(perfdata)
    window_end = ingest.window_end(events, until)
    episodes = episodes_mod.build_episodes(events, window_end=window_end)
    quiet_frame = quiet.find_quiet(events, episodes)
    return Analysis(
        events=events,
        episodes=episodes,
        chatty=chatty.rank_chatty(events, episodes, by="service"),
        chatty_host_service=chatty.rank_chatty(events, episodes, by="host_service"),
        quiet=quiet_frame,
        retunes=retune.suggest_retunes(events, episodes, objects=objects, perfdata=perfdata),
        names=names.audit_names(events),
        automation=automation.automation_candidates(events, episodes),
        by_cell=summarize_by_cell(events, episodes, quiet_frame),
    )
