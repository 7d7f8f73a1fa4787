"""One call for everything: :func:`analyze` runs every stage and keeps the frames."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...parsers.logfiles import find_side_files, node_dirs  # noqa: F401 - node_dirs: API
from .._frames import (
    AUTOMATION_COLUMNS,
    BY_CELL_COLUMNS,
    CHATTY_COLUMNS,
    CHATTY_HOST_COLUMNS,
    CHATTY_HOST_SERVICE_COLUMNS,
    QUIET_COLUMNS,
    RETUNE_COLUMNS,
    empty,
    release_freed_memory,
)
from ..findings import automation, chatty, names, quiet, retry, retune
from ..findings import episodes as episodes_mod
from ..sources import ingest
from ..sources import objects as objects_mod
from ..sources.store import concat as store_concat


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
    # Why the window holds no event, and where the data is ("" when it holds some).
    empty_reason: str = ""


_CELL_KEYS = ["environment", "cell", "node_class"]


def cell_counts(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What :func:`summarize_by_cell` needs of the events, small enough to combine across partitions.

    :returns: (per node: identity, alerts, notifications; distinct
        identity × ``host\\0service`` of service alerts).
    """
    kind = events["kind"]
    counted = events[_CELL_KEYS + ["node"]].assign(
        alerts=kind.isin(["service_alert", "host_alert"]).to_numpy(),
        notifications=kind.isin(["service_notification", "host_notification"]).to_numpy(),
    )
    per_node = counted.groupby(_CELL_KEYS + ["node"], observed=True).sum().reset_index()
    per_node = per_node.astype({k: "object" for k in _CELL_KEYS + ["node"]})
    # Distinct pairs first (on category codes), strings only for those.
    pairs = events.loc[(kind == "service_alert").to_numpy(), _CELL_KEYS + ["host", "service"]].drop_duplicates()
    services = pd.DataFrame({k: pairs[k].astype("object").to_numpy() for k in _CELL_KEYS}).assign(
        hs=pairs["host"].astype(str).to_numpy() + "\x00" + pairs["service"].astype(str).to_numpy()
    )
    return per_node, services


