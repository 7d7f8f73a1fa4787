"""Nagios alerts as a parser class for Etsy logster.

    logster --output=graphite --graphite-host=graphite:2003 \\
        --parser-options '--environment prod --granularity host_service' \\
        nagtune.parsers.nagios_logster.NagiosLogster /var/log/nagios4/nagios.log

logster makes one instance per run, calls :meth:`NagiosLogster.parse_line`
for every new line and :meth:`NagiosLogster.get_state` once at the end. The
metrics are those of :mod:`nagtune.parsers.metrics`, stamped with the minute
of the event. Under logster a minute split across two cron runs is sent twice
and Graphite keeps the second, smaller count; ``nagtune collect`` keeps the
open minute's total between runs and does not have that problem.
"""

from __future__ import annotations

import optparse
import shlex
from collections import Counter

from .events import UNPARSED
from .identity import DEFAULT_CELL_PATTERN, IdentityError, identify
from .metrics import GRANULARITIES, MetricNamer, metric_key, minute_of
from .nagios import parse_line

try:  # Etsy logster, where it is installed
    from logster.logster_helper import LogsterParser, LogsterParsingException, MetricObject
except Exception:  # absent, or the unrelated PyPI package of the same name
    from ._logster_helper import LogsterParser, LogsterParsingException, MetricObject


def _option_parser() -> optparse.OptionParser:
    parser = optparse.OptionParser(prog="NagiosLogster", usage="--parser-options '[options]'")
    parser.add_option("--prefix", default="nagios", help="first levels of every metric name [%default]")
    parser.add_option("--environment", default="default", help="environment, e.g. prod or test [%default]")
    parser.add_option("--node", default=None, help="Nagios node hostname [this machine's]")
    parser.add_option("--node-class", default=None, help="global, cell or mixed [from the hostname]")
    parser.add_option("--cell", default=None, help="cell of the node [from the hostname]")
    parser.add_option(
        "--cell-pattern", default=DEFAULT_CELL_PATTERN, help="regex finding the cell in the hostname [%default]"
    )
    parser.add_option(
        "--granularity",
        default="host_service",
        choices=GRANULARITIES,
        help="host_service, service, host or node [%default]",
    )
    parser.add_option("--tags", action="store_true", default=False, help="Graphite tags instead of path levels")
    return parser


class NagiosLogster(LogsterParser):
    """Counts Nagios alerts, notifications, flapping and downtime per minute."""

    def __init__(self, option_string=None):
        parser = _option_parser()
        options, _ = parser.parse_args(shlex.split(option_string) if option_string else [])
        try:
            identity = identify(
                options.node,
                options.environment,
                options.cell_pattern,
                node_class=options.node_class,
                cell=options.cell,
            )
        except IdentityError as exc:
            parser.error(str(exc))
        self.namer = MetricNamer(identity, options.prefix, options.granularity, options.tags)
        self.counts: Counter = Counter()
        self.lines = 0
        self.unparsed = 0

    def parse_line(self, line):
        self.lines += 1
        event = parse_line(line)
        if event.kind == UNPARSED:
            self.unparsed += 1
            raise LogsterParsingException(f"not a Nagios log line: {event.output[:200]!r}")
        key = metric_key(event)
        if key is None:
            raise LogsterParsingException(f"{event.kind} lines are not counted")
        self.counts[(minute_of(event.time), key)] += 1

    def get_state(self, duration):
        named: Counter = Counter()
        for (minute, key), value in self.counts.items():
            named[(self.namer.name(key), minute)] += value
        metrics = [
            MetricObject(name, value, "lines", "int", timestamp=minute, metric_type="c")
            for (name, minute), value in sorted(named.items())
        ]
        # duration may be 0 (first run, or a run within the same second): no rates here.
        metrics.append(MetricObject(self.namer.self_metric("lines"), self.lines, "lines", "int", metric_type="c"))
        metrics.append(MetricObject(self.namer.self_metric("unparsed"), self.unparsed, "lines", "int", metric_type="c"))
        return metrics
