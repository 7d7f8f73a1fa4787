"""nagtune retune against the real Nagios 4.4.6: every predicted count is what the daemon logs.

Two runs of nagios4 under libfaketime on the same scripted check results
(tests/nagios_oracle.py): the first with the settings in force; nagtune
reads its log, perfdata file (named in nagios.cfg, not the default name),
objects.cache and nagios.cfg and suggests one change per service; the
second run applies every suggested change (one per service, the services
are independent) and its log must hold exactly the alerts and notifications
nagtune predicted. Each scripted sequence ends in OK results long enough
for everything to settle (recoveries, flapping stopped), so both runs end
in the same state and the counts compare exactly.

About two simulated hours per run at x120: about two minutes of wall time in all.
"""

from __future__ import annotations

import pytest

from nagtune.analytics.findings import replay as engine
from nagtune.analytics.run.api import retune_logs
from nagtune.analytics.sources.nagios_cfg import load_nagios_cfg
from nagtune.analytics.sources.objects import load_objects

from .nagios_oracle import HOST, ScriptedService, logged, run_nagios

pytestmark = pytest.mark.slow

MINUTES = 130

# Three transient failures (HARD at 3 attempts), then a long problem that must stay caught.
TRANSIENT = [0, 0, 2, 2, 2, 0] * 3 + [2] * 9 + [0] * 4
# Failures of three checks, three OK, four times (too long for more attempts: retry_interval 5,
# at most 10 minutes later), then steady OK until flapping has stopped again.
FLIPPING = [2, 2, 2, 0, 0, 0] * 4 + [0] * 26


# A value of 50 that spikes to 85 for six checks (WARNING over 80, CRITICAL over 95): too long for more
# attempts (retry_interval 3: at most 10 minutes later), too rare for flap detection.
SPIKY = ([50.0] * 12 + [85.0] * 6) * 2 + [50.0] * 6


# A standing 40-minute problem re-notified every 5 minutes (checks every 2: no check falls on
# a notification time, so scheduling jitter cannot move a reminder by a check).
NAGGING = [2] * 20 + [0] * 5
# One problem, HARD after three retries 5 minutes apart: slow to detect.
SLOW = [0, 0] + [2] * 8 + [0] * 4


# first_notification_delay 9: a 6-minute problem is never notified, a 16-minute one is (on the
# first check 9 minutes after the last OK one; checks every 2 minutes, none on that boundary).
DELAYED = [0, 0] + [2] * 3 + [0] * 3 + [2] * 8 + [0] * 3
# notification_options c,r: a HARD WARNING is not notified, nor is its recovery; a CRITICAL is.
PAGER_ONLY = [1] * 4 + [0] + [2] * 2 + [0] * 3


def _plugin_codes(values, warn_above: float, crit_above: float) -> list[int]:
    """What a plugin run with -w warn_above -c crit_above exits with for each value."""
    return [2 if value > crit_above else 1 if value > warn_above else 0 for value in values]


def services(changes: dict | None = None) -> list[ScriptedService]:
    changes = dict(changes or {})
    spiky_warn = changes.pop("spiky_warn", 80.0)
    found = [
        ScriptedService(
            "transient", TRANSIENT, directives={"max_check_attempts": 3, "check_interval": 5, "retry_interval": 1}
        ),
        ScriptedService(
            "flipping",
            FLIPPING,
            directives={"max_check_attempts": 1, "check_interval": 2, "retry_interval": 5, "flap_detection_enabled": 0},
        ),
        ScriptedService(
            "spiky",
            _plugin_codes(SPIKY, spiky_warn, 95.0),
            values=SPIKY,
            warn=f"~:{spiky_warn:g}",
            crit="~:95",
            ok_value=50.0,
            directives={"max_check_attempts": 3, "check_interval": 1, "retry_interval": 3},
        ),
        ScriptedService(
            "nagging", NAGGING, directives={"max_check_attempts": 1, "check_interval": 2, "notification_interval": 5}
        ),
        ScriptedService("slow", SLOW, directives={"max_check_attempts": 4, "check_interval": 5, "retry_interval": 5}),
        ScriptedService(
            "delayed", DELAYED, directives={"max_check_attempts": 1, "check_interval": 2, "first_notification_delay": 9}
        ),
        ScriptedService(
            "pager-only",
            PAGER_ONLY,
            directives={"max_check_attempts": 1, "check_interval": 2, "notification_options": "c,r"},
        ),
    ]
    for service in found:
        service.directives.update(changes.get(service.name, {}))
    return found


