"""On the real Nagios 4 samples (data/samples, see data/make_samples): what each scripted service must show.

Every service carries its scripted behaviour as the custom variable
``_SCENARIO`` in the node's objects.cache, so the tests find "the flapping
one", "the steady one" ... without hard-coding names.
"""

import re
import subprocess
from pathlib import Path

import pytest

from nagtune.analytics.findings.retune import is_long_problem
from nagtune.analytics.run.api import analyze

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
NODES = sorted(p for p in SAMPLES.glob("nagios-*") if (p / "nagios.log").exists()) if SAMPLES.exists() else []

pytestmark = pytest.mark.skipif(
    not NODES, reason="data/samples not generated yet (python3 data/make_samples/make_samples.py)"
)


@pytest.fixture(scope="module")
def analysis():
    return analyze([str(SAMPLES)])


@pytest.fixture(scope="module")
def objects():
    from nagtune.analytics.sources.objects import load_objects

    return load_objects([str(n) for n in NODES if (n / "objects.cache").exists()])


def tagged(objects, tag):
    if "_SCENARIO" not in objects:
        pytest.fail("objects.cache has no _SCENARIO custom variables")
    rows = objects[(objects["object_type"] == "service") & (objects["_SCENARIO"] == tag)]
    return set(zip(rows["node"], rows["host"], rows["service"]))


def test_every_line_accounted_for(analysis):
    assert analysis.events.attrs["lines"] > 0
    assert analysis.events.attrs["unparsed"] <= 0.001 * analysis.events.attrs["lines"]


