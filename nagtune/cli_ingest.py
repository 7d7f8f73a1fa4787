"""``nagtune ingest``: log archives into the partitioned Parquet store; a thin layer over
:func:`nagtune.analytics.sources.store.ingest_paths`."""

from __future__ import annotations

import click

from .parsers.identity import DEFAULT_CELL_PATTERN


@click.command()
@click.argument("archives", nargs=-1, required=True, metavar="ARCHIVES...")
@click.option(
    "--store",
    "store_dir",
    required=True,
    metavar="DIR",
    help="The store: DIR/events/day=YYYY-MM-DD/node=NODE/part.parquet and DIR/manifest.json.",
)
@click.option("--environment", default="default", show_default=True, help="Environment of the nodes.")
@click.option(
    "--cell-pattern",
    default=DEFAULT_CELL_PATTERN,
    show_default=True,
    help="Regular expression that finds the cell in a node's hostname.",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="A progress bar over the files.")
def ingest(archives, store_dir, environment, cell_pattern, progress):
    """Add the events of Nagios log archives to a partitioned Parquet store.

    ARCHIVES are node directories (nagios.log, archives/ with .log and
    .log.gz), their parent, log files or globs; a node directory's
    service-perfdata.log and objects.cache go in too. Run it as often as
    you like (e.g. daily from cron): files already ingested are skipped,
    lines already in the store are never added twice, a new day's archives
    add only that day. Then analyse the store with --store on rank, quiet,
    retune, names and report, on pandas or Dask (--engine dask).

    Example:

        nagtune ingest /srv/nagios-archives/* --store /srv/nagtune-store
    """
    from .analytics.sources.ingest import IngestError
    from .analytics.sources.store import StoreError, ingest_paths

    try:
        summary = ingest_paths(
            list(archives), store_dir, environment=environment, cell_pattern=cell_pattern, progress=progress
        )
    except (IngestError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or store_dir}: {exc.strerror or exc}") from None
    click.echo(f"{store_dir}: {summary}")
