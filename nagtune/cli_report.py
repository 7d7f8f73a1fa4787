"""``nagtune report``: the weekly threshold report (HTML, Markdown, CSV/JSON, plots)."""

from __future__ import annotations

import click

from .options import perfdata_graphite, perfdata_graphite_options


@click.command()
@click.argument("archives", nargs=-1, metavar="ARCHIVES...")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for report.html, report.md, tables/, plots/ and history/.",
)
@click.option(
    "--since",
    default="7d",
    show_default=True,
    help="Start of the window: a duration counted back from --until (7d, 36h, 2w) or a date.",
)
@click.option(
    "--until",
    default=None,
    help="End of the window (date, UTC). Default: the newest line in the archives; now with --graphite.",
)
@click.option(
    "--graphite",
    metavar="URL",
    default=None,
    help="Read the alert metrics from a Graphite render API instead of log archives.",
)
@click.option("--prefix", default="nagios", show_default=True, help="Metric prefix to read with --graphite.")
@click.option(
    "--objects",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Nagios objects.cache, so suggestions name the current value (default: objects.cache in the node directories).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Parquet cache of parsed archives: a second run reads only what is new.",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Read the events from a store made by `nagtune ingest` instead of ARCHIVES.",
)
@click.option("--top", default=15, show_default=True, help="Chatty services in the chart and the week-over-week list.")
@click.option("--no-history", is_flag=True, help="Neither read nor write history/ (no week-over-week).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for the analysis (a share of whole nodes each) and the plots; 1: all in this one. "
    "[default: cores, at most 4, from 1,000,000 events in the window]",
)
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="The on-call team's time zone (IANA name, e.g. Europe/Berlin): night, weekend and working "
    "hours are counted in it.",
)
@click.option(
    "--working-hours",
    default="9-18",
    show_default=True,
    help="Working hours Monday to Friday, START-END in the team's time zone.",
)
@click.option(
    "--night-hours",
    default="22-7",
    show_default=True,
    help="Night hours, START-END in the team's time zone (may wrap midnight).",
)
@click.option(
    "--nagios-url",
    default=None,
    metavar="PATTERN",
    help="Link each service to its Nagios page: a URL with {node}, {host}, {service}, {cell}, e.g. "
    "'https://{node}.example.com/nagios4/cgi-bin/history.cgi?host={host}&service={service}'.",
)
@click.option(
    "--changes",
    "changes_shown",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Changes listed on the first screen (the CSV has them all).",
)
@perfdata_graphite_options
@click.option(
    "--config-repo",
    default=None,
    metavar="DIR",
    help="Nagios configuration repository: also write the retune suggestions as OUT/retune.patch "
    "(summary in OUT/retune-patch.txt).",
)
@click.option(
    "--node-map",
    default=None,
    metavar="FILE",
    help="TOML: the directories each node loads [default: DIR/nagtune-nodes.toml].",
)
def report(
    archives,
    out_dir,
    since,
    until,
    graphite,
    prefix,
    objects,
    cache_dir,
    store_dir,
    top,
    no_history,
    workers,
    timezone,
    working_hours,
    night_hours,
    nagios_url,
    changes_shown,
    perfdata_url,
    perfdata_pattern,
    config_repo,
    node_map,
):
    """Write the weekly threshold report for the archives of one or more Nagios nodes.

    ARCHIVES are node directories (nagios.log + archives/), their parent, log
    files or globs. Open OUT/report.html in a browser (it is one file, plots
    inline); OUT/report.md is the same for a wiki; OUT/tables/ has every
    table as CSV and JSON. Run it every week into the same OUT to see what
    changed.

    Example:

        nagtune report data/samples --since 7d --out /tmp/nagtune-report

        nagtune report --store /srv/nagtune-store --since 7d --out /srv/www/nagtune
    """
    if not archives and not graphite and not store_dir:
        raise click.UsageError("give ARCHIVES (node directories or log files), --store DIR or --graphite URL")
    from .analytics.report.build import ReportError, make_report
    from .analytics.report.burden import BurdenError, OnCallHours, parse_hours
    from .analytics.run.parallel import WorkerDied
    from .analytics.sources.graphite_source import GraphiteError
    from .analytics.sources.ingest import IngestError

    graphite_perfdata = perfdata_graphite(perfdata_url, perfdata_pattern)
    try:
        hours = OnCallHours(
            timezone, parse_hours(working_hours, "--working-hours"), parse_hours(night_hours, "--night-hours")
        )
        result = make_report(
            list(archives),
            out_dir,
            since=since,
            until=until,
            graphite=graphite,
            prefix=prefix,
            objects=objects,
            cache_dir=cache_dir,
            top=top,
            keep_history=not no_history,
            store_dir=store_dir,
            perfdata_graphite=graphite_perfdata,
            processes=workers,
            hours=hours,
            nagios_url=nagios_url,
            changes_shown=changes_shown,
        )
    except (ReportError, GraphiteError, IngestError, WorkerDied, BurdenError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    if result.empty_reason:
        click.echo(f"nagtune: {result.empty_reason}", err=True)
    s = result.summary
    click.echo(
        f"{result.html}: {s['notifications']:,} pages ({s['night_pages']:,} at night in {timezone}), "
        f"{len(result.tables['changes'])} changes saving {s['notifications_avoidable']:,} pages, "
        f"{s['quiet_findings']} problems nobody was told about"
    )
    click.echo(f"{result.markdown}, {out_dir}/tables/, {out_dir}/plots/")
    if config_repo:
        _write_config_patch(result, out_dir, config_repo, node_map)


def _write_config_patch(result, out_dir, config_repo, node_map) -> None:
    """The report's retune suggestions as a patch to the configuration repository."""
    import os

    from .analytics.confrepo import ConfigError, write_patch

    patch = os.path.join(out_dir, "retune.patch")
    try:
        done = write_patch(result.tables.get("retunes", []), config_repo, patch, node_map=node_map)
        with open(os.path.join(out_dir, "retune-patch.txt"), "w", encoding="utf-8") as summary:
            summary.write(done.summary() + "\n")
    except (ConfigError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{patch}: {done.summary().splitlines()[0]}")
