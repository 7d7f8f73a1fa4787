"""``nagtune parse``: events or metrics of log files, to stdout."""
from __future__ import annotations

import csv
import json
import sys

import click

from .options import identity_options, naming_options, node_identity
from .parsers.events import Event
from .parsers.logfiles import open_log
from .parsers.metrics import MetricNamer
from .parsers.nagios import iter_lines, parse_line
from .parsers.scan import ScanResult, scan_stream


def _scan(path: str) -> ScanResult:
    try:
        with open_log(path) as stream:
            return scan_stream(stream)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    except EOFError:
        raise click.ClickException(f"cannot read {path}: the gzip stream is cut short") from None


def _events(paths):
    for path in paths:
        try:
            with open_log(path) as stream:
                yield from map(parse_line, iter_lines(stream))
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
        except EOFError:
            raise click.ClickException(f"cannot read {path}: the gzip stream is cut short") from None


@click.command()
@click.argument("logs", nargs=-1, required=True, metavar="LOG...")
@click.option("--metrics", is_flag=True, help="Print per-minute Graphite plaintext metrics instead of events.")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="Event output format.")
@identity_options
@naming_options
def parse(logs, metrics, output_format, node, environment, node_class, cell, cell_pattern,
          prefix, granularity, tags):
    """Parse Nagios event logs (plain or .gz) and print what they say.

    Every line becomes one event (JSON lines or CSV, fields: time, kind, host,
    service, state, state_type, attempt, contact, command, output, author,
    comment); lines that cannot be read are events of kind 'unparsed'. With
    --metrics, prints what `nagtune collect` would ship to Graphite.

    Example:

        nagtune parse --metrics --node nagios-c0001-01 data/samples/nagios-c0001-01/nagios.log
    """
    out = click.get_text_stream("stdout")
    if metrics:
        identity = node_identity(node, environment, node_class, cell, cell_pattern)
        namer = MetricNamer(identity, prefix, granularity, tags)
        result = ScanResult()
        for path in logs:
            result.merge(_scan(path))
        out.write(result.graphite_plaintext(namer).decode("ascii"))
        for safe, owner, newcomer in namer.collisions:
            click.echo(f"warning: {newcomer!r} and {owner!r} both make {safe!r}; {newcomer!r} gets a suffix", err=True)
        if result.unparsed:
            click.echo(f"note: {result.unparsed} of {result.lines} lines could not be read", err=True)
        return
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(Event._fields)
        for event in _events(logs):
            writer.writerow(event)
    else:
        for event in _events(logs):
            out.write(json.dumps(event._asdict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
