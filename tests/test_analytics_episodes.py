"""Episode builder edge cases: window boundaries, open problems, host down, downtime, restarts."""

import pandas as pd

from nagtune.analytics._frames import EPISODE_COLUMNS
from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.sources.ingest import load_events

T = 1_700_000_000


def events_of(tmp_path, lines, **kwargs):
    node = tmp_path / "nagios-c0001-01"
    node.mkdir(exist_ok=True)
    (node / "nagios.log").write_text("".join(f"[{T + t}] {text}\n" for t, text in lines))
    return load_events([str(node)], **kwargs)


def one(episodes, service):
    rows = episodes[episodes["service"] == service]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_soft_to_hard_to_recovery(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "SERVICE ALERT: h;Load;WARNING;SOFT;1;load=7"),
            (60, "SERVICE ALERT: h;Load;CRITICAL;SOFT;2;load=12"),
            (120, "SERVICE ALERT: h;Load;CRITICAL;HARD;3;load=12"),
            (120, "SERVICE NOTIFICATION: oncall;h;Load;CRITICAL;notify;load=12"),
            (120, "SERVICE NOTIFICATION: mail;h;Load;CRITICAL;notify;load=12"),
            (600, "SERVICE ALERT: h;Load;OK;HARD;3;load=1"),
            (600, "SERVICE NOTIFICATION: oncall;h;Load;OK;notify;load=1"),
            (700, "SERVICE ALERT: h;Load;WARNING;SOFT;1;load=7"),
            (760, "SERVICE ALERT: h;Load;OK;SOFT;2;load=1"),
        ],
    )
    eps = build_episodes(events)
    assert list(eps.columns[: len(EPISODE_COLUMNS)]) == EPISODE_COLUMNS
    first, second = eps.iloc[0], eps.iloc[1]
    assert (first["duration"], first["worst_state"], first["hard"], first["max_attempt"]) == (
        pd.Timedelta(minutes=10),
        "CRITICAL",
        True,
        3,
    )
    assert (first["alerts"], first["notifications"], first["open"]) == (4, 3, False)
    assert first["detection_delay"] == pd.Timedelta(minutes=2)
    assert not second["hard"] and pd.isna(second["detection_delay"]) and second["alerts"] == 2
    assert second["node_class"] == "cell" and second["cell"] == "c0001"


def test_open_problem_ends_at_window_end(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
            (300, "SERVICE ALERT: h;Load;OK;SOFT;1;x"),
        ],
    )
    eps = build_episodes(events)
    assert one(eps, "Disk")["open"] and one(eps, "Disk")["duration"] == pd.Timedelta(minutes=5)
    later = pd.Timestamp(T + 3600, unit="s", tz="UTC")
    assert one(build_episodes(events, window_end=later), "Disk")["duration"] == pd.Timedelta(hours=1)


def test_problem_begun_before_the_window_opens_from_the_snapshot(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "LOG ROTATION: DAILY"),
            (0, "CURRENT SERVICE STATE: h;Disk;CRITICAL;HARD;3;full"),
            (0, "CURRENT SERVICE STATE: h;Load;OK;HARD;1;fine"),
            (900, "SERVICE ALERT: h;Disk;OK;HARD;3;ok"),
        ],
    )
    eps = build_episodes(events)
    disk = one(eps, "Disk")
    assert disk["starts_before_window"] and disk["alerts"] == 1 and disk["hard"]
    assert disk["duration"] == pd.Timedelta(minutes=15)
    assert (eps["service"] == "Load").sum() == 0


def test_window_cut_by_since_keeps_only_what_is_inside(tmp_path):
    lines = [
        (0, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
        (600, "SERVICE ALERT: h;Disk;OK;HARD;1;ok"),
        (1200, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
    ]
    events = events_of(tmp_path, lines, since=str(T + 300))
    eps = build_episodes(events, window_end=pd.Timestamp(T + 1800, unit="s", tz="UTC"))
    # The recovery at 600 has no problem before it in the window: no episode; 1200 is open.
    assert len(eps) == 1 and eps.iloc[0]["open"] and eps.iloc[0]["duration"] == pd.Timedelta(minutes=10)


def test_restart_snapshots_are_not_alerts_and_do_not_split_problems(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
            (100, "Caught SIGTERM, shutting down..."),
            (200, "Nagios 4.4.6 starting... (PID=1)"),
            (200, "INITIAL SERVICE STATE: h;Disk;CRITICAL;HARD;1;full"),
            (400, "CURRENT SERVICE STATE: h;Disk;CRITICAL;HARD;1;full"),
            (600, "SERVICE ALERT: h;Disk;OK;HARD;1;ok"),
        ],
    )
    disk = one(build_episodes(events), "Disk")
    assert disk["alerts"] == 2 and disk["duration"] == pd.Timedelta(minutes=10)


def test_recovery_while_nagios_was_down_closes_at_the_snapshot(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
            (300, "INITIAL SERVICE STATE: h;Disk;OK;HARD;1;ok"),
            (900, "SERVICE ALERT: h;Load;OK;SOFT;1;x"),
        ],
    )
    disk = one(build_episodes(events), "Disk")
    assert not disk["open"] and disk["duration"] == pd.Timedelta(minutes=5) and disk["alerts"] == 1


