"""Backfill of a node's archives (plain and .gz) in one command: the totals
sent equal the alerts the reference parser finds in those archives."""

from __future__ import annotations

import gzip
import io
import shutil
from collections import Counter
from pathlib import Path

import pytest

from nagtune.parsers.identity import identify
from nagtune.parsers.logfiles import archive_order, open_log
from nagtune.parsers.metrics import MetricNamer
from nagtune.parsers.nagios import iter_lines, parse_line
from nagtune.parsers.scan import reference_scan, scan

from .collect_helpers import NODE, PREFIX, collect, graphite_args, whisper_totals

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples" / "nagios-c0001-01"


@pytest.fixture
def node(tmp_path) -> Path:
    """A copy of the sample node: nagios.log and archives/, one of them gzipped."""
    copy = tmp_path / "nagios"
    shutil.copytree(SAMPLES, copy)
    archives = sorted((copy / "archives").iterdir())
    assert any(p.name.endswith(".gz") for p in archives)
    # Gzip one more, so a plain and a .gz archive follow each other in the middle too.
    plain = copy / "archives" / "nagios-11-21-2026-00.log"
    with open(plain, "rb") as src, gzip.open(str(plain) + ".gz", "wb") as dst:
        dst.write(src.read())
    plain.unlink()
    return copy


def archives_of(node: Path) -> list[Path]:
    return sorted((node / "archives").iterdir(), key=lambda p: p.name, reverse=True)  # NOT rotation order


def archive_bytes(paths) -> bytes:
    out = []
    for path in sorted(map(str, paths), key=archive_order):
        with open_log(path) as handle:
            out.append(handle.read())
    return b"".join(out)


def reference_points(data: bytes) -> dict:
    """(name, minute) -> lines, by the line-by-line reference parser (parse_line)."""
    namer = MetricNamer(identify(NODE), PREFIX)
    return {(p.name, p.timestamp): p.value for p in reference_scan(iter_lines(io.BytesIO(data))).points(namer)}


def graphite_lines(text: str) -> dict:
    points: Counter = Counter()
    for line in text.splitlines():
        name, value, stamp = line.split(" ")
        if ".nagtune." not in name:
            assert (name, int(stamp)) not in points, f"{name} {stamp} sent twice"
            points[(name, int(stamp))] = int(value)
    return dict(points)


def test_reference_counts_agree_with_the_scanner(node):
    """The two parsers agree on the sample archives (the premise of the tests below)."""
    data = archive_bytes(archives_of(node))
    namer = MetricNamer(identify(NODE), PREFIX)
    fast = {(p.name, p.timestamp): p.value for p in scan(data).points(namer)}
    assert fast == reference_points(data)
    alerts = sum(1 for line in iter_lines(io.BytesIO(data)) if parse_line(line).kind in ("service_alert", "host_alert"))
    assert alerts > 100


def test_backfill_to_stdout_equals_the_alerts_in_the_archives(tmp_path, node):
    archives = archives_of(node)
    run = collect(node / "nagios.log", tmp_path / "state", "--output", "stdout", "--backfill", *map(str, archives))
    assert run.returncode == 0, run.stderr
    expect = reference_points(archive_bytes(archives))
    assert expect
    assert graphite_lines(run.stdout.decode()) == expect
    # The totals per metric are the alerts per metric in the logs.
    sent: Counter = Counter()
    for (name, _), value in graphite_lines(run.stdout.decode()).items():
        sent[name] += value
    assert sum(sent.values()) == reference_scan(iter_lines(io.BytesIO(archive_bytes(archives)))).shipped

    # Backfill did not move the live log's offset: a normal run ships the live log whole.
    live = collect(node / "nagios.log", tmp_path / "state", "--output", "stdout")
    assert live.returncode == 0, live.stderr
    assert graphite_lines(live.stdout.decode()) == reference_points((node / "nagios.log").read_bytes())


def test_backfill_rejects_statsd(tmp_path, node):
    run = collect(
        node / "nagios.log", tmp_path / "state", "--output", "statsd", "--backfill", *map(str, archives_of(node))
    )
    assert run.returncode == 1
    assert run.stderr.decode().strip() == (
        "Error: --backfill works with --output graphite or stdout: StatsD stamps its own time"
    )


def test_backfill_of_a_missing_archive_is_one_error_line(tmp_path, node):
    missing = node / "archives" / "nagios-11-19-2026-00.log.gz"
    run = collect(
        node / "nagios.log",
        tmp_path / "state",
        "--output",
        "stdout",
        "--backfill",
        *map(str, archives_of(node)),
        str(missing),
    )
    assert run.returncode == 1
    assert run.stderr.decode().strip() == f"Error: cannot read {missing}: No such file or directory"
    assert run.stdout == b""


@pytest.mark.slow
def test_backfill_into_carbon_equals_the_alerts_in_the_archives(tmp_path, node, carbon):
    archives = archives_of(node)
    run = collect(node / "nagios.log", tmp_path / "state", *graphite_args(carbon), "--backfill", *map(str, archives))
    assert run.returncode == 0, run.stderr
    expect: Counter = Counter()
    for (name, _), value in reference_points(archive_bytes(archives)).items():
        expect[name] += value
    seen = whisper_totals(carbon, list(expect), expect)
    assert seen == expect
    assert {m for m in carbon.list_metrics() if ".nagtune." not in m} == set(expect)
