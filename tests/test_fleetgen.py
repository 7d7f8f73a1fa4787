"""The realistic generator writes what Nagios would: checked against Nagios' rules, not its own numbers."""

from __future__ import annotations

import gzip
import os
import re
from collections import Counter, defaultdict

import pytest

from nagtune.analytics.sources.ingest import load_perfdata
from nagtune.analytics.sources.objects import load_objects
from nagtune.fleetgen import generate_node
from nagtune.parsers.nagios import parse_line

LINE_FILE = re.compile(r"nagios-(\d\d)-(\d\d)-(\d{4})-(\d\d)\.log(\.gz)?$")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fleetgen") / "nagios-c0007-01")
    shape = generate_node(path, "nagios-c0007-01", "cell", hosts=150, lines=30_000, days=4, seed=3, gzip_after_days=2)
    return path, shape


def _files(path):
    archives = sorted(os.listdir(os.path.join(path, "archives")), key=lambda n: LINE_FILE.match(n).group(3, 1, 2, 4))
    return [os.path.join(path, "archives", n) for n in archives] + [os.path.join(path, "nagios.log")]


def _lines(name):
    opener = gzip.open if name.endswith(".gz") else open
    with opener(name, "rb") as handle:
        return handle.read().splitlines()


def _events(path):
    return [(name, parse_line(line)) for name in _files(path) for line in _lines(name)]


def test_every_line_parses_and_the_shape_is_what_was_written(node):
    path, shape = node
    events = _events(path)
    assert len(events) == shape.lines
    assert not [e for _, e in events if e.kind == "unparsed"]
    hosts = {e.host for _, e in events if e.kind == "current_host_state"}
    assert len(hosts) == shape.hosts == 150
    heads = {
        f"{e.host};{e.service};{e.state};{e.state_type};{e.attempt}"
        for _, e in events
        if e.kind in ("service_alert", "host_alert")
    }
    assert len(heads) == shape.distinct_heads
    assert "150 hosts" in shape.describe() and "distinct alert heads" in shape.describe()


def test_daily_rotation_names_gzip_and_headers(node):
    path, _ = node
    files = _files(path)
    assert len(files) == 4  # four days: three archives and the live log
    for name in files[:-1]:
        match = LINE_FILE.search(name)
        assert match and match.group(4) == "00", name  # rotated at midnight, named for that hour
    # Rotated at least 2 days before the last line: gzipped.
    assert [n.endswith(".gz") for n in files[:-1]] == [True, False, False]
    for name in files:
        first = _lines(name)[:2]
        assert b"LOG ROTATION: DAILY" in first[0] and b"LOG VERSION: 2.0" in first[1]


def test_alert_sequences_follow_max_check_attempts(node):
    """SOFT attempts count up from 1, the HARD problem comes at max_check_attempts
    (objects.cache), and a pair is never in two problems at once."""
    path, _ = node
    objects = load_objects(path)
    attempts = {(r.host, r.service): int(r.max_check_attempts) for r in objects.itertuples()}
    last: dict = {}
    checked = 0
    for _, e in _events(path):
        if e.kind != "service_alert":
            continue
        pair = (e.host, e.service)
        maximum = attempts[pair]
        if e.state_type == "HARD" and e.state != "OK":
            assert e.attempt == maximum
            checked += 1
        if e.state_type == "SOFT" and e.state != "OK":
            previous = last.get(pair)
            assert e.attempt == 1 or (previous and previous.state_type == "SOFT" and previous.attempt == e.attempt - 1)
        last[pair] = e
    assert checked > 100


def test_host_outages_go_hard_within_attempts_times_retry_and_take_services(node):
    path, _ = node
    objects = load_objects(path)
    host_attempts = {r.host: int(r.max_check_attempts) for r in objects.itertuples() if r.object_type == "host"}
    first_soft: dict = {}
    outages = 0
    service_alerts = defaultdict(list)
    for _, e in _events(path):
        if e.kind == "service_alert":
            service_alerts[e.host].append(e)
        if e.kind != "host_alert":
            continue
        if e.state == "DOWN" and e.state_type == "SOFT" and e.attempt == 1:
            first_soft[e.host] = e.time
        elif e.state == "DOWN" and e.state_type == "HARD":
            # retry_interval is 1 minute: HARD after max_check_attempts - 1 retries.
            assert e.time - first_soft[e.host] <= host_attempts[e.host] * 60
            down = [a for a in service_alerts[e.host] if a.output.startswith("CRITICAL - Socket timeout")]
            outages += 1
            assert down or e.host not in service_alerts  # the host's services went with it
    assert outages >= 1


def test_notifications_reach_several_contacts_and_repeat(node):
    path, _ = node
    per_problem = Counter()
    for _, e in _events(path):
        if e.kind == "service_notification" and e.state_type == "PROBLEM":
            per_problem[(e.host, e.service, e.time)] += 1
    assert min(per_problem.values()) >= 2  # 2-4 contacts each
    repeated = Counter((host, service) for host, service, _ in per_problem)
    assert max(repeated.values()) >= 2


def test_snapshots_hold_the_state_at_rotation(node):
    """A CURRENT SERVICE STATE says what the last alert before it said (a recovery: OK)."""
    path, _ = node
    last: dict = {}
    compared = problems = 0
    for _, e in _events(path):
        if e.kind == "service_alert":
            last[(e.host, e.service)] = (e.state, e.state_type, e.attempt) if e.state != "OK" else ("OK", "HARD", 1)
        elif e.kind == "current_service_state" and (e.host, e.service) in last:
            assert (e.state, e.state_type, e.attempt) == last[(e.host, e.service)], (e.host, e.service, e.time)
            compared += 1
            problems += e.state != "OK"
    assert compared > 100 and problems >= 1


def test_noise_is_zipf_skewed(node):
    path, _ = node
    per_pair = Counter((e.host, e.service) for _, e in _events(path) if e.kind == "service_alert")
    counts = sorted(per_pair.values(), reverse=True)
    top = counts[: max(1, len(counts) // 100)]
    assert sum(top) / sum(counts) > 0.1  # the top 1% of alerting pairs make over a tenth of alerts


def test_perfdata_and_same_seed_same_bytes(node, tmp_path):
    path, _ = node
    alerts = sum(1 for _, e in _events(path) if e.kind == "service_alert")
    perf = load_perfdata([path])
    assert len(perf) == alerts
    again = str(tmp_path / "again")
    generate_node(again, "nagios-c0007-01", "cell", hosts=150, lines=30_000, days=4, seed=3, gzip_after_days=2)
    for name in ("nagios.log", "objects.cache", "service-perfdata.log", "nagios.cfg"):
        with open(os.path.join(path, name), "rb") as a, open(os.path.join(again, name), "rb") as b:
            assert a.read() == b.read(), name


@pytest.mark.parametrize("node_class", ["global", "mixed"])
def test_global_and_mixed_nodes(tmp_path, node_class):
    """A global node has fewer hosts with more services each than a cell."""
    shape = generate_node(str(tmp_path / "n"), "nagios-global01", node_class, hosts=40, lines=3_000, days=1, seed=2)
    per_host = shape.pairs / shape.hosts
    assert per_host >= (40 if node_class == "global" else 25)
    events = [parse_line(line) for line in _lines(str(tmp_path / "n" / "nagios.log"))]
    assert not [e for e in events if e.kind == "unparsed"]
    assert sum(e.kind == "service_alert" for e in events) > 1_000
