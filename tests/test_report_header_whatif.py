"""The report's header says what the weekly rates rest on; its what-if figure replays the
first screen's changes, one panel each, and nothing else."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
from click.testing import CliRunner
from PIL import Image

from nagtune.analytics.report import build as report_mod
from nagtune.analytics.report import changes
from nagtune.analytics.run import api
from nagtune.cli import cli

START = 1_764_000_000  # 2025-11-24 16:00 UTC
HOURS = 5


def _five_hour_node(directory) -> str:
    """One node whose log runs exactly five hours: a CRITICAL that pages every hour, then OK."""
    node = directory / "nagios-c0001-01"
    node.mkdir()
    lines = [f"[{START}] LOG VERSION: 2.0"]
    for hour in range(HOURS):
        at = START + hour * 3600
        lines += [
            f"[{at + 60}] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;connection refused",
            f"[{at + 60}] SERVICE NOTIFICATION: alice;web01;HTTP;CRITICAL;notify-by-email;connection refused",
            f"[{at + 1800}] SERVICE ALERT: web01;HTTP;OK;HARD;3;HTTP OK",
        ]
    lines.append(f"[{START + HOURS * 3600}] SERVICE ALERT: web01;HTTP;OK;HARD;3;HTTP OK")
    (node / "nagios.log").write_text("\n".join(lines) + "\n")
    return str(node)


def test_header_says_five_hours_of_a_seven_day_window_are_extrapolated(tmp_path):
    node = _five_hour_node(tmp_path)
    out = tmp_path / "out"
    until = pd.Timestamp(START + HOURS * 3600, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S")
    result = CliRunner().invoke(cli, ["report", node, "--since", "7d", "--until", until, "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    header = html[: html.index("<h2>")]
    # Written above: the log runs 5 hours; the window asked is 7 days.
    assert "5.0 h of data in a 7.0 days window" in header
    assert "extrapolated" in header
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "5.0 h of data in a 7.0 days window" in markdown[: markdown.index("\n## ")]


def test_a_full_week_is_not_called_extrapolated():
    week = pd.Timestamp("2026-11-23", tz="UTC")
    events = pd.DataFrame({"time": pd.to_datetime([week, week + pd.Timedelta(days=7)])})
    events.attrs.update(first=week.timestamp(), last=(week + pd.Timedelta(days=7)).timestamp())
    text = report_mod.rates_header(events, week, week + pd.Timedelta(days=7))
    assert text.startswith("7.0 days of data in a 7.0 days window")
    assert "extrapolated" not in text


def _fleet(tmp_path) -> list[str]:
    from nagtune.synth import generate_fleet

    return generate_fleet(str(tmp_path / "fleet"), 6, 3000, days=7, gzip_archives=True)


def test_what_if_figure_has_one_panel_per_change_on_the_first_screen(tmp_path):
    nodes = _fleet(tmp_path)
    analysis = api.analyze(nodes)
    change_list = changes.changes_for_week(analysis.retunes, analysis.events)
    assert 0 < len(change_list) <= changes.CHANGES_SHOWN
    panels = report_mod._what_if_panels(analysis, change_list)
    # One panel per listed change, in the list's order, each on a host the change applies to.
    assert len(panels) == len(change_list)
    detail = report_mod._change_rows(analysis.retunes.assign(change=""), change_list)
    for panel, (_, change) in zip(panels, change_list.iterrows()):
        rank, service, host = re.fullmatch(r"(\d+)\. (.+) on (\S+)(?: \(1 of \d+ hosts\))?", panel["title"]).groups()
        assert int(rank) == change["rank"] and service == change["service"]
        assert host in set(detail.loc[detail["rank"] == change["rank"], "host"])
        assert panel["xlabel"] == change["directive"]
        assert str(panel["suggested"]) in (str(change["suggested"]), str(float(change["suggested"])))

    out = tmp_path / "out"
    start, end = report_mod.resolve_window("7d", None, analysis.events["time"].max())
    report_mod.build_report(analysis, str(out), start, end, processes=1)
    drawn = sorted(os.listdir(out / "plots"))
    assert [name for name in drawn if name.startswith("whatif")] == ["whatif.png"]
    image = np.asarray(Image.open(out / "plots" / "whatif.png").convert("RGB"))
    # Two panels a row: the figure grows with the number of changes.
    rows = -(-len(panels) // 2)
    assert image.shape[1] == 800 and image.shape[0] == round((0.5 + 2.5 * rows) * 80)
    html = (out / "report.html").read_text(encoding="utf-8")
    retunes = html[html.index('<section id="retunes">') : html.index('<section id="names">')]
    assert retunes.count('src="data:image/png;base64,') == 1
