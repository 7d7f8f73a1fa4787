"""Graphite as a second source, against a real carbon-cache and graphite-render.

The sample log goes into carbon with exactly the lines ``nagtune parse
--metrics`` prints (what ``nagtune collect`` ships), is read back through the
render API, and must give the same alert counts and the same chatty ranking
as the log itself, compared by metric-safe names.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from nagtune.analytics.findings import chatty, episodes
from nagtune.analytics.sources import ingest
from nagtune.analytics.sources.graphite_source import (
    GraphiteError,
    counts_to_events,
    find_nodes,
    load_events_from_graphite,
)
from nagtune.cli import cli
from nagtune.parsers.names import metric_component

from .report_data import SAMPLE_NODE, sample_node_files

pytestmark = pytest.mark.slow
SHIPPED = [
    "service_alert",
    "host_alert",
    "service_notification",
    "host_notification",
    "service_flapping",
    "host_flapping",
    "service_downtime",
    "host_downtime",
]
KEY = ["node", "kind", "host", "service", "state", "state_type"]


def _load_carbon(carbon, node_dir) -> list[str]:
    logs = sorted(str(p) for p in (node_dir / "archives").glob("*.log*")) + [str(node_dir / "nagios.log")]
    result = CliRunner().invoke(cli, ["parse", "--metrics", "--node", SAMPLE_NODE, "--environment", "test", *logs])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for start in range(0, len(lines), 2000):
        carbon.send(*lines[start : start + 2000])
    totals: dict[str, float] = {}
    for line in lines:
        name, value, _ = line.split()
        totals[name] = totals.get(name, 0) + float(value)
    for name, total in totals.items():
        assert carbon.total(name, expect=total, timeout=30) == total, name
    return lines


def _safe(events: pd.DataFrame, registries: dict | None = None) -> pd.DataFrame:
    """Names as Graphite has them. With ``registries`` (log events), raw names get the
    metric name the collector gave them: NameRegistry, first seen first, so of two
    services that collide the later one carries the hash suffix, as in carbon."""
    out = events.astype({c: "object" for c in ("node", "kind", "host", "service", "state", "state_type")})
    for column in ("node", "host", "service"):
        values = out[column].fillna("")
        if registries is not None and column in registries:
            registry = registries[column]
            mapping = {raw: registry.safe(raw) if raw else "" for raw in pd.unique(values)}
            out[column] = values.map(mapping)
        else:
            out[column] = values.map(lambda v: metric_component(v) if v else "")
    return out


def _log_registries(events: pd.DataFrame) -> dict:
    """One registry per level, fed in log order, as `nagtune parse --metrics` does."""
    from nagtune.parsers.names import NameRegistry

    registries = {"host": NameRegistry(), "service": NameRegistry()}
    for column, registry in registries.items():
        for raw in pd.unique(events[column].astype(object).fillna("")):
            if raw:
                registry.safe(raw)
    return registries


def _window(lines):
    stamps = [int(line.rsplit(" ", 1)[1]) for line in lines]
    return pd.Timestamp(min(stamps), unit="s", tz="UTC"), pd.Timestamp(max(stamps) + 60, unit="s", tz="UTC")


@pytest.fixture
def sample_dir(tmp_path):
    node_dir = tmp_path / SAMPLE_NODE
    (node_dir / "archives").mkdir(parents=True)
    *archives, log = sample_node_files()
    for archive in archives:
        shutil.copy(archive, node_dir / "archives")
    shutil.copy(log, node_dir / "nagios.log")
    return node_dir


def test_graphite_counts_and_ranking_equal_the_logs(carbon, graphite_render, sample_dir):
    lines = _load_carbon(carbon, sample_dir)
    since, until = _window(lines)
    assert find_nodes(graphite_render.url) == [f"nagios.test.cell.c0001.{metric_component(SAMPLE_NODE)}"]

    from_graphite = load_events_from_graphite(graphite_render.url, since, until)
    from_logs = ingest.load_events([str(sample_dir)], environment="test")
    from_logs = from_logs[from_logs["kind"].isin(SHIPPED)]
    registries = _log_registries(from_logs)
    logs_safe = _safe(from_logs, registries)

    # Same lines, one for one, by what/where and minute.
    def counted(frame):
        frame = frame.assign(minute=frame["time"].dt.floor("min"))
        return frame.groupby(KEY + ["minute"]).size().sort_index()

    assert len(from_graphite[from_graphite["kind"].isin(SHIPPED)]) == len(from_logs)
    pd.testing.assert_series_equal(
        counted(_safe(from_graphite[from_graphite["kind"].isin(SHIPPED)])), counted(logs_safe)
    )
    assert set(from_graphite["environment"].astype(str)) == {"test"}
    assert set(from_graphite["cell"].astype(str)) == {"c0001"}

    # Same ranking, by metric-safe names.
    def ranking(events):
        ranked = chatty.rank_chatty(events, episodes.build_episodes(events), by="service")
        ranked = _safe(ranked.assign(kind="", state="", state_type="", host=""))
        return ranked[["node", "service", "score", "alerts_per_week"]].reset_index(drop=True)

    logs_ranked = ranking(logs_safe.astype({c: "category" for c in KEY}))
    graphite_ranked = ranking(from_graphite)
    assert len(logs_ranked) > 0
    assert list(graphite_ranked["service"]) == list(logs_ranked["service"])
    # Per-week rates divide by the span seen, which minute resolution shortens by seconds.
    pd.testing.assert_series_equal(graphite_ranked["alerts_per_week"], logs_ranked["alerts_per_week"], rtol=0.01)
    pd.testing.assert_series_equal(graphite_ranked["score"], logs_ranked["score"], rtol=0.1)


def test_window_is_honoured(carbon, graphite_render, sample_dir):
    lines = _load_carbon(carbon, sample_dir)
    since, until = _window(lines)
    middle = since + (until - since) / 2
    first = load_events_from_graphite(graphite_render.url, since, middle)
    second = load_events_from_graphite(graphite_render.url, middle, until)
    whole = load_events_from_graphite(graphite_render.url, since, until)
    assert len(first) + len(second) == len(whole)
    assert first["time"].max() < middle.floor("min") + pd.Timedelta("1min")


def test_unreachable_graphite_names_the_flag():
    with pytest.raises(GraphiteError, match="--graphite http://127.0.0.1:9"):
        load_events_from_graphite("http://127.0.0.1:9", "2026-01-01", "2026-01-02")


def test_minute_layout_puts_problems_before_recovery():
    # One minute of a flapping service: 2 SOFT CRITICAL, 1 HARD CRITICAL, 2 OK.
    base = "nagios.test.cell.c0001.n1.service_alerts.web01.http."
    counts = pd.DataFrame(
        {
            "path": [base + "CRITICAL.SOFT", base + "CRITICAL.HARD", base + "OK.HARD"],
            "minute": [600, 600, 600],
            "count": [2, 1, 2],
        }
    )
    events = counts_to_events(counts)
    states = list(zip(events["state"].astype(str), events["state_type"].astype(str)))
    assert states[-1] == ("OK", "HARD")
    assert states[0] == ("CRITICAL", "SOFT")
    assert events["time"].is_monotonic_increasing
    assert events["time"].min() >= pd.Timestamp(600, unit="s", tz="UTC")
    assert events["time"].max() < pd.Timestamp(660, unit="s", tz="UTC")
