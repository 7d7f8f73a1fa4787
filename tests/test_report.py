"""nagtune report on the samples: sections, numbers, plots, safety, tables, history."""

from __future__ import annotations

import glob
import json
import os
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from nagtune.analytics.report import build as report_mod
from nagtune.analytics.report.build import FORMULA_START, SUMMARY_KEYS, analyze_window, summarize
from nagtune.analytics.run import api
from nagtune.cli import cli

from .report_data import HOSTILE_HOST, HOSTILE_OUTPUT, HOSTILE_SERVICE, report_inputs

SECTIONS = [
    "changes",
    "quiet",
    "burden",
    "week-over-week",
    "chatty",
    "retunes",
    "names",
    "automation",
    "breakdown",
    "data",
]
MD_HEADINGS = [
    "## Changes for this week",
    "## Problems nobody was told about",
    "## On-call burden",
    "## Week over week",
    "## Top chatty services",
    "## Every retune suggestion",
    "## Name audit",
    "## Automation candidates",
    "## Per cell and per class",
    "## Data",
]
TABLES = [
    "changes",
    "change_rows",
    "pages_per_contact",
    "pages_per_contact_group",
    "worst_nights",
    "summary",
    "chatty",
    "chatty_host_service",
    "quiet",
    "retunes",
    "names",
    "automation",
    "by_cell",
    "by_class",
    "new_offenders",
    "resolved_offenders",
    "chronic_offenders",
    "suggestion_effects",
]
PARQUET_ONLY = ["episodes", "hour_of_week"]
PLOT_SIZES = {"hour_of_week.png": (1000, 360), "trend.png": (800, 360)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    inputs = report_inputs(str(base))
    out = base / "out"
    result = CliRunner().invoke(cli, ["report", *inputs, "--since", "7d", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    return {"inputs": inputs, "out": out, "stdout": result.output}


@pytest.fixture(scope="module")
def analysis(built):
    """The analytics API's own answer for the same window."""
    _, start, end, _ = analyze_window(built["inputs"], "7d")
    return api.analyze(built["inputs"], since=start, until=end), start, end


def _html(built) -> str:
    return (built["out"] / "report.html").read_text(encoding="utf-8")


def test_every_section_is_present(built):
    html = _html(built)
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
    markdown = (built["out"] / "report.md").read_text(encoding="utf-8")
    for heading in MD_HEADINGS:
        assert f"\n{heading}\n" in markdown, heading
    for name in TABLES:
        assert (built["out"] / "tables" / f"{name}.csv").is_file(), name
        assert (
            f'href="tables/{name}.csv"' in html
            or name == "change_rows"
            or not pd.read_csv(built["out"] / "tables" / f"{name}.csv").shape[0]
        ), name
    for name in TABLES + PARQUET_ONLY:
        assert (built["out"] / "tables" / f"{name}.parquet").is_file(), name


def test_summary_numbers_equal_the_analytics_api(built, analysis):
    frames, start, end = analysis
    written = json.loads((built["out"] / "summary.json").read_text())
    expected = summarize(frames, start, end)
    assert written == expected
    # And the summary is not a copy of itself: recount the main ones here.
    kinds = frames.events["kind"].astype(str)
    assert written["alerts"] == int(kinds.isin(["service_alert", "host_alert"]).sum()) > 0
    assert written["notifications"] == int(kinds.isin(["service_notification", "host_notification"]).sum())
    assert written["episodes"] == len(frames.episodes) > 0
    assert written["chatty_services"] == len(frames.chatty) > 0
    assert written["quiet_findings"] == len(frames.quiet)
    assert written["retune_suggestions"] == len(frames.retunes)
    summary_csv = pd.read_csv(built["out"] / "tables" / "summary.csv")
    assert list(summary_csv["name"]) == [report_mod.SUMMARY_LABELS[k] for k in SUMMARY_KEYS]
    assert list(summary_csv["value"]) == pytest.approx([written[k] for k in SUMMARY_KEYS])
    # Pages saved are a sum of savings, each above 0: never a negative "saving".
    changes = pd.read_csv(built["out"] / "tables" / "changes.csv")
    assert (changes["pages_saved"] > 0).all()
    assert written["notifications_avoidable"] >= changes["pages_saved"].sum() > 0


def _unneutralise(value):
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


@pytest.mark.parametrize(
    "name, attribute",
    [
        ("chatty", "chatty"),
        ("chatty_host_service", "chatty_host_service"),
        ("quiet", "quiet"),
        ("retunes", "retunes"),
        ("by_cell", "by_cell"),
        ("automation", "automation"),
        ("episodes", "episodes"),
    ],
)
def test_tables_round_trip_and_equal_the_api(built, analysis, name, attribute):
    expected = getattr(analysis[0], attribute)
    as_parquet = pd.read_parquet(built["out"] / "tables" / f"{name}.parquet")
    if name == "episodes":  # not shown in the page: Parquet only
        assert not (built["out"] / "tables" / "episodes.csv").exists()
        assert len(as_parquet) == len(expected) > 0
        pd.testing.assert_frame_equal(
            as_parquet.reset_index(drop=True),
            expected.reset_index(drop=True),
            check_dtype=False,
            check_categorical=False,
        )
        return
    csv = pd.read_csv(built["out"] / "tables" / f"{name}.csv", keep_default_na=False)
    csv_text = pd.read_csv(built["out"] / "tables" / f"{name}.csv", keep_default_na=False, dtype=str)
    assert len(csv) == len(expected) == len(as_parquet)
    for column in expected.columns:
        assert column in csv.columns, column
        if len(expected) == 0:
            continue
        want = expected[column]
        if pd.api.types.is_bool_dtype(want):
            assert list(csv[column].astype(str)) == [str(v) for v in want], column
        elif pd.api.types.is_numeric_dtype(want) and not pd.api.types.is_bool_dtype(want):
            got = pd.to_numeric(csv[column].replace("", np.nan))
            np.testing.assert_allclose(
                got.to_numpy(float), want.to_numpy(float, na_value=np.nan), rtol=1e-9, equal_nan=True, err_msg=column
            )
        elif pd.api.types.is_datetime64_any_dtype(want) or pd.api.types.is_timedelta64_dtype(want):
            continue  # written in ISO form; checked through JSON below
        else:
            got = [_unneutralise(v) for v in csv_text[column]]
            assert got == ["" if pd.isna(v) else str(v) for v in want], column
    if len(expected) and "service" in expected.columns:
        assert list(as_parquet["service"].fillna("")) == [str(v) if pd.notna(v) else "" for v in expected["service"]]


def test_no_csv_cell_can_run_as_a_formula(built):
    seen_hostile = False
    for path in glob.glob(str(built["out"] / "tables" / "*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            for cell in frame[column]:
                if cell.startswith(FORMULA_START):
                    # Numbers (negative changes) are not formulas.
                    assert re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell), (path, column, cell)
                seen_hostile |= cell == "'" + HOSTILE_HOST
    assert seen_hostile, "the hostile host (-2+3@...) should be in some table, neutralised"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_parses_and_shows_hostile_text_as_text(built):
    html = _html(built)
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert "script" not in parser.tags
    assert not [a for a in parser.attrs if a[1].startswith("on")], "no event-handler attributes"
    for tag, key, value in parser.attrs:
        if key in ("src", "href"):
            # Inline images, anchors, and the tables beside the page: nothing else without --nagios-url.
            assert value.startswith(("data:image/png;base64,", "#")) or re.fullmatch(
                r"tables/[a-z0-9_-]+\.csv(\.gz)?", value
            ), (tag, key, value[:40])
    assert set(parser.tags) <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "p",
        "nav",
        "a",
        "section",
        "div",
        "span",
        "figure",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
    text = "".join(parser.text)
    assert HOSTILE_SERVICE in text  # shown, as text
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_hostile_plugin_output_never_reaches_html_unescaped(built):
    html = _html(built)
    assert HOSTILE_OUTPUT not in html
    assert "<script" not in html.lower()


def test_markdown_is_well_formed_and_escaped(built):
    markdown = (built["out"] / "report.md").read_text(encoding="utf-8")
    assert "<script" not in markdown.lower() and "<img" not in markdown.lower()
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    # Every table row has as many cells as its header (escaped pipes do not split).
    block: list[str] = []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in block}
            assert len(widths) == 1, block[:3]
            assert re.fullmatch(r"\|( -+:? \|)+|\|( ---:? \|)+", block[1]), block[1]
            block = []
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown):
        assert (built["out"] / image).is_file(), image


def test_plots_are_real_pngs_and_not_blank(built):
    pngs = sorted(glob.glob(str(built["out"] / "plots" / "*.png")))
    names = {os.path.basename(p) for p in pngs}
    assert {"chatty.png", "hour_of_week.png", "timeline.png", "trend.png"} <= names
    for path in pngs:
        assert re.fullmatch(r"[a-z0-9_-]+\.png", os.path.basename(path)), path
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        image = Image.open(path).convert("RGB")
        if os.path.basename(path) in PLOT_SIZES:
            assert image.size == PLOT_SIZES[os.path.basename(path)]
        assert image.size[0] >= 600 and image.size[1] >= 200
        pixels = np.asarray(image, dtype=float)
        assert pixels.std() > 20, f"{path} looks blank"
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20, f"{path} has hardly any colours"
    # The HTML carries each plot inline.
    html = _html(built)
    assert html.count('src="data:image/png;base64,') == len(pngs)


def test_timeline_uses_state_colours(built):
    pixels = np.asarray(Image.open(built["out"] / "plots" / "timeline.png").convert("RGB")).reshape(-1, 3)
    colours = {tuple(p) for p in np.unique(pixels, axis=0)}
    assert (0x2E, 0x9E, 0x44) in colours  # OK green
    assert (0xD6, 0x27, 0x28) in colours  # CRITICAL red


def test_week_over_week(tmp_path, built):
    out = tmp_path / "weekly"
    inputs = built["inputs"]
    runner = CliRunner()
    first = runner.invoke(cli, ["report", *inputs, "--since", "3d", "--until", _end(built, days=3), "--out", str(out)])
    assert first.exit_code == 0, first.output
    first_retunes = pd.read_csv(out / "tables" / "retunes.csv", keep_default_na=False)
    second = runner.invoke(cli, ["report", *inputs, "--since", "3d", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert len(glob.glob(str(out / "history" / "*-summary.json"))) == 2
    summary = pd.read_csv(out / "tables" / "summary.csv")
    assert summary["previous"].notna().all()
    np.testing.assert_allclose(summary["change"], summary["value"] - summary["previous"], atol=1e-3)
    new = pd.read_csv(out / "tables" / "new_offenders.csv", keep_default_na=False)
    resolved = pd.read_csv(out / "tables" / "resolved_offenders.csv", keep_default_na=False)
    now_top = pd.read_csv(out / "tables" / "chatty.csv", keep_default_na=False).head(15)
    assert set(map(tuple, new[["node", "service"]].values)) <= set(map(tuple, now_top[["node", "service"]].values))
    assert not set(map(tuple, resolved[["node", "service"]].values)) & set(
        map(tuple, now_top[["node", "service"]].values)
    )
    effects = pd.read_csv(out / "tables" / "suggestion_effects.csv", keep_default_na=False)
    assert len(effects) == len(first_retunes)
    # The same objects.cache both weeks: nothing was applied, so no "effect" is shown.
    assert set(effects["applied"]) <= {"not applied"}
    assert (effects[["pages_last_week", "pages_this_week", "change", "beyond_noise"]] == "").all().all()
    html = (out / "report.html").read_text()
    assert "Compared with the report of the week starting" in html
    # Running the same window again replaces its snapshot instead of adding one.
    again = runner.invoke(cli, ["report", *inputs, "--since", "3d", "--out", str(out)])
    assert again.exit_code == 0
    assert len(glob.glob(str(out / "history" / "*-summary.json"))) == 2


def _end(built, days: int) -> str:
    summary = json.loads((built["out"] / "summary.json").read_text())
    return (pd.Timestamp(summary["window_end"]) - pd.Timedelta(days=days)).isoformat()


def test_cli_errors_name_what_to_fix(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "ARCHIVES" in result.output
    result = runner.invoke(cli, ["report", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "missing" in result.output
    (tmp_path / "n1").mkdir()
    (tmp_path / "n1" / "nagios.log").write_text("[1700000000] LOG VERSION: 2.0\n")
    result = runner.invoke(cli, ["report", str(tmp_path / "n1"), "--since", "soon", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Error: --since" in result.output


def test_empty_window_still_writes_every_section(tmp_path):
    (tmp_path / "nagios-c0001-01").mkdir()
    (tmp_path / "nagios-c0001-01" / "nagios.log").write_text("[1700000000] LOG VERSION: 2.0\n")
    result = CliRunner().invoke(
        cli, ["report", str(tmp_path / "nagios-c0001-01"), "--since", "7d", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "o" / "report.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in html


# The report writes times and durations itself (pandas formats them one by one);
# the text must be pandas' own, and every form it does not make is left to pandas.
_SECONDS = st.one_of(
    st.none(),
    st.integers(min_value=-3 * 86_400, max_value=40 * 86_400),
    st.integers(min_value=0, max_value=3).map(lambda d: d * 86_400),
)


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.lists(_SECONDS, min_size=1, max_size=8),
    fraction=st.sampled_from([0, 0, 0, 500_000_000]),
    tz=st.sampled_from(["UTC", "UTC", None, "Europe/Berlin"]),
    unit=st.sampled_from(["ns", "us", "s"]),
)
def test_times_are_written_as_pandas_writes_them(seconds, fraction, tz, unit):
    base = 1_764_000_000
    stamps = [None if s is None else pd.Timestamp((base + s) * 1_000_000_000 + fraction) for s in seconds]
    durations = [None if s is None else pd.Timedelta(s * 1_000_000_000 + fraction) for s in seconds]
    frame = pd.DataFrame(
        {
            "when": pd.Series(pd.to_datetime(stamps, utc=tz is not None)).dt.as_unit(unit),
            "how_long": pd.Series(pd.to_timedelta(durations)).dt.as_unit(unit),
            "name": "=cmd",
        }
    )
    if tz not in (None, "UTC"):
        frame["when"] = frame["when"].dt.tz_convert(tz)
    expected_csv = frame.assign(name="'=cmd").to_csv(index=False)
    expected_json = frame.to_json(orient="records", date_format="iso", date_unit="s")
    assert report_mod._csv_frame(frame).to_csv(index=False) == expected_csv
    assert (
        report_mod._with_times_as_text(frame, "json").to_json(orient="records", date_format="iso", date_unit="s")
        == expected_json
    )


def test_times_are_made_at_once_for_the_report_tables_forms():
    """The forms the tables have are made here, not left to pandas (else no gain)."""
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime([1_764_000_000, None], unit="s", utc=True),
            "how_long": pd.to_timedelta([300, 90_061], unit="s"),
        }
    )
    for medium in ("csv", "json"):
        assert report_mod._times_as_text(frame["when"], medium) is not None
        assert report_mod._times_as_text(frame["how_long"], medium) is not None
    assert list(report_mod._times_as_text(frame["how_long"], "json")) == ["P0DT0H5M0S", "P1DT1H1M1S"]


def test_the_report_in_worker_processes_is_the_same_report(tmp_path, built):
    """--workers 2: the analysis in forked shares of nodes, the plots drawn while the tables
    are written; every file is the one-process report's, byte for byte."""
    outs = {}
    for workers in ("1", "2"):
        outs[workers] = tmp_path / f"out-{workers}"
        result = CliRunner().invoke(
            cli,
            [
                "report",
                *built["inputs"],
                "--since",
                "7d",
                "--no-history",
                "--workers",
                workers,
                "--out",
                str(outs[workers]),
            ],
        )
        assert result.exit_code == 0, result.output

    def files(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    one, two = files(outs["1"]), files(outs["2"])
    assert sorted(one) == sorted(two) and len([f for f in one if f.endswith(".png")]) >= 4
    assert [f for f in one if one[f] != two[f]] == []


def test_a_plot_that_fails_in_its_process_is_the_reports_error(tmp_path, built, monkeypatch):
    from nagtune.analytics.report import plots

    def broken(*args, **kwargs):
        raise ValueError("no room on the canvas")

    monkeypatch.setattr(plots, "trend", broken)
    with pytest.raises(ValueError, match="no room on the canvas"):
        report_mod.make_report(built["inputs"], str(tmp_path / "out"), since="7d", keep_history=False, processes=2)
