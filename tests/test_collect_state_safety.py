"""The state dir cannot be used to overwrite or leak a file of the node, and a
damaged or hostile state gives one Error line, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nagtune.collect.state import state_key

from .collect_helpers import alert_lines, collect, collect_command

SECRET = b"root-only secret: do not overwrite or send\n"


def _collect_planting(log, state_dir, names, *args):
    """One cron run whose own PID gets a symlink at ``NAME.tmp.PID`` for each of
    ``names`` before the collector starts: exec keeps the PID."""
    command = collect_command(log, state_dir, *args)
    planter = (
        "import os, sys\n"
        "target, names, command = sys.argv[1], sys.argv[2].split(','), sys.argv[3:]\n"
        "for name in names:\n"
        "    os.symlink(target, f'{name}.tmp.{os.getpid()}')\n"
        "os.execv(command[0], command)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", planter, str(state_dir / "secret"), ",".join(names), *command],
        capture_output=True,
        timeout=60,
    )


def test_a_link_planted_at_the_runs_own_temp_names_is_never_followed(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(30))
    state.mkdir(mode=0o700)
    secret = state / "secret"
    secret.write_bytes(SECRET)
    key = state_key(str(log))
    names = [str(state / f"{key}.{what}") for what in ("state.json", "names.json", "totals.1.json")]

    run = _collect_planting(log, state, names, "--output", "stdout")

    assert run.returncode == 0, run.stderr
    assert secret.read_bytes() == SECRET
    assert json.loads((state / f"{key}.state.json").read_bytes())["generation"] == 1


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_state_dir_others_can_write_is_refused(tmp_path, mode):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(10))
    state.mkdir()
    state.chmod(mode)

    run = collect(log, state, "--output", "stdout")

    assert run.returncode == 1
    assert run.stderr.startswith(b"Error: state directory ") and b"writable by group or others" in run.stderr
    assert run.stderr.count(b"\n") == 1 and b"Traceback" not in run.stderr
    assert os.listdir(state) == []


def test_a_state_dir_owned_by_another_user_is_refused(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(10))
    state.mkdir(mode=0o700)
    os.chown(state, 65534, 65534)  # the tests run as root (CI); nobody owns it now

    run = collect(log, state, "--output", "stdout")

    assert run.returncode == 1
    assert b"Error: state directory" in run.stderr and b"owned by uid 65534" in run.stderr
    assert run.stderr.count(b"\n") == 1


def test_a_spool_dir_others_can_write_is_refused(tmp_path):
    log, state, spool = tmp_path / "nagios.log", tmp_path / "state", tmp_path / "spool"
    log.write_bytes(alert_lines(10))
    spool.mkdir()
    spool.chmod(0o1777)

    run = collect(log, state, "--output", "statsd", "--spool-dir", str(spool))

    assert run.returncode == 1
    assert b"Error: spool directory" in run.stderr and b"writable by group or others" in run.stderr


def _state_file(state_dir, log):
    return state_dir / f"{state_key(str(log))}.state.json"


def _first_run(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(30))
    first = collect(log, state, "--output", "stdout")
    assert first.returncode == 0, first.stderr
    return log, state, _state_file(state, log)


def _tamper(path, edit):
    data = json.loads(path.read_bytes())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "case", ["not utf-8", "newline in a self name", "negative offset", "offset a string", "a list", "symlink", "fifo"]
)
def test_a_damaged_or_hostile_state_file_gives_one_error_line(tmp_path, case):
    log, state, path = _first_run(tmp_path)
    if case == "not utf-8":
        path.write_bytes(b'{"version": 2, "log": "\xff\xfe"}')
    elif case == "newline in a self name":
        _tamper(path, lambda d: d["self_names"]["names"].update(lines="x 1 0\nforged.metric"))
    elif case == "negative offset":
        _tamper(path, lambda d: d["position"].update(offset=-5))
    elif case == "offset a string":
        _tamper(path, lambda d: d["position"].update(offset="12"))
    elif case == "a list":
        path.write_text("[1, 2]")
    elif case == "symlink":
        (tmp_path / "elsewhere.json").write_bytes(path.read_bytes())
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere.json")
    elif case == "fifo":
        path.unlink()
        os.mkfifo(path)

    run = collect(log, state, "--output", "stdout", timeout=30)

    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith(b"Error: ") and run.stderr.count(b"\n") == 1, run.stderr
    assert b"Traceback" not in run.stderr
    assert str(path).encode() in run.stderr  # it blames the state file, not the log
    assert b"forged.metric" not in run.stdout


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "socket"])
def test_a_log_that_is_not_a_regular_file_is_refused_without_hanging(tmp_path, kind):
    import socket

    log, state = tmp_path / "nagios.log", tmp_path / "state"
    if kind == "fifo":
        os.mkfifo(log)
    elif kind == "dev-zero":
        log.symlink_to("/dev/zero")
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(log))

    run = collect(log, state, "--output", "stdout", timeout=30)

    assert run.returncode == 1
    assert run.stderr == f"Error: cannot read {log}: not a regular file (a FIFO, device or socket)\n".encode()


def test_a_planted_lock_link_is_refused(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(10))
    state.mkdir(mode=0o700)
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    (state / f"{state_key(str(log))}.lock").symlink_to(secret)

    run = collect(log, state, "--output", "stdout")

    assert run.returncode == 1 and run.stderr.startswith(b"Error: cannot open lock file")
    assert secret.read_bytes() == SECRET