def test_host_down_while_service_alerts(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "HOST ALERT: h;DOWN;HARD;1;down"),
            (30, "SERVICE ALERT: h;PING;CRITICAL;HARD;1;lost"),
            (600, "HOST ALERT: h;UP;HARD;1;up"),
            (630, "SERVICE ALERT: h;PING;OK;HARD;1;ok"),
            (700, "SERVICE ALERT: other;PING;CRITICAL;HARD;1;lost"),
            (760, "SERVICE ALERT: other;PING;OK;HARD;1;ok"),
        ],
    )
    eps = build_episodes(events)
    host = eps[eps["kind"] == "host"].iloc[0]
    assert (host["service"], host["worst_state"], host["duration"]) == ("", "DOWN", pd.Timedelta(minutes=10))
    pings = eps[eps["service"] == "PING"].set_index("host")
    assert pings.loc["h", "host_down"] and not pings.loc["other", "host_down"]


def test_downtime_acknowledgement_and_flapping_flags(tmp_path):
    events = events_of(
        tmp_path,
        [
            (0, "HOST DOWNTIME ALERT: h;STARTED; Host has entered a period of scheduled downtime"),
            (60, "SERVICE ALERT: h;Disk;CRITICAL;HARD;1;full"),
            (120, "HOST DOWNTIME ALERT: h;STOPPED; Host has exited from a period of scheduled downtime"),
            (300, "SERVICE ALERT: h;Disk;OK;HARD;1;ok"),
            (400, "SERVICE ALERT: h;HTTP;CRITICAL;HARD;1;refused"),
            (420, "EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;h;HTTP;2;1;1;alice;looking"),
            (430, "SERVICE FLAPPING ALERT: h;HTTP;STARTED; Service appears to have started flapping"),
            (500, "SERVICE ALERT: h;HTTP;OK;HARD;1;ok"),
            (900, "SERVICE ALERT: h;HTTP;CRITICAL;HARD;1;refused"),
            (960, "SERVICE ALERT: h;HTTP;OK;HARD;1;ok"),
            (1000, "SERVICE FLAPPING ALERT: h;HTTP;STOPPED; stopped"),
            (2000, "SERVICE ALERT: h;HTTP;CRITICAL;HARD;1;refused"),
            (2060, "SERVICE ALERT: h;HTTP;OK;HARD;1;ok"),
        ],
    )
    eps = build_episodes(events)
    disk = one(eps, "Disk")
    assert disk["in_downtime"] and not disk["acknowledged"]
    http = eps[eps["service"] == "HTTP"]
    assert http["acknowledged"].tolist() == [True, False, False]
    assert http["flapping"].tolist() == [True, True, False]
    assert not http["in_downtime"].any()


def test_empty_events_give_the_columns():
    eps = build_episodes(pd.DataFrame())
    assert list(eps.columns[: len(EPISODE_COLUMNS)]) == EPISODE_COLUMNS and eps.empty


def test_only_the_columns_asked_for_are_the_same_columns_and_the_same_ranking():
    """build_episodes(columns=...) gives the full frame's columns, in its order, without the
    work of the others; the ranking over it is the ranking over all of them. On the real
    Nagios samples, which have downtime, flapping, notifications and host problems."""
    import pytest

    from nagtune.analytics.findings import chatty
    from nagtune.analytics.findings.episodes import ALL_COLUMNS

    events = load_events(["data/samples"])
    full = build_episodes(events)
    assert full["in_downtime"].any() and full["flapping"].any() and full["notifications"].any()
    few = build_episodes(events, columns=chatty.EPISODE_COLUMNS_READ)
    assert list(few.columns) == [c for c in ALL_COLUMNS if c in chatty.EPISODE_COLUMNS_READ]
    pd.testing.assert_frame_equal(few, full[few.columns])
    coded = build_episodes(events, columns=chatty.EPISODE_COLUMNS_READ, categorical_names=True)
    names = ["node_class", "cell", "node", "host", "service"]
    assert all(isinstance(coded[c].dtype, pd.CategoricalDtype) for c in names)
    pd.testing.assert_frame_equal(coded.astype({c: "str" for c in names}), few)
    for by in ("service", "host_service"):
        ranked = chatty.rank_chatty(events, full, by=by)
        pd.testing.assert_frame_equal(chatty.rank_chatty(events, few, by=by), ranked)
        pd.testing.assert_frame_equal(chatty.rank_chatty(events, coded, by=by), ranked)
    assert list(build_episodes(events.iloc[:0], columns=["kind", "start"]).columns) == ["start", "kind"]
    with pytest.raises(ValueError, match="no such episode columns"):
        build_episodes(events, columns=["start", "nonsense"])
