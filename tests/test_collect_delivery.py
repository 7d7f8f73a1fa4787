"""Delivery is confirmed, not assumed: carbon that accepts and then resets,
never reads (SIGSTOP) or dies keeps the points in the spool; the next run
re-sends the minutes the last one sent."""

from __future__ import annotations

import os
import signal

import pytest

from .collect_helpers import Sink, alert_lines, append, assert_carbon_has, collect, graphite_args

slow = pytest.mark.slow


def _after(data: bytes) -> int:
    return int(data.split(b"]")[-2].split(b"[")[-1]) + 5


@slow
def test_carbon_sigstopped_then_killed_loses_nothing(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    first = alert_lines(60)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    assert_carbon_has(carbon, first)  # in whisper: carbon's own cache is not what is tested here

    second = alert_lines(211, start=_after(first), seed=1)
    append(log, second)
    os.kill(carbon.pid, signal.SIGSTOP)  # accepts (the kernel's backlog), never reads
    try:
        stopped = collect(log, state, *graphite_args(carbon))
    finally:
        carbon.kill()  # SIGKILL: whatever it had in its socket buffers is gone

    assert stopped.returncode == 75, stopped.stderr
    assert b"no confirmation within 2 s" in stopped.stderr
    carbon.start()
    up = collect(log, state, *graphite_args(carbon))
    assert up.returncode == 0, up.stderr
    assert_carbon_has(carbon, first + second)


@slow
def test_a_carbon_that_resets_after_accepting_loses_nothing(tmp_path, carbon):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(211)  # a payload the kernel takes at once: send() alone says it went out
    log.write_bytes(data)
    sink = Sink("reset")
    try:
        reset = collect(log, state, *sink.args())
    finally:
        sink.close()
    assert sink.connections >= 1
    assert reset.returncode == 75, reset.stderr
    assert b"spooled" in reset.stderr

    up = collect(log, state, *graphite_args(carbon))

    assert up.returncode == 0, up.stderr
    assert_carbon_has(carbon, data)


def test_the_next_run_sends_the_last_runs_minutes_again(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(30)
    log.write_bytes(data)
    sink = Sink()
    try:
        first = collect(log, state, *sink.args())
        sent = {line for line in sink.lines if b".nagtune." not in line}
        sink.received.clear()
        again = collect(log, state, *sink.args())  # nothing new
        resent = {line for line in sink.lines if b".nagtune." not in line}
        sink.received.clear()
        third = collect(log, state, *sink.args())  # nothing new, nothing left to re-send
        quiet = {line for line in sink.lines if b".nagtune." not in line}
    finally:
        sink.close()
    assert first.returncode == again.returncode == third.returncode == 0
    assert sent and resent == sent
    assert quiet == set()


def test_self_metrics_are_per_minute_totals(tmp_path):
    """Several runs in one minute: Graphite keeps the last value, so each run
    sends the minute's total so far, not its own count."""
    import io

    from nagtune.collect.config import build
    from nagtune.collect.run import Collector

    log = tmp_path / "nagios.log"
    now = 1_800_000_000 - 1_800_000_000 % 60 + 10
    config = build(
        {}, {"log": str(log), "state_dir": str(tmp_path / "state"), "node": "nagios-c0001-01", "outputs": ["stdout"]}
    )
    seen = []
    for i, count in enumerate((20, 35, 7)):
        append(log, alert_lines(count, start=now - 3000 + i * 400, seed=i))
        out = io.BytesIO()
        Collector(config, stdout=out, clock=lambda i=i: now + i).run()
        seen.append([line for line in out.getvalue().splitlines() if b".nagtune.lines " in line])
    minute = now - now % 60
    assert [lines[-1].split()[1:] for lines in seen] == [
        [b"20", str(minute).encode()],
        [b"55", str(minute).encode()],
        [b"62", str(minute).encode()],
    ]


def test_a_line_dated_1970_is_late_not_sent_at_time_zero(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(20)
    log.write_bytes(data + b"[0] SERVICE ALERT: web00-c0001;PING;CRITICAL;HARD;1;x\n")

    run = collect(log, state, "--output", "stdout")

    assert run.returncode == 0
    times = {int(line.split()[2]) for line in run.stdout.splitlines()}
    assert min(times) > 10**9
    assert b"1 lines dated before the oldest open minute" in run.stderr
    assert any(
        line.split()[0].endswith(b".nagtune.late_lines") and line.split()[1] == b"1" for line in run.stdout.splitlines()
    )