def _directives(row) -> dict:
    """The objects.cfg directives of one suggestion row."""
    if row["directive"] == "max_check_attempts":
        return {"max_check_attempts": int(row["suggested"])}
    if "flap" in row["directive"]:
        low, high = row["suggested"].removeprefix("on, ").split("/")
        return {"flap_detection_enabled": 1, "low_flap_threshold": float(low), "high_flap_threshold": float(high)}
    if row["directive"] in ("notification_interval", "retry_interval"):
        return {row["directive"]: float(row["suggested"])}
    if row["directive"] == "warning threshold (-w)":
        return {"spiky_warn": float(row["suggested"].removeprefix("~:"))}
    raise AssertionError(f"no oracle for {row['directive']}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle")
    before = run_nagios(root / "before" / "oracle-node", services(), MINUTES)
    for service in services():
        assert before.checks_run[service.name] >= len(service.codes) + 2, (
            f"{service.name}: the run ended before its scripted sequence did ({before.checks_run})"
        )
    table = retune_logs([str(before.root)], processes=1)
    mine = table[table["host"].astype(str) == HOST].set_index("service")
    changes = {}
    for name, row in mine.iterrows():
        directives = _directives(row)
        if "spiky_warn" in directives:
            changes.update(directives)
        else:
            changes[name] = directives
    after = run_nagios(root / "after" / "oracle-node", services(changes), MINUTES)
    for service in services():
        assert after.checks_run[service.name] >= len(service.codes) + 2
    return before, mine, after


def test_current_values_are_read_from_the_node(runs):
    before, _, _ = runs
    config = load_nagios_cfg(before.nagios_cfg)
    assert config.interval_length == 60 and config.perfdata_file == str(before.perfdata)
    objects = load_objects(before.objects_cache)
    row = objects[objects["service"] == "transient"].iloc[0]
    settings, assumed = engine.settings_for(row, config)
    assert (settings.max_check_attempts, settings.check_interval, settings.retry_interval) == (3, 5.0, 1.0)
    assert settings.notification_interval == 0
    assert set(settings.notification_options.split(",")) == set("wucrfs")
    assert (settings.low_flap_threshold, settings.high_flap_threshold) == (5.0, 20.0)
    assert assumed == []
    flipping, _ = engine.settings_for(objects[objects["service"] == "flipping"].iloc[0], config)
    assert flipping.flap_detection_enabled is False and flipping.max_check_attempts == 1


@pytest.mark.parametrize("service", ["transient", "flipping", "spiky", "nagging", "slow"])
def test_before_counts_are_what_nagios_logged(runs, service):
    before, table, _ = runs
    row = table.loc[service]
    lines = logged(before, service)
    assert row["replay_basis"].startswith("every check")
    assert (row["alerts_before"], row["notifications_before"]) == (len(lines["alerts"]), len(lines["notifications"]))
    assert (row["alerts_logged"], row["notifications_logged"]) == (len(lines["alerts"]), len(lines["notifications"]))


def test_max_check_attempts_suggestion_matches_the_second_nagios(runs):
    _, table, after = runs
    row = table.loc["transient"]
    # The three transient problems fail three checks: four attempts keep them SOFT, and no more are needed.
    assert (row["directive"], row["current"], row["suggested"]) == ("max_check_attempts", "3", "4")
    lines = logged(after, "transient")
    assert (row["alerts_after"], row["notifications_after"]) == (len(lines["alerts"]), len(lines["notifications"]))
    assert row["notifications_after"] < row["notifications_before"]
    # The long problem still goes HARD and notifies.
    assert any(";CRITICAL;HARD;4;" in line for line in lines["alerts"])
    assert row["long_problems_after"] == row["long_problems_before"] == 1


def test_flap_detection_suggestion_matches_the_second_nagios(runs):
    _, table, after = runs
    row = table.loc["flipping"]
    assert row["current"] == "off" and row["suggested"].startswith("on, ")
    lines = logged(after, "flipping")
    assert (row["alerts_after"], row["notifications_after"]) == (len(lines["alerts"]), len(lines["notifications"]))
    kinds = [line.split(";")[3] for line in lines["notifications"]]
    assert "FLAPPINGSTART (OK)" in kinds or "FLAPPINGSTART (CRITICAL)" in kinds
    assert any(kind.startswith("FLAPPINGSTOP") for kind in kinds), kinds