def summarize_by_cell(
    events: pd.DataFrame | None,
    episodes: pd.DataFrame,
    quiet_frame: pd.DataFrame,
    counts: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Alerts, notifications, episodes and quiet findings per environment, cell and node class.

    :param counts: :func:`cell_counts` of the events, when the events
        themselves are not at hand (the Dask engine combines them).
    """
    per_node, services = counts if counts is not None else cell_counts(events)
    keys = _CELL_KEYS
    if per_node.empty:
        return empty(BY_CELL_COLUMNS)
    g = per_node.groupby(keys, observed=True)
    base = g.agg(nodes=("node", "nunique"))
    base["services"] = services.groupby(keys, observed=True)["hs"].nunique()
    base["alerts"] = g["alerts"].sum()
    base["notifications"] = g["notifications"].sum()
    if not episodes.empty:
        ep = episodes.astype({k: "object" for k in keys})
        eg = ep.groupby(keys, observed=True)
        base["episodes"] = eg.size()
        base["hard_episodes"] = eg["hard"].sum()
        base["transient_share"] = eg["hard"].apply(lambda h: float((~h).mean()))
    if not quiet_frame.empty:
        q = quiet_frame.merge(per_node[["node", "environment"]].drop_duplicates(), on="node", how="left")
        base["quiet_findings"] = q.astype({k: "object" for k in keys}).groupby(keys, observed=True).size()
    base = base.reindex(columns=BY_CELL_COLUMNS[3:])
    numbers = ["nodes", "services", "alerts", "notifications", "episodes", "hard_episodes", "quiet_findings"]
    base[numbers] = base[numbers].fillna(0).astype("int64")
    base["transient_share"] = base["transient_share"].astype(float).fillna(0.0)
    return base.reset_index()[BY_CELL_COLUMNS]


RETUNE_TOP = 20  # retune suggestions for the chattiest host/services, as suggest_retunes' default


@dataclass
class Part:
    """The analysis of one partition of the events (a node's window, or all of them).

    Everything in it depends only on the partition's own events plus the two
    numbers every partition is given (``window_end``, ``weeks``), which is why
    :func:`combine` of the parts of any split by node equals the analysis of
    the whole.
    """

    episodes: pd.DataFrame
    chatty: pd.DataFrame
    chatty_host_service: pd.DataFrame
    quiet: pd.DataFrame
    retunes: pd.DataFrame  # for its own top ``retune_top`` chatty host/services, and every faster-detection one
    names_seen: pd.DataFrame  # names.names_seen: first appearances per node
    automation: pd.DataFrame
    cell_counts: tuple


def analyze_part(
    events: pd.DataFrame, objects=None, perfdata=None, window_end=None, weeks=None, retune_top: int = RETUNE_TOP
) -> Part:
    """Every stage on one partition of the events (all nodes, or some whole nodes).

    :param window_end: where open problems end (the whole window's, not the part's).
    :param weeks: the whole window's length in weeks (rates per week).
    """
    episodes = episodes_mod.build_episodes(events, window_end=window_end)
    quiet_frame = quiet.find_quiet(events, episodes, objects=objects)
    ranked_host_service = chatty.rank_chatty(events, episodes, by="host_service", weeks=weeks)
    # Every part gives all its faster-detection rows (cheap: no replay over events);
    # combine chooses among them and the chatty ones (order_retunes).
    retunes = concat_frames(
        [
            retune.suggest_chatty_retunes(
                events,
                episodes,
                objects=objects,
                perfdata=perfdata,
                top=retune_top,
                weeks=weeks,
                window_end=window_end,
                ranked=ranked_host_service,
            )
            if retune_top
            else empty(RETUNE_COLUMNS),
            retry.suggest_faster_detection(events, episodes, objects=objects, perfdata=perfdata),
        ]
    )
    return Part(
        episodes=episodes,
        chatty=chatty.rank_chatty(events, episodes, by="service", weeks=weeks),
        chatty_host_service=ranked_host_service,
        quiet=quiet_frame,
        retunes=empty(RETUNE_COLUMNS) if retunes is None else retunes,
        names_seen=names.names_seen(events),
        automation=automation.automation_candidates(events, episodes),
        cell_counts=cell_counts(events),
    )


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The non-empty ``frames`` as one (categoricals unioned), or None when all are empty."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return store_concat(frames, list(frames[0].columns))


def _resort(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    return frame.sort_values(by, ascending=ascending, kind="stable").reset_index(drop=True)


def order_retunes(
    retunes: pd.DataFrame, ranked_host_service: pd.DataFrame, retune_top: int = RETUNE_TOP
) -> pd.DataFrame:
    """The suggestions of the global top ``retune_top`` host/services, in ranking
    order, then the ``retune_top`` faster-detection ones that gain most, for
    services without a suggestion (see :func:`.retry.add_to`)."""
    if not len(retunes):
        return retunes
    faster = retunes[retunes["directive"] == retry.DIRECTIVE]
    chatty_rows = retunes[retunes["directive"] != retry.DIRECTIVE]
    top = ranked_host_service.head(retune_top)
    position = {key: i for i, key in enumerate(zip(top["node"], top["host"], top["service"]))}
    rank = [
        position.get(key, -1)
        for key in zip(
            chatty_rows["node"].astype(str), chatty_rows["host"].astype(str), chatty_rows["service"].astype(str)
        )
    ]
    chatty_rows = chatty_rows.assign(_r=rank)
    chatty_rows = _resort(chatty_rows[chatty_rows["_r"] >= 0], ["_r"], [True]).drop(columns="_r")
    return retry.add_to(chatty_rows, faster, retune_top)


def combine(parts: list[Part], events: pd.DataFrame | None = None, retune_top: int = RETUNE_TOP) -> Analysis:
    """One :class:`Analysis` from the parts of a split by node (in node order).

    Tables are put back in the order each stage gives: the chatty ranking by
    score, quiet findings by kind and duration, retunes in ranking order,
    limited to the global top ``retune_top``.
    """

    def joined(attribute, fallback):
        frame = concat_frames([getattr(p, attribute) for p in parts])
        return fallback() if frame is None else frame

    chatty_keys = ["node_class", "cell", "node", "service"]
    hs_keys = ["node_class", "cell", "node", "host", "service"]
    ranked = joined("chatty", lambda: empty(CHATTY_COLUMNS))
    ranked = _resort(ranked, ["score"] + chatty_keys, [False] + [True] * len(chatty_keys))
    ranked_hs = joined("chatty_host_service", lambda: empty(CHATTY_HOST_SERVICE_COLUMNS))
    ranked_hs = _resort(ranked_hs, ["score"] + hs_keys, [False] + [True] * len(hs_keys))
    episodes = joined("episodes", episodes_mod.empty_episodes)
    quiet_frame = joined("quiet", lambda: empty(QUIET_COLUMNS))
    if len(parts) > 1 and len(quiet_frame):
        quiet_frame = quiet.sort_findings(quiet_frame)
    retunes = order_retunes(joined("retunes", lambda: empty(RETUNE_COLUMNS)), ranked_hs, retune_top)
    seen = joined("names_seen", lambda: pd.DataFrame(columns=["kind", "host", "service"]))
    automation_frame = joined("automation", lambda: empty(AUTOMATION_COLUMNS))
    if len(parts) > 1 and len(automation_frame):
        automation_frame = _resort(automation_frame, ["episodes", "node", "host", "service"], [False, True, True, True])
    per_node = concat_frames([p.cell_counts[0] for p in parts])
    services = concat_frames([p.cell_counts[1] for p in parts])
    counts = (
        per_node if per_node is not None else parts[0].cell_counts[0],
        services.drop_duplicates() if services is not None else parts[0].cell_counts[1],
    )
    by_cell = summarize_by_cell(None, episodes, quiet_frame, counts=counts)  # of every finding
    return Analysis(
        events=events,
        episodes=episodes,
        chatty=ranked,
        chatty_host_service=ranked_hs,
        quiet=quiet.cap_findings(quiet_frame),
        retunes=retunes,
        names=names.audit_names(seen.drop_duplicates()),
        automation=automation_frame,
        by_cell=by_cell,
    )


PROCESS_EVENTS = 1_000_000  # events from which analyze forks: below, a fork costs more than it saves


def node_shares(events: pd.DataFrame, shares: int) -> list[list[str]]:
    """The events' nodes in at most ``shares`` runs of consecutive names, balanced by events.

    Consecutive in name order, so the parts' tables put end to end are in the
    order one process gives (:func:`combine` keeps node order).
    """
    counts = events["node"].astype(str).value_counts().sort_index()
    nodes = len(counts)
    shares = max(1, min(shares, nodes))
    running = counts.cumsum().to_numpy()
    cuts: list[int] = []
    for share in range(1, shares):
        # After the node whose running total reaches share/shares of the events;
        # at least one node in each share, before and after.
        cut = int(np.searchsorted(running, running[-1] * share / shares)) + 1 if nodes else 0
        cuts.append(min(max(cut, cuts[-1] + 1 if cuts else 1), nodes - (shares - share)))
    return [list(part) for part in np.split(counts.index.to_numpy(dtype=object), cuts) if len(part)]


def default_analysis_processes(events: pd.DataFrame | None) -> int:
    """Processes for :func:`analyze` (and the report's plots) on ``events``: one per core
    (at most 4) from ``PROCESS_EVENTS`` events where fork is there, else 1."""
    from .parallel import can_fork, cores

    if events is None or len(events) < PROCESS_EVENTS or not can_fork():
        return 1
    return cores()


def _analyze_nodes(events: pd.DataFrame, nodes: list[str], **options) -> Part:
    return analyze_part(events[events["node"].isin(nodes)].reset_index(drop=True), **options)


def analyze(
    paths_or_events,
    since=None,
    until=None,
    objects=None,
    perfdata=None,
    cache_dir=None,
    retune_top: int = RETUNE_TOP,
    processes: int | None = None,
) -> Analysis:
    """Run every stage on log paths (node dirs, parents, files, globs) or an events frame.

    :param objects: an objects frame, a path to ``objects.cache``, or None to
        look for ``objects.cache`` in the node directories.
    :param perfdata: a perfdata frame, a path, or None to look for
        ``service-perfdata.log`` in the node directories.
    :param retune_top: retune suggestions for this many of the chattiest
        host/services, and at most this many faster-detection ones.
    :param processes: the stages run in this many forked processes, each on a
        share of whole nodes (:func:`node_shares`), the events staying here;
        default one per core (at most 4) from ``PROCESS_EVENTS`` events, else 1.
        The tables are those of one process (``tests/test_analytics_parallel.py``).
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
    shares = node_shares(events, default_analysis_processes(events) if processes is None else processes)
    if len(shares) <= 1:
        return combine(
            [analyze_part(events, objects=objects, perfdata=perfdata, window_end=window_end, retune_top=retune_top)],
            events=events,
            retune_top=retune_top,
        )
    from . import parallel

    # Each share ranks its own top ``retune_top`` for replays: the global top is among them
    # (a share's ranking is the global one restricted to its nodes); combine picks it.
    options = dict(objects=objects, perfdata=perfdata, window_end=window_end, retune_top=retune_top)
    parts = parallel.forked_map(
        [functools.partial(_analyze_nodes, events, nodes, **options) for nodes in shares],
        [f"the analysis of nodes {nodes[0]}..{nodes[-1]}" for nodes in shares],
    )
    return combine(parts, events=events, retune_top=retune_top)


def _logs_table(
    name: str,
    parameters: dict,
    stage,
    join,
    paths,
    since,
    until,
    cache_dir,
    environment: str,
    cell_pattern: str,
    processes,
    progress,
    side_files=(),
    texts: bool = True,
) -> pd.DataFrame:
    """One table over the logs under ``paths``: kept from an earlier run over the very same
    inputs, or made by ``stage(events, window)`` per group of whole nodes and put together
    by ``join(results)`` (see :func:`rank_logs`)."""
    from . import parallel, results_cache

    since, until = ingest.window_bounds(since, until)
    targets = ingest.resolve_paths(paths)
    digest = (
        results_cache.key(
            name,
            {**parameters, "environment": environment, "cell_pattern": cell_pattern},
            targets,
            side_files,
            since=since,
            until=until,
        )
        if cache_dir
        else None
    )
    cached = results_cache.read(cache_dir, digest) if digest else None
    if cached is not None:
        return cached
    results, counts = parallel.map_node_groups(
        targets,
        stage,
        since=since,
        until=until,
        cache_dir=cache_dir,
        environment=environment,
        cell_pattern=cell_pattern,
        processes=processes,
        progress=progress,
        texts=texts,
    )
    table = join(results)
    if digest:
        results_cache.write(cache_dir, digest, table)
    # What was read, for the caller to say (nagtune.analytics.coverage): small numbers only.
    table.attrs["read"] = {
        key: value for key, value in counts.items() if value is None or isinstance(value, (int, float, np.integer))
    }
    return table


def _concatenated(resort, empty_table):
    """A ``join`` for stages that give parts of one table: end to end, re-sorted when several."""

    def join(tables: list[pd.DataFrame]) -> pd.DataFrame:
        table = concat_frames(tables)
        return empty_table() if table is None else resort(table) if len(tables) > 1 else table

    return join


def _without_texts(events: pd.DataFrame) -> pd.DataFrame:
    """The events without their texts: a third of their memory, read by neither the episodes,
    the ranking nor the quiet findings.

    Dropped from ``events`` itself, which the stage owns (it is handed the only
    reference), so the texts are freed *before* the memory is handed back: a
    copy without them would leave them alive in the caller's name until it
    returned, after the trim, and a worker's episodes would start 200 MB higher.
    """
    for column in ingest.TEXT_COLUMNS:
        if column in events:  # read with texts=False, they never were
            del events[column]
    release_freed_memory()
    return events


def rank_logs(
    paths,
    by: str = "service",
    since=None,
    until=None,
    cache_dir=None,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    processes: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The chatty ranking of the logs under ``paths``: what ``nagtune rank`` prints.

    The same table as :func:`.chatty.rank_chatty` over :func:`.ingest.load_events`
    and :func:`.episodes.build_episodes`, made faster two ways:

    - big inputs are split into groups of whole nodes, each read and ranked in
      its own process (:func:`.parallel.map_node_groups`; ``processes=1``
      keeps everything here);
    - with ``cache_dir``, each group keeps its ingest cache there, and the
      table itself is kept under a key of every input file's identity, the
      window, the parameters and the code (:mod:`.results_cache`): a re-run
      over unchanged logs reads it back.

    :param by: ``"service"`` or ``"host_service"`` (hosts ranked among them:
        ``object == "host"``), or ``"host"`` (hosts only).
    :param progress: a progress bar over the bytes read (one process only).
    """
    if by not in ("service", "host_service", "host"):
        raise ValueError(f"by must be 'service', 'host_service' or 'host', not {by!r}")
    keys = (
        ["node_class", "cell", "node"] + (["host"] if by != "service" else []) + (["service"] if by != "host" else [])
    )
    columns = {"service": CHATTY_COLUMNS, "host_service": CHATTY_HOST_SERVICE_COLUMNS, "host": CHATTY_HOST_COLUMNS}[by]

    def stage(events: pd.DataFrame, window) -> pd.DataFrame:
        events = _without_texts(events)
        found = episodes_mod.build_episodes(
            events, window_end=window.end, columns=chatty.EPISODE_COLUMNS_READ, categorical_names=True
        )
        # Rates per each node's own span of data (chatty.hours_per_node), not the window's.
        return chatty.rank_chatty(events, found, by=by, include_hosts=True)

    return _logs_table(
        "rank",
        {"by": by},
        stage,
        _concatenated(
            lambda table: _resort(table, ["score"] + keys, [False] + [True] * len(keys)), lambda: empty(columns)
        ),
        paths,
        since,
        until,
        cache_dir,
        environment,
        cell_pattern,
        processes,
        progress,
        texts=False,
    )


def quiet_logs(
    paths,
    since=None,
    until=None,
    objects=None,
    cache_dir=None,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    processes: int | None = None,
    progress: bool = False,
    cap: int | None = quiet.CAP_PER_FINDING,
) -> pd.DataFrame:
    """What ``nagtune quiet`` prints: :func:`.quiet.find_quiet` over the logs under ``paths``,
    in worker processes and with the results cache as :func:`rank_logs`.

    :param objects: an objects frame, a path to ``objects.cache``, or None to look for
        ``objects.cache`` in the node directories (its identity is part of the cache key).
    :param cap: findings of each kind shown, the rest summarised (:func:`.quiet.cap_findings`);
        None: all.
    """
    objects, side_files = _side_input(objects, paths, "objects.cache", objects_mod.load_objects)
    if side_files is None and cache_dir is not None:
        raise ValueError("quiet_logs: give objects as paths (or None) with a cache_dir: a frame has no identity")

    def stage(events: pd.DataFrame, window) -> pd.DataFrame:
        events = _without_texts(events)
        found = episodes_mod.build_episodes(events, window_end=window.end)
        return quiet.find_quiet(events, found, objects=objects)

    joined = _concatenated(quiet.sort_findings, lambda: empty(QUIET_COLUMNS))

    def join(tables: list[pd.DataFrame]) -> pd.DataFrame:
        return quiet.cap_findings(joined(tables), cap)

    return _logs_table(
        "quiet",
        {"cap": cap},
        stage,
        join,
        paths,
        since,
        until,
        cache_dir,
        environment,
        cell_pattern,
        processes,
        progress,
        side_files or [],
        texts=False,
    )


def _side_input(given, paths, name: str, load):
    """(frame or None, files whose identity keys the results) for an optional side input:
    given as a frame, as paths, or None to look for ``name`` in the node directories."""
    if given is None:
        files = find_side_files(paths, name)
        return (load(files) if files else None), files
    if isinstance(given, (str, os.PathLike, list, tuple)):
        files = [str(given)] if isinstance(given, (str, os.PathLike)) else [str(f) for f in given]
        return load(given), files
    return given, None


def node_configs(paths, nagios_cfg=None) -> dict:
    """The ``nagios.cfg`` of each node directory of ``paths`` by node name, or the one
    ``nagios_cfg`` given for every node (:class:`..sources.nagios_cfg.NagiosConfig`)."""
    from ..sources import nagios_cfg as cfg_mod

    if nagios_cfg is not None:
        config = nagios_cfg if isinstance(nagios_cfg, cfg_mod.NagiosConfig) else cfg_mod.load_nagios_cfg(nagios_cfg)
        return {os.path.basename(os.path.abspath(d)): config for d in node_dirs(paths)} | {None: config}
    return {
        os.path.basename(os.path.abspath(d)): cfg_mod.load_nagios_cfg(os.path.join(d, "nagios.cfg"))
        for d in node_dirs(paths)
        if os.path.isfile(os.path.join(d, "nagios.cfg"))
    }


def configured_perfdata_files(configs: dict) -> dict:
    """Node name -> the ``service_perfdata_file`` its nagios.cfg names, where that file exists."""
    return {
        node: config.perfdata_file
        for node, config in configs.items()
        if node is not None and config.perfdata_file and os.path.isfile(config.perfdata_file)
    }


def load_node_perfdata(files_by_node: dict) -> pd.DataFrame | None:
    """Perfdata files, each read as its node's (whatever the file's name or directory)."""
    frames = []
    for node, path in files_by_node.items():
        frame = ingest.load_perfdata(path)
        frame["node"] = pd.Categorical([node] * len(frame))
        frames.append(frame)
    return concat_frames(frames)


def retune_logs(
    paths,
    since=None,
    until=None,
    objects=None,
    perfdata=None,
    top: int = RETUNE_TOP,
    cache_dir=None,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    processes: int | None = None,
    progress: bool = False,
    nagios_cfg=None,
) -> pd.DataFrame:
    """What ``nagtune retune`` prints: :func:`.retune.suggest_retunes` over the logs under
    ``paths``, in worker processes and with the results cache as :func:`rank_logs`.

    Each group of nodes replays its own ``top`` chattiest host/services (the
    global top is among them: a group's ranking is the global one restricted to
    its nodes) and all its faster-detection rows; :func:`order_retunes` keeps
    the global top's in ranking order, then the ``top`` faster-detection ones.

    :param objects, perfdata: frames, paths, or None to look for ``objects.cache``
        and ``service-perfdata.log`` in the node directories (their identity is
        part of the cache key; a frame has none, so not with a ``cache_dir``);
        without ``service-perfdata.log``, the ``service_perfdata_file`` each
        node's ``nagios.cfg`` names.
    :param nagios_cfg: a ``nagios.cfg`` for every node; None: each node
        directory's own, else Nagios' defaults (said in the suggestions).
    """
    configs = node_configs(paths, nagios_cfg)
    objects, object_files = _side_input(objects, paths, "objects.cache", objects_mod.load_objects)
    perfdata, perf_files = _side_input(perfdata, paths, "service-perfdata.log", ingest.load_perfdata)
    if perfdata is None and configured_perfdata_files(configs):
        by_node = configured_perfdata_files(configs)
        perfdata, perf_files = load_node_perfdata(by_node), sorted(by_node.values())
    config_files = sorted({config.path for config in configs.values() if config.path})
    if cache_dir is not None and (object_files is None or perf_files is None):
        raise ValueError(
            "retune_logs: give objects and perfdata as paths (or None) with a cache_dir: a frame has no identity"
        )
    hs_keys = ["node_class", "cell", "node", "host", "service"]

    def stage(events: pd.DataFrame, window):
        found = episodes_mod.build_episodes(events, window_end=window.end)
        ranked = chatty.rank_chatty(events, found, by="host_service", top=top, weeks=window.weeks)
        return ranked, concat_frames(
            [
                retune.suggest_chatty_retunes(
                    events,
                    found,
                    objects=objects,
                    perfdata=perfdata,
                    top=top,
                    weeks=window.weeks,
                    window_end=window.end,
                    ranked=ranked,
                    config=configs,
                ),
                retry.suggest_faster_detection(events, found, objects=objects, perfdata=perfdata, config=configs),
            ]
        )

    def join(results) -> pd.DataFrame:
        suggestions = concat_frames([found for _, found in results if found is not None])
        if suggestions is None:
            return empty(RETUNE_COLUMNS)
        ranked = concat_frames([ranked for ranked, _ in results])
        ranked = (
            empty(CHATTY_HOST_SERVICE_COLUMNS)
            if ranked is None
            else _resort(ranked, ["score"] + hs_keys, [False] + [True] * len(hs_keys))
        )
        return order_retunes(suggestions, ranked, top).reset_index(drop=True)

    return _logs_table(
        "retune",
        {"top": top},
        stage,
        join,
        paths,
        since,
        until,
        cache_dir,
        environment,
        cell_pattern,
        processes,
        progress,
        [*(object_files or []), *(perf_files or []), *config_files],
    )


def names_logs(
    paths,
    since=None,
    until=None,
    cache_dir=None,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    processes: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """What ``nagtune names`` prints: :func:`.names.audit_names` over the logs under ``paths``.
    Each group of whole nodes gives its distinct names in log order; collisions are found per
    node, as each node's collector names them, in worker processes and with
    the results cache as :func:`rank_logs`."""

    def stage(events: pd.DataFrame, window) -> pd.DataFrame:
        return names.names_seen(events)

    def join(seen: list[pd.DataFrame]) -> pd.DataFrame:
        frame = concat_frames(seen)
        return names.audit_names(None if frame is None else frame.drop_duplicates())

    return _logs_table(
        "names",
        {},
        stage,
        join,
        paths,
        since,
        until,
        cache_dir,
        environment,
        cell_pattern,
        processes,
        progress,
        texts=False,
    )
