"""``nagtune collect``: the cron run that ships alert metrics; a thin layer over
:mod:`nagtune.collect.run`.

The options are ONE table (:data:`OPTIONS`, plain data). It builds the click
command (``--help``, docs, CliRunner, ``nagtune`` with any other command), and
an :mod:`argparse` parser for the cron path, so a cron run never imports
click (:func:`fast_main`, called by :func:`nagtune.cli.main` when the first
argument is ``collect``). Any usage problem, ``--help`` or anything argparse
cannot read on that path is handed to the click command unchanged, so what a
user sees for bad usage is click's message, exit 2, on both paths; the
run itself (:func:`execute`) is shared, so its ``Error: ...`` line and exit
code are the same too.
"""

from __future__ import annotations

import sys

from .options import IDENTITY_OPTIONS, NAMING_OPTIONS, Option, click_options

OUTPUT_KINDS = ("graphite", "statsd", "stdout")

OPTIONS = (
    Option(
        "--config",
        "config_file",
        metavar="FILE",
        help="TOML file with any of these settings (flags given here win). See docs/collect.md.",
    ),
    Option(
        "--output",
        "outputs",
        "choice",
        choices=OUTPUT_KINDS,
        multiple=True,
        help="Where metrics go; repeat for several. Default: graphite.",
    ),
    Option(
        "--graphite", "graphite", metavar="HOST[:PORT]", help="carbon plaintext receiver. [default: 127.0.0.1:2003]"
    ),
    Option(
        "--graphite-timeout",
        "graphite_timeout",
        "float",
        default=5.0,
        show_default=True,
        metavar="SECONDS",
        help="Connect/send timeout for carbon; on timeout the metrics are spooled.",
    ),
    Option("--statsd", "statsd", metavar="HOST[:PORT]", help="StatsD UDP address. [default: 127.0.0.1:8125]"),
    Option(
        "--statsd-max-datagram",
        "statsd_max_datagram",
        "int",
        default=1432,
        show_default=True,
        metavar="BYTES",
        help="Largest StatsD datagram; 1432 avoids fragmentation on a LAN, use 512 across the internet.",
    ),
    *IDENTITY_OPTIONS,
    *NAMING_OPTIONS,
    Option(
        "--state-dir",
        "state_dir",
        default="/var/lib/nagtune",
        show_default=True,
        metavar="DIR",
        help="Where the offset, open-minute totals, name registry and lock of each log live.",
    ),
    Option(
        "--spool-dir",
        "spool_dir",
        metavar="DIR",
        help="Metrics not delivered yet, sent first by the next run. [default: STATE_DIR/spool]",
    ),
    Option(
        "--from-end/--from-start",
        "from_end",
        "switch",
        default=False,
        help="First run only (no state yet): --from-start (default) counts the live log's history, "
        "which is safe because minutes are sent as totals; --from-end counts only new lines.",
    ),
    Option(
        "--open-minutes",
        "open_minutes",
        "int",
        default=120,
        show_default=True,
        metavar="N",
        help="Minutes behind the newest event kept open: their totals are kept and re-sent whole when "
        "more lines arrive. Older lines count into the oldest open minute.",
    ),
    Option(
        "--max-age",
        "max_age",
        "int",
        default=0,
        show_default=True,
        metavar="SECONDS",
        help="Warn when points are older than this (set it to your whisper retention); 0: no check.",
    ),
    Option(
        "--wait",
        "wait",
        "float",
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="If another run holds this log's lock, wait this long for it; else skip at once (exit 0).",
    ),
    Option(
        "--max-series",
        "max_series",
        "int",
        default=50000,
        show_default=True,
        metavar="N",
        help="Warn (once, until it drops again) when more series than this have open minutes.",
    ),
    Option(
        "--spool-max-mb",
        "spool_max_mb",
        "int",
        default=256,
        show_default=True,
        metavar="MIB",
        help="Cap of each output's spool of this log; past it the oldest batches are dropped, with a warning.",
    ),
    Option(
        "--flush-jitter",
        "flush_jitter",
        "float",
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="After an outage, wait a random 0..SECONDS before sending the spool, so a fleet does not "
        "flush at the same second.",
    ),
    Option(
        "--dry-run",
        "dry_run",
        "flag",
        default=False,
        help="Print what would be sent, as Graphite plaintext, to stdout; send, spool and move nothing.",
    ),
    Option(
        "--backfill",
        "backfill",
        "flag",
        default=False,
        help="Send the per-minute totals of the ARCHIVEs (plain or .gz, any order: they are read in "
        "rotation order) to Graphite; the live log's offset is not moved.",
    ),
)

