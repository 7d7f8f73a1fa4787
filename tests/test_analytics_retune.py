"""Every retune suggestion, replayed independently of nagtune's pandas code, does what it claims."""

import re

import pytest

from nagtune.analytics._frames import RETUNE_COLUMNS
from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.retune import (
    RetuneError,
    in_alert,
    parse_range,
    replay_max_check_attempts,
    replay_threshold,
    suggest_retunes,
    what_if_curve,
)
from nagtune.analytics.run.api import analyze
from nagtune.analytics.sources.ingest import load_events
from tests.analytics_scenarios import write_node


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    directory = tmp_path_factory.mktemp("scenario")
    node_dir = write_node(str(directory))
    return node_dir, analyze([str(directory)])


def raw_lines(node_dir):
    import gzip

    from nagtune.parsers.logfiles import node_log_files

    for path in node_log_files(node_dir):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as handle:
            for line in handle:
                stamp, _, rest = line.rstrip("\n").partition("] ")
                yield int(stamp[1:]), rest


def problems_by_hand(node_dir, host, service):
    """Problems of one service from the raw lines, with a plain loop: (start, end, hard, max_attempt, notes)."""
    problems, current = [], None
    for t, rest in raw_lines(node_dir):
        kind, _, fields = rest.partition(": ")
        parts = fields.split(";")
        if kind == "SERVICE ALERT" and parts[:2] == [host, service]:
            state, state_type, attempt = parts[2], parts[3], int(parts[4])
            if state != "OK":
                if current is None:
                    current = dict(start=t, hard=False, attempt=0, notes=0, hard_at=None)
                if state_type == "HARD" and current["hard_at"] is None:
                    current["hard_at"] = t
                current["hard"] |= state_type == "HARD"
                current["attempt"] = max(current["attempt"], attempt)
            elif current is not None:
                current["end"] = t
                problems.append(current)
                current = None
        elif kind == "SERVICE NOTIFICATION" and parts[1:3] == [host, service]:
            if current is not None:
                current["notes"] += 1
            elif problems and problems[-1]["end"] == t:
                problems[-1]["notes"] += 1  # the recovery notification
    return problems


def test_every_attempts_suggestion_has_the_effect_it_claims(scenario):
    node_dir, result = scenario
    retunes = result.retunes
    assert list(retunes.columns) == RETUNE_COLUMNS
    rows = retunes[retunes["directive"] == "max_check_attempts"]
    assert len(rows) >= 1
    for row in rows.itertuples():
        attempts, current = int(row.suggested), int(row.current)
        retry = 60  # seconds: Nagios' default retry_interval, no objects.cache here
        check_interval = 300  # seconds: Nagios' default check_interval, the point estimate
        problems = problems_by_hand(node_dir, row.host, row.service)
        notes_before = sum(p["notes"] for p in problems)

        def failing(p, interval):
            # Nagios: every SOFT attempt is logged (the HARD line's attempt - 1 of them before
            # HARD); once HARD the service is re-checked every check_interval, and the
            # recovery check is OK: failing HARD checks = time HARD / interval, at least 1.
            if not p["hard"]:
                return p["attempt"]
            return p["attempt"] - 1 + max(1, round((p["end"] - p["hard_at"]) / interval))

        for interval, notes_after in (
            (check_interval, row.notifications_after),
            (check_interval * 10**6, row.notifications_after_low),
            (retry, row.notifications_after_high),
        ):
            assert notes_after == sum(p["notes"] for p in problems if p["hard"] and failing(p, interval) >= attempts)
        assert row.notifications_before == notes_before
        assert row.notifications_after < row.notifications_before
        long = [p for p in problems if p["hard"] and p["end"] - p["start"] >= 1800]
        assert row.long_problems_after == row.long_problems_before == len(long)
        assert row.extra_detection_minutes == (attempts - current) * retry / 60


def test_flapping_http_attempts_by_hand(scenario):
    """web01/HTTP in the scenario: 30 bursts x 6 problems, each HARD at attempt 1 (max_check_attempts
    1), 2 alert lines (CRITICAL HARD, OK HARD) and 2 notifications, the OK line 120 s after the HARD one.

    By Nagios' rules, with check_interval unknown (Nagios' default 5 min assumed): the HARD check
    fails, the next check (the logged recovery, 120 s later) is OK, so 1 failing check. With
    max_check_attempts 2 that one failure is SOFT attempt 1, then a SOFT recovery: 2 lines, no
    notification: 180 * 2 = 360 alerts, 0 notifications. The range's high end: re-checks as often as
    retries (60 s), so the check at 60 s fails too: 2 failing checks reach attempt 2 and go HARD:
    SOFT 1, HARD 2, recovery = 3 lines and its 2 notifications: 540 alerts, 360 notifications. The low
    end (a check interval longer than the problem) is the point estimate: 360 and 0.
    """
    _, result = scenario
    row = result.retunes[(result.retunes["service"] == "HTTP")].iloc[0]
    assert (row["directive"], row["current"], row["suggested"]) == ("max_check_attempts", "1", "2")
    assert (row["alerts_before"], row["notifications_before"]) == (360, 360)
    assert (row["alerts_after"], row["alerts_after_low"], row["alerts_after_high"]) == (360, 360, 540)
    assert (row["notifications_after"], row["notifications_after_low"], row["notifications_after_high"]) == (0, 0, 360)
    assert "range (alerts 360-540, notifications 0-360)" in row["reason"]


