"""Option bundles shared by commands (node identity, metric naming)."""
from __future__ import annotations

import click

from .parsers.identity import DEFAULT_CELL_PATTERN, IdentityError, NodeIdentity, identify
from .parsers.metrics import GRANULARITIES


def identity_options(function):
    """--node, --environment, --node-class, --cell, --cell-pattern."""
    options = [
        click.option("--node", metavar="HOSTNAME", default=None,
                     help="Nagios node that wrote the log (default: this machine's hostname)."),
        click.option("--environment", default="default", show_default=True,
                     help="Environment of the node, e.g. prod or test; with the cell it reads test/c0001."),
        click.option("--node-class", type=click.Choice(["global", "cell", "mixed", "unknown"]), default=None,
                     help="Class of the node (default: 'global' or 'mixed' if the hostname says so, else 'cell' when a cell is found)."),
        click.option("--cell", default=None, help="Cell of the node (default: found in the hostname with --cell-pattern)."),
        click.option("--cell-pattern", default=DEFAULT_CELL_PATTERN, show_default=True,
                     help="Regular expression that finds the cell in the hostname."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def naming_options(function):
    """--prefix, --granularity, --tags."""
    options = [
        click.option("--prefix", default="nagios", show_default=True, help="First levels of every metric name."),
        click.option("--granularity", type=click.Choice(GRANULARITIES), default="host_service", show_default=True,
                     help="Levels kept in names: host and service, service only, host only, or node totals."),
        click.option("--tags/--no-tags", default=False, show_default=True,
                     help="Put where/what in Graphite tags instead of path levels."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def node_identity(node, environment, node_class, cell, cell_pattern) -> NodeIdentity:
    try:
        return identify(node, environment, cell_pattern, node_class=node_class, cell=cell)
    except IdentityError as exc:
        raise click.BadParameter(str(exc), param_hint="--cell-pattern") from None
