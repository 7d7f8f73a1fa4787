"""``nagtune rank | quiet | retune | names``: thin click commands over nagtune.analytics."""

from __future__ import annotations

import json

import click

from .options import perfdata_graphite, perfdata_graphite_options


def _common(function):
    options = [
        click.argument("paths", nargs=-1, metavar="PATHS..."),
        click.option(
            "--since",
            default=None,
            metavar="WHEN",
            help="Only events at or after WHEN: 7d, 12h, 2w (before --until when given, else before now), "
            "an ISO date or an epoch.",
        ),
        click.option("--until", default=None, metavar="WHEN", help="Only events before WHEN (same forms as --since)."),
        click.option("--top", type=click.IntRange(min=1), default=None, help="Show the first N rows only."),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["table", "csv", "json"]),
            default="table",
            show_default=True,
            help="Output format.",
        ),
        click.option(
            "--cache-dir",
            default=None,
            metavar="DIR",
            help="Parquet cache of parsed logs; a re-run reads only what is new.",
        ),
        click.option("--environment", default="default", show_default=True, help="Environment of the nodes."),
        click.option(
            "--store",
            "store_dir",
            default=None,
            metavar="DIR",
            help="Read events from a store made by `nagtune ingest` instead of PATHS.",
        ),
        click.option(
            "--engine",
            type=click.Choice(["pandas", "dask"]),
            default="pandas",
            show_default=True,
            help="pandas: one process; dask: one task per node on a Dask cluster (needs --store).",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="A running dask.distributed scheduler (tcp://host:8786); default: a local cluster.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes: of the local Dask cluster, or (rank, quiet, retune, names) reading PATHS, a group of "
            "whole nodes each. [default: cores, at most 4; for PATHS only when there is over "
            "256 MB to read]",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _check_window(since, until):
    """(start, end) of the window asked, either None; an inverted or empty window is a usage error."""
    from .analytics.sources import ingest

    try:
        start, end = ingest.window_bounds(since, until)
    except ingest.IngestError as exc:
        raise click.ClickException(f"{exc} (--since/--until)") from None
    if start is not None and end is not None and start >= end:
        raise click.UsageError(
            f"--since {since} ({start:%Y-%m-%d %H:%M} UTC) is not before --until {until} "
            f"({end:%Y-%m-%d %H:%M} UTC): the window is empty"
        )
    return start, end


def _say_what_was_read(table, paths, since, until, rates: bool = False) -> None:
    """One line each on stderr: files and lines read, what could not be, data found vs window asked.
    A log of which no line could be read is an error; an empty table says where the data is."""
    from .analytics.sources import coverage
    from .parsers.logfiles import LogPathError, resolve_paths

    counts = table.attrs.get("read")
    start, end = _check_window(since, until)
    if counts is None:
        click.echo("nagtune: the table of an earlier run over the same files and window (--cache-dir)", err=True)
        return
    try:
        files = [path for _, path in resolve_paths(list(paths))] if counts.get("unparsed") else []
    except LogPathError:
        files = []
    said = coverage.lines(counts, start, end, files, rates=rates)
    if coverage.all_unreadable(counts):
        raise click.ClickException(
            "no line could be read: " + "; ".join(said[1:2]).replace("line(s) unparsed", "line(s), none parsed")
        )
    for line in said:
        click.echo(f"nagtune: {line}", err=True)
    if len(table) == 0:
        table.attrs["empty_reason"] = coverage.empty_reason(counts, start, end)
        click.echo(f"nagtune: {table.attrs['empty_reason']}", err=True)
    elif rates and counts.get("first") is not None:
        # Over the table too: a reader of the table alone must know what the rates are per.
        table.attrs["header"] = coverage.rates_text(counts, start, end)


def _events(paths, since, until, cache_dir, environment):
    from .analytics.sources import ingest

    _check_window(since, until)
    try:
        return ingest.load_events(
            list(paths), since=since, until=until, cache_dir=cache_dir, progress=True, environment=environment
        )
    except ingest.IngestError as exc:
        raise click.ClickException(str(exc)) from None


def _from_store(paths, store_dir, engine, scheduler, workers, since, until, table: str):
    """One table of the analysis of a store (pandas or Dask), or None when reading PATHS instead."""
    if engine == "dask" and not store_dir:
        raise click.UsageError(
            "--engine dask reads a store: run `nagtune ingest PATHS --store DIR` first, then give --store DIR"
        )
    if not store_dir:
        if not paths:
            raise click.UsageError("give PATHS (node directories, log files) or --store DIR")
        return None
    if paths:
        raise click.UsageError("give PATHS or --store DIR, not both")
    _check_window(since, until)
    from .analytics.run import engine as engine_mod
    from .analytics.sources import ingest, store

    try:
        analysis = engine_mod.analyze_store(
            store_dir, since=since, until=until, engine=engine, scheduler=scheduler, workers=workers
        )
    except (engine_mod.EngineError, store.StoreError, ingest.IngestError) as exc:
        raise click.ClickException(str(exc)) from None
    frame = getattr(analysis, table)
    if table in ("chatty", "chatty_host_service"):
        # The store's analysis (pandas or Dask, which keeps no events here) ranks services only.
        click.echo(
            "nagtune: from a store, services are ranked without the hosts; give PATHS to rank hosts too", err=True
        )
    _say_what_the_store_held(store_dir, analysis, frame, since, until)
    return frame


def _say_what_the_store_held(store_dir, analysis, frame, since, until) -> None:
    """The store's counterpart of :func:`_say_what_was_read`: events in the window, the span the
    store holds, and where its data is when the table is empty."""
    from .analytics.sources import coverage, store

    start, end = _check_window(since, until)
    events = getattr(analysis, "events", None)
    held = f"nagtune: read the event store {store_dir}" + (
        "" if events is None else f": {len(events):,} event(s) in the window"
    )
    click.echo(held, err=True)
    where = store.span_text(store_dir)
    click.echo(f"nagtune: {where}; {coverage.window_text(start, end)}", err=True)
    if len(frame) == 0:
        frame.attrs["empty_reason"] = f"nothing to show in the window: {where}"
        click.echo(f"nagtune: {frame.attrs['empty_reason']}", err=True)


def _emit(frame, output_format: str, top=None) -> None:
    click.get_text_stream("stdout").write(_render(frame, output_format, top))


def _render(frame, output_format: str, top=None) -> str:
    import io

    import pandas as pd

    if top is not None:
        frame = frame.head(top)
    frame = frame.copy()
    frame.attrs = dict(frame.attrs)
    for column in frame.columns:
        if pd.api.types.is_timedelta64_dtype(frame[column]):
            frame[column] = (
                frame[column].dt.total_seconds()
                if output_format != "table"
                else frame[column].map(lambda d: "" if pd.isna(d) else str(d).replace("0 days ", ""))
            )
    if output_format == "csv":
        out = io.StringIO()
        frame.to_csv(out, index=False)
        return out.getvalue()
    if output_format == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        return json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    if frame.empty:
        return f"({frame.attrs.get('empty_reason', 'nothing found')})\n"
    header = f"({frame.attrs['header']})\n" if frame.attrs.get("header") else ""
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        return header + frame.to_string(index=False) + "\n"


def _kept_or_made(
    command: str,
    options: dict,
    paths,
    since,
    until,
    cache_dir,
    environment,
    output_format,
    top,
    make_table,
    side_files: tuple[str, ...] = (),
) -> None:
    """Print what ``make_table()`` gives, or what an earlier run printed over the very same
    logs, window, options and code (analytics/run/results_cache.py), found without importing pandas.
    ``side_files``: names of files in the node directories the table reads too (their identity is keyed)."""
    from .analytics.run import results_cache
    from .parsers.logfiles import LogPathError, find_side_files, resolve_paths

    kept_key = None
    if cache_dir and not any(results_cache.moves_with_the_clock(when) for when in (since, until)):
        try:
            targets = resolve_paths(list(paths))
        except LogPathError as exc:
            raise click.ClickException(str(exc)) from None
        found = [path for name in side_files for path in find_side_files(list(paths), name)]
        kept_key = results_cache.key(
            f"{command} output",
            {**options, "environment": environment, "top": top, "format": output_format},
            targets,
            found,
            since=since,
            until=until,
        )
        kept = results_cache.read_text(cache_dir, kept_key)
        if kept is not None:
            click.echo(
                "nagtune: the output of an earlier run over the very same files, window and options (--cache-dir)",
                err=True,
            )
            click.get_text_stream("stdout").write(kept)
            return
    from .analytics.run.parallel import WorkerDied
    from .analytics.sources import ingest

    _check_window(since, until)
    try:
        table = make_table()
    except (ingest.IngestError, WorkerDied) as exc:
        raise click.ClickException(str(exc)) from None
    _say_what_was_read(table, paths, since, until, rates=command in ("rank", "retune"))
    text = _render(table, output_format, top)
    if kept_key:
        results_cache.write_text(cache_dir, kept_key, text)
    click.get_text_stream("stdout").write(text)


@click.command()
@_common
@click.option(
    "--by",
    type=click.Choice(["service", "host_service", "host"]),
    default="service",
    show_default=True,
    help="Rank per node and service, or per node, host and service (hosts ranked among them in both), or hosts only.",
)
def rank(paths, since, until, top, output_format, cache_dir, environment, store_dir, engine, scheduler, workers, by):
    """Rank services and hosts by how chatty they are, noisiest first, with the reasons.

    Columns alerts and notifications are the log's counts (summary.cgi's);
    rates are per week of each node's own span of data in the window
    (hours_of_data). Service alerts written during a HARD host problem are
    counted (alerts_while_host_down) and scored on the host's row.

    PATHS are node directories (nagios.log, archives/), their parents, log
    files (plain or .gz) or globs.

    Example:

        nagtune rank --since 7d --top 20 data/samples

        nagtune rank --store /srv/nagtune-store --engine dask --since 30d
    """
    if by == "host" and store_dir:
        raise click.UsageError("--by host reads PATHS, not a --store")
    table = _from_store(
        paths,
        store_dir,
        engine,
        scheduler,
        workers,
        since,
        until,
        "chatty" if by == "service" else "chatty_host_service",
    )
    if table is not None:
        return _emit(table, output_format, top)

    def make_table():
        from .analytics.run.api import rank_logs  # pandas: only when nothing was kept

        return rank_logs(
            list(paths),
            by=by,
            since=since,
            until=until,
            cache_dir=cache_dir,
            environment=environment,
            processes=workers,
            progress=True,
        )

    _kept_or_made("rank", {"by": by}, paths, since, until, cache_dir, environment, output_format, top, make_table)


@click.command()
@_common
@click.option(
    "--cap",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Findings of each kind shown; the rest is one summary row per kind (0: show all).",
)
def quiet(paths, since, until, top, output_format, cache_dir, environment, store_dir, engine, scheduler, workers, cap):
    """List problems that were not chatty enough: silent HARD problems, notifications
    off, slow detection, services OK while their host is DOWN or their siblings fail.

    One finding per service (or per host problem, or per service name for slow
    detection) with its count of occurrences, and the evidence it rests on.
    Problems that began before the log, and services of a host in a notified
    HARD problem, are never "silent". See docs/findings.md.

    Example:

        nagtune quiet --since 30d data/samples
    """
    table = _from_store(paths, store_dir, engine, scheduler, workers, since, until, "quiet")
    if table is not None:
        return _emit(table, output_format, top)

    def make_table():
        from .analytics.run.api import quiet_logs  # pandas: only when nothing was kept

        return quiet_logs(
            list(paths),
            since=since,
            until=until,
            cache_dir=cache_dir,
            environment=environment,
            processes=workers,
            progress=True,
            cap=cap or None,
        )

    _kept_or_made(
        "quiet",
        {"cap": cap},
        paths,
        since,
        until,
        cache_dir,
        environment,
        output_format,
        top,
        make_table,
        side_files=("objects.cache",),
    )


def _config_patch_options(function):
    options = [
        click.option(
            "--config-repo",
            default=None,
            metavar="DIR",
            help="Nagios configuration repository: write the suggestions as a patch to it (--patch).",
        ),
        click.option(
            "--patch",
            "patch_file",
            default=None,
            metavar="FILE",
            help="Where the unified diff goes (git apply FILE in the repository); summary on stderr.",
        ),
        click.option(
            "--node-map",
            default=None,
            metavar="FILE",
            help="TOML: the directories each node loads [default: DIR/nagtune-nodes.toml, else from the node's name].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _emit_and_patch(table, output_format, top, config_patch) -> None:
    """Print the suggestions; with --config-repo also write them as a patch, summary on stderr."""
    _emit(table, output_format, top)
    if config_patch[0]:
        from .analytics.confrepo import ConfigError, write_patch

        try:
            result = write_patch(table.head(top) if top else table, *config_patch)
        except (ConfigError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(result.summary(), err=True)


@click.command()
@_common
@perfdata_graphite_options
@click.option(
    "--nagios-cfg",
    "nagios_cfg",
    type=click.Path(exists=True, dir_okay=False),
    help="The node's nagios.cfg (interval_length, flap thresholds, perfdata file); "
    "default: nagios.cfg in each node directory.",
)
@click.option(
    "--perfdata",
    "perfdata_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Nagios' service_perfdata_file, whatever its name; default: the one nagios.cfg "
    "names, or service-perfdata.log in the node directory.",
)
@_config_patch_options
def retune(
    paths,
    since,
    until,
    top,
    output_format,
    cache_dir,
    environment,
    store_dir,
    engine,
    scheduler,
    workers,
    perfdata_url,
    perfdata_pattern,
    nagios_cfg,
    perfdata_file,
    config_repo,
    patch_file,
    node_map,
):
    """Suggest one check change per chatty service, with its effect replayed on the history.

    Reads objects.cache, nagios.cfg and the perfdata file from the node
    directories when they are there: every check in the perfdata file is
    replayed through Nagios' state machine (docs/retune.md); with
    --perfdata-graphite the values come from the series a perfdata shipper
    (graphios ...) keeps in Graphite, matched to the log's services by name.

    Example:

        nagtune retune --format csv data/samples/nagios-c0001-01

    With perfdata series in Graphite:

    \b
        nagtune retune data/samples --perfdata-graphite http://graphite:8080 \\
            --perfdata-pattern 'nagios.{host}.{service}.{label}'
    """
    graphite = perfdata_graphite(perfdata_url, perfdata_pattern)
    if graphite and store_dir:
        raise click.UsageError("--perfdata-graphite reads PATHS' services, not a --store")
    if bool(config_repo) != bool(patch_file):
        raise click.UsageError("--config-repo and --patch go together")
    config_patch = (config_repo, patch_file, node_map)
    table = _from_store(paths, store_dir, engine, scheduler, workers, since, until, "retunes")
    if table is not None:
        return _emit_and_patch(table, output_format, top, config_patch)
    if graphite:
        return _retune_with_graphite_perfdata(
            paths, since, until, cache_dir, environment, graphite, output_format, top, config_patch
        )

    def make_table():
        from .analytics.run.api import retune_logs  # pandas: only when nothing was kept

        return retune_logs(
            list(paths),
            since=since,
            until=until,
            cache_dir=cache_dir,
            environment=environment,
            processes=workers,
            progress=True,
            nagios_cfg=nagios_cfg,
            perfdata=perfdata_file,
        )

    if config_repo:  # the patch needs the table itself, not a kept rendering of it
        from .analytics.sources import ingest

        _check_window(since, until)
        try:
            table = make_table()
        except ingest.IngestError as exc:
            raise click.ClickException(str(exc)) from None
        return _emit_and_patch(table, output_format, top, config_patch)
    _kept_or_made(
        "retune",
        {},
        paths,
        since,
        until,
        cache_dir,
        environment,
        output_format,
        top,
        make_table,
        side_files=("objects.cache", "service-perfdata.log", "nagios.cfg"),
    )


def _retune_with_graphite_perfdata(
    paths, since, until, cache_dir, environment, graphite, output_format, top, config_patch=(None, None, None)
):
    """One process: the perfdata series are matched to the services of all the events."""
    from .analytics.findings.episodes import build_episodes
    from .analytics.findings.retune import suggest_retunes
    from .analytics.run.api import find_side_files
    from .analytics.sources.ingest import window_end
    from .analytics.sources.objects import load_objects

    events = _events(paths, since, until, cache_dir, environment)
    episodes = build_episodes(events, window_end=window_end(events, until))
    objects_files = find_side_files(paths, "objects.cache")
    objects = load_objects(objects_files) if objects_files else None
    perfdata = _graphite_perfdata(*graphite, events, since, until)
    table = suggest_retunes(events, episodes, objects=objects, perfdata=perfdata)
    table.attrs["read"] = {
        key: value for key, value in events.attrs.items() if value is None or isinstance(value, (int, float))
    }
    _say_what_was_read(table, paths, since, until, rates=True)
    _emit_and_patch(table, output_format, top, config_patch)


def _graphite_perfdata(url, pattern, events, since, until):
    import pandas as pd

    from .analytics.sources.graphite_source import GraphiteError, load_perfdata_from_graphite
    from .analytics.sources.ingest import window_bounds

    if events.empty:
        return None
    start, end = window_bounds(since, until)
    start = start or events["time"].min()
    end = end or events["time"].max() + pd.Timedelta(minutes=1)
    try:
        values = load_perfdata_from_graphite(url, start, end, events, pattern)
    except GraphiteError as exc:
        raise click.ClickException(str(exc)) from None
    unmatched = values.attrs.get("unmatched", [])
    if unmatched:
        click.echo(
            f"nagtune: {len(unmatched)} perfdata series matched no single service of the logs "
            f"(e.g. {unmatched[0]}); they are left out",
            err=True,
        )
    return values


@click.command()
@_common
def names(paths, since, until, top, output_format, cache_dir, environment, store_dir, engine, scheduler, workers):
    """Show the machine-readable metric name of every host and service, collisions first.

    Example:

        nagtune names --format json data/samples
    """
    table = _from_store(paths, store_dir, engine, scheduler, workers, since, until, "names")
    if table is not None:
        return _emit(table, output_format, top)

    def make_table():
        from .analytics.run.api import names_logs  # pandas: only when nothing was kept

        return names_logs(
            list(paths),
            since=since,
            until=until,
            cache_dir=cache_dir,
            environment=environment,
            processes=workers,
            progress=True,
        )

    _kept_or_made("names", {}, paths, since, until, cache_dir, environment, output_format, top, make_table)