def test_every_threshold_suggestion_has_the_effect_it_claims(scenario):
    node_dir, result = scenario
    rows = result.retunes[result.retunes["directive"] == "warning threshold (-w)"]
    assert len(rows) >= 1
    for row in rows.itertuples():
        values, states = [], []
        for t, rest in raw_lines(node_dir):
            kind, _, fields = rest.partition(": ")
            parts = fields.split(";")
            if kind in ("SERVICE ALERT", "CURRENT SERVICE STATE") and parts[:2] == [row.host, row.service]:
                match = re.search(r"load average: ([0-9.]+)", parts[5])
                if match:
                    values.append(float(match[1]))
                    states.append(parts[2])

        def level(value, spec):  # by hand: ~:X alerts above X
            return value > float(spec[2:])

        crit = re.search(r"critical level (\S+)", row.reason)[1]
        after = [2 if level(v, crit) else 1 if level(v, row.suggested) else 0 for v in values]
        before = [2 if level(v, crit) else 1 if level(v, row.current) else 0 for v in values]
        changes = lambda s: sum(1 for i, x in enumerate(s) if (x != s[i - 1] if i else x != 0))
        assert (row.alerts_before, row.alerts_after) == (changes(before), changes(after))
        assert row.alerts_after < row.alerts_before
        assert all(a == 2 for a, b in zip(after, before) if b == 2)  # every CRITICAL still CRITICAL


@pytest.mark.parametrize(
    "spec, value, alerts",
    [
        ("10", 11, True),
        ("10", 5, False),
        ("10", -1, True),
        ("10:", 9, True),
        ("10:", 10, False),
        ("~:10", 11, True),
        ("~:10", -100, False),
        ("10:20", 9, True),
        ("10:20", 15, False),
        ("10:20", 21, True),
        ("@10:20", 15, True),
        ("@10:20", 9, False),
    ],
)
def test_nagios_range_syntax(spec, value, alerts):
    assert bool(in_alert([value], spec)[0]) is alerts


def test_bad_range_is_refused():
    with pytest.raises(ValueError, match="not a Nagios range"):
        parse_range("abc")


def test_replay_threshold_and_what_if_curve():
    values = [1, 6, 6, 1, 12, 1]
    replay = replay_threshold(values, "~:5", "~:10")
    assert replay["state"].tolist() == [0, 1, 1, 0, 2, 0]
    assert replay["alert"].tolist() == [False, True, False, True, True, True]
    curve = what_if_curve(values, kind="warn", thresholds=[5, 7], crit="~:10")
    assert curve.values.tolist() == [[5.0, 4, 2, 1], [7.0, 2, 0, 1]]


def test_never_suggests_missing_a_long_hard_critical(tmp_path):
    # Short blips and one long outage: more attempts would be fine for the blips only if
    # the long one still goes HARD; with retry 1 min it does, so check the replay says caught.
    t0 = 1_700_000_000
    lines = []
    for i in range(20):
        t = t0 + 3600 * i
        lines += [
            (t, "SERVICE ALERT: h;HTTP;CRITICAL;HARD;1;x"),
            (t, "SERVICE NOTIFICATION: o;h;HTTP;CRITICAL;n;x"),
            (t + 60, "SERVICE ALERT: h;HTTP;OK;HARD;1;ok"),
        ]
    lines += [
        (t0 + 100000, "SERVICE ALERT: h;HTTP;CRITICAL;HARD;1;down"),
        (t0 + 100000, "SERVICE NOTIFICATION: o;h;HTTP;CRITICAL;n;down"),
        (t0 + 107200, "SERVICE ALERT: h;HTTP;OK;HARD;1;ok"),
    ]
    node = tmp_path / "n"
    node.mkdir()
    (node / "nagios.log").write_text("".join(f"[{t}] {x}\n" for t, x in lines))
    events = load_events([str(node)])
    episodes = build_episodes(events)
    retunes = suggest_retunes(events, episodes)
    row = retunes.iloc[0]
    assert row["directive"] == "max_check_attempts" and row["long_problems_after"] == row["long_problems_before"] == 1
    replay = replay_max_check_attempts(episodes, int(row["suggested"]), current=1)
    assert replay.loc[replay["long_problem"], "hard_after"].all()
    # A replay that would miss it is refused by the guard.
    import nagtune.analytics.findings.retune as retune

    original = retune.replay_max_check_attempts

    def blind(*args, **kwargs):
        out = original(*args, **kwargs)
        out["caught_after"] = True  # pretend everything is caught ...
        out["hard_after"] = False  # ... while nothing goes HARD
        return out

    retune.replay_max_check_attempts = blind
    try:
        with pytest.raises(RetuneError, match="misses a long HARD CRITICAL"):
            suggest_retunes(events, episodes)
    finally:
        retune.replay_max_check_attempts = original


