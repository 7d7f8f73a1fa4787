"""The ``nagtune`` command: a thin click layer over the Python API.

Each subcommand lives in its own module and is imported only when it runs,
so the cron path (``nagtune collect``) never pays for pandas or matplotlib.
Library errors become one ``Error: ...`` line and a non-zero exit here, and
nowhere else.
"""
from __future__ import annotations

import importlib

import click

# name -> "module:function"; add a command by adding a line.
COMMANDS = {
    "parse": "nagtune.cli_parse:parse",
    "collect": "nagtune.cli_collect:collect",
    "rank": "nagtune.cli_analytics:rank",
    "quiet": "nagtune.cli_analytics:quiet",
    "retune": "nagtune.cli_analytics:retune",
    "names": "nagtune.cli_analytics:names",
    "report": "nagtune.cli_report:report",
    "ingest": "nagtune.cli_ingest:ingest",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nagtune")
def cli():
    """Nagios alert metrics on every node; chatty services and threshold retunes centrally.

    \b
    Node side (cron):   nagtune collect, nagtune parse
    Central analytics:  nagtune rank, quiet, retune, names, report, ingest
    """


def main() -> None:
    cli(prog_name="nagtune")