def test_flap_percent_matches_nagios_flapping_lines(runs):
    """The percent the replay computes at each FLAPPING line is the one Nagios printed."""
    before, table, after = runs
    import re

    from nagtune.analytics.sources.ingest import load_perfdata

    config = load_nagios_cfg(after.nagios_cfg)
    objects = load_objects(after.objects_cache)
    settings, _ = engine.settings_for(objects[objects["service"] == "flipping"].iloc[0], config)
    perf = load_perfdata(after.perfdata)
    times, codes = engine.checks_of(perf, (str(perf["node"].iloc[0]), HOST, "flipping"))
    replayed = engine.replay_service(codes, settings, times=times)
    printed = [
        (what, float(re.search(r"\(([0-9.]+)% change", text)[1]))
        for what, text in ((line.split(";")[2], line) for line in logged(after, "flipping")["flapping"])
    ]
    assert printed, "Nagios logged no FLAPPING line"
    assert [(what, round(percent, 1)) for _, what, percent in replayed.flapping] == printed


def test_warning_level_suggestion_matches_the_second_nagios(runs):
    _, table, after = runs
    row = table.loc["spiky"]
    assert (row["directive"], row["current"]) == ("warning threshold (-w)", "~:80")
    level = float(row["suggested"].removeprefix("~:"))
    # Headroom: past every WARNING value (85), short of the critical level (95).
    assert 85.0 < level < 95.0
    lines = logged(after, "spiky")
    assert (row["alerts_after"], row["notifications_after"]) == (len(lines["alerts"]), len(lines["notifications"]))
    assert (row["alerts_after"], row["notifications_after"]) != (row["alerts_before"], row["notifications_before"])


def test_notification_interval_suggestion_matches_the_second_nagios(runs):
    _, table, after = runs
    row = table.loc["nagging"]
    assert (row["directive"], row["current"], row["suggested"]) == ("notification_interval", "5", "60")
    lines = logged(after, "nagging")
    assert (row["alerts_after"], row["notifications_after"]) == (len(lines["alerts"]), len(lines["notifications"]))
    assert row["notifications_after"] == 2  # the problem's first notification and its recovery


def _seconds(line: str) -> int:
    return int(line[1 : line.index("]")])


def test_retry_interval_suggestion_matches_the_second_nagios(runs):
    before, table, after = runs
    row = table.loc["slow"]
    assert (row["directive"], row["current"], row["suggested"]) == ("retry_interval", "5", "3")
    lines = logged(after, "slow")
    assert (row["alerts_after"], row["notifications_after"]) == (len(lines["alerts"]), len(lines["notifications"]))

    def detection(run) -> float:
        text = [line for line in run.log.read_text().splitlines() if "SERVICE ALERT: oracle-host;slow;" in line]
        first_soft = next(_seconds(line) for line in text if ";CRITICAL;SOFT;1;" in line)
        hard = next(_seconds(line) for line in text if ";CRITICAL;HARD;" in line)
        return (hard - first_soft) / 60.0

    # Nagios runs a retry a second or two late under a busy machine: a minute's tolerance
    # is far below the 6 minutes the change gains.
    assert detection(before) - detection(after) == pytest.approx(-row["extra_detection_minutes"], abs=1.0)
    assert detection(after) == pytest.approx(3 * 3.0, abs=1.0)


@pytest.mark.parametrize("service", ["delayed", "pager-only", "transient", "flipping", "spiky", "nagging", "slow"])
def test_engine_replays_each_run_as_nagios_logged_it(runs, service):
    """Every check of both runs replayed with the settings read from that run's node gives
    exactly the alert, notification and FLAPPING lines Nagios wrote (first_notification_delay,
    notification_options, re-notification, flap detection, SOFT/HARD)."""
    from nagtune.analytics.sources.ingest import load_perfdata

    for run in runs[0], runs[2]:
        config = load_nagios_cfg(run.nagios_cfg)
        objects = load_objects(run.objects_cache)
        settings, _ = engine.settings_for(objects[objects["service"] == service].iloc[0], config)
        perf = load_perfdata(run.perfdata)
        times, codes = engine.checks_of(perf, (str(perf["node"].iloc[0]), HOST, service))
        replayed = engine.replay_service(codes, settings, times=times)
        lines = logged(run, service)
        assert [(state, kind) for _, state, kind, _ in replayed.alerts] == [
            tuple(line.split(";")[2:4]) for line in lines["alerts"]
        ]
        assert len(replayed.notifications) == len(lines["notifications"])
        assert [what for _, what, _ in replayed.flapping] == [line.split(";")[2] for line in lines["flapping"]]


def test_notification_settings_are_honoured(runs):
    before = runs[0]
    delayed = logged(before, "delayed")["notifications"]
    assert [line.split(";")[3] for line in delayed] == ["CRITICAL", "OK"]
    pager = logged(before, "pager-only")["notifications"]
    assert all(";WARNING;" not in line for line in pager)
