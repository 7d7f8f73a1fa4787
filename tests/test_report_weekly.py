"""The weekly report's decisions: changes grouped across nodes, pages in the team's
time zone, week over week beyond noise, effects only of applied changes.

Expected values are worked out by hand from small inputs written here.
"""

from __future__ import annotations

import calendar
import math

import numpy as np
import pandas as pd
from click.testing import CliRunner

from nagtune.analytics.report import burden, changes, history
from nagtune.cli import cli


def _epoch(*utc) -> int:
    return calendar.timegm((*utc, 0, 0, 0))


# Notifications at UTC times chosen around New York's night (22-7) and working
# hours (9-18); New York is UTC-5 in late November.
#            UTC time                 New York time            night  weekend  working
PAGES = [
    (_epoch(2026, 11, 16, 3, 30, 0), ("alice", "bob")),  # Sun 15th 22:30  yes  yes  no  (night of the 15th)
    (_epoch(2026, 11, 16, 14, 0, 0), ("alice",)),  # Mon 09:00        no   no   yes
    (_epoch(2026, 11, 17, 11, 30, 0), ("alice",)),  # Tue 06:30        yes  no   no  (night of the 16th)
    (_epoch(2026, 11, 17, 23, 30, 0), ("alice",)),  # Tue 18:30        no   no   no  (UTC: night)
    (_epoch(2026, 11, 18, 12, 0, 0), ("alice",)),  # Wed 07:00        no   no   no  (night ends at 7)
    (_epoch(2026, 11, 20, 3, 0, 0), ("alice",)),  # Thu 19th 22:00   yes  no   no  (night starts at 22)
    (_epoch(2026, 11, 21, 15, 0, 0), ("alice",)),  # Sat 10:00        no   yes  no
]
OBJECTS = """define contactgroup {
\tcontactgroup_name\toncall
\tmembers\talice,bob
\t}

define contactgroup {
\tcontactgroup_name\tmanagers
\tmembers\tbob
\t}
"""


def _node(tmp_path):
    node = tmp_path / "nagios-c0001-01"
    node.mkdir()
    lines = [f"[{PAGES[0][0] - 86400}] LOG VERSION: 2.0"]
    for when, contacts in PAGES:
        lines.append(f"[{when - 60}] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;CRITICAL - down")
        for contact in contacts:
            lines.append(
                f"[{when}] SERVICE NOTIFICATION: {contact};web01;HTTP;CRITICAL;notify-service-by-email;CRITICAL - down"
            )
        lines.append(f"[{when + 60}] SERVICE ALERT: web01;HTTP;OK;HARD;3;OK - up")
    (node / "nagios.log").write_text("\n".join(lines) + "\n")
    (node / "objects.cache").write_text(OBJECTS)
    return node


def _report(tmp_path, node, *options):
    out = tmp_path / ("out" + "".join(o.replace("/", "_") for o in options))
    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(node),
            "--since",
            "2026-11-15",
            "--until",
            "2026-11-22",
            "--no-history",
            "--out",
            str(out),
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_night_and_weekend_pages_are_counted_in_the_teams_time_zone(tmp_path):
    node = _node(tmp_path)
    out = _report(tmp_path, node, "--timezone", "America/New_York")
    per_contact = pd.read_csv(out / "tables" / "pages_per_contact.csv").set_index("contact")
    assert per_contact.loc["alice"].to_dict() == {
        "pages": 7,
        "night_pages": 3,
        "weekend_pages": 2,
        "out_of_hours_pages": 6,
        "nights_woken": 3,
    }
    assert per_contact.loc["bob"].to_dict() == {
        "pages": 1,
        "night_pages": 1,
        "weekend_pages": 1,
        "out_of_hours_pages": 1,
        "nights_woken": 1,
    }
    groups = pd.read_csv(out / "tables" / "pages_per_contact_group.csv").set_index("contact_group")
    assert groups.loc["oncall", "pages"] == 8 and groups.loc["oncall", "night_pages"] == 4
    assert groups.loc["managers", "pages"] == 1
    nights = pd.read_csv(out / "tables" / "worst_nights.csv")
    assert list(nights["night_of"]) == ["2026-11-15", "2026-11-16", "2026-11-19"]
    assert list(nights["pages"]) == [2, 1, 1]
    assert nights.loc[0, "contacts"] == "alice, bob" and nights.loc[0, "first_page"] == "22:30"
    html = (out / "report.html").read_text()
    assert "America/New_York" in html

    # The same log read in UTC: other pages are night pages (03:30, 23:30 and 03:00 UTC).
    utc = _report(tmp_path, node)
    nights_utc = pd.read_csv(utc / "tables" / "worst_nights.csv")
    assert sorted(nights_utc["night_of"]) == ["2026-11-15", "2026-11-17", "2026-11-19"]


