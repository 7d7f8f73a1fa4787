"""Findings on small logs written by hand, with expectations worked out by hand from the log.

Each log in tests/hand_logs/ is a public-style Nagios 4 event log (the
grammar of data/samples' real runs) made to hold one honesty case of issue
#22; every expected value below is read off the log's lines, never taken
from nagtune's output:

- ``restarts``: a host with one ``DOWN;SOFT;1`` line and three Nagios starts
  after it, a service whose two blips lie 30 days apart;
- ``host_outage``: db01 HARD DOWN and notified for two hours while its MySQL
  went HARD CRITICAL without a notification (Nagios suppresses it) and its
  Disk stayed OK; app01 only SOFT DOWN; web01's Certificate HARD CRITICAL for
  2h 13m with its host UP and nobody notified;
- ``snapshots``: a log that starts with a rotation snapshot of a HARD
  CRITICAL backup, a replication problem whose first line is ``HARD;3``, and
  a SOFT warning the next day's snapshot says is OK;
- ``ctime_site``: a site that writes ``[Tue Nov 14 22:13:20 2023]`` stamps.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.run import api
from nagtune.analytics.sources import ingest
from nagtune.cli import cli

LOGS = Path(__file__).resolve().parent / "hand_logs"


def at(epoch: int) -> pd.Timestamp:
    return pd.Timestamp(epoch, unit="s", tz="UTC")


def episodes_of(name: str) -> pd.DataFrame:
    return build_episodes(ingest.load_events([str(LOGS / name)]))


def quiet_of(name: str) -> pd.DataFrame:
    return api.quiet_logs([str(LOGS / name)], processes=1)


def rank_rows(name: str) -> dict:
    table = api.rank_logs([str(LOGS / name)], by="host_service", processes=1)
    return {(row.host, row.service): row for row in table.itertuples()}


# ---------------------------------------------------------------- restarts


def test_a_soft_down_host_ends_at_the_next_restart_not_days_later():
    hosts = episodes_of("restarts")
    edge = hosts[hosts["host"] == "edge01"].iloc[0]
    # DOWN;SOFT;1 at 1700000300; Nagios starts again at 1700003700 and never speaks of edge01 again.
    assert edge["start"] == at(1700000300)
    assert edge["end"] == at(1700003700)
    assert edge["ended_by"] == "restart" and not edge["open"] and not edge["hard"]
    assert edge["duration"] == pd.Timedelta(seconds=3400)


def test_restarts_leave_nothing_quiet_to_report():
    assert quiet_of("restarts").empty


def test_restarts_rank_counts_by_hand():
    rows = rank_rows("restarts")
    assert (rows[("edge01", "")].alerts, rows[("edge01", "")].object) == (1, "host")
    http = rows[("web01", "HTTP")]
    assert (http.alerts, http.notifications, http.alerts_while_host_down) == (4, 0, 0)
    # Rated over the node's own 720 h of data (1700000000 .. 1702592160), not a day or a week.
    assert http.hours_of_data == pytest.approx((1702592160 - 1700000000) / 3600, abs=0.01)
    assert http.alerts_per_week == pytest.approx(4 / ((1702592160 - 1700000000) / 3600 / 168), abs=0.01)


# ---------------------------------------------------------------- host outage


def test_services_of_a_notified_hard_down_host_are_not_silent_problems():
    quiet = quiet_of("host_outage")
    silent = quiet[quiet["finding"] == "silent_hard_problem"]
    # Only web01's Certificate: HARD 1700010060 .. OK 1700018000, its host UP, nobody notified.
    assert silent[["host", "service"]].values.tolist() == [["web01", "Certificate"]]
    row = silent.iloc[0]
    assert row["duration"] == pd.Timedelta(seconds=1700018000 - 1700010000)
    assert row["occurrences"] == 1 and row["evidence"] == "log"


def test_ok_while_host_down_only_for_the_hard_down_host_one_finding():
    quiet = quiet_of("host_outage")
    down = quiet[quiet["finding"] == "ok_while_host_down"]
    # db01 was HARD DOWN (SOFT from 1700000600, UP at 1700007920): Disk logged nothing meanwhile.
    # app01 was only ever SOFT DOWN: not a host down.
    assert down[["host", "service"]].values.tolist() == [["db01", "Disk"]]
    assert down.iloc[0]["duration"] == pd.Timedelta(seconds=1700007920 - 1700000600)
    assert "HARD DOWN" in down.iloc[0]["detail"]
    assert set(quiet["finding"]) == {"silent_hard_problem", "ok_while_host_down"}


def test_alerts_under_a_down_host_are_counted_and_attributed():
    rows = rank_rows("host_outage")
    mysql = rows[("db01", "MySQL")]
    # 4 MySQL lines; the three at 780, 840, 900 lie inside db01's HARD problem (600 .. 7920).
    assert (mysql.alerts, mysql.notifications, mysql.alerts_while_host_down) == (4, 0, 3)
    host = rows[("db01", "")]
    assert (host.alerts, host.notifications, host.alerts_while_host_down, host.object) == (4, 2, 3, "host")
    app = rows[("app01", "")]
    assert (app.alerts, app.notifications, app.alerts_while_host_down) == (3, 0, 0)
    assert (rows[("web01", "Certificate")].alerts, rows[("web01", "Certificate")].notifications) == (3, 0)
    assert "while the host was down" in mysql.reasons


def test_rank_by_host_lists_the_hosts_with_their_counts():
    table = api.rank_logs([str(LOGS / "host_outage")], by="host", processes=1)
    assert dict(zip(table["host"], table["alerts"])) == {"db01": 4, "app01": 3}
    assert dict(zip(table["host"], table["notifications"])) == {"db01": 2, "app01": 0}


# ---------------------------------------------------------------- snapshots


def test_problems_that_began_before_the_log_are_never_nobody_was_notified():
    eps = episodes_of("snapshots").set_index("service")
    # Backup: CRITICAL HARD in the first snapshot; Replication: first line HARD;3.
    assert eps.loc["Backup", "starts_before_window"] and eps.loc["Replication", "starts_before_window"]
    assert eps.loc["Backup", "duration"] == pd.Timedelta(seconds=10800)
    assert not eps.loc["Queue", "starts_before_window"]
    # Queue: SOFT WARNING at 1700000200; the next day's snapshot says OK: it ends there.
    assert eps.loc["Queue", "end"] == at(1700086400) and eps.loc["Queue", "ended_by"] == "recovery"
    assert quiet_of("snapshots").empty


# ---------------------------------------------------------------- what is said


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_a_ctime_stamped_log_is_refused_saying_why():
    result = run("rank", str(LOGS / "ctime_site"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: no line could be read: 5 line(s), none parsed")
    assert "nagios.log:1:" in result.output and "human-readable dates" in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("command", ["rank", "quiet", "names", "retune"])
def test_every_command_says_what_it_read(command):
    result = run(command, str(LOGS / "host_outage"))
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if line.startswith("nagtune: ")]
    assert said[0] == "nagtune: read 1 file(s), 25 line(s)"
    assert said[1].startswith("nagtune: data found 2023-11-14 22:13 .. 2023-11-15 03:13 UTC")
    if command == "rank":  # the table says what its rates are per
        assert result.stdout.startswith("(5.0 h of data: rates are per week of each node's own data")


def test_a_store_says_what_it_held_and_where_its_data_is(tmp_path):
    store = str(tmp_path / "store")
    assert run("ingest", str(LOGS / "host_outage"), "--store", store).exit_code == 0
    result = run("quiet", "--store", store, "--since", "2024-01-01")
    assert result.exit_code == 0, result.output
    assert "nagtune: the store holds 2023-11-14 22:13 .. 2023-11-15 03:13 UTC" in result.stderr
    assert "(nothing to show in the window: the store holds 2023-11-14 22:13 .. 2023-11-15 03:13 UTC)" in result.stdout


def test_an_inverted_window_is_a_usage_error():
    result = run("quiet", "--since", "2023-11-15", "--until", "2023-11-14", str(LOGS / "host_outage"))
    assert result.exit_code == 2 and "is not before --until" in result.output


def test_a_window_without_data_says_where_the_data_is():
    result = run("rank", "--since", "2024-01-01", "--until", "2024-02-01", str(LOGS / "host_outage"))
    assert result.exit_code == 0
    assert "25 event(s) outside the window" in result.stderr
    assert (
        "nothing in the window 2024-01-01 00:00 .. 2024-02-01 00:00 UTC: the data runs "
        "2023-11-14 22:13 .. 2023-11-15 03:13 UTC" in result.stdout
    )


def test_error_in_configuration_file_is_an_error(tmp_path):
    from nagtune.parsers.nagios import parse_line

    line = "[1700000000] Error in configuration file '/etc/nagios4/conf.d/x.cfg' - Line 12 (Invalid max_check_attempts value for host 'foo')"
    event = parse_line(line)
    assert event.kind == "error" and event.output.startswith("Error in configuration file")
    with_colon = (
        "[1700000001] Error in configuration file '/etc/x.cfg' - Line 3 (Service notification period: 24x7 not found)"
    )
    (tmp_path / "nagios.log").write_text(with_colon + "\n")
    events = ingest.load_events([str(tmp_path)])
    assert events["kind"].astype(str).tolist() == ["error"]
    assert events["output"].tolist() == [parse_line(with_colon).output]


def test_a_flood_of_findings_is_capped_with_the_rest_summarised():
    from nagtune.analytics.findings.quiet import cap_findings, find_quiet

    # 120 hosts each with a 20-minute slow detection of one service name: one pattern, one row.
    rows, events = [], []
    start = at(1700000000)
    for number in range(120):
        host = f"web{number:03d}"
        rows.append(
            dict(
                kind="service",
                node="n",
                node_class="cell",
                cell="c0001",
                environment="default",
                host=host,
                service="HTTP",
                start=start,
                end=start + pd.Timedelta(hours=2),
                duration=pd.Timedelta(hours=2),
                worst_state="CRITICAL",
                hard=True,
                first_hard=start + pd.Timedelta(minutes=20),
                notifications=1,
                in_downtime=False,
                acknowledged=False,
                open=False,
                detection_delay=pd.Timedelta(minutes=20),
                max_attempt=3,
            )
        )
        events.append(
            dict(
                time=start,
                node="n",
                node_class="cell",
                cell="c0001",
                kind="service_alert",
                host=host,
                service=f"S{number}",
            )
        )
    quiet = find_quiet(pd.DataFrame(events), pd.DataFrame(rows))
    slow = quiet[quiet["finding"] == "slow_detection"]
    assert len(slow) == 1 and slow.iloc[0]["occurrences"] == 120
    assert slow.iloc[0]["detail"].startswith("120 times on 120 hosts; the longest: 20m from the first SOFT")
    # Per service (node, host, service) they would be 120 rows: the cap keeps 50, one row says the rest.
    many = pd.concat([slow.assign(host=f"h{i}", service=f"s{i}", occurrences=1) for i in range(120)], ignore_index=True)
    capped = cap_findings(many, 50)
    assert len(capped) == 51
    assert capped.iloc[-1]["evidence"] == "summary" and capped.iloc[-1]["occurrences"] == 70
    assert capped.iloc[-1]["detail"].startswith("70 more slow_detection findings not shown")