HELP = """Ship the alerts added to a Nagios log since the last run, per event minute.

    Run it from cron every minute. It reads only the new lines (following
    Nagios' rename into archives/, logrotate and copytruncate), counts them
    per minute of the event, sends each touched minute's TOTAL to Graphite
    (and the new counts to StatsD), and only then moves its offset. When a
    server is down the metrics go to a spool that the next run sends first.

    Exit status: 0 done (or skipped: another run holds the lock), 75 some
    metrics were spooled, 1 error (one line on stderr, state kept).

    Example (crontab):

        * * * * * nagtune collect /var/log/nagios4/nagios.log --graphite graphite:2003 --environment prod
    """

# Options whose value overrides the config file only when given on the command line.
_FLAG_KEYS = {
    "prefix": "prefix",
    "granularity": "granularity",
    "tags": "tags",
    "node": "node",
    "environment": "environment",
    "node_class": "node_class",
    "cell": "cell",
    "cell_pattern": "cell_pattern",
    "state_dir": "state_dir",
    "spool_dir": "spool_dir",
    "from_end": "from_end",
    "open_minutes": "open_window",
    "max_age": "max_age",
    "wait": "wait",
    "statsd_max_datagram": "statsd_max_datagram",
    "graphite_timeout": "graphite_timeout",
    "max_series": "max_series",
    "spool_max_mb": "spool_max_mb",
    "flush_jitter": "flush_jitter",
}


class UsageProblem(Exception):
    """A flag value that is bad usage (exit 2, click's usage message)."""

    def __init__(self, message: str, flag: str) -> None:
        super().__init__(message)
        self.flag = flag


class CollectFailed(Exception):
    """One ``Error: ...`` line, exit 1."""


def _host_port(value: str, flag: str) -> tuple[str, int | None]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageProblem(f"{value!r} is not HOST or HOST:PORT", flag)
    return host.strip("[]"), int(port)


def execute(values: dict, given) -> tuple[int, list[str]]:
    """One ``nagtune collect``: ``values`` of every option (defaults filled in),
    ``given`` the option names given on the command line.

    Returns (exit code, warning lines for stderr); raises :class:`CollectFailed`
    or :class:`UsageProblem`.
    """
    from .collect.config import ConfigError, build, load_file
    from .collect.run import Collector
    from .collect.state import StateError
    from .collect.tail import LogError

    try:
        config_file = values["config_file"]
        file_settings = load_file(config_file) if config_file else {}
        flags: dict = {key: values[param] for param, key in _FLAG_KEYS.items() if param in given}
        if values["outputs"]:
            flags["outputs"] = list(values["outputs"])
        if values["graphite"]:
            flags["graphite_host"], port = _host_port(values["graphite"], "--graphite")
            if port:
                flags["graphite_port"] = port
        if values["statsd"]:
            flags["statsd_host"], port = _host_port(values["statsd"], "--statsd")
            if port:
                flags["statsd_port"] = port
        archives = list(values["paths"])
        if archives:
            flags["log"] = archives.pop(0)
        backfill = values["backfill"]
        config = build(file_settings, flags)
        if not config.log:
            raise ConfigError('no LOG: give the Nagios log as argument, or log = "..." in --config')
        if archives and not backfill:
            raise ConfigError(f"more than one LOG given ({len(archives) + 1}); old archives go with --backfill")
        if backfill and not archives:
            raise ConfigError("--backfill needs the ARCHIVE files after LOG")
        if backfill and "statsd" in config.outputs:
            raise ConfigError("--backfill works with --output graphite or stdout: StatsD stamps its own time")
        collector = Collector(config)
        if values["dry_run"]:
            report = collector.dry_run()
        elif backfill:
            report = collector.backfill(archives)
        else:
            report = collector.run()
    except (ConfigError, StateError, LogError) as exc:
        raise CollectFailed(str(exc)) from None
    except ValueError as exc:  # IdentityError: a cell pattern that cannot work
        from .parsers.identity import IdentityError

        if isinstance(exc, IdentityError):
            raise CollectFailed(str(exc)) from None
        raise
    return report.exit_code, report.messages


