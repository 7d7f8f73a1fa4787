"""Chatty ranking, quiet findings, names and automation on a node whose behaviours are known."""

import re
import subprocess

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.analytics._frames import (
    AUTOMATION_COLUMNS,
    BY_CELL_COLUMNS,
    CHATTY_COLUMNS,
    CHATTY_HOST_SERVICE_COLUMNS,
    NAME_COLUMNS,
    QUIET_COLUMNS,
)
from nagtune.analytics.findings.chatty import rank_chatty
from nagtune.analytics.findings.names import audit_names
from nagtune.analytics.findings.quiet import find_quiet
from nagtune.analytics.run.api import analyze
from tests.analytics_scenarios import NODE, write_node


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    directory = tmp_path_factory.mktemp("scenario")
    node_dir = write_node(str(directory))
    return node_dir, analyze([str(directory)])


def test_flapping_and_noisy_rank_first_and_say_why(scenario):
    _, result = scenario
    chatty = result.chatty
    assert list(chatty.columns) == CHATTY_COLUMNS
    assert chatty["service"].tolist()[:2] == ["HTTP", "Load"]
    assert chatty["score"].is_monotonic_decreasing
    http, load = chatty.iloc[0], chatty.iloc[1]
    assert "flapping: state changed" in http["reasons"] and http["flap_percent"] >= 50
    assert "notifications/week" in http["reasons"]
    assert "transient" in load["reasons"] and load["transient_share"] == 1.0
    assert (http["node"], http["cell"], http["node_class"]) == (NODE, "c0001", "cell")


def test_steady_service_never_appears(scenario):
    _, result = scenario
    assert "SSH" not in set(result.chatty["service"]) | set(result.chatty_host_service["service"])
    assert "SSH" not in set(result.quiet["service"]) | set(result.retunes["service"])


def test_host_service_ranking_has_the_host(scenario):
    _, result = scenario
    assert list(result.chatty_host_service.columns) == CHATTY_HOST_SERVICE_COLUMNS
    assert result.chatty_host_service.iloc[0][["host", "service"]].tolist() == ["web01", "HTTP"]
    assert len(rank_chatty(result.events, result.episodes, top=1)) == 1


def test_quiet_findings(scenario):
    _, result = scenario
    quiet = result.quiet
    assert list(quiet.columns) == QUIET_COLUMNS
    found = set(zip(quiet["host"], quiet["service"], quiet["finding"]))
    assert ("db01", "MySQL Replication", "silent_hard_problem") in found
    assert ("db01", "Disk Space /var", "slow_detection") in found
    assert ("app01", "NTP Offset", "ok_while_host_down") in found
    assert ("app01", "PING", "ok_while_host_down") not in found
    stuck = quiet[quiet["finding"] == "silent_hard_problem"].iloc[0]
    assert stuck["duration"] == pd.Timedelta(hours=10) and "nobody was notified" in stuck["detail"]
    # Noisy services are not quiet ones.
    assert not {"HTTP", "Load"} & set(quiet["service"])


def test_ok_while_siblings_fail(scenario):
    _, result = scenario
    t = result.events["time"].max()
    rows = []
    for service in ("A", "B", "C", "D"):
        rows += [
            dict(
                kind="service",
                node="n",
                node_class="cell",
                cell="c0001",
                environment="default",
                host="h",
                service=service,
                start=t,
                end=t + pd.Timedelta(hours=1),
                duration=pd.Timedelta(hours=1),
                worst_state="CRITICAL",
                hard=True,
                first_hard=t,
                notifications=1,
                in_downtime=False,
                acknowledged=False,
                open=False,
                detection_delay=pd.Timedelta(0),
                max_attempt=1,
            )
        ]
    episodes = pd.DataFrame(rows)
    events = pd.DataFrame(
        {
            "time": [t] * 5,
            "node": ["n"] * 5,
            "node_class": ["cell"] * 5,
            "cell": ["c0001"] * 5,
            "kind": ["service_alert"] * 4 + ["current_service_state"],
            "host": ["h"] * 5,
            "service": ["A", "B", "C", "D", "E"],
        }
    )
    quiet = find_quiet(events, episodes)
    assert quiet[quiet["finding"] == "ok_while_siblings_fail"]["service"].tolist() == ["E"]


def test_alert_counts_agree_with_an_independent_grep_count(scenario):
    """Per host and service, alerts counted by nagtune equal `grep` over the raw files (zcat for .gz).

    Nagios' summary.cgi is not installed here (no nagios4-cgi), so the
    reference is grep: lines with ' SERVICE ALERT: ' (snapshots never match).
    """
    node_dir, result = scenario
    script = (
        f"cd {node_dir} && zcat -f archives/* nagios.log | grep -a ' SERVICE ALERT: ' "
        r"| sed -E 's/^\[[0-9]+\] SERVICE ALERT: ([^;]*);([^;]*);.*/\1;\2/' | sort | uniq -c"
    )
    output = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    expected = {}
    for line in output.splitlines():
        count, key = line.strip().split(" ", 1)
        expected[tuple(key.split(";"))] = int(count)
    alerts = result.events[result.events["kind"] == "service_alert"]
    got = alerts.groupby(["host", "service"], observed=True).size()
    assert {k: int(v) for k, v in got.items()} == expected
    ranked = result.chatty_host_service.set_index(["host", "service"])
    weeks = (result.events["time"].max() - result.events["time"].min()) / pd.Timedelta(days=7)
    for key, count in expected.items():
        # Every alert is counted and rated, those written while the host was down too.
        assert ranked.loc[key, "alerts"] == count
        assert ranked.loc[key, "alerts_per_week"] == pytest.approx(count / weeks, abs=0.01)
    # app01 PING's CRITICAL came while app01 was HARD DOWN: shown as such, not dropped.
    assert ranked.loc[("app01", "PING"), "alerts_while_host_down"] == 1
    assert ranked["alerts_while_host_down"].sum() == 1