def test_report_draws_the_threshold_what_if_curve(scenario):
    """The report's curve behind a threshold suggestion sweeps the same values:
    it passes through the suggested level, where it has fewer alerts than at
    the current one."""
    from nagtune.analytics.report.build import what_if_curves

    _, result = scenario
    curves = {
        (row["host"], row["service"]): found
        for _, row, found in what_if_curves(result, limit=len(result.retunes))
        if found[1] == "threshold"
    }
    rows = result.retunes[result.retunes["directive"] == "warning threshold (-w)"]
    assert len(rows) >= 1
    for row in rows.itertuples():
        curve, _, current, suggested = curves[(row.host, row.service)]
        at = dict(zip(curve["threshold"], curve["alerts"]))
        assert current in at and suggested in at
        assert at[suggested] < at[current]


def _queue_node(tmp_path, outage_value=40.0):
    """Queue depth checked every 5 min for 2 days, 0-3 at rest (warn 5, crit 10 declared in
    perfdata). Every 6 h a 15-minute spike to 12-14, HARD CRITICAL and paged; once, a
    2-hour outage at 40. More attempts or flap detection cannot help (the spikes are HARD
    for longer than any retry, and rare); there is no WARNING to retune."""
    node = tmp_path / "nagios-c0008-01"
    node.mkdir()
    start = 1_700_006_400
    spikes = {start + 6 * 3600 * k for k in range(1, 8)}
    outage = start + 6 * 3600 * 7 + 3 * 3600
    lines, perf, state = [], [], "OK"
    for i in range(2 * 288):
        t = start + 300 * i
        in_spike = any(s <= t < s + 900 for s in spikes)
        in_outage = outage <= t < outage + 7200
        value = outage_value if in_outage else 12.0 + (i % 3) if in_spike else float(i % 4)
        now = "CRITICAL" if value > 10 else "OK"
        if now != state:
            lines.append((t, f"SERVICE ALERT: mq01;Queue;{now};HARD;1;queue {value:g}"))
            lines.append((t, f"SERVICE NOTIFICATION: pager;mq01;Queue;{now};page;queue {value:g}"))
            state = now
        perf.append(
            f"DATATYPE::SERVICEPERFDATA\tTIMET::{t}\tHOSTNAME::mq01\tSERVICEDESC::Queue\t"
            f"SERVICESTATE::{now}\tSERVICESTATETYPE::HARD\tSERVICEATTEMPT::1\t"
            f"SERVICEOUTPUT::queue {value:g}\tSERVICEPERFDATA::depth={value:g};5;10;0;"
        )
    (node / "nagios.log").write_text("".join(f"[{t}] {x}\n" for t, x in lines))
    (node / "service-perfdata.log").write_text("\n".join(perf) + "\n")
    return node, [v for v in perf]


def test_critical_threshold_suggestion_spares_the_pager_and_keeps_the_outage(tmp_path):
    node, perf = _queue_node(tmp_path)
    result = analyze([str(node)])
    # A -c change that turns CRITICAL lines into WARNING ones changes no count of alerts or
    # notifications: a no-op, never shown.
    rows = result.retunes[result.retunes["service"] == "Queue"]
    assert not (
        (rows["alerts_before"] == rows["alerts_after"]) & (rows["notifications_before"] == rows["notifications_after"])
    ).any()


def test_no_critical_threshold_that_would_demote_a_long_outage(tmp_path):
    # The outage sits at 12.5, inside the spikes' range: any level that spares the
    # spikes would turn the outage into a WARNING, so none is suggested.
    node, _ = _queue_node(tmp_path, outage_value=12.5)
    result = analyze([str(node)])
    assert not (result.retunes["directive"] == "critical threshold (-c)").any()