# --- the click command: --help, docs, CliRunner, `nagtune` with other commands -----------


def _click_command():
    import click
    from click.core import ParameterSource

    @click.command(help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("paths", nargs=-1, metavar="LOG [ARCHIVE...]")
    @click_options(OPTIONS)
    @click.pass_context
    def collect(ctx, **values):
        given = {
            name
            for name in values
            if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
        }
        try:
            code, messages = execute(values, given)
        except CollectFailed as exc:
            raise click.ClickException(str(exc)) from None
        except UsageProblem as exc:
            raise click.BadParameter(str(exc), param_hint=exc.flag) from None
        for message in messages:
            click.echo(message, err=True)
        ctx.exit(code)

    return collect


def __getattr__(name: str):
    if name == "collect":  # built on first use: importing this module does not import click
        command = globals()["collect"] = _click_command()
        return command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- the cron path: argparse over the same table, no click ------------------------------


class _Fallback(Exception):
    """Anything but a plain run: let click handle it (usage errors, --help)."""


def _parser():
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise _Fallback(message)

    parser = Parser(prog="nagtune collect", add_help=False, allow_abbrev=False)
    parser.add_argument("paths", nargs="*")
    for option in OPTIONS:
        option.add_to(parser, argparse.SUPPRESS)
    return parser


def parse_fast(args: list[str]) -> tuple[dict, set] | None:
    """(values, given) as the click command would see them, or None when
    click must handle ``args`` (bad usage, --help, anything unusual)."""
    try:
        namespace = _parser().parse_intermixed_args(args)
    except (_Fallback, TypeError):
        return None
    given = set(vars(namespace))
    values = {option.dest: (() if option.multiple else option.default) for option in OPTIONS}
    values.update(vars(namespace))
    values["paths"] = tuple(values["paths"])
    given.discard("paths")
    if values["outputs"]:
        values["outputs"] = tuple(values["outputs"])
    return values, given


def _echo_err(message: str) -> None:
    stream = sys.stderr
    if not stream.isatty() and "\033" in message:  # as click.echo does for a pipe or a file
        import re

        message = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", message)
    stream.write(message + "\n")
    stream.flush()


def fast_main(args: list[str], fallback) -> None:
    """Run ``nagtune collect ARGS`` without click; ``fallback()`` runs it through
    click instead when the arguments are not a plain run. Exits."""
    parsed = parse_fast(args)
    if parsed is None:
        fallback()
        return
    try:
        try:
            code, messages = execute(*parsed)
        except UsageProblem:
            fallback()  # nothing was written yet: click repeats it and prints its usage error
            return
        except CollectFailed as exc:
            _echo_err(f"Error: {exc}")
            sys.exit(1)
        for message in messages:
            _echo_err(message)
        sys.exit(code)
    except (EOFError, KeyboardInterrupt):  # what click does
        _echo_err("")
        _echo_err("Aborted!")
        sys.exit(1)
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)  # no second error when Python flushes stdout
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


def _click_fallback(args: list[str]):
    def run():
        (globals().get("collect") or __getattr__("collect"))(args=args, prog_name="nagtune collect")

    return run


if __name__ == "__main__":
    fast_main(sys.argv[1:], _click_fallback(sys.argv[1:]))
