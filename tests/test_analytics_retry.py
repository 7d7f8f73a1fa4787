"""Faster detection (a shorter retry_interval), replayed, checked against numbers worked out by hand."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from distributed import LocalCluster

from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.retry import replay_retry_interval, suggest_faster_detection
from nagtune.analytics.findings.retune import suggest_retunes
from nagtune.analytics.run import engine
from nagtune.analytics.run.api import analyze
from nagtune.analytics.sources import store
from nagtune.analytics.sources.ingest import load_events
from nagtune.analytics.sources.objects import load_objects
from tests.analytics_scenarios import write_node

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "samples")
T0 = 1_700_000_000
MINUTE = 60


def slow_lines(host, service, outages):
    """retry_interval 10 and 3 attempts on the object: every outage is HARD 20 min after
    its first SOFT result and notifies two contacts; between them, short problems that
    stay SOFT: one of 6 minutes, one of 12 (attempts 1 and 2, then OK)."""
    lines = []
    for i in range(outages):
        t = T0 + i * 86400
        lines += [
            (t, f"SERVICE ALERT: {host};{service};CRITICAL;SOFT;1;old"),
            (t + 10 * MINUTE, f"SERVICE ALERT: {host};{service};CRITICAL;SOFT;2;old"),
            (t + 20 * MINUTE, f"SERVICE ALERT: {host};{service};CRITICAL;HARD;3;old"),
            (t + 20 * MINUTE, f"SERVICE NOTIFICATION: ops;{host};{service};CRITICAL;mail;old"),
            (t + 20 * MINUTE, f"SERVICE NOTIFICATION: pager;{host};{service};CRITICAL;page;old"),
            (t + 200 * MINUTE, f"SERVICE ALERT: {host};{service};OK;HARD;3;fresh"),
            (t + 200 * MINUTE, f"SERVICE NOTIFICATION: ops;{host};{service};OK;mail;fresh"),
            (t + 200 * MINUTE, f"SERVICE NOTIFICATION: pager;{host};{service};OK;page;fresh"),
        ]
    t = T0 + 43200
    lines += [
        (t, f"SERVICE ALERT: {host};{service};CRITICAL;SOFT;1;blip"),
        (t + 6 * MINUTE, f"SERVICE ALERT: {host};{service};OK;SOFT;2;fresh"),
    ]
    t = T0 + 43200 + 86400
    lines += [
        (t, f"SERVICE ALERT: {host};{service};CRITICAL;SOFT;1;blip"),
        (t + 10 * MINUTE, f"SERVICE ALERT: {host};{service};CRITICAL;SOFT;2;blip"),
        (t + 12 * MINUTE, f"SERVICE ALERT: {host};{service};OK;SOFT;3;fresh"),
    ]
    return lines


def slow_node(base, name="nagios-c0007-01", services=(("db02", "Backup Age", 3),)):
    """A node directory whose log and objects.cache hold the ``services`` of :func:`slow_lines`."""
    node = base / name
    node.mkdir(parents=True)
    lines = sorted(
        (line for host, service, outages in services for line in slow_lines(host, service, outages)),
        key=lambda line: line[0],
    )
    (node / "nagios.log").write_text("".join(f"[{t}] {text}\n" for t, text in lines))
    (node / "objects.cache").write_text(
        "".join(
            "define service {\n"
            f"\thost_name\t{host}\n\tservice_description\t{service}\n\tcheck_interval\t60.000000\n"
            "\tretry_interval\t10.000000\n\tmax_check_attempts\t3\n\tnotifications_enabled\t1\n\t}\n"
            for host, service, _ in services
        )
    )
    return node


def test_replay_by_hand(tmp_path):
    node = slow_node(tmp_path)
    events = load_events([str(node)])
    episodes = build_episodes(events)
    row = suggest_faster_detection(events, episodes, objects=load_objects(str(node))).iloc[0]
    # (3 - 1) * 5 min = 10 min: the longest retry under the 10-minute aim.
    assert (row["directive"], row["current"], row["suggested"]) == ("retry_interval", "10", "5")
    # Each outage: HARD after 20 min before, 10 min after.
    assert row["extra_detection_minutes"] == -10.0
    # By hand (Nagios: checks every retry_interval from the first failure; the recovery
    # check is OK): the 12-minute blip's checks at 0, 5, 10 min fail, the one at 15 is OK:
    # 3 failing checks = max_check_attempts 3: HARD now, with its two contacts
    # told twice (problem, recovery); the 6-minute one fails at 0 and 5 (2 checks) and stays SOFT.
    assert row["notifications_before"] == 3 * 4
    assert row["notifications_after"] == 3 * 4 + 2 * 2
    # Alerts: 3 outages x 4 lines; blips 2 and 3 lines before; the 12-minute blip
    # becomes 2 SOFT + 1 HARD + 1 recovery.
    assert row["alerts_before"] == 3 * 4 + 2 + 3
    assert row["alerts_after"] == 3 * 4 + 2 + 4
    assert row["long_problems_after"] == row["long_problems_before"] == 3
    assert "1 short problems that stayed SOFT would go HARD too (2 notifications or more)" in row["reason"]


def test_replay_keeps_every_hard_problem_hard():
    episodes = pd.DataFrame(
        {
            "start": pd.to_datetime([T0, T0 + 9000], unit="s", utc=True),
            "duration": pd.to_timedelta([3600, 120], unit="s"),
            "hard": [True, False],
            "open": [False, False],
            "alerts": [4, 2],
            "notifications": [2, 0],
            "detection_delay": pd.to_timedelta([1800, None], unit="s"),
        }
    )
    replay = replay_retry_interval(episodes, 1.0, attempts=4, contacts=1)
    assert replay["hard_after"].tolist() == [
        True,
        False,
    ]  # 120 s at 1 min: checks at 0 and 60 s fail, the one at 120 s is the OK recovery: 2 < 4 attempts
    assert replay["detection_after"].iloc[0] == pd.Timedelta(minutes=3)
    assert replay["earlier"].iloc[0] == pd.Timedelta(minutes=27)


def test_scenario_slow_disk_gets_a_faster_retry_from_the_log(tmp_path):
    write_node(str(tmp_path))
    rows = analyze([str(tmp_path)]).retunes
    row = rows[rows["directive"] == "retry_interval"].iloc[0]
    assert (row["host"], row["service"]) == ("db01", "Disk Space /var")
    # SOFT attempts 15 min apart in the log, 4 attempts: 3 min makes it 9 min, from 30.
    assert row["current"] == "15 (from the log)" and row["suggested"] == "3"
    assert row["extra_detection_minutes"] == -21.0
    # One change per service: the chatty ones keep theirs, first.
    assert rows["service"].is_unique and rows["directive"].iloc[-1] == "retry_interval"


def test_suggest_retunes_adds_them_after_the_chatty_ones(tmp_path):
    node = slow_node(tmp_path)
    events = load_events([str(node)])
    retunes = suggest_retunes(events, build_episodes(events), objects=load_objects(str(node)))
    assert retunes["directive"].tolist()[-1] == "retry_interval"
    assert retunes[["host", "service"]].drop_duplicates().shape[0] == len(retunes)


def test_dask_engine_chooses_the_same_faster_detection_rows(tmp_path):
    """Slow services on several nodes, more than the top: the Dask engine, which sees one
    node at a time, keeps the same rows as the pandas engine."""
    logs = tmp_path / "logs"
    for index in range(3):
        slow_node(
            logs,
            name=f"nagios-c000{index + 1}-01",
            services=[(f"db{service}", f"Backup {service}", 1 + (service + index) % 3) for service in range(4)],
        )
    target = str(tmp_path / "store")
    store.ingest_paths(str(logs), target)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        on_dask = engine.analyze_store(target, engine="dask", scheduler=cluster.scheduler_address, retune_top=5)
    on_pandas = engine.analyze_store(target, engine="pandas", retune_top=5)
    pd.testing.assert_frame_equal(on_dask.retunes.reset_index(drop=True), on_pandas.retunes.reset_index(drop=True))
    assert (on_pandas.retunes["directive"] == "retry_interval").sum() >= 3


@pytest.mark.parametrize("minutes", [1.0, 10.0])
def test_nothing_to_gain_is_not_suggested(tmp_path, minutes):
    # Retries already at 1 minute (nothing shorter to offer), or fast enough already.
    node = tmp_path / "n"
    node.mkdir()
    t = T0
    gap = int(minutes * MINUTE)
    lines = [
        (t, "SERVICE ALERT: h;S;CRITICAL;SOFT;1;x"),
        (t + gap, "SERVICE ALERT: h;S;CRITICAL;HARD;2;x"),
        (t + 7200, "SERVICE ALERT: h;S;OK;HARD;2;ok"),
    ]
    (node / "nagios.log").write_text("".join(f"[{t}] {x}\n" for t, x in lines))
    events = load_events([str(node)])
    assert suggest_faster_detection(events, build_episodes(events)).empty


def test_retune_in_worker_processes_chooses_the_one_process_rows(tmp_path):
    """nagtune retune over groups of nodes: each group replays its own top and gives all its
    faster-detection rows; the global choice is the one process's, row for row."""
    import shutil

    from nagtune.analytics.run import api
    from nagtune.parsers.logfiles import find_side_files

    logs = tmp_path / "logs"
    shutil.copytree(SAMPLES, logs)  # three real nodes, each with chatty services
    for index in range(4):
        slow_node(
            logs,
            name=f"nagios-c010{index + 1}-01",
            services=[(f"db{service}", f"Backup {service}", 1 + (service + index) % 3) for service in range(4)],
        )
    events = load_events([str(logs)])
    objects = load_objects(find_side_files([str(logs)], "objects.cache"))
    from nagtune.analytics.sources.ingest import load_perfdata

    perfdata = load_perfdata(find_side_files([str(logs)], "service-perfdata.log"))
    for top in (2, 5, 20):
        # One process over the same window and node settings (nagios.cfg) is the reference.
        expected = api.retune_logs([str(logs)], top=top, processes=1)
        assert len(expected) and set(expected["directive"]) <= set(
            suggest_retunes(events, build_episodes(events), objects=objects, perfdata=perfdata, top=100)["directive"]
        )
        for processes in (2, 3):
            got = api.retune_logs([str(logs)], top=top, processes=processes)
            pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), obj=f"top {top}, {processes}")
    assert (expected["directive"] == "retry_interval").sum() >= 3
    assert expected.loc[expected["directive"] != "retry_interval", "node"].nunique() == 3
