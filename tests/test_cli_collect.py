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

from .collect_helpers import NODE, PREFIX, alert_lines, expected_points, expected_totals


def run_cli(*args: str) -> "object":
    return CliRunner().invoke(collect_command, list(args), catch_exceptions=False)


def run_process(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A whole cron run through the installed entry point, ``nagtune.cli.main``."""
    return subprocess.run([sys.executable, "-c", "import sys; from nagtune.cli import main; sys.argv[0] = 'nagtune'; main()",
                           "collect", *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=60)


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

    run = run_process(str(log), "--state-dir", str(state), "--node", NODE, "--prefix", PREFIX,
                      "--output", "stdout", "--max-age", "86400")

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    expect = expected_points(data)
    assert alert_points(graphite_lines(run.stdout)) == expect
    warnings = [line for line in run.stderr.splitlines() if "older than max_age" in line]
    assert warnings == [f"warning: {len(expect)} points are older than max_age (86400 s); "
                        f"whisper drops points older than its retention"]


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


@pytest.mark.parametrize("content, what", [
    ('prefix = 3\n', "prefix must be a string"),
    ('colour = "blue"\n', "unknown key 'colour'"),
    ('[graphite]\nhost = "g"\nport = "2003"\n', "graphite_port must be a port number"),
])
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


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_state_dir_is_one_error_line(tmp_path):
    log = tmp_path / "nagios.log"
    log.write_bytes(alert_lines(10))
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o555)
    try:
        run = run_process(*base_args(log, state))
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
    second = alert_lines(20, start=int(time.time()) - 3 * 86400 + 7200, seed=1)
    append(log, second)
    dry = run_process(*base_args(log, state), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert alert_points(graphite_lines(dry.stdout)) == expected_points(second)
    assert state_files(state) == committed  # offset, totals and registry untouched

    real = run_process(*base_args(log, state))
    assert alert_points(graphite_lines(real.stdout)) == expected_points(second)


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
    for option in ("--graphite", "--statsd", "--output", "--config", "--state-dir", "--spool-dir",
                   "--from-end", "--from-start", "--open-minutes", "--max-age", "--wait", "--dry-run",
                   "--backfill", "--prefix", "--granularity", "--tags", "--environment", "--node",
                   "--node-class", "--cell", "--cell-pattern", "--statsd-max-datagram", "--graphite-timeout"):
        assert option in text


def test_help_through_the_nagtune_command():
    run = run_process("--help")
    assert run.returncode == 0
    assert "Usage: nagtune collect [OPTIONS] LOG [ARCHIVE...]" in run.stdout
    assert "--dry-run" in run.stdout and run.stderr == ""
