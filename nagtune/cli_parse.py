"""``nagtune parse``: events or metrics of log files, to stdout."""

from __future__ import annotations

import csv
import json
import sys

import click

from .options import identity_options, naming_options, node_identity
from .parsers.events import UNPARSED, Event
from .parsers.logfiles import open_log
from .parsers.metrics import MetricNamer
from .parsers.nagios import iter_lines, parse_line
from .parsers.scan import ScanResult, scan_stream
from .parsers.unreadable import Unreadable, first_unreadable, read_text, unreadable_at


def _scan(path: str) -> ScanResult:
    try:
        with open_log(path) as stream:
            return scan_stream(stream)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    except EOFError:
        raise click.ClickException(f"cannot read {path}: the gzip stream is cut short") from None


class _Tally:
    """Lines read and unparsed over the files, and the first unparsed one."""

    def __init__(self):
        self.lines = 0
        self.unparsed = 0
        self.first: Unreadable | None = None


def _events(paths, tally: _Tally):
    for path in paths:
        try:
            with open_log(path) as stream:
                for number, line in enumerate(iter_lines(stream), 1):
                    event = parse_line(line)
                    tally.lines += 1
                    if event.kind == UNPARSED:
                        tally.unparsed += 1
                        if tally.first is None:
                            tally.first = unreadable_at(path, number, line)
                    yield event
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
        except EOFError:
            raise click.ClickException(f"cannot read {path}: the gzip stream is cut short") from None


def _say_what_was_read(files: int, tally: _Tally) -> None:
    """One line on stderr when some lines could not be read or there were none; an error
    (exit 1) when no line could be read, so an empty output is never silent."""
    said = read_text(files, tally.lines, tally.unparsed, tally.first)
    if tally.lines and tally.unparsed >= tally.lines:
        raise click.ClickException(f"no line could be read: {said}")
    if tally.unparsed or not tally.lines:
        click.echo(f"nagtune: {said}", err=True)


@click.command()
@click.argument("logs", nargs=-1, required=True, metavar="LOG...")
@click.option("--metrics", is_flag=True, help="Print per-minute Graphite plaintext metrics instead of events.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="Event output format.",
)
@identity_options
@naming_options
def parse(logs, metrics, output_format, node, environment, node_class, cell, cell_pattern, prefix, granularity, tags):
    """Parse Nagios event logs (plain or .gz) and print what they say.

    Every line becomes one event (JSON lines or CSV, fields: time, kind, host,
    service, state, state_type, attempt, contact, command, output, author,
    comment); lines that cannot be read are events of kind 'unparsed', and
    stderr says how many there were and which came first. A log of which no
    line can be read is an error (exit 1). With --metrics, prints what
    `nagtune collect` would ship to Graphite.

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
        tally = _Tally()
        tally.lines, tally.unparsed = result.lines, result.unparsed
        if result.unparsed:
            tally.first = first_unreadable(list(logs))
        _say_what_was_read(len(logs), tally)
        return
    tally = _Tally()
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(Event._fields)
        for event in _events(logs, tally):
            writer.writerow(event)
    else:
        for event in _events(logs, tally):
            out.write(json.dumps(event._asdict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    _say_what_was_read(len(logs), tally)
