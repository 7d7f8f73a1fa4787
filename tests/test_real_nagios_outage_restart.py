"""A real Nagios 4 run with a host outage, a SOFT-only host blip and a restart:
rank's counts equal summary.cgi's, and the findings follow what the log says.

Built with the sample generator's NodeRun (data/make_samples/make_samples.py):
a real nagios4 under faketime x60, 25 fake minutes from 23:50 (one rotation
at midnight), stopped, then started again at 00:20 for 10 fake minutes
(state retention off, as the samples run). Hosts and services:

- core01: DOWN for its host checks 2-7 (HARD DOWN after 3 attempts, host
  notifications); its App follows it (CRITICAL while core01 fails: Nagios
  notifies nobody about App by design), its Disk stays OK;
- edge01: DOWN for host checks 2-3 only: SOFT DOWN, never HARD; its Web
  stays OK.

The expectations are read from the log's lines in the test (what Nagios
wrote), never from nagtune's output. nagios4, faketime or nagios4-cgi
missing is a FAILURE, never a skip.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.quiet import find_quiet
from nagtune.analytics.run import api
from nagtune.analytics.sources import ingest

from .test_nagios_summary_cgi import SUMMARY_CGI, ranked_counts, top_alert_producers

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
NODE = "nagios-c0009-01"


def _generator():
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    assert shutil.which("nagios4") and shutil.which("faketime"), "apt-get install nagios4-core faketime"
    assert SUMMARY_CGI.exists(), "apt-get install nagios4-cgi"
    ms = _generator()
    r = lambda *p: ms.rng_for(NODE, *p)  # noqa: E731
    hosts = [
        ms.Host(
            "core01",
            "10.9.0.1",
            "DOWN for host checks 2-7",
            "HARD DOWN, notified",
            ms.ping_down_windows(r("core01"), [(2, 6)]),
        ),
        ms.Host(
            "edge01",
            "10.9.0.2",
            "DOWN for host checks 2-3",
            "SOFT DOWN only",
            ms.ping_down_windows(r("edge01"), [(2, 2)]),
        ),
    ]
    services = [
        ms.Service(
            "core01",
            "App",
            "host-down-victim",
            "",
            "",
            ms.steady(ms.http_ok(r("App"))),
            {"check_interval": 2},
            follow="core01",
            follow_output="CRITICAL - Socket timeout after 10 seconds",
        ),
        ms.Service(
            "core01",
            "Disk",
            "steady-ok",
            "",
            "",
            ms.steady(lambda: "DISK OK - free space: / 5000 MB"),
            {"check_interval": 2},
        ),
        ms.Service("edge01", "Web", "steady-ok", "", "", ms.steady(ms.http_ok(r("Web"))), {"check_interval": 2}),
    ]
    node = ms.Node(NODE, "cell", "c0009", hosts, services, [])
    out = tmp_path_factory.mktemp("real")
    run = ms.NodeRun(node, out, "2026-11-20 23:50:00", 60, 25 * 60, False, lambda msg: None)
    run.prepare()
    run.verify()
    try:
        run.start()
        run.watch()
    finally:
        run.stop()
    assert not run.error, run.error
    # Started again (a restart), later on the fake clock; the log and the check counters go on.
    run.start_text, run.fake_seconds = "2026-11-21 00:20:00", 10 * 60
    run.start_epoch += 30 * 60
    (run.run / "nagios.lock").unlink(missing_ok=True)
    try:
        run.start()
        run.watch()
    finally:
        run.stop()
    assert not run.error, run.error
    run.collect()
    run.cleanup()
    return out / NODE


def lines_of(node_dir: Path) -> list[str]:
    import gzip

    text = ""
    for path in [*sorted((node_dir / "archives").iterdir()), node_dir / "nagios.log"]:
        data = path.read_bytes()
        text += (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8", "replace")
    return text.splitlines()


def test_rank_counts_equal_summary_cgi_through_an_outage_and_a_restart(run_dir, tmp_path):
    lines = lines_of(run_dir)
    assert sum("starting..." in line for line in lines) == 2  # two Nagios starts in one log
    (tmp_path / "nagios.cfg").write_text(
        f"log_file={run_dir}/nagios.log\nlog_archive_path={run_dir}/archives\nlog_rotation_method=h\n"
        f"object_cache_file={run_dir}/objects.cache\nstatus_file={tmp_path}/status.dat\n"
    )
    (tmp_path / "cgi.cfg").write_text(
        f"main_config_file={tmp_path}/nagios.cfg\nphysical_html_path=/usr/share/nagios4/htdocs\n"
        "url_html_path=/nagios4\nuse_authentication=0\n"
    )
    import gzip

    for packed in (run_dir / "archives").glob("*.gz"):  # the CGI reads plain archives
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    nagios = top_alert_producers(tmp_path, 1)
    table = api.rank_logs([str(run_dir)], by="host_service", processes=1)
    assert ("core01", "") in nagios and ("core01", "App") in nagios
    assert ranked_counts(table) == nagios


def test_findings_follow_what_the_log_says(run_dir):
    lines = lines_of(run_dir)
    hard_down = [line for line in lines if "HOST ALERT: core01;DOWN;HARD" in line]
    host_notified = [line for line in lines if re.search(r"HOST NOTIFICATION: [^;]*;core01;DOWN;", line)]
    app_hard = [line for line in lines if "SERVICE ALERT: core01;App;CRITICAL;HARD" in line]
    app_notified = [line for line in lines if re.search(r"SERVICE NOTIFICATION: [^;]*;core01;App;CRITICAL", line)]
    assert hard_down and host_notified and app_hard and not app_notified  # what Nagios did
    assert not [line for line in lines if "HOST ALERT: edge01;DOWN;HARD" in line]
    assert [line for line in lines if "HOST ALERT: edge01;DOWN;SOFT" in line]

    events = ingest.load_events([str(run_dir)])
    eps = build_episodes(events)
    app_eps = eps[(eps["host"] == "core01") & (eps["service"] == "App") & eps["hard"]]
    # A HARD problem long enough to be "silent" at a 5-minute bar, notifying nobody: without
    # the host rule it would be a finding.
    long = pd.Timedelta(minutes=5)
    assert ((app_eps["duration"] >= long) & (app_eps["notifications"] == 0)).any()
    quiet = find_quiet(events, eps, long=long, host_down=pd.Timedelta(minutes=1))
    found = set(zip(quiet["host"], quiet["service"], quiet["finding"]))
    # App was silent because its host was HARD DOWN and notified: never "nobody was notified".
    assert ("core01", "App", "silent_hard_problem") not in found
    # Disk logged nothing while core01 was HARD DOWN: the one finding of that host problem.
    assert ("core01", "Disk", "ok_while_host_down") in found
    # edge01 was only SOFT DOWN (for over a minute): no "stayed OK while the host was DOWN".
    edge = eps[(eps["host"] == "edge01") & (eps["service"] == "")]
    assert len(edge) and (edge["duration"] >= pd.Timedelta(minutes=1)).any() and not edge["hard"].any()
    assert not [f for f in found if f[0] == "edge01"]

    table = api.rank_logs([str(run_dir)], by="host_service", processes=1)
    app = table[(table["host"] == "core01") & (table["service"] == "App")].iloc[0]
    app_lines_in_outage = app["alerts_while_host_down"]
    assert 1 <= app_lines_in_outage <= app["alerts"]


def test_nothing_open_before_the_restart_outlives_it(run_dir):
    lines = lines_of(run_dir)
    starts = [int(line[1:11]) for line in lines if "starting..." in line]
    eps = build_episodes(ingest.load_events([str(run_dir)]))
    restart = ingest.parse_when(str(starts[1]))
    before = eps[eps["start"] < restart]
    assert len(before) and (before["host"] == "core01").any()
    # Every problem that began before the restart ended by it, or was seen recovering after it.
    for row in before.itertuples():
        assert row.end <= restart or row.ended_by == "recovery", row
    assert (before["ended_by"] != "window_end").all()