def test_flapping_and_noisy_rank_at_the_top_of_their_node(analysis, objects):
    """Top quarter of the node's ranking (at least top 3), above every service that pages nobody
    or is quiet (soft spikes, silent, passive), with a reason in words."""
    ranked = analysis.chatty_host_service
    calm = set().union(*(tagged(objects, t) for t in ("soft-spikes", "silent-critical", "passive", "steady-sibling")))
    loud = [(tag, key) for tag in ("flapping", "noisy-warning") for key in tagged(objects, tag)]
    assert loud
    for tag, (node, host, service) in loud:
        mine = ranked[ranked["node"] == node].reset_index(drop=True)
        position = mine.index[(mine["host"] == host) & (mine["service"] == service)]
        assert len(position) == 1, (tag, node, host, service)
        assert position[0] < max(3, -(-len(mine) // 4)), (tag, mine[["host", "service", "score"]].head(8))
        below = [i for i, row in mine.iterrows() if (node, row["host"], row["service"]) in calm]
        assert all(position[0] < i for i in below), (tag, host, service)
        reasons = mine.loc[position[0], "reasons"]
        assert "notifications/week" in reasons and ("flapping" in reasons or "transient" in reasons)


def test_fleet_ranking_follows_the_known_trend(analysis, objects):
    """The web fleet is scripted chattiest on its first host and among the quietest on its last."""
    ranked = analysis.chatty_host_service
    for tag in ("fleet-load", "fleet-http"):
        by_node = {}
        for node, host, service in tagged(objects, tag):
            by_node.setdefault(node, []).append((host, service))
        for node, members in by_node.items():
            members.sort()
            mine = ranked[(ranked["node"] == node) & ranked[["host", "service"]].apply(tuple, axis=1).isin(members)]
            order = list(zip(mine["host"], mine["service"]))
            assert order and order[0] in members[:2], (tag, node, order[:3])
            last = members[-1]
            assert last not in order or order.index(last) >= len(order) // 2, (tag, node, order)


def test_steady_ones_never_appear(analysis, objects):
    steady = tagged(objects, "steady-ok")
    assert steady
    for frame in (analysis.chatty_host_service, analysis.retunes):
        shown = set(zip(frame["node"], frame["host"], frame["service"]))
        assert not steady & shown
    quiet = set(zip(analysis.quiet["node"], analysis.quiet["host"], analysis.quiet["service"]))
    assert not steady & quiet


def test_silent_stuck_ones_are_flagged_quiet(analysis, objects):
    silent = tagged(objects, "silent-critical")
    assert silent
    quiet = analysis.quiet
    for node, host, service in silent:
        findings = set(
            quiet[(quiet["node"] == node) & (quiet["host"] == host) & (quiet["service"] == service)]["finding"]
        )
        assert {"silent_hard_problem", "notifications_off"} & findings, (node, host, service, findings)


def grep_counts(node_dir: Path) -> dict:
    script = (
        f"export LC_ALL=C; cd '{node_dir}' && zcat -f archives/* nagios.log | grep -a '^\\[[0-9]*\\] SERVICE ALERT: ' "
        r"| sed -E 's/^\[[0-9]+\] SERVICE ALERT: ([^;]*);([^;]*);.*/\1;\2/' | sort | uniq -c"
    )
    output = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout.decode("utf-8", "replace")
    counts = {}
    for line in output.splitlines():
        count, key = line.strip().split(" ", 1)
        host, service = key.split(";", 1)
        counts[(host, service)] = counts.get((host, service), 0) + int(count)
    return counts


@pytest.mark.parametrize("node_dir", NODES, ids=[n.name for n in NODES])
def test_alert_counts_agree_with_grep(analysis, node_dir):
    """Nagios' summary.cgi is not installed (no nagios4-cgi): the reference is grep over the raw files.
    Archives and nagios.log of a sample do not overlap, so grep's sum is the truth."""
    events = analysis.events
    mine = events[(events["node"] == node_dir.name) & (events["kind"] == "service_alert")]
    got = {k: int(v) for k, v in mine.groupby(["host", "service"], observed=True).size().items()}
    expected = grep_counts(node_dir)
    # grep sees raw bytes; nagtune shows non-UTF-8 bytes as \xNN: compare on the UTF-8-safe names.
    assert {k: v for k, v in got.items() if "\\x" not in k[1]} == {
        k: v for k, v in expected.items() if "\ufffd" not in k[1]
    }


def test_each_retune_replayed_has_the_claimed_effect(analysis):
    retunes = analysis.retunes
    assert len(retunes)
    episodes = analysis.episodes
    for row in retunes.itertuples():
        assert row.long_problems_after == row.long_problems_before
        eps = episodes[
            (episodes["node"] == row.node)
            & (episodes["host"] == row.host)
            & (episodes["service"] == row.service)
            & (episodes["kind"] == "service")
        ]
        if row.replay_basis.startswith("every check"):
            # Replayed through the engine, whose numbers the real daemon checks
            # (tests/test_retune_oracle.py): its replay of the settings in force is the log.
            assert (row.alerts_before, row.notifications_before) == (row.alerts_logged, row.notifications_logged)
            assert row.notifications_after < row.notifications_before or row.alerts_after < row.alerts_before
        elif row.directive == "max_check_attempts":
            attempts = int(row.suggested)
            # Nagios' rules: a problem's failing checks are its logged SOFT attempts (a HARD
            # problem's HARD attempt - 1) plus, once HARD, the HARD check and its re-checks every
            # check_interval until the recovery, which is OK and not counted.
            interval = re.search(r"HARD re-checks every ([0-9.]+) min", row.reason)
            seconds = 60 * (float(interval[1]) if interval else 5.0)  # else Nagios' default, said in the reason

            def failing(e, seconds=seconds):
                if not e.hard:
                    return e.max_attempt
                hard_for = (e.duration - e.detection_delay).total_seconds()
                return e.max_attempt - 1 + max(1, round(hard_for / seconds))

            still = [e for e in eps.itertuples() if e.hard and failing(e) >= attempts]
            assert row.notifications_before == int(eps["notifications"].sum())
            assert row.notifications_after == sum(e.notifications for e in still)
            assert row.notifications_after < row.notifications_before
            long_ids = set(eps[is_long_problem(eps)].index)
            assert long_ids <= {e.Index for e in still}
        elif "flap" in row.directive:
            # Replayed by hand in tests/test_analytics_flapping.py; here: it mutes, it never adds alerts.
            assert row.notifications_after < row.notifications_before and row.alerts_after == row.alerts_before
        else:
            assert row.alerts_after < row.alerts_before


def test_colliding_names_are_reported(analysis, objects):
    collisions = analysis.names[analysis.names["collides_with"] != ""]
    for node, host, service in tagged(objects, "name-collision"):
        assert service in set(collisions["raw"])
