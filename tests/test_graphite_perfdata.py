"""Perfdata series in Graphite as the values of the threshold retunes, against a real
carbon-cache + whisper and graphite-render on loopback.

The c0001 sample node's ``service-perfdata.log`` (every check result of a real
Nagios 4) goes into carbon named the way graphios names it (host, service and
label with spaces, dots, slashes and colons turned into ``_``), is read back
through the render API and must give the values and states Nagios wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.retune import suggest_retunes
from nagtune.analytics.sources.graphite_source import load_perfdata_from_graphite, loose_name
from nagtune.analytics.sources.ingest import load_events, load_perfdata
from nagtune.cli import cli

pytestmark = pytest.mark.slow
NODE_DIR = Path(__file__).resolve().parent.parent / "data" / "samples" / "nagios-c0001-01"


def graphios_name(text: str) -> str:
    return re.sub(r"[ ./:]", "_", text)


@pytest.fixture
def shipped(carbon):
    """The node's perfdata in carbon as perfdata.HOST.SERVICE.LABEL; (file rows, last value per slot)."""
    rows = load_perfdata([str(NODE_DIR)]).sort_values("time", kind="stable")
    rows = rows.astype({c: str for c in ("host", "service", "label", "state")})
    rows["path"] = (
        "perfdata."
        + rows["host"].map(graphios_name)
        + "."
        + rows["service"].map(graphios_name)
        + "."
        + rows["label"].map(graphios_name)
    )
    rows["epoch"] = rows["time"].astype("int64") // 10**9
    lines = [f"{p} {v!r} {t}" for p, v, t in zip(rows["path"], rows["value"], rows["epoch"])]
    for start in range(0, len(lines), 2000):
        carbon.send(*lines[start : start + 2000])
    # Whisper keeps one value per minute: the last one sent into it.
    rows["slot"] = rows["epoch"] - rows["epoch"] % 60
    last = rows.groupby(["path", "slot"], sort=False).tail(1)
    for path, expected in last.groupby("path")["slot"].size().items():
        stored = carbon.fetch(path, 0, 2**31, predicate=lambda points, n=expected: len(points) == n, timeout=30)
        assert len(stored) == expected, path
    return rows, last


def test_values_and_states_come_back_as_nagios_wrote_them(carbon, graphite_render, shipped):
    rows, last = shipped
    events = load_events([str(NODE_DIR)])
    since, until = rows["time"].min(), rows["time"].max() + pd.Timedelta(minutes=1)
    values = load_perfdata_from_graphite(graphite_render.url, since, until, events)
    # 'Disk Space /var' and 'Disk Space: /var' are one name once sanitized: never guessed.
    colliding = {p for p in rows["path"] if p.startswith("perfdata.db01_c0001.Disk_Space_")}
    assert colliding and set(values.attrs["unmatched"]) == colliding
    assert not values["service"].astype(str).isin(["Disk Space /var", "Disk Space: /var"]).any()
    got = values.assign(slot=values["time"].astype("int64") // 10**9).astype(
        {c: str for c in ("host", "service", "label", "state")}
    )
    # Labels come back as the shipper wrote them ('/' of check_disk is '_').
    expected = last[~last["path"].isin(colliding)].assign(label=lambda f: f["label"].map(graphios_name))
    merged = expected.merge(
        got, on=["host", "service", "label", "slot"], how="outer", indicator=True, suffixes=("_file", "_graphite")
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][
        ["host", "service", "label", "slot", "value_file", "path"]
    ].to_string()
    assert np.allclose(merged["value_file"], merged["value_graphite"])
    # The state of the check that reported the value, from the log's alerts, equals the
    # state Nagios wrote beside it in the perfdata file.
    mismatched = merged[merged["state_file"] != merged["state_graphite"]]
    assert mismatched.empty, mismatched[["host", "service", "slot", "state_file", "state_graphite"]].head()
    assert len(merged) > 2000


def nagios_alerts(value: float, spec: str) -> bool:
    """A value alerts under ``~:X`` (above X) or ``X:`` (below X), written out here independently."""
    if spec.startswith("~:"):
        return value > float(spec[2:])
    if spec.endswith(":"):
        return value < float(spec[:-1])
    raise AssertionError(f"unexpected range {spec}")


def test_threshold_retune_from_graphite_series_does_what_it_claims(carbon, graphite_render, shipped):
    rows, _ = shipped
    events = load_events([str(NODE_DIR)])
    episodes = build_episodes(events)
    since, until = rows["time"].min(), rows["time"].max() + pd.Timedelta(minutes=1)
    values = load_perfdata_from_graphite(graphite_render.url, since, until, events)
    retunes = suggest_retunes(events, episodes, perfdata=values, top=100)
    thresholds = retunes[retunes["directive"] == "warning threshold (-w)"]
    assert "Memcached" in set(thresholds["service"])
    for row in thresholds.itertuples():
        label = row.reason.split(":", 1)[0]
        series = values[
            (values["host"] == row.host) & (values["service"] == row.service) & (values["label"] == label)
        ].sort_values("time")
        assert "inferred" in row.reason  # Graphite has no declared levels
        crit = re.search(r"critical level (\S+) unchanged", row.reason)[1]
        states = [2 if nagios_alerts(v, crit) else 1 if nagios_alerts(v, row.suggested) else 0 for v in series["value"]]
        alerts = sum(1 for i, s in enumerate(states) if s != (states[i - 1] if i else 0))
        assert alerts == row.alerts_after < row.alerts_before
        before = [2 if nagios_alerts(v, crit) else 1 if nagios_alerts(v, row.current) else 0 for v in series["value"]]
        assert all(after == 2 for after, was in zip(states, before) if was == 2)


def test_cli_reads_perfdata_from_graphite(carbon, graphite_render, shipped):
    result = CliRunner().invoke(
        cli,
        [
            "retune",
            str(NODE_DIR),
            "--perfdata-graphite",
            graphite_render.url,
            "--perfdata-pattern",
            "perfdata.{host}.{service}.{label}",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "perfdata series matched no single service" in result.stderr
    assert "max_check_attempts" in result.stdout


def test_loose_names_match_what_shippers_write():
    assert loose_name("Disk Space /var") == loose_name("Disk_Space__var") == "disk_space_var"
    assert loose_name("web01.c0001") == loose_name("web01_c0001")
    assert loose_name("HTTPS VIP c0001") != loose_name("HTTPS VIP c0002")


def test_report_reads_perfdata_from_graphite(carbon, graphite_render, shipped, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        cli, ["report", str(NODE_DIR), "--out", str(out), "--no-history", "--perfdata-graphite", graphite_render.url]
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()
    # The report's suggestions replay every check, which the report read with its perfdata.
    retunes = pd.read_parquet(out / "tables" / "retunes.parquet")
    assert retunes["replay_basis"].astype(str).str.startswith("every check").any()
