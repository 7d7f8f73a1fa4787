"""Option tables shared by commands (node identity, metric naming), as plain data.

One table of :class:`Option` s per command builds both its click options
(``--help``, the docs, CliRunner, every command but the cron path) and, for
``nagtune collect``, an :mod:`argparse` parser that reads the same options
without importing click (:mod:`nagtune.cli_collect`). Nothing here imports
click or the parsers at module level: the cron path pays for neither.
"""

from __future__ import annotations

# Kept equal to nagtune.parsers.identity.DEFAULT_CELL_PATTERN and
# nagtune.parsers.metrics.GRANULARITIES (tests/test_cli_collect.py checks),
# so that building the table does not import the parsers.
DEFAULT_CELL_PATTERN = r"(?<![a-z0-9])(c\d{4})(?![0-9])"
GRANULARITIES = ("host_service", "service", "host", "node")
NODE_CLASSES = ("global", "cell", "mixed", "unknown")


class Option:
    """One command-line option.

    ``decl`` is click's declaration (``--tags/--no-tags`` for an on/off pair),
    ``kind`` one of str, int, float, choice, flag (``--x`` alone) or switch
    (an on/off pair). ``dest`` is the parameter name.
    """

    __slots__ = ("decl", "dest", "kind", "default", "help", "metavar", "choices", "multiple", "show_default")

    def __init__(
        self,
        decl: str,
        dest: str,
        kind: str = "str",
        default=None,
        help: str = "",
        metavar: str | None = None,
        choices: tuple = (),
        multiple: bool = False,
        show_default: bool = False,
    ) -> None:
        self.decl, self.dest, self.kind, self.default, self.help = decl, dest, kind, default, help
        self.metavar, self.choices, self.multiple, self.show_default = metavar, choices, multiple, show_default

    @property
    def flags(self) -> tuple[str, ...]:
        """``--from-end/--from-start`` -> (``--from-end``, ``--from-start``)."""
        return tuple(self.decl.split("/"))

    def click_option(self):
        import click

        kwargs: dict = {"help": self.help, "default": self.default}
        if self.show_default:
            kwargs["show_default"] = True
        if self.metavar:
            kwargs["metavar"] = self.metavar
        if self.multiple:
            kwargs["multiple"] = True
            kwargs["default"] = ()
        if self.kind == "flag":
            kwargs["is_flag"] = True
        elif self.kind == "choice":
            kwargs["type"] = click.Choice(list(self.choices))
        elif self.kind in ("int", "float"):
            kwargs["type"] = int if self.kind == "int" else float
        return click.option(self.decl, self.dest, **kwargs)

    def add_to(self, parser, suppress) -> None:
        """Add to an argparse parser; options not given stay out of the namespace."""
        if self.kind == "switch":
            on, off = self.flags
            parser.add_argument(on, dest=self.dest, action="store_const", const=True, default=suppress)
            parser.add_argument(off, dest=self.dest, action="store_const", const=False, default=suppress)
        elif self.kind == "flag":
            parser.add_argument(self.decl, dest=self.dest, action="store_const", const=True, default=suppress)
        else:
            convert = {"int": int, "float": float}.get(self.kind, str)
            parser.add_argument(
                self.decl,
                dest=self.dest,
                type=convert,
                default=suppress,
                action="append" if self.multiple else "store",
                choices=self.choices or None,
            )


IDENTITY_OPTIONS = (
    Option(
        "--node", "node", metavar="HOSTNAME", help="Nagios node that wrote the log (default: this machine's hostname)."
    ),
    Option(
        "--environment",
        "environment",
        default="default",
        show_default=True,
        help="Environment of the node, e.g. prod or test; with the cell it reads test/c0001.",
    ),
    Option(
        "--node-class",
        "node_class",
        "choice",
        choices=NODE_CLASSES,
        help="Class of the node (default: 'global' or 'mixed' if the hostname says so, else 'cell' when a cell is found).",
    ),
    Option("--cell", "cell", help="Cell of the node (default: found in the hostname with --cell-pattern)."),
    Option(
        "--cell-pattern",
        "cell_pattern",
        default=DEFAULT_CELL_PATTERN,
        show_default=True,
        help="Regular expression that finds the cell in the hostname.",
    ),
)

NAMING_OPTIONS = (
    Option("--prefix", "prefix", default="nagios", show_default=True, help="First levels of every metric name."),
    Option(
        "--granularity",
        "granularity",
        "choice",
        choices=GRANULARITIES,
        default="host_service",
        show_default=True,
        help="Levels kept in names: host and service, service only, host only, or node totals.",
    ),
    Option(
        "--tags/--no-tags",
        "tags",
        "switch",
        default=False,
        show_default=True,
        help="Put where/what in Graphite tags instead of path levels.",
    ),
)


PERFDATA_GRAPHITE_OPTIONS = (
    Option(
        "--perfdata-graphite",
        "perfdata_url",
        metavar="URL",
        help="Read the checks' perfdata series for the threshold suggestions from this Graphite render API "
        "instead of service-perfdata.log.",
    ),
    Option(
        "--perfdata-pattern",
        "perfdata_pattern",
        metavar="PATTERN",
        help="Where those series are: {host}, {service}, {label} (and optionally {node}) one level each. "
        "[default: perfdata.{host}.{service}.{label}]",
    ),
)


def click_options(table):
    """A decorator adding the click options of ``table``, in table order."""

    def decorate(function):
        for option in reversed(table):
            function = option.click_option()(function)
        return function

    return decorate


def identity_options(function):
    """--node, --environment, --node-class, --cell, --cell-pattern."""
    return click_options(IDENTITY_OPTIONS)(function)


def naming_options(function):
    """--prefix, --granularity, --tags."""
    return click_options(NAMING_OPTIONS)(function)


def node_identity(node, environment, node_class, cell, cell_pattern):
    import click

    from .parsers.identity import IdentityError, identify

    try:
        return identify(node, environment, cell_pattern, node_class=node_class, cell=cell)
    except IdentityError as exc:
        raise click.BadParameter(str(exc), param_hint="--cell-pattern") from None


def perfdata_graphite_options(function):
    """--perfdata-graphite, --perfdata-pattern."""
    return click_options(PERFDATA_GRAPHITE_OPTIONS)(function)


def perfdata_graphite(url, pattern) -> tuple[str, str] | None:
    """(URL, pattern) of --perfdata-graphite/--perfdata-pattern, checked; None without a URL."""
    import click

    if pattern and not url:
        raise click.UsageError("--perfdata-pattern needs --perfdata-graphite URL")
    if not url:
        return None  # before the import below: it brings pandas, which a kept output does without
    from .analytics.sources.graphite_source import PERFDATA_PATTERN, check_pattern

    try:
        check_pattern(pattern or PERFDATA_PATTERN)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--perfdata-pattern") from None
    return url, pattern or PERFDATA_PATTERN