def test_names_audit_reports_collisions_with_the_one_sanitizer():
    events = pd.DataFrame(
        {
            "kind": ["service_alert"] * 4,
            "host": ["web01"] * 4,
            "service": ["Disk Space /var", "disk_space_var", "Load", "Disk Space /var"],
        }
    )
    names = audit_names(events)
    assert list(names.columns) == NAME_COLUMNS
    by_raw = names.set_index("raw")
    assert by_raw.loc["Disk Space /var", "metric_name"] == "disk_space_var"
    assert by_raw.loc["Disk Space /var", "collides_with"] == "disk_space_var"
    assert re.fullmatch(r"disk_space_var_[0-9a-f]{8}", by_raw.loc["disk_space_var", "metric_name"])
    assert by_raw.loc["Load", "collides_with"] == ""


def test_automation_candidates(tmp_path):
    lines = []
    start = 1_763_942_400
    for day in range(5):  # backup at 03:10 every night; someone acks one of them
        t = start + 86400 * day + 3 * 3600 + 600
        lines += [
            (t, "SERVICE ALERT: db01;Backup;CRITICAL;HARD;1;late"),
            (t + 900, "SERVICE ALERT: db01;Backup;OK;HARD;1;ok"),
        ]
    lines.append((start + 3 * 3600 + 700, "EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;db01;Backup;2;1;1;bob;again"))
    lines.sort()
    node = tmp_path / "nagios-c0001-01"
    node.mkdir()
    (node / "nagios.log").write_text("".join(f"[{t}] {text}\n" for t, text in lines))
    result = analyze([str(node)])
    auto = result.automation
    assert list(auto.columns) == AUTOMATION_COLUMNS
    daily = auto[auto["pattern"] == "recurring_hour_of_day"].iloc[0]
    assert (daily["service"], daily["when"], daily["episodes"]) == ("Backup", "daily 03:00", 5)
    acked = auto[auto["pattern"] == "acked_then_self_resolved"].iloc[0]
    assert acked["episodes"] == 1 and "recovered on its own" in acked["detail"]


def test_by_cell_summary(scenario):
    _, result = scenario
    assert list(result.by_cell.columns) == BY_CELL_COLUMNS
    row = result.by_cell.iloc[0]
    assert (row["cell"], row["node_class"], row["nodes"]) == ("c0001", "cell", 1)
    assert row["alerts"] == int(result.events["kind"].isin(["service_alert", "host_alert"]).sum())


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.lists(st.integers(-2 * 10**9, 5 * 10**9), min_size=1, max_size=50),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
)
def test_off_hours_are_the_clock_of_the_timezone(seconds, timezone):
    # UTC is computed from epoch seconds, other zones through pandas: both must read pandas' clock.
    from nagtune.analytics._frames import epoch_seconds
    from nagtune.analytics.findings.chatty import _off_hours

    times = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    local = times.dt.tz_convert(timezone)
    expected = (local.dt.hour < 8) | (local.dt.hour >= 20) | (local.dt.day_of_week >= 5)
    assert _off_hours(epoch_seconds(times), timezone).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    nanoseconds=st.lists(st.integers(-2 * 10**18, 5 * 10**18), min_size=1, max_size=30),
    timezone=st.sampled_from([None, "UTC", "Europe/Berlin", "Asia/Kolkata"]),
    unit=st.sampled_from(["ns", "us", "s"]),
)
def test_epoch_seconds_are_pandas_utc_seconds(nanoseconds, timezone, unit):
    # Zoned times take a short path; both must give what pandas' own conversion gives.
    import numpy as np

    from nagtune.analytics._frames import epoch_seconds

    times = pd.Series(pd.to_datetime(nanoseconds, unit="ns")).dt.as_unit(unit)
    if timezone is not None:
        times = times.dt.tz_localize("UTC").dt.tz_convert(timezone)
    expected = pd.to_datetime(times, utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    assert epoch_seconds(times).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", "HTTP", "ü"])), max_size=30),
    categories=st.lists(st.sampled_from(["", "a", "HTTP", "ü", "z"]), unique=True, max_size=5),
    dtype=st.sampled_from(["str", "object", "category"]),
)
def test_codes_in_is_the_position_of_each_value_in_the_categories(values, categories, dtype):
    """codes_in looks each distinct value up once: the very positions pandas' get_indexer gives
    row by row, -1 for values not there and for missing ones, whatever the values' dtype."""
    from nagtune.analytics._frames import codes_in

    series = pd.Series(values, dtype=dtype)
    expected = [-1 if v is None else (categories.index(v) if v in categories else -1) for v in values]
    assert codes_in(series, pd.Index(categories, dtype="str")).tolist() == expected
