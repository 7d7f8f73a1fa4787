"""The estimate path of retune (no perfdata: only the logged alerts are known), its
expected values derived by hand from Nagios' rules."""

from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.retune import replay_max_check_attempts, suggest_retunes
from nagtune.analytics.run.api import analyze
from nagtune.analytics.sources.ingest import load_events

T0 = 1_700_000_000


def write_log(tmp_path, lines, name="nagios-c0009-01"):
    node = tmp_path / name
    node.mkdir()
    (node / "nagios.log").write_text("".join(f"[{t}] {text}\n" for t, text in lines))
    return node


def test_failing_checks_are_soft_attempts_plus_hard_rechecks(tmp_path):
    # max_check_attempts 3, retry 1 min, check_interval 5 min: SOFT 1 at 0, SOFT 2 at 60,
    # HARD 3 at 120, OK at 720. By Nagios' rules the failing checks are the 2 logged SOFT
    # attempts, the HARD check at 120 and the re-check at 420 (check_interval later); the
    # check at 720 is the OK recovery: 4 failing checks (the old 1 + 720 // 60 gave 13).
    node = write_log(
        tmp_path,
        [
            (T0, "SERVICE ALERT: h;Svc;CRITICAL;SOFT;1;down"),
            (T0 + 60, "SERVICE ALERT: h;Svc;CRITICAL;SOFT;2;down"),
            (T0 + 120, "SERVICE ALERT: h;Svc;CRITICAL;HARD;3;down"),
            (T0 + 120, "SERVICE NOTIFICATION: ops;h;Svc;CRITICAL;notify;down"),
            (T0 + 720, "SERVICE ALERT: h;Svc;OK;HARD;3;up"),
            (T0 + 720, "SERVICE NOTIFICATION: ops;h;Svc;OK;notify;up"),
        ],
    )
    episodes = build_episodes(load_events([str(node)]))
    # 4 attempts: the 4th failing check is HARD: SOFT 1-3, HARD 4, recovery = 5 lines, 2 notifications.
    four = replay_max_check_attempts(episodes, 4, current=3, check_interval_minutes=5.0).iloc[0]
    assert (four["failing_checks"], four["hard_after"]) == (4, True)
    assert (four["alerts_after"], four["notifications_after"]) == (5, 2)
    # Known check_interval: 600 s HARD / 300 s is exactly 2 re-checks, no range.
    assert (four["alerts_after_low"], four["alerts_after_high"]) == (5, 5)
    # 5 attempts: 4 failing checks stay SOFT: SOFT 1-4 and a SOFT recovery = 5 lines, no notification.
    five = replay_max_check_attempts(episodes, 5, current=3, check_interval_minutes=5.0).iloc[0]
    assert (five["hard_after"], five["alerts_after"], five["notifications_after"]) == (False, 5, 0)
    # check_interval unknown: the range runs from one HARD check (an interval longer than the
    # 600 s spent HARD: 2 + 1 = 3 failing, SOFT 1-3 and a recovery = 4 lines, no notification)
    # to re-checks every retry_interval (120, 180, ..., 660: 10 HARD checks, 12 failing: HARD,
    # SOFT 1-4 + HARD 5 + recovery = 6 lines, 2 notifications).
    unknown = replay_max_check_attempts(episodes, 5, current=3).iloc[0]
    assert (unknown["failing_checks_low"], unknown["failing_checks_high"]) == (3, 12)
    assert (unknown["alerts_after_low"], unknown["alerts_after_high"]) == (4, 6)
    assert (unknown["notifications_after_low"], unknown["notifications_after_high"]) == (0, 2)
    # Point estimate at Nagios' default check_interval, 5 min: as with the known one.
    assert (unknown["alerts_after"], unknown["notifications_after"]) == (5, 0)


def _warning_node(tmp_path, renotify=False):
    """Six 40-minute HARD WARNING problems (max_check_attempts 1), each notified and recovered;
    the output prints the value (7 in WARNING, 1 when OK)."""
    lines = []
    for i in range(6):
        t = T0 + 7200 * i
        lines += [
            (t, "SERVICE ALERT: mq01;Queue;WARNING;HARD;1;WARNING - queue depth: 7"),
            (t, "SERVICE NOTIFICATION: ops;mq01;Queue;WARNING;notify;WARNING - queue depth: 7"),
            (t + 2400, "SERVICE ALERT: mq01;Queue;OK;HARD;1;OK - queue depth: 1"),
            (t + 2400, "SERVICE NOTIFICATION: ops;mq01;Queue;OK;notify;OK - queue depth: 1"),
        ]
        if renotify:  # a re-notification 30 min in: its check is not in the log
            lines.append((t + 1800, "SERVICE NOTIFICATION: ops;mq01;Queue;WARNING;notify;WARNING - queue depth: 7"))
    return write_log(tmp_path, sorted(lines))


def test_threshold_row_replays_its_notifications_too(tmp_path):
    # Levels inferred from the reported states: -w ~:1 (the OK values' largest), -c ~:7. The
    # suggested -w ~:7 makes 7 OK (a ~:X range alerts above X): no check alerts, so by Nagios'
    # rules no problem, no notification: 12 alert lines -> 0 and 12 notifications -> 0. More
    # attempts cannot help: each problem is HARD for 40 min (8 checks at the default 5 min).
    result = analyze([str(_warning_node(tmp_path))])
    row = result.retunes.iloc[0]
    assert (row["directive"], row["current"], row["suggested"]) == ("warning threshold (-w)", "~:1", "~:7")
    assert (row["alerts_before"], row["alerts_after"]) == (12, 0)
    assert (row["notifications_before"], row["notifications_after"]) == (12, 0)
    assert "notifications replayed through Nagios' state machine" in row["reason"]


def test_threshold_row_dropped_when_notifications_cannot_be_replayed(tmp_path):
    # With the re-notifications the log has 18 notifications; the known values (the alert lines)
    # explain 12 (a problem and a recovery each): the after-count could not be Nagios', no row.
    events = load_events([str(_warning_node(tmp_path, renotify=True))])
    retunes = suggest_retunes(events, build_episodes(events))
    assert not (retunes["directive"] == "warning threshold (-w)").any()
    assert not (
        (retunes["alerts_after"] < retunes["alerts_before"])
        & (retunes["notifications_after"] == retunes["notifications_before"])
    ).any()


def test_every_estimate_row_has_a_range_around_its_point(tmp_path):
    from tests.analytics_scenarios import write_node

    write_node(str(tmp_path))
    retunes = analyze([str(tmp_path)]).retunes
    assert len(retunes)
    for name in ("alerts_after", "notifications_after"):
        assert (retunes[f"{name}_low"] <= retunes[name]).all() and (retunes[name] <= retunes[f"{name}_high"]).all()
