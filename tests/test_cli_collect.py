"""``nagtune collect`` as a command: errors, dry runs, --help, --max-age.

click's CliRunner drives the click command in-process; a subprocess is used
where the exit code and stderr of a whole cron run matter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from nagtune.cli_collect import collect as collect_command

from .collect_helpers import BASE, NO_DAC, NODE, PREFIX, alert_lines, expected_points


def run_cli(*args: str) -> object:
    return CliRunner().invoke(collect_command, list(args), catch_exceptions=False)


def run_process(*args: str, env: dict | None = None, prefix: tuple = ()) -> subprocess.CompletedProcess:
    """A whole cron run through the installed entry point, ``nagtune.cli.main``."""
    return subprocess.run(
        [
            *prefix,
            sys.executable,
            "-c",
            "import sys; from nagtune.cli import main; sys.argv[0] = 'nagtune'; main()",
            "collect",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def graphite_lines(text: str) -> dict:
    points = {}
    for line in text.splitlines():
        name, value, stamp = line.split(" ")
        points[(name, int(stamp))] = int(value)
    return points


def alert_points(points: dict) -> dict:
    return {k: v for k, v in points.items() if ".nagtune." not in k[0]}


# --- step 1: --max-age ---------------------------------------------------------------------


def test_max_age_warns_about_old_points_and_still_ships(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    old = (int(time.time()) - 30 * 86400) // 3600 * 3600  # a month ago
    data = alert_lines(40, start=old)
    log.write_bytes(data)

    run = run_process(
        str(log),
        "--state-dir",
        str(state),
        "--node",
        NODE,
        "--prefix",
        PREFIX,
        "--output",
        "stdout",
        "--max-age",
        "86400",
    )

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    expect = expected_points(data)
    assert alert_points(graphite_lines(run.stdout)) == expect
    warnings = [line for line in run.stderr.splitlines() if "older than max_age" in line]
    assert warnings == [
        f"warning: {len(expect)} points are older than max_age (86400 s); whisper drops points older than its retention"
    ]


# --- step 2: errors are one line, the state is kept ----------------------------------------


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def base_args(log, state) -> list[str]:
    return [str(log), "--state-dir", str(state), "--node", NODE, "--prefix", PREFIX, "--output", "stdout"]


def state_files(state) -> dict:
    """The files of the state dir and their bytes (lock files are empty)."""
    return {p.name: p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()}


def committed_run(tmp_path, data: bytes = b""):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(data or alert_lines(30))
    run = run_process(*base_args(log, state))
    assert run.returncode == 0, run.stderr
    [state_file] = state.glob("*.state.json")
    return log, state, state_file


def test_bad_toml_config_is_one_error_line(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    config = tmp_path / "collect.toml"
    config.write_text('prefix = "nagios\nenvironment = prod\n')

    result = run_cli(*base_args(log, tmp_path / "state"), "--config", str(config))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert str(config) in line and "not valid TOML" in line
    assert result.stdout == ""

    run = run_process(*base_args(log, tmp_path / "state"), "--config", str(config))
    assert run.returncode == 1
    assert one_error_line(run.stderr) == line
    assert run.stdout == ""


@pytest.mark.parametrize(
    "content, what",
    [
        ("prefix = 3\n", "prefix must be a string"),
        ('colour = "blue"\n', "unknown key 'colour'"),
        ('[graphite]\nhost = "g"\nport = "2003"\n', "graphite_port must be a port number"),
    ],
)
def test_wrong_config_values_are_one_error_line(tmp_path, content, what):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    config = tmp_path / "collect.toml"
    config.write_text(content)
    run = run_process(*base_args(log, tmp_path / "state"), "--config", str(config))
    assert run.returncode == 1
    assert what in one_error_line(run.stderr)


def test_missing_config_file_is_one_error_line(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    run = run_process(*base_args(log, tmp_path / "state"), "--config", str(tmp_path / "nope.toml"))
    assert run.returncode == 1
    assert "cannot read config file" in one_error_line(run.stderr)


def test_corrupt_state_file_is_one_error_line_and_not_overwritten(tmp_path):
    log, state, state_file = committed_run(tmp_path)
    state_file.write_bytes(b'{"version": 1, "totals": [')  # half a file
    before = state_files(state)
    from .collect_helpers import append

    append(log, alert_lines(10, seed=3))

    run = run_process(*base_args(log, state))

    assert run.returncode == 1
    line = one_error_line(run.stderr)
    assert str(state_file) in line and "corrupt" in line
    assert run.stdout == ""  # nothing shipped
    assert state_files(state) == before

    result = run_cli(*base_args(log, state))
    assert result.exit_code == 1 and one_error_line(result.stderr) == line


def test_unwritable_state_dir_is_one_error_line(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    state = blocker / "state"  # below a regular file: can never be created, even by root

    run = run_process(*base_args(log, state))

    assert run.returncode == 1
    line = one_error_line(run.stderr)
    assert line == f"Error: cannot create state directory {state}: Not a directory"
    assert run.stdout == ""


def test_read_only_state_dir_is_one_error_line(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o555)
    try:  # root runs without the capabilities that bypass file modes
        run = run_process(*base_args(log, state), prefix=NO_DAC if os.geteuid() == 0 else ())
    finally:
        state.chmod(0o755)
    assert run.returncode == 1
    assert "is not writable" in one_error_line(run.stderr)


def test_missing_log_is_one_error_line_and_state_kept(tmp_path):
    log, state, _ = committed_run(tmp_path)
    before = state_files(state)
    log.unlink()

    run = run_process(*base_args(log, state))

    assert run.returncode == 1
    assert one_error_line(run.stderr) == f"Error: cannot read {log}: No such file or directory"
    assert run.stdout == ""
    assert state_files(state) == before

    result = run_cli(*base_args(log, state))
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == f"Error: cannot read {log}: No such file or directory"
    assert state_files(state) == before


def test_log_is_a_directory_is_one_error_line(tmp_path):
    run = run_process(*base_args(tmp_path, tmp_path / "state"))
    assert run.returncode == 1
    assert one_error_line(run.stderr) == f"Error: cannot read {tmp_path}: Is a directory"


def test_bad_usage_exits_2_without_traceback(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    run = run_process(*base_args(log, tmp_path / "state"), "--output", "carrier-pigeon")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].startswith("Error: Invalid value for '--output'")
    assert not (tmp_path / "state").exists()


# --- --dry-run -----------------------------------------------------------------------------


def test_dry_run_prints_graphite_lines_and_moves_nothing(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(60)
    log.write_bytes(first)

    dry = run_process(*base_args(log, state), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert alert_points(graphite_lines(dry.stdout)) == expected_points(first)
    assert not state.exists() or not list(state.glob("*.state.json"))

    dry_again = run_cli(*base_args(log, state), "--dry-run")
    assert dry_again.exit_code == 0
    assert alert_points(graphite_lines(dry_again.stdout)) == expected_points(first)

    real = run_process(*base_args(log, state))  # ships everything: the dry runs moved no offset
    assert real.returncode == 0, real.stderr
    assert alert_points(graphite_lines(real.stdout)) == expected_points(first)
    committed = state_files(state)

    from .collect_helpers import append

    # Six hours after the first lines: past the 120 open minutes, so the real run below
    # re-sends none of the first run's minutes (a start 2 h after "now - 3 days" overlapped
    # them whenever the module was imported early in an hour).
    second = alert_lines(20, start=BASE + 6 * 3600, seed=1)
    append(log, second)
    dry = run_process(*base_args(log, state), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert alert_points(graphite_lines(dry.stdout)) == expected_points(second)
    assert state_files(state) == committed  # offset, totals and registry untouched

    real = run_process(*base_args(log, state))
    assert alert_points(graphite_lines(real.stdout)) == expected_points(second)


def test_the_pure_python_scanner_ships_what_the_c_one_does(tmp_path):
    # Where no C compiler built the scanner, a cron run falls back to Python:
    # same points from the real Nagios 4 sample log, hostile lines included.
    from pathlib import Path

    sample = Path(__file__).parent.parent / "data" / "samples" / "nagios-c0001-01" / "nagios.log"
    log = tmp_path / "nagios.log"
    log.write_bytes(
        sample.read_bytes() + b"[1700000000] SERVICE NOTIFICATION: a;h\xff;s s;CRITICAL;x;y\r\n"
        b"[1700000001] SERVICE ALERT: h;s;OK;HARD\n[1700000002] HOST ALERT: h;UP;SOFT;1\r\r\n"
    )
    compiled = run_process(*base_args(log, tmp_path / "a"), "--dry-run")
    pure = run_process(*base_args(log, tmp_path / "b"), "--dry-run", env={"NAGTUNE_PURE_PYTHON": "1"})
    assert compiled.returncode == pure.returncode == 0, compiled.stderr + pure.stderr
    points = alert_points(graphite_lines(compiled.stdout))
    assert len(points) > 100
    assert alert_points(graphite_lines(pure.stdout)) == points
    assert points == expected_points(log.read_bytes())


# --- --help --------------------------------------------------------------------------------


def test_help_explains_every_option():
    result = run_cli("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Usage: collect [OPTIONS] LOG [ARCHIVE...]" in text or "[OPTIONS] LOG [ARCHIVE...]" in text
    for param in collect_command.params:
        if param.param_type_name != "option":
            continue
        for opt in param.opts + param.secondary_opts:
            assert opt in text, f"{opt} missing from --help"
        if param.name != "help":
            assert param.help and len(param.help) > 20, f"{param.opts[0]} has no explanation"
            assert " ".join(param.help.split())[:40] in text, f"the help of {param.opts[0]} is not shown"
    for option in (
        "--graphite",
        "--statsd",
        "--output",
        "--config",
        "--state-dir",
        "--spool-dir",
        "--from-end",
        "--from-start",
        "--open-minutes",
        "--max-age",
        "--wait",
        "--dry-run",
        "--backfill",
        "--prefix",
        "--granularity",
        "--tags",
        "--environment",
        "--node",
        "--node-class",
        "--cell",
        "--cell-pattern",
        "--statsd-max-datagram",
        "--graphite-timeout",
    ):
        assert option in text


def test_help_through_the_nagtune_command():
    run = run_process("--help")
    assert run.returncode == 0
    assert "Usage: nagtune collect [OPTIONS] LOG [ARCHIVE...]" in run.stdout
    assert "--dry-run" in run.stdout and run.stderr == ""


# --- step 3: the cron path (argparse, no click) and the click path agree --------------------

CLICK_PATH = "from nagtune.cli import cli; cli(prog_name='nagtune')"  # the click group, as before the fast path
FAST_PATH = "import sys; from nagtune.cli import main; sys.argv[0] = 'nagtune'; main()"


def both_paths(*args: str, cwd=None) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    fast = subprocess.run(
        [sys.executable, "-c", FAST_PATH, "collect", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    slow = subprocess.run(
        [sys.executable, "-c", CLICK_PATH, "collect", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    return fast, slow


def bad_inputs(tmp_path) -> dict[str, list[str]]:
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(20))
    (tmp_path / "bad.toml").write_text('prefix = "x\n')
    (tmp_path / "wrong.toml").write_text('[graphite]\nport = "x"\n')
    (tmp_path / "a-file").write_text("")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    from nagtune.collect.state import state_key

    (corrupt / (state_key(str(log)) + ".state.json")).write_text("{")
    common = ["--node", NODE, "--output", "stdout"]
    good = [str(log), "--state-dir", str(tmp_path / "st"), *common]
    return {
        "bad toml": [*good, "--config", str(tmp_path / "bad.toml")],
        "wrong toml value": [*good, "--config", str(tmp_path / "wrong.toml")],
        "missing config": [*good, "--config", str(tmp_path / "nope.toml")],
        "corrupt state": [str(log), "--state-dir", str(corrupt), *common],
        "state dir below a file": [str(log), "--state-dir", str(tmp_path / "a-file" / "st"), *common],
        "missing log": [str(tmp_path / "gone.log"), "--state-dir", str(tmp_path / "st"), *common],
        "log is a directory": [str(tmp_path), "--state-dir", str(tmp_path / "st"), *common],
        "no log": ["--state-dir", str(tmp_path / "st"), *common],
        "two logs": [*good, str(log)],
        "backfill without archives": [*good, "--backfill"],
        "backfill to statsd": [
            str(log),
            str(log),
            "--backfill",
            "--output",
            "statsd",
            "--state-dir",
            str(tmp_path / "st"),
        ],
        "tags with statsd": [str(log), "--tags", "--output", "statsd", "--state-dir", str(tmp_path / "st")],
        "bad cell pattern": [*good, "--cell-pattern", "(c"],
        "datagram too small": [*good, "--statsd-max-datagram", "10"],
        "open minutes 0": [*good, "--open-minutes", "0"],
        "bad output": [*good, "--output", "pigeon"],
        "bad graphite port": [*good, "--graphite", "host:99999"],
        "bad statsd address": [*good, "--statsd", "host:x"],
        "not a number": [*good, "--open-minutes", "many"],
        "unknown option": [*good, "--colour", "blue"],
        "missing value": [*good, "--state-dir"],
        "bad node class": [*good, "--node-class", "planet"],
        "abbreviated option": [*good, "--max-a", "5"],
        "help": ["--help"],
        "short help": ["-h"],
    }


def test_cron_path_and_click_path_agree_on_bad_inputs(tmp_path):
    for label, args in bad_inputs(tmp_path).items():
        fast, slow = both_paths(*args)
        assert (fast.returncode, fast.stderr, fast.stdout) == (slow.returncode, slow.stderr, slow.stdout), label
        assert "Traceback" not in fast.stderr, label
        if label.startswith(("help", "short")):
            assert fast.returncode == 0 and "Usage: nagtune collect" in fast.stdout
        elif label in (
            "bad output",
            "bad graphite port",
            "bad statsd address",
            "not a number",
            "unknown option",
            "missing value",
            "bad node class",
            "abbreviated option",
        ):
            assert fast.returncode == 2, label
            assert fast.stderr.splitlines()[-1].startswith("Error: "), label
        else:
            assert fast.returncode == 1, (label, fast.stderr)
            one_error_line(fast.stderr)
    assert not (tmp_path / "st").exists() or not list((tmp_path / "st").glob("*.state.json"))


def test_cron_path_and_click_path_agree_on_good_runs(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(50))

    def strip(text: str) -> str:  # self metrics carry the run time
        return "\n".join(line.rsplit(" ", 1)[0] if ".nagtune." in line else line for line in text.splitlines())

    for i, args in enumerate(
        (
            ["--dry-run"],
            ["--granularity", "service", "--prefix", "a.b", "--environment", "prod"],
            ["--tags", "--max-age", "60"],
            ["--from-end"],
            ["--config", str(tmp_path / "c.toml")],
        )
    ):
        (tmp_path / "c.toml").write_text('prefix = "from.file"\ngranularity = "host"\n')
        common = [str(log), "--node", NODE, "--output", "stdout", *args]
        fast = subprocess.run(
            [sys.executable, "-c", FAST_PATH, "collect", *common, "--state-dir", str(tmp_path / f"fast{i}")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        slow = subprocess.run(
            [sys.executable, "-c", CLICK_PATH, "collect", *common, "--state-dir", str(tmp_path / f"slow{i}")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert fast.returncode == slow.returncode == 0, (fast.stderr, slow.stderr)
        assert strip(fast.stdout) == strip(slow.stdout) != ""
        assert fast.stderr == slow.stderr


def test_the_cron_path_imports_no_click_nor_heavy_modules(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(50))
    args = [str(log), "--node", NODE, "--output", "stdout", "--state-dir", str(tmp_path / "state")]
    for _ in range(2):  # a first run with lines, then a run with nothing new
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "nagtune.cli", "collect", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0
        imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line}
        for heavy in ("click", "pandas", "numpy", "matplotlib", "pyarrow", "dask", "jinja2"):
            assert heavy not in imported
    # Nothing new: no scanner, no gzip, no TOML, no dataclasses/inspect, no sockets for stdout.
    for lazy in (
        "nagtune.parsers.scan",
        "gzip",
        "tomllib",
        "dataclasses",
        "inspect",
        "socket",
        "graphyte",
        "hashlib",
        "nagtune.parsers.metrics",
        "signal",
    ):
        assert lazy not in imported, lazy
    # A failing run does not import click either.
    run = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "nagtune.cli",
            "collect",
            str(tmp_path / "gone.log"),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "click" not in {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line}


def test_option_table_constants_match_the_parsers():
    from nagtune import options
    from nagtune.collect import config
    from nagtune.parsers.identity import DEFAULT_CELL_PATTERN
    from nagtune.parsers.metrics import GRANULARITIES

    assert options.DEFAULT_CELL_PATTERN == DEFAULT_CELL_PATTERN
    assert options.GRANULARITIES == tuple(GRANULARITIES) == config.GRANULARITIES


def test_one_table_builds_both_parsers():
    from nagtune.cli_collect import OPTIONS, parse_fast

    click_names = {p.name for p in collect_command.params}
    assert click_names == {o.dest for o in OPTIONS} | {"paths"}
    values, given = parse_fast(["x.log", "--output", "stdout", "--output", "graphite", "--no-tags", "--wait", "2"])
    assert given == {"outputs", "tags", "wait"}
    assert values["outputs"] == ("stdout", "graphite") and values["tags"] is False and values["wait"] == 2.0
    defaults = {p.name: p.default for p in collect_command.params if p.name != "paths"}
    assert {k: v for k, v in parse_fast(["x.log"])[0].items() if k != "paths"} == {
        k: (() if v is None and k == "outputs" else v) for k, v in defaults.items()
    }
