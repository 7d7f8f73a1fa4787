"""``nagtune collect``: the cron run that ships alert metrics; a thin layer over
:mod:`nagtune.collect.run`."""
from __future__ import annotations

import click
from click.core import ParameterSource

from .options import identity_options, naming_options

# Flags whose value overrides the config file only when given on the command line.
_FLAG_KEYS = {
    "prefix": "prefix", "granularity": "granularity", "tags": "tags", "node": "node",
    "environment": "environment", "node_class": "node_class", "cell": "cell",
    "cell_pattern": "cell_pattern", "state_dir": "state_dir", "spool_dir": "spool_dir",
    "from_end": "from_end", "open_minutes": "open_window", "max_age": "max_age", "wait": "wait",
    "statsd_max_datagram": "statsd_max_datagram", "graphite_timeout": "graphite_timeout",
}


def _host_port(value: str, flag: str) -> tuple[str, int | None]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST or HOST:PORT", param_hint=flag)
    return host.strip("[]"), int(port)


@click.command()
@click.argument("paths", nargs=-1, metavar="LOG [ARCHIVE...]")
@click.option("--config", "config_file", metavar="FILE",
              help="TOML file with any of these settings (flags given here win). See docs/collect.md.")
@click.option("--output", "outputs", multiple=True, type=click.Choice(["graphite", "statsd", "stdout"]),
              help="Where metrics go; repeat for several. Default: graphite.")
@click.option("--graphite", metavar="HOST[:PORT]", default=None,
              help="carbon plaintext receiver. [default: 127.0.0.1:2003]")
@click.option("--graphite-timeout", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="Connect/send timeout for carbon; on timeout the metrics are spooled.")
@click.option("--statsd", metavar="HOST[:PORT]", default=None, help="StatsD UDP address. [default: 127.0.0.1:8125]")
@click.option("--statsd-max-datagram", type=int, default=1432, show_default=True, metavar="BYTES",
              help="Largest StatsD datagram; 1432 avoids fragmentation on a LAN, use 512 across the internet.")
@identity_options
@naming_options
@click.option("--state-dir", default="/var/lib/nagtune", show_default=True, metavar="DIR",
              help="Where the offset, open-minute totals, name registry and lock of each log live.")
@click.option("--spool-dir", default=None, metavar="DIR",
              help="Metrics not delivered yet, sent first by the next run. [default: STATE_DIR/spool]")
@click.option("--from-end/--from-start", "from_end", default=False,
              help="First run only (no state yet): --from-start (default) counts the live log's history, "
                   "which is safe because minutes are sent as totals; --from-end counts only new lines.")
@click.option("--open-minutes", type=int, default=120, show_default=True, metavar="N",
              help="Minutes behind the newest event kept open: their totals are kept and re-sent whole when "
                   "more lines arrive. Older lines count into the oldest open minute.")
@click.option("--max-age", type=int, default=0, show_default=True, metavar="SECONDS",
              help="Warn when points are older than this (set it to your whisper retention); 0: no check.")
@click.option("--wait", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="If another run holds this log's lock, wait this long for it; else skip at once (exit 0).")
@click.option("--dry-run", is_flag=True,
              help="Print what would be sent, as Graphite plaintext, to stdout; send, spool and move nothing.")
@click.option("--backfill", is_flag=True,
              help="Send the per-minute totals of the ARCHIVEs (plain or .gz, any order: they are read in "
                   "rotation order) to Graphite; the live log's offset is not moved.")
@click.pass_context
def collect(ctx, paths, config_file, outputs, graphite, graphite_timeout, statsd, statsd_max_datagram,
            node, environment, node_class, cell, cell_pattern, prefix, granularity, tags,
            state_dir, spool_dir, from_end, open_minutes, max_age, wait, dry_run, backfill):
    """Ship the alerts added to a Nagios log since the last run, per event minute.

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
    from .collect.config import ConfigError, build, load_file
    from .collect.run import Collector
    from .collect.state import StateError
    from .collect.tail import LogError
    from .parsers.identity import IdentityError

    try:
        file_settings = load_file(config_file) if config_file else {}
        flags: dict = {}
        for param, key in _FLAG_KEYS.items():
            if ctx.get_parameter_source(param) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
                flags[key] = ctx.params[param]
        if outputs:
            flags["outputs"] = list(outputs)
        if graphite:
            flags["graphite_host"], port = _host_port(graphite, "--graphite")
            if port:
                flags["graphite_port"] = port
        if statsd:
            flags["statsd_host"], port = _host_port(statsd, "--statsd")
            if port:
                flags["statsd_port"] = port
        archives = list(paths)
        if archives:
            flags["log"] = archives.pop(0)
        config = build(file_settings, flags)
        if not config.log:
            raise ConfigError("no LOG: give the Nagios log as argument, or log = \"...\" in --config")
        if archives and not backfill:
            raise ConfigError(f"more than one LOG given ({len(archives) + 1}); old archives go with --backfill")
        if backfill and not archives:
            raise ConfigError("--backfill needs the ARCHIVE files after LOG")
        if backfill and "statsd" in config.outputs:
            raise ConfigError("--backfill works with --output graphite or stdout: StatsD stamps its own time")
        collector = Collector(config)
        if dry_run:
            report = collector.dry_run()
        elif backfill:
            report = collector.backfill(archives)
        else:
            report = collector.run()
    except (ConfigError, StateError, LogError, IdentityError) as exc:
        raise click.ClickException(str(exc)) from None
    for message in report.messages:
        click.echo(message, err=True)
    ctx.exit(report.exit_code)


if __name__ == "__main__":
    collect(prog_name="nagtune collect")
