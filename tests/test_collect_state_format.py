"""The state does not grow without a word nor get rewritten whole every
minute, and two logs cannot silently write the same series."""

from __future__ import annotations

import json
import os

from nagtune.collect.state import state_key

from .collect_helpers import alert_lines, append, collect


def _files(state):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in state.iterdir() if p.is_file()}


def test_a_run_with_nothing_new_writes_nothing_and_names_are_written_only_when_added(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(60)
    log.write_bytes(data)
    key = state_key(str(log))
    assert collect(log, state, "--output", "stdout").returncode == 0
    assert collect(log, state, "--output", "stdout").returncode == 0  # nothing new: clears the re-send list
    before = _files(state)
    assert f"{key}.names.json" in before and f"{key}.state.json" in before

    quiet = collect(log, state, "--output", "stdout")

    assert quiet.returncode == 0 and _files(state) == before
    # more lines of the same hosts and services: totals and state change, the names file does not
    append(log, alert_lines(12, start=int(data.split(b"]")[-2].split(b"[")[-1]) + 5))
    assert collect(log, state, "--output", "stdout").returncode == 0
    after = _files(state)
    assert after[f"{key}.names.json"] == before[f"{key}.names.json"]
    assert after[f"{key}.state.json"] != before[f"{key}.state.json"]
    totals = [name for name in after if ".totals." in name]
    assert len(totals) == 1  # the older generation's totals file is gone
    state_data = json.loads((state / f"{key}.state.json").read_bytes())
    assert "totals" not in state_data and "hosts" not in state_data


def test_a_version_1_state_is_read_and_split(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    log.write_bytes(alert_lines(30))
    first = collect(log, state, "--output", "stdout")
    key = state_key(str(log))
    path = state / f"{key}.state.json"
    data = json.loads(path.read_bytes())
    totals_file = state / f"{key}.totals.{data['totals_generation']}.json"
    names = json.loads((state / f"{key}.names.json").read_bytes())
    old = {k: v for k, v in data.items() if k not in ("totals_generation", "self_totals", "resend_minutes", "outages")}
    old.update(version=1, totals=json.loads(totals_file.read_bytes()), **names)
    path.write_text(json.dumps(old))
    totals_file.unlink()
    (state / f"{key}.names.json").unlink()

    last_alert = [line for line in log.read_bytes().splitlines(keepends=True) if b"SERVICE ALERT" in line][-1]
    append(log, last_alert)  # the same minute again: its total must grow from the version 1 totals

    again = collect(log, state, "--output", "stdout")

    assert again.returncode == 0, again.stderr
    grown = [line.split() for line in again.stdout.splitlines() if b".nagtune." not in line]
    assert len(grown) == 1
    before = {tuple(line.split()[::2]): int(line.split()[1]) for line in first.stdout.splitlines()}
    name, value, minute = grown[0]
    assert int(value) == before[(name, minute)] + 1
    assert json.loads(path.read_bytes())["version"] == 2
    assert (state / f"{key}.names.json").exists()


def test_more_series_than_max_series_warns_once(tmp_path):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    data = alert_lines(100, hosts=40)
    log.write_bytes(data)

    first = collect(log, state, "--output", "stdout", "--max-series", "10")
    append(log, alert_lines(100, start=int(data.split(b"]")[-2].split(b"[")[-1]) + 5, hosts=40))
    second = collect(log, state, "--output", "stdout", "--max-series", "10")

    assert first.returncode == second.returncode == 0
    assert b"more than --max-series 10" in first.stderr
    assert b"max-series" not in second.stderr


def test_two_logs_that_would_write_the_same_series_are_refused(tmp_path):
    one, two, state = tmp_path / "a" / "nagios.log", tmp_path / "b" / "nagios.log", tmp_path / "state"
    for log in (one, two):
        log.parent.mkdir()
        log.write_bytes(alert_lines(20))
    assert collect(one, state, "--output", "stdout").returncode == 0

    clash = collect(two, state, "--output", "stdout")
    own_node = collect(two, state, "--output", "stdout", "--node", "nagios-c0001-02")

    assert clash.returncode == 1
    assert clash.stderr.startswith(b"Error: ") and b"would write the same series" in clash.stderr
    assert clash.stderr.count(b"\n") == 1 and str(one).encode() in clash.stderr
    assert own_node.returncode == 0, own_node.stderr
    assert os.path.exists(state)
