"""Nagios' flap detection recomputed from the log, checked against what a real Nagios 4 wrote,
and the flap-threshold retune replayed by a plain loop independent of nagtune's numpy code."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.analytics.findings import flapping
from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.flapping import (
    check_history,
    flapping_flags,
    nagios_flap_percent,
    percent_at_alerts,
    replay_flap_thresholds,
)
from nagtune.analytics.findings.retune import (
    LONG_PROBLEM,
    MAX_EXTRA_DETECTION,
    _flap_suggestion,
    is_long_problem,
    suggest_retunes,
)
from nagtune.analytics.run.api import analyze
from nagtune.analytics.sources.ingest import load_events
from nagtune.analytics.sources.objects import load_objects
from nagtune.parsers import events as ev

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PRINTED = re.compile(r"\(([0-9.]+)% change")


@pytest.fixture(scope="module")
def samples():
    return load_events([str(SAMPLES)]), load_objects(sorted(str(p) for p in SAMPLES.glob("nagios-*")))


def object_of(objects, key):
    node, host, service = key
    return objects[(objects["node"] == node) & (objects["host"] == host) & (objects["service"] == service)].iloc[0]


def alerts_of(events, key):
    node, host, service = key
    mine = events[(events["node"] == node) & (events["host"] == host) & (events["service"] == service)]
    return mine[mine["kind"] == "service_alert"], mine


def test_percent_matches_nagios_reference():
    states = ["OK", "CRITICAL", "CRITICAL", "OK", "OK", "OK", "CRITICAL", "OK"] * 3
    frame = pd.DataFrame(
        {
            "state": pd.Categorical(states),
            "state_type": "HARD",
            "time": pd.to_datetime([1_700_000_000 + 300 * i for i in range(len(states))], unit="s", utc=True),
        }
    )
    got = percent_at_alerts(frame, np.ones(len(states), dtype=np.int64))
    for end in range(1, len(states) + 1):
        assert got[end - 1] == pytest.approx(nagios_flap_percent((["OK"] + states[:end])[-21:]))
    assert nagios_flap_percent(["OK", "CRITICAL"] * 11) == pytest.approx(100.0)
    assert check_history(frame, 300)["percent"].to_numpy() == pytest.approx(got)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(["OK", "WARNING", "CRITICAL"]),
            st.sampled_from(["SOFT", "HARD"]),
            st.sampled_from([60, 300, 600, 1500, 7200]),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_percent_of_many_services_matches_a_plain_loop(rows):
    """Services interleaved, SOFT and HARD, with gaps: each recorded row's percent is Nagios' over its history.

    Only HARD states and OK results enter the history, which starts as OK; after a recorded row, a gap of
    g seconds hides round(g / 300) - 1 checks (at most 20) that returned its state.
    """
    rows = sorted(enumerate(rows), key=lambda item: (item[1][0], item[0]))
    keys, states, types, gaps = zip(*(row for _, row in rows))
    times, clock = [], {}
    for key, gap in zip(keys, gaps):
        clock[key] = clock.get(key, 1_700_000_000 - gap) + gap
        times.append(clock[key])
    expected, histories = [], {}
    for i, (key, state, state_type) in enumerate(zip(keys, states, types)):
        history = histories.setdefault(key, ["OK"])
        is_recorded = state_type == "HARD" or state == "OK"
        if is_recorded:
            history.append(state)
            expected.append(nagios_flap_percent(history[-21:]))
        else:
            expected.append(0.0)
        following = i + 1 < len(keys) and keys[i + 1] == key
        if is_recorded and following:
            history.extend([state] * min(max(int(np.rint((times[i + 1] - times[i]) / 300)) - 1, 0), 20))
    frame = pd.DataFrame(
        {"state": pd.Categorical(states), "state_type": list(types), "time": pd.to_datetime(times, unit="s", utc=True)}
    )
    got = percent_at_alerts(frame, np.asarray(keys, dtype=np.int64), interval=np.full(len(keys), 300.0))
    assert got == pytest.approx(expected)


def test_flapping_flags_follow_nagios_hysteresis():
    percent = [0, 30, 15, 12, 9, 15, 26, 26, 10, 40]
    # >= 25 starts, <= 10 stops, in between keeps the flag.
    assert flapping_flags(percent, 10, 25).tolist() == [False, True, True, True, False, False, True, True, False, True]


def test_replay_at_the_objects_thresholds_reproduces_every_flapping_alert_nagios_wrote(samples):
    events, objects = samples
    flapping_rows = events[events["kind"] == "service_flapping"]
    keys = sorted(
        set(
            zip(
                flapping_rows["node"].astype(str),
                flapping_rows["host"].astype(str),
                flapping_rows["service"].astype(str),
            )
        )
    )
    assert len(keys) >= 2, "the samples have two flapping services"
    for key in keys:
        obj = object_of(objects, key)
        interval = obj["check_interval"] * 60
        alerts, mine = alerts_of(events, key)
        for seconds in (interval, None):  # from objects.cache, and read off the log
            history = check_history(alerts, seconds, end=events["time"].max())
            # 0 on the object: nagios.cfg's, 5/20 in data/make_samples/nagios.cfg.in.
            flags = flapping_flags(
                history["percent"].to_numpy(), obj["low_flap_threshold"] or 5.0, obj["high_flap_threshold"] or 20.0
            )
            times = history["time"].to_numpy()
            started = times[1:][flags[1:] & ~flags[:-1]]
            stopped = times[1:][~flags[1:] & flags[:-1]]
            lines = mine[mine["kind"] == "service_flapping"]
            nagios_started = lines[lines["state"] == "STARTED"]
            nagios_stopped = lines[lines["state"] == "STOPPED"]
            # The very check where Nagios started flapping, with the percent it printed.
            assert started.astype(np.int64).tolist() == (nagios_started["time"].astype("int64") // 10**9).tolist()
            for line in nagios_started.itertuples():
                at = np.searchsorted(times, line.time.value // 10**9, side="right") - 1
                assert history["percent"].iloc[at] == pytest.approx(float(PRINTED.search(line.output)[1]), abs=0.05)
            # Stops fall on unlogged checks, whose times are estimated: within one check.
            assert len(stopped) == len(nagios_stopped)
            assert np.abs(stopped - nagios_stopped["time"].astype("int64").to_numpy() // 10**9).max() <= interval


def test_ranking_percent_is_the_replays_at_every_alert(samples):
    events, _ = samples
    alerts = events[events["kind"] == "service_alert"]
    from nagtune.analytics._frames import epoch_seconds, object_keys
    from nagtune.analytics.findings._groups import order_by_key_then_time

    key = object_keys(alerts, with_service=True)
    order = order_by_key_then_time(key, epoch_seconds(alerts["time"]))
    ranked = percent_at_alerts(alerts.iloc[order], key[order])
    checked = 0
    for service_key in np.unique(key):
        rows = np.flatnonzero(key[order] == service_key)
        one = alerts.iloc[order[rows]]
        history = check_history(one)
        logged = history[history["logged"]]["percent"].to_numpy()
        recorded = flapping.recorded(one)
        assert ranked[rows][recorded] == pytest.approx(logged)
        checked += len(logged)
    assert checked > 1000


def test_check_interval_is_read_off_the_log(samples):
    events, objects = samples
    alerts, _ = alerts_of(events, ("nagios-c0001-01", "web01.c0001", "HTTP"))
    history = check_history(alerts)
    spacing = np.diff(history["time"].to_numpy())
    assert 50 <= np.median(spacing) <= 61  # objects.cache: check_interval 1 (minute); the log's shortest gap is 56 s


def flap_replay_by_hand(node_dir_events, key, low, high, interval, end):
    """Notifications left under flap detection at low/high, with a plain loop over the raw rows."""
    alerts, mine = alerts_of(node_dir_events, key)
    rows = [(r.time.value // 10**9, str(r.state), str(r.state_type)) for r in alerts.sort_values("time").itertuples()]
    end = end.value // 10**9
    checks = []  # (time, state)
    for i, (t, state, state_type) in enumerate(rows):
        if state_type == "HARD" or state == "OK":
            checks.append((t, state))
            following = rows[i + 1][0] if i + 1 < len(rows) else end
            n = int(np.rint((following - t) / interval))
            for k in range(1, min(max(n - 1, 0), 20) + 1):
                checks.append((t + k * (following - t) / n, state))
    flags, flag = [], False
    states = ["OK"] + [state for _, state in checks]  # Nagios starts a history all OK
    for j in range(1, len(states)):
        percent = nagios_flap_percent(states[max(0, j - 20) : j + 1])
        flag = False if percent <= low else True if percent >= high else flag
        flags.append(flag)

    def flapping_at(t):
        before = [f for (ct, _), f in zip(checks, flags) if ct <= t]
        return before[-1] if before else False

    notes = [
        (r.time.value // 10**9, str(r.state_type), str(r.contact))
        for r in mine[mine["kind"] == "service_notification"].sort_values("time", kind="stable").itertuples()
    ]
    problems, current = [], None  # [start, first HARD, end]
    for t, state, state_type in rows:
        if state != "OK":
            current = current or [t, None, end]
            if state_type == "HARD" and current[1] is None:
                current[1] = t
        elif current is not None:
            current[2] = t
            problems.append(current)
            current = None
    if current is not None:
        problems.append(current)
    kept, inside_some = 0, set()
    for start, first_hard, stop in problems:
        mine_notes = [(t, kind) for t, kind, _ in notes if start <= t <= stop and kind in ("PROBLEM", "RECOVERY")]
        inside_some.update(t for t, _ in mine_notes)
        bursts = sorted({t for t, kind in mine_notes if kind == "PROBLEM"})
        if not bursts:
            continue
        kept_bursts = [t for t in bursts if not flapping_at(t)]
        free = [
            ct
            for (ct, s), f in zip(checks, flags)
            if not f and s != "OK" and max(first_hard or end + 1, bursts[0]) <= ct <= stop
        ]
        kept += sum(1 for t, kind in mine_notes if kind == "PROBLEM" and not flapping_at(t))
        if free and (not kept_bursts or free[0] < kept_bursts[0]):
            kept += sum(1 for t, kind in mine_notes if kind == "PROBLEM" and t == bursts[0])  # goes out later
        if free or kept_bursts:
            kept += sum(1 for t, kind in mine_notes if kind == "RECOVERY" and not flapping_at(t))
    kept += sum(
        1 for t, kind, _ in notes if kind in ("PROBLEM", "RECOVERY") and t not in inside_some and not flapping_at(t)
    )
    starts = sum(1 for j in range(len(flags)) if flags[j] and (j == 0 or not flags[j - 1]))
    stops = sum(1 for j in range(1, len(flags)) if flags[j - 1] and not flags[j])
    contacts = len({c for _, kind, c in notes if kind.startswith("FLAPPING")}) or len(
        {c for _, kind, c in notes if kind in ("PROBLEM", "RECOVERY")}
    )
    return kept + (starts + stops) * contacts


def test_every_flap_suggestion_on_the_samples_has_the_effect_it_claims(samples):
    events, objects = samples
    result = analyze([str(SAMPLES)])
    shown = result.retunes[result.retunes["directive"].str.contains("flap")]
    # The flap suggestion of every service with a suggestion, shown or beaten by one saving
    # more notifications (max_check_attempts, on most sample services).
    service_eps = result.episodes[result.episodes["kind"] == "service"]
    found = []
    for row in result.retunes.itertuples():
        key = (row.node, row.host, row.service)
        mine = (events["node"] == row.node) & (events["host"] == row.host) & (events["service"] == row.service)
        history = events[mine & events["kind"].isin([ev.SERVICE_ALERT, ev.SERVICE_NOTIFICATION, ev.SERVICE_FLAPPING])]
        eps = service_eps[
            (service_eps["node"] == row.node)
            & (service_eps["host"] == row.host)
            & (service_eps["service"] == row.service)
        ]
        flap = _flap_suggestion(history, eps, objects, key, LONG_PROBLEM, events["time"].max())
        if flap is not None:
            found.append(flap)
    rows = pd.concat([shown, pd.DataFrame(found)], ignore_index=True)
    assert len(rows) >= 1, "the samples have chatty services with flap detection off"
    for row in rows.itertuples():
        key = (row.node, row.host, row.service)
        obj = object_of(objects, key)
        low, high = (float(x) for x in row.suggested.removeprefix("on, ").split("/"))
        by_hand = flap_replay_by_hand(events, key, low, high, obj["check_interval"] * 60, events["time"].max())
        assert row.notifications_after == by_hand
        assert row.notifications_after < row.notifications_before
        assert row.long_problems_after == row.long_problems_before
        assert row.current == (
            "off"
            if obj["flap_detection_enabled"] == 0
            else f"{obj['low_flap_threshold']:g}/{obj['high_flap_threshold']:g}"
        )


def write_node(tmp_path, lines):
    node = tmp_path / "nagios-c0009-01"
    node.mkdir()
    (node / "nagios.log").write_text("".join(f"[{t}] {text}\n" for t, text in sorted(lines, key=lambda x: x[0])))
    return node


def flips(t0, count, step=300, host="h", service="API"):
    """A service flipping CRITICAL/OK at every 5-minute check, each flip HARD and notified."""
    lines = []
    for i in range(count):
        t = t0 + step * i
        state = "CRITICAL" if i % 2 == 0 else "OK"
        lines += [
            (t, f"SERVICE ALERT: {host};{service};{state};HARD;1;{state.lower()}"),
            (t, f"SERVICE NOTIFICATION: pager;{host};{service};{state};notify;{state.lower()}"),
        ]
    return lines


def test_flap_detection_suggested_where_it_would_have_muted_the_flips(tmp_path):
    t0 = 1_700_000_000
    lines = []
    for burst in range(12):
        lines += flips(t0 + burst * 86400 // 2, 12)
    node = write_node(tmp_path, lines)
    events = load_events([str(node)])
    episodes = build_episodes(events)
    retunes = suggest_retunes(events, episodes)
    shown = retunes.iloc[0]
    # By Nagios' rules each of the 72 problems (12 bursts x 6 CRITICAL) is one failing check:
    # the next check, 5 min later (Nagios' default check_interval, assumed), is the OK. With
    # max_check_attempts 2 it is SOFT 1 and a SOFT recovery: 144 lines, no notification. That
    # saves more than flap detection, so it is the one shown.
    assert (shown["directive"], shown["current"], shown["suggested"]) == ("max_check_attempts", "1", "2")
    assert (shown["alerts_after"], shown["notifications_before"], shown["notifications_after"]) == (144, 144, 0)
    service_eps = episodes[episodes["kind"] == "service"]
    history = events[
        (events["service"] == "API")
        & events["kind"].isin([ev.SERVICE_ALERT, ev.SERVICE_NOTIFICATION, ev.SERVICE_FLAPPING])
    ]
    row = _flap_suggestion(
        history, service_eps, None, ("nagios-c0009-01", "h", "API"), LONG_PROBLEM, events["time"].max()
    )
    # Without objects.cache and without FLAPPING lines nagtune cannot know the setting.
    assert row["directive"] == "flap_detection_enabled, low/high_flap_threshold"
    assert row["current"].startswith("unknown") and row["suggested"] == "on, 5/20"
    assert row["notifications_after"] < row["notifications_before"] // 2


def test_flap_detection_refused_when_it_would_hold_back_a_long_outage(tmp_path):
    """Flips, then at once a two-hour HARD CRITICAL: flap detection would keep it quiet
    until 20 equal checks age the flips out, far more than the 10 minutes allowed."""
    t0 = 1_700_000_000
    lines = []
    for burst in range(12):
        lines += flips(t0 + burst * 86400 // 2, 12)
    outage = t0 + 11 * 86400 // 2 + 12 * 300
    lines += [
        (outage, "SERVICE ALERT: h;API;CRITICAL;HARD;1;down"),
        (outage, "SERVICE NOTIFICATION: pager;h;API;CRITICAL;notify;down"),
        (outage + 7200, "SERVICE ALERT: h;API;OK;HARD;1;up"),
        (outage + 7200, "SERVICE NOTIFICATION: pager;h;API;OK;notify;up"),
    ]
    node = write_node(tmp_path, lines)
    events = load_events([str(node)])
    episodes = build_episodes(events)
    service_eps = episodes[episodes["kind"] == "service"]
    long_flags = is_long_problem(service_eps).to_numpy()
    assert long_flags.sum() == 1
    alerts, mine = alerts_of(events, ("nagios-c0009-01", "h", "API"))
    replay = replay_flap_thresholds(
        alerts,
        mine[mine["kind"] == "service_notification"],
        service_eps,
        5,
        20,
        interval_seconds=300,
        end=events["time"].max(),
        long_problems=long_flags,
    )
    outage_row = replay.problems[replay.problems["long_problem"]].iloc[0]
    assert outage_row["caught_after"] and outage_row["delay"] > MAX_EXTRA_DETECTION
    retunes = suggest_retunes(events, episodes)
    assert not retunes["directive"].str.contains("flap").any()