def test_bad_time_zone_and_hours_are_one_line_errors(tmp_path):
    node = _node(tmp_path)
    for options, words in (
        (["--timezone", "Mars/Olympus"], "--timezone Mars/Olympus"),
        (["--working-hours", "18-9"], "working hours 18-9"),
        (["--night-hours", "late"], "--night-hours late"),
        (["--nagios-url", "javascript:alert(1)"], "--nagios-url"),
        (["--nagios-url", "https://x/{nodes}"], "--nagios-url"),
    ):
        result = CliRunner().invoke(cli, ["report", str(node), "--since", "7d", "--out", str(tmp_path / "o"), *options])
        assert result.exit_code == 1, (options, result.output)
        assert result.output.startswith("Error: ") and words in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


def test_nagios_links_fill_the_pattern_quoted(tmp_path):
    node = _node(tmp_path)
    out = _report(
        tmp_path, node, "--nagios-url", "https://{node}.example/cgi-bin/history.cgi?host={host}&service={service}"
    )
    html = (out / "report.html").read_text()
    assert 'href="https://nagios-c0001-01.example/cgi-bin/history.cgi?host=web01&amp;service=HTTP"' in html


def _binomial_two_sided(k: int, n: int) -> float:
    """By hand: P(|X - n/2| >= |k - n/2|) for X ~ Binomial(n, 1/2)."""
    tail = sum(math.comb(n, i) for i in range(max(k, n - k), n + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_a_change_is_significant_only_beyond_noise():
    # 10 then 30 lines: p = 2 * P(X >= 30), X ~ B(40, 1/2) = 0.00222 < 0.01.
    assert _binomial_two_sided(30, 40) < 0.01
    assert history.significant([10], [30], tests=1).tolist() == [True]
    # The same pair among 10 services compared: 0.00222 > 0.01 / 10.
    assert history.significant([10], [30], tests=10).tolist() == [False]
    # 15 then 25: p = 0.155, noise.
    assert _binomial_two_sided(25, 40) > 0.1
    assert history.significant([15], [25]).tolist() == [False]
    # 0 then 9: 2 * 0.5^9 = 0.0039, but fewer than MIN_COUNT lines in all.
    assert history.significant([0], [9]).tolist() == [False]
    # A week twice as long expects twice the count: 10 then 20 is no change.
    assert history.significant([10], [20], ratio=2.0).tolist() == [False]


def test_steady_counts_show_no_new_or_resolved_offenders():
    """Rank reshuffles with counts within noise are not news."""
    rng = np.random.default_rng(7)
    services = [f"svc{i:03d}" for i in range(200)]
    rates = rng.uniform(5, 80, len(services))
    frames = []
    for week in range(2):
        counts = rng.poisson(rates)
        alerts = pd.DataFrame(
            {
                "node": "n1",
                "host": "h1",
                "service": services,
                "alerts": counts * 7,
                "notifications": counts // 2,
                "problems": counts,
            }
        )
        chatty = pd.DataFrame({"node": "n1", "service": services, "alerts_per_week": counts}).sort_values(
            "alerts_per_week", ascending=False
        )
        frames.append((alerts, chatty))
    (before_alerts, before_chatty), (now_alerts, now_chatty) = frames
    moved = set(map(tuple, now_chatty.head(15)[["node", "service"]].values)) ^ set(
        map(tuple, before_chatty.head(15)[["node", "service"]].values)
    )
    assert moved, "the ranking reshuffles: the test would prove nothing"
    new, resolved = history.new_and_resolved(now_chatty, before_chatty, 15, now_alerts, before_alerts)
    assert new.empty and resolved.empty
    # A real jump is shown: one service from 10 to 200 problems.
    jumped = now_alerts.copy()
    jumped.loc[jumped["service"] == "svc000", "problems"] = 200
    before = before_alerts.copy()
    before.loc[before["service"] == "svc000", "problems"] = 10
    top_now = pd.concat([pd.DataFrame({"node": ["n1"], "service": ["svc000"]}), now_chatty])
    new, _ = history.new_and_resolved(top_now, before_chatty[before_chatty["service"] != "svc000"], 15, jumped, before)
    assert list(new["service"]) == ["svc000"] and new["change"].iloc[0] == 190


def test_chronic_offenders_need_every_week_in_the_top_list():
    def snapshot(services):
        return history.Snapshot(
            pd.Timestamp("2026-11-01", tz="UTC"),
            {},
            pd.DataFrame({"node": "n1", "service": services}),
            pd.DataFrame(),
            pd.DataFrame(),
        )

    earlier = [snapshot(["a", "b", "c"]), snapshot(["a", "c", "d"]), snapshot(["a", "b", "c"])]
    now = pd.DataFrame({"node": "n1", "service": ["a", "b", "c", "e"]})
    out = history.chronic(now, earlier, top=3)
    assert out.set_index("service")["weeks_running"].to_dict() == {"a": 4, "c": 4}


def test_an_effect_is_shown_only_where_objects_cache_has_the_suggestion():
    retunes = pd.DataFrame(
        {
            "node": ["n1", "n1"],
            "host": ["h1", "h2"],
            "service": ["HTTP", "HTTP"],
            "directive": ["max_check_attempts"] * 2,
            "current": ["2", "2"],
            "suggested": ["5", "5"],
            "notifications_before": [40, 40],
        }
    )
    before = history.Snapshot(pd.Timestamp("2026-11-01", tz="UTC"), {}, pd.DataFrame(), retunes, pd.DataFrame())
    alerts_now = pd.DataFrame(
        {
            "node": ["n1", "n1"],
            "host": ["h1", "h2"],
            "service": ["HTTP", "HTTP"],
            "alerts": [30, 30],
            "notifications": [4, 12],
        }
    )
    objects = pd.DataFrame(
        {
            "node": ["n1", "n1"],
            "object_type": ["service", "service"],
            "host": ["h1", "h2"],
            "service": ["HTTP", "HTTP"],
            "max_check_attempts": [5, 2],
            "retry_interval": [1.0, 1.0],
            "check_command": ["check_http", "check_http"],
        }
    )
    effects = history.suggestion_effects(before, alerts_now, objects).set_index("host")
    assert effects.loc["h1", "applied"] == "applied"
    assert effects.loc["h1", "change"] == -36 and effects.loc["h1", "beyond_noise"] == "yes"
    assert effects.loc["h2", "applied"] == "not applied"
    assert pd.isna(effects.loc["h2", "change"]) and effects.loc["h2", "beyond_noise"] == ""
    flap = retunes.assign(
        directive="flap_detection_enabled, low/high_flap_threshold", current="off", suggested="on, 5/20"
    )
    flap_objects = objects.assign(
        flap_detection_enabled=[1, 1], low_flap_threshold=[5.0, 10.0], high_flap_threshold=[20.0, 20.0]
    )
    flap_effects = history.suggestion_effects(
        history.Snapshot(before.window_start, {}, pd.DataFrame(), flap, pd.DataFrame()), alerts_now, flap_objects
    )
    assert list(flap_effects.set_index("host").loc[["h1", "h2"], "applied"]) == ["applied", "not applied"]
    unknown = history.suggestion_effects(before, alerts_now, None)
    assert set(unknown["applied"]) == {"unknown (no objects.cache row)"} and unknown["change"].isna().all()


def test_the_same_change_on_many_nodes_is_one_line():
    rows = []
    for node, cell in (("nagios-c0001-01", "c0001"), ("nagios-c0001-02", "c0001"), ("nagios-c0002-01", "c0002")):
        rows.append(
            {
                "node": node,
                "host": f"web.{node}",
                "service": "HTTP",
                "directive": "max_check_attempts",
                "current": 2,
                "suggested": 4,
                "alerts_before": 50,
                "alerts_after": 60,
                "notifications_before": 30,
                "notifications_after": 10,
                "extra_detection_minutes": 2.0,
                "reason": "short problems",
                "cell": cell,
            }
        )
    rows.append(
        {
            **rows[0],
            "host": "db.c0001",
            "service": "MySQL",
            "current": 3,
            "suggested": 5,
            "notifications_before": 5,
            "notifications_after": 9,
        }
    )  # adds pages: not a change to make
    retunes = pd.DataFrame(rows)
    events = pd.DataFrame(
        {
            "node": ["nagios-c0001-01", "nagios-c0001-02", "nagios-c0002-01"],
            "cell": ["c0001", "c0001", "c0002"],
            "node_class": ["cell"] * 3,
        }
    )
    night = pd.DataFrame(
        {
            "node": ["nagios-c0001-01"],
            "host": ["web.nagios-c0001-01"],
            "service": ["HTTP"],
            "pages": [30],
            "night_pages": [15],
            "contacts": ["bob, alice"],
        }
    )
    out = changes.changes_for_week(retunes, events, night)
    assert len(out) == 1
    line = out.iloc[0]
    assert line["change"] == "max_check_attempts 2 -> 4" and line["scope"] == "node class"
    assert line["pages_saved"] == 60 and line["hosts"] == 3 and line["nodes"] == 3
    assert line["night_pages_saved"] == 10  # half of the first host's 20 saved
    assert line["soft_lines_added"] == 30
    assert line["paged"] == "alice, bob"
    one_cell = changes.changes_for_week(retunes[retunes["cell"] == "c0001"], events)
    assert one_cell.iloc[0]["scope"] == "cell" and one_cell.iloc[0]["where"].startswith("cell c0001")


def test_classify_wraps_the_night_over_midnight():
    hours = burden.OnCallHours("Europe/Berlin", (9, 17), (23, 6))
    times = pd.Series(
        pd.to_datetime(["2026-11-20 21:59", "2026-11-20 22:00", "2026-11-21 04:59", "2026-11-21 05:00"], utc=True)
    )
    out = burden.classify(times, hours)  # Berlin is UTC+1: 22:59, 23:00, 05:59, 06:00
    assert list(out["night"]) == [False, True, True, False]
    assert [str(d)[:10] for d in out["night_of"][out["night"]]] == ["2026-11-20", "2026-11-20"]


def test_the_name_audit_shows_the_names_the_collector_ships(tmp_path):
    """The same lines through the collector's own namer and through the audit: the same names."""
    from nagtune.analytics.findings import names
    from nagtune.analytics.sources import ingest
    from nagtune.parsers.identity import identify
    from nagtune.parsers.metrics import MetricNamer, count_events, name_counts
    from nagtune.parsers.nagios import parse_lines

    node = tmp_path / "nagios-c0001-01"
    node.mkdir()
    # "Disk Space: /var" comes first in the log, though it sorts after "Disk Space /var".
    lines = [
        "[1763942400] LOG VERSION: 2.0",
        "[1763942460] SERVICE ALERT: web01;Disk Space: /var;WARNING;SOFT;1;DISK WARNING",
        "[1763942520] SERVICE ALERT: web01;Disk Space /var;WARNING;SOFT;1;DISK WARNING",
        "[1763942580] SERVICE ALERT: web.01;Load;OK;HARD;1;OK",
        "[1763942640] SERVICE ALERT: web_01;Load;OK;HARD;1;OK",
    ]
    (node / "nagios.log").write_text("\n".join(lines) + "\n")
    namer = MetricNamer(identify("nagios-c0001-01"))
    points = name_counts(count_events(parse_lines(lines)), namer)
    shipped_services = {metric.split(".")[-3] for metric in (p.name for p in points) if ".service_alerts." in metric}
    audit = names.audit_names(ingest.load_events([str(node)]))
    by_raw = audit.set_index(["kind", "raw"])["metric_name"]
    assert {by_raw[("service", "Disk Space: /var")], by_raw[("service", "Disk Space /var")]} == {
        s for s in shipped_services if s.startswith("disk_space_var")
    }
    assert by_raw[("service", "Disk Space: /var")] == namer.services.safe("Disk Space: /var") == "disk_space_var"
    assert by_raw[("host", "web_01")] == namer.hosts.safe("web_01") != "web_01"


def test_one_new_value_from_different_current_values_is_one_change():
    rows = [
        {
            "node": f"nagios-c000{i}-01",
            "host": f"h{i}",
            "service": "PING",
            "directive": "max_check_attempts",
            "current": current,
            "suggested": 7,
            "alerts_before": 10,
            "alerts_after": 12,
            "notifications_before": 8,
            "notifications_after": 0,
            "extra_detection_minutes": minutes,
            "reason": "r",
        }
        for i, (current, minutes) in enumerate(((3, 4.0), (5, 2.0)), start=1)
    ]
    out = changes.changes_for_week(pd.DataFrame(rows))
    assert len(out) == 1
    assert out.iloc[0]["change"] == "max_check_attempts 3, 5 -> 7"
    assert out.iloc[0]["pages_saved"] == 16 and out.iloc[0]["detection_delay"] == "+4 min"
