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

# What the central commands import besides the standard library (the analytics extra).
_CENTRAL_MODULES = ("numpy", "pandas", "pyarrow")
_REPORT_MODULES = ("matplotlib", "jinja2")


def central_side_missing(name: str) -> str | None:
    """Why the central command ``name`` cannot run here (one sentence), or None.

    The node side runs on Python 3.8+ with click only (tomli below 3.11) (a node's
    pip install or the single-file nagtune-node.pyz); the central commands need
    Python 3.11+ and the analytics extra. Checked by name, without importing them.
    """
    import importlib.util

    if sys.version_info < (3, 11):
        found = ".".join(map(str, sys.version_info[:3]))
        return (
            f"nagtune {name} runs on the central side: it needs Python 3.11 or newer and "
            f"the analytics extra (pip install 'nagtune[analytics]'); this is Python {found}, "
            f"where only nagtune collect and nagtune parse run"
        )
    wanted = _CENTRAL_MODULES + (_REPORT_MODULES if name == "report" else ())
    try:
        absent = [module for module in ("nagtune.analytics", *wanted) if importlib.util.find_spec(module) is None]
    except ModuleNotFoundError:  # a parent package is missing too
        absent = ["nagtune.analytics"]
    if absent:
        return (
            f"nagtune {name} needs the analytics extra, which is not installed here "
            f"(missing: {', '.join(absent)}): pip install 'nagtune[analytics]'"
        )
    return None


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
                problem = central_side_missing(name)
                if problem:
                    return _unavailable(name, problem)
                _without_numpy_hugepages()
            module_name, attribute = target.split(":")
            return getattr(importlib.import_module(module_name), attribute)

    def _unavailable(name: str, problem: str) -> click.Command:
        """A stand-in that takes any arguments and fails with one line (exit 1)."""

        def fail(args):
            raise click.ClickException(problem)

        return click.Command(
            name,
            callback=fail,
            add_help_option=False,
            short_help="(central side: needs Python 3.11+ and nagtune[analytics])",
            params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )

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
