"""Only what nagtune wrote leaves the spool: links, FIFOs, directories and
unsealed or edited files are quarantined with a warning, never sent, never
blocking the batches behind them; the spool has a size cap."""

from __future__ import annotations

import os
import random

import pytest

from nagtune.collect.run import flush_delay
from nagtune.collect.spool import seal
from nagtune.collect.state import state_key

from .collect_helpers import Sink, alert_lines, append, closed_port, collect

SECRET = b"secret.password 12345 1700000000\n"


def _spool_dir(state, log, output="graphite"):
    return state / "spool" / state_key(str(log)) / output


def _down_run(log, state):
    """A run with carbon refusing: its points wait in the spool."""
    run = collect(log, state, "--output", "graphite", "--graphite", f"127.0.0.1:{closed_port()}")
    assert run.returncode == 75, run.stderr
    return sorted(p for p in _spool_dir(state, log).iterdir() if p.name.endswith(".spool"))


@pytest.mark.parametrize(
    "hostile", ["symlink to a secret", "nul and 0xff bytes", "edited batch", "fifo", "dev zero", "directory"]
)
def test_a_hostile_spool_entry_is_quarantined_and_the_real_batches_still_go(tmp_path, hostile):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(40))
    real = _down_run(log, state)
    assert real
    spool = _spool_dir(state, log)
    planted = spool / "000000000000-00000000000000000000-1.spool"  # sorts first: it would block the rest
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    if hostile == "symlink to a secret":
        planted.symlink_to(secret)
    elif hostile == "nul and 0xff bytes":
        planted.write_bytes(b"a.b 1 1700000000\n\x00\xff\xfe x 2 3\n")
    elif hostile == "edited batch":
        planted.write_bytes(real[0].read_bytes().replace(b" 1 ", b" 9 ", 1))
    elif hostile == "fifo":
        os.mkfifo(planted)
    elif hostile == "dev zero":
        planted.symlink_to("/dev/zero")
    else:
        planted.mkdir()
        (planted / "x").write_bytes(SECRET)
    sink = Sink()
    try:
        run = collect(log, state, *sink.args(), timeout=60)
    finally:
        sink.close()

    assert run.returncode == 0, run.stderr
    assert f"warning: spool entry {planted} was not written by nagtune".encode() in run.stderr
    sent = b"".join(sink.received)
    assert b"secret" not in sent and b"\x00" not in sent and b"\xff" not in sent
    assert b" 9 " not in sent or hostile != "edited batch"
    for batch in real:  # the real batches went out, and are gone
        assert not batch.exists()
    assert not os.path.lexists(planted)
    assert os.listdir(spool / "quarantine")
    assert secret.read_bytes() == SECRET


def test_a_sealed_batch_is_what_nagtune_wrote():
    payload = b"a.b 1 60\n"
    sealed = seal(payload)
    assert sealed.endswith(payload) and sealed.startswith(b"nagtune-spool 1 9 ")


def test_the_spool_cap_drops_the_oldest_batches_with_a_warning(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(20000, hosts=4000))  # ~2 MB of points
    args = ("--output", "graphite", "--graphite", f"127.0.0.1:{closed_port()}", "--spool-max-mb", "1")

    run = collect(log, state, *args)

    assert run.returncode == 75
    assert b"reached its cap of 1 MiB; the 1 oldest batch(es) were dropped" in run.stderr
    batches = [p for p in _spool_dir(state, log).iterdir() if p.name.endswith(".spool")]
    assert len(batches) == 1 and sum(p.stat().st_size for p in batches) <= 1 << 20
    assert b".nagtune.lines " in batches[0].read_bytes()  # the newest batch (self metrics) is kept


def test_a_backlog_is_sent_after_a_random_delay_within_the_jitter(tmp_path):
    from nagtune.collect.config import build
    from nagtune.collect.run import Collector

    rng = random.Random(7)
    delays = [flush_delay(30.0, rng) for _ in range(200)]
    assert all(0.0 <= d < 30.0 for d in delays) and max(delays) - min(delays) > 20
    assert flush_delay(0.0) == 0.0

    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(40))
    _down_run(log, state)
    slept = []
    sink = Sink()
    try:
        config = build(
            {},
            {
                "log": str(log),
                "state_dir": str(state),
                "node": "nagios-c0001-01",
                "graphite_port": sink.port,
                "flush_jitter": 12.0,
            },
        )
        report = Collector(config, sleep=slept.append).run()
        again = Collector(config, sleep=slept.append).run()  # no backlog: no delay
    finally:
        sink.close()
    assert report.exit_code == 0 and again.exit_code == 0
    assert len(slept) == 1 and 0.0 <= slept[0] < 12.0


def test_a_statsd_send_failure_exits_75_with_the_counts_kept(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(40))

    # 255.255.255.255 without SO_BROADCAST: sendto fails at once (EACCES), nothing leaves the host
    run = collect(log, state, "--output", "statsd", "--statsd", "255.255.255.255:8125")

    assert run.returncode == 75, run.stderr
    assert b"the counts stay in" in run.stderr
    assert [p for p in _spool_dir(state, log, "statsd").iterdir() if p.name.endswith(".spool")]


def test_send_failure_warnings_come_once_per_outage(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    port = closed_port()
    args = ("--output", "graphite", "--graphite", f"127.0.0.1:{port}")
    runs = []
    for i in range(3):
        append(log, alert_lines(10, start=int(__import__("time").time()) - 3600 + i * 100, seed=i))
        runs.append(collect(log, state, *args))
    assert [r.returncode for r in runs] == [75, 75, 75]
    assert b"Connection refused" in runs[0].stderr
    assert runs[1].stderr == runs[2].stderr == b""
    sink = Sink()
    try:
        back = collect(log, state, *sink.args())
    finally:
        sink.close()
    assert back.returncode == 0
    assert b"note: graphite works again after an outage of" in back.stderr
    assert back.stderr.count(b"\n") == 1


def test_a_statsd_outage_is_said_once(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    runs = []
    for i in range(3):
        append(log, alert_lines(10, start=int(__import__("time").time()) - 3600 + i * 100, seed=i))
        runs.append(collect(log, state, "--output", "statsd", "--statsd", "255.255.255.255:8125"))
    assert [r.returncode for r in runs] == [75, 75, 75]
    assert b"the counts stay in" in runs[0].stderr
    assert runs[1].stderr == runs[2].stderr == b""
