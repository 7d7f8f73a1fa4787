"""No silent empty output: parse, collect and report say what they could not read.

The logs are written here by hand; every expected line is read off them (a
ctime-stamped log, as some sites write, of which nagtune reads nothing; a log
with one unreadable line among readable ones; an empty file).
"""

import io

import pandas as pd
from click.testing import CliRunner

from nagtune.analytics.sources import ingest
from nagtune.cli import cli

CTIME = """\
[Tue Jan 12 00:00:00 2016] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection refused
[Tue Jan 12 00:01:00 2016] HOST ALERT: web01;DOWN;HARD;3;PING CRITICAL
[Tue Jan 12 00:02:00 2016] Nagios 4.4.6 starting...
"""
# 1700000000 is 2023-11-14 22:13:20 UTC.
MIXED = """\
[1700000000] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;Connection refused
[Tue Jan 12 00:00:00 2016] SERVICE ALERT: web01;HTTP;OK;SOFT;1;HTTP OK
[1700000600] SERVICE ALERT: web01;HTTP;OK;SOFT;1;HTTP OK
"""
HUMAN = "its time stamps are human-readable dates"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_parse_of_a_log_nothing_can_be_read_from_is_an_error(tmp_path):
    log = write(tmp_path, "nagios.log", CTIME)
    for args in (["parse", log], ["parse", "--metrics", log]):
        result = run(*args)
        assert result.exit_code == 1, args
        lines = result.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(
            "Error: no line could be read: read 1 file(s), 3 line(s), none parsed (100.0%); "
            f"first: {log}:1: '[Tue Jan 12 00:00:00 2016] SERVICE ALERT: web01;HTTP;"
        )
        assert HUMAN in lines[0]


def test_parse_names_the_first_unreadable_line(tmp_path):
    log = write(tmp_path, "nagios.log", MIXED)
    for args in (["parse", log], ["parse", "--metrics", log]):
        result = run(*args)
        assert result.exit_code == 0, args
        assert result.stderr.splitlines() == [
            f"nagtune: read 1 file(s), 3 line(s); 1 line(s) unparsed (33.3%); first: {log}:2: "
            f"'[Tue Jan 12 00:00:00 2016] SERVICE ALERT: web01;HTTP;OK;SOFT;1;HTTP OK' ({HUMAN}; nagtune reads "
            "the epoch seconds Nagios writes ([1452556800] ...), not a log converted for people)"
        ]


def test_parse_of_an_empty_file_says_there_was_nothing(tmp_path):
    log = write(tmp_path, "nagios.log", "")
    result = run("parse", "--metrics", log)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "nagtune: read 1 file(s), 0 line(s): nothing to parse\n"


def test_parse_of_a_readable_log_says_nothing(tmp_path):
    log = write(tmp_path, "nagios.log", MIXED.replace(MIXED.splitlines()[1] + "\n", ""))
    result = run("parse", log)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 2


def test_collect_says_when_no_new_line_could_be_read(tmp_path):
    log = write(tmp_path, "nagios.log", CTIME)
    state = str(tmp_path / "state")
    common = ["collect", log, "--output", "stdout", "--state-dir", state, "--node", "nagios-c0001-01"]
    result = run(*common, "--from-start")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: no line could be read from {log}: read 3 line(s), none parsed (100.0%); first: new line 1: "
        f"'[Tue Jan 12 00:00:00 2016] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection refused' ({HUMAN}; "
        "nagtune reads the epoch seconds Nagios writes ([1452556800] ...), not a log converted for people)"
    ]
    assert "nagtune.unparsed 3 " in result.stdout
    # Readable lines after: said nothing more (some unreadable lines are only counted).
    with open(log, "a") as handle:
        handle.write("[1700000000] SERVICE ALERT: web01;HTTP;OK;HARD;3;HTTP OK\n[Tue Jan 12 00:03:00 2016] x\n")
    result = run(*common)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    # Self metrics are per-minute totals: 1 new, plus the first run's 3 when both ran in one minute.
    unparsed = [line.split()[1] for line in result.stdout.splitlines() if ".nagtune.unparsed " in line]
    assert unparsed in (["1"], ["4"])


def test_report_of_an_empty_window_says_where_the_data_is(tmp_path):
    log = write(tmp_path, "nagios.log", MIXED)
    result = run(
        "report", log, "--since", "2020-01-01", "--until", "2020-02-01", "--out", str(tmp_path / "r"), "--no-history"
    )
    assert result.exit_code == 0, result.output
    # The data: 2023-11-14 22:13:20 .. 22:23:20 UTC, both lines alerts.
    where = (
        "nothing in the window 2020-01-01 00:00 .. 2020-02-01 00:00 UTC: the data runs 2023-11-14 22:13 .. "
        "2023-11-14 22:23 UTC, alerts and notifications 2023-11-14 22:13 .. 2023-11-14 22:23 UTC"
    )
    assert f"nagtune: {where}" in result.stderr.splitlines()
    html = (tmp_path / "r" / "report.html").read_text()
    assert f"No events in this window: {where}." in html


def test_report_of_a_log_nothing_can_be_read_from_is_an_error(tmp_path):
    log = write(tmp_path, "nagios.log", CTIME)
    result = run("report", log, "--out", str(tmp_path / "r"), "--no-history")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: no line could be read: read 1 file(s), 3 line(s), none parsed (100.0%); first: {log}:1: '[Tue Jan 12"
    )
    assert len(result.stderr.splitlines()) == 1


def test_relative_since_counts_back_from_until():
    until = "2026-11-21T03:00"
    assert ingest.window_bounds("7d", until) == (
        pd.Timestamp("2026-11-14 03:00", tz="UTC"),
        pd.Timestamp("2026-11-21 03:00", tz="UTC"),
    )
    assert ingest.window_bounds("36h", "1700000000") == (
        pd.Timestamp("2023-11-13 10:13:20", tz="UTC"),
        pd.Timestamp("2023-11-14 22:13:20", tz="UTC"),
    )
    now = pd.Timestamp("2026-12-02 12:00", tz="UTC")
    assert ingest.window_bounds("1d", None, now=now) == (pd.Timestamp("2026-12-01 12:00", tz="UTC"), None)
    # A relative --until counts back from now, and --since from it.
    assert ingest.window_bounds("1d", "2d", now=now) == (
        pd.Timestamp("2026-11-29 12:00", tz="UTC"),
        pd.Timestamp("2026-11-30 12:00", tz="UTC"),
    )


def test_rank_since_is_relative_to_until(tmp_path):
    # 1700000000 = 2023-11-14 22:13:20 UTC. --until 2023-11-15 --since 1d: [2023-11-14 00:00, 2023-11-15 00:00).
    log = write(
        tmp_path,
        "nagios.log",
        (
            "[1699000000] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;1;two weeks earlier\n"  # 2023-11-03: outside
            "[1700000000] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;inside\n"
            "[1700000060] SERVICE ALERT: web01;HTTP;OK;SOFT;1;inside\n"
            "[1700100000] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;a day later\n"  # 2023-11-16: outside
        ),
    )
    result = run("rank", log, "--since", "1d", "--until", "2023-11-15", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout))
    service = rows[rows["object"] == "service"]
    assert service["alerts"].tolist() == [2]
    assert "window asked 2023-11-14 00:00 .. 2023-11-15 00:00 UTC" in result.stderr
    assert "nagtune: 2 event(s) outside the window" in result.stderr.splitlines()
