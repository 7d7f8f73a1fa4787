"""The ``nagtune`` command: a thin click layer over the Python API.

Each subcommand lives in its own module and is imported only when it runs,
so the cron path (``nagtune collect``) never pays for pandas or matplotlib.
``nagtune collect`` does not even import click: :func:`main` hands it to
:func:`nagtune.cli_collect.fast_main` (argparse over the same option table),
which gives anything but a plain run (``--help``, bad usage) back to click.
Library errors become one ``Error: ...`` line and a non-zero exit here, and
nowhere else.
"""
from __future__ import annotations

import sys

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


ANALYTICS_COMMANDS = ("rank", "quiet", "retune", "names", "report", "ingest")


def _without_numpy_hugepages() -> None:
    """Before numpy is imported: no ``madvise(MADV_HUGEPAGE)`` on its big arrays.

    Where the kernel's transparent_hugepage/defrag is ``madvise`` (its default),
    each such array makes a page fault compact memory on the spot, a large
    share of a big ``nagtune rank``'s system time on a small machine. A value
    the user set is kept.
    """
    import os

    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def _build_cli():
    import importlib

    import click

    class LazyGroup(click.Group):
        def list_commands(self, ctx):
            return sorted(COMMANDS)

        def get_command(self, ctx, name):
            target = COMMANDS.get(name)
            if target is None:
                return None
            if name in ANALYTICS_COMMANDS:
                _without_numpy_hugepages()
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

    return cli


def __getattr__(name: str):
    if name == "cli":  # built on first use: `nagtune collect` never imports click
        group = globals()["cli"] = _build_cli()
        return group
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _click_main() -> None:
    (globals().get("cli") or __getattr__("cli"))(prog_name="nagtune")


def main() -> None:
    if sys.argv[1:2] == ["collect"]:
        from .cli_collect import fast_main

        fast_main(sys.argv[2:], _click_main)
    else:
        _click_main()


if __name__ == "__main__":
    main()
