"""report.html in a real headless Chromium: it displays, offline, with its plots, and
its first screen is the decision.

Chromium is a test dependency (scripts/install-test-deps.sh installs Debian's
``chromium``): a missing browser fails this test, it never skips. The page is
read back as Chromium parsed and laid it out (``--dump-dom``), not as written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nagtune.cli import cli
from nagtune.synth import generate_node

from .report_data import report_inputs

pytestmark = pytest.mark.slow
WIDTH, HEIGHT = 1280, 2000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (Debian package chromium): run scripts/install-test-deps.sh", pytrace=False)


def _screenshot(page, shot, profile, width=WIDTH, height=HEIGHT):
    # --disable-background-networking etc.: the page must display with no network at all.
    run = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.is_file(), run.stderr[-2000:]
    return Image.open(shot).convert("RGB")


def _dom(page, profile) -> str:
    run = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "</html>" in run.stdout
    return run.stdout


class _Page(HTMLParser):
    """Headings in order, and each section's tables as rows of cell text."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.sections: dict[str, list[list[list[str]]]] = {}
        self.text_of: dict[str, list[str]] = {}
        self._section = None
        self._heading = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self._section = dict(attrs).get("id")
            self.sections[self._section] = []
            self.text_of[self._section] = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        elif tag == "table" and self._section:
            self.sections[self._section].append([])
        elif tag == "tr" and self._section and self.sections[self._section]:
            self.sections[self._section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.sections[self._section][-1][-1].append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._cell is not None:
            self._cell += data
        if self._section:
            self.text_of[self._section].append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _table(page: _Page, section: str, index: int = 0) -> list[dict]:
    rows = page.sections[section][index]
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def samples_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    inputs = report_inputs(str(base))
    out = base / "out"
    result = CliRunner().invoke(cli, ["report", *inputs, "--since", "7d", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_displays_in_headless_chromium(samples_report, tmp_path):
    out = samples_report
    image = _screenshot(out / "report.html", tmp_path / "screenshot.png", tmp_path / "profile")
    assert image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image, dtype=float)
    assert pixels.std() > 15, "screenshot is blank"
    # The plots are below the decision: a tall window shows them, coloured (the chatty bars' red).
    tall = np.asarray(
        _screenshot(out / "report.html", tmp_path / "tall.png", tmp_path / "profile", height=14000), dtype=float
    )
    reds = (tall[..., 0] > 180) & (tall[..., 1] < 110) & (tall[..., 2] < 110)
    assert reds.sum() > 500, "no plot colours in the screenshot: images did not display"
    shutil.copy(tmp_path / "screenshot.png", out / "screenshot.png")  # kept with the report for a person to look at


def test_the_first_heading_after_the_title_is_the_list_of_changes(samples_report, tmp_path):
    page = _parse(_dom(samples_report / "report.html", tmp_path / "profile"))
    assert page.headings[0] == ("h1", "nagtune weekly report")
    assert page.headings[1] == ("h2", "Changes for this week")
    assert [h for _, h in page.headings if h == "Problems nobody was told about"]
    order = [h for tag, h in page.headings if tag == "h2"]
    assert order[:4] == ["Changes for this week", "Problems nobody was told about", "On-call burden", "Week over week"]
    changes = _table(page, "changes")
    assert 0 < len(changes) <= 10
    for row in changes:
        assert " -> " in row["change"] and row["where"] and row["paged"], row


def test_no_saving_shown_is_negative(samples_report, tmp_path):
    page = _parse(_dom(samples_report / "report.html", tmp_path / "profile"))
    changes = _table(page, "changes")
    saved = [int(row["pages saved"].replace(",", "")) for row in changes]
    assert saved == sorted(saved, reverse=True) and min(saved) > 0
    assert all(int(row["night pages saved"].replace(",", "")) >= 0 for row in changes)
    numbers = {row["name"]: row["value"] for row in _table(page, "week-over-week", 0)}
    assert float(numbers["pages the changes would have saved"].replace(",", "")) == sum(saved) or len(saved) == 10
    text = " ".join(page.text_of["changes"])
    assert not re.search(r"save -\d|saved -\d|−\d", text)
    assert "avoided" not in "".join(page.text_of["week-over-week"])


def _steady_fleet(directory, nodes: int, days: float) -> None:
    for index in range(nodes):
        node = f"nagios-c{index + 1:04d}-01"
        generate_node(
            os.path.join(directory, node), node, 4000, seed=3, days=days, hosts=4, archives=True, gzip_archives=True
        )


def test_week_over_week_on_a_steady_fleet_shows_no_churn(tmp_path):
    """Two weeks of one seeded process, reported one after the other: nothing is new or resolved."""
    fleet = tmp_path / "fleet"
    _steady_fleet(str(fleet), 6, days=14)
    from nagtune.synth import START

    out = tmp_path / "weekly"
    middle = START + 7 * 86400
    for until in (middle, middle + 7 * 86400):
        result = CliRunner().invoke(
            cli, ["report", str(fleet), "--since", "7d", "--until", str(until), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
    page = _parse(_dom(out / "report.html", tmp_path / "profile"))
    section = page.sections["week-over-week"]
    text = " ".join(page.text_of["week-over-week"])
    assert "Compared with the report of the week starting" in text
    headings = [h for _, h in page.headings]
    new_at = headings.index("New offenders")
    # "New offenders" and "Resolved offenders" say "Nothing this week." (no table under them).
    assert headings[new_at + 1] == "Resolved offenders"
    tables = [t for t in section if t and t[0] and t[0][0] == "node" and "problems last week" in t[0]]
    assert tables == [], tables
    assert text.count("Nothing this week.") >= 2
    # The ranking did change between the weeks: the test is not trivially empty.
    import pandas as pd

    history = sorted((out / "history").glob("*-chatty.parquet"))
    tops = [set(map(tuple, pd.read_parquet(p).head(15)[["node", "service"]].astype(str).values)) for p in history]
    assert len(tops) == 2 and tops[0] != tops[1]


def test_a_thousand_node_week_stays_small_on_disk(tmp_path):
    """1,000 nodes x 7 days (the benchmark's fleet shape): the report directory well under 100 MB."""
    fleet = tmp_path / "fleet"
    for index in range(1000):
        node = "nagios-global01" if index == 0 else f"nagios-c{index:04d}-01"
        generate_node(str(fleet / node), node, 600, seed=1, days=7, hosts=3, archives=True, gzip_archives=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(fleet), "--since", "7d", "--out", str(out)])
    assert result.exit_code == 0, result.output
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size < 50 * 2**20, f"{size / 2**20:.1f} MiB"
    assert (out / "report.html").stat().st_size < 5 * 2**20
    page = _parse(_dom(out / "report.html", tmp_path / "profile"))
    assert page.headings[1] == ("h2", "Changes for this week")
    changes = _table(page, "changes")
    assert 0 < len(changes) <= 10
    # The same change on many nodes is one line.
    assert any(
        int(row["where"].split(" hosts on ")[1].split()[0]) > 1
        for row in changes
        if " hosts on " in row["where"] and "nodes" in row["where"]
    )
