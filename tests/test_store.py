"""The partitioned event store: same events as the logs, idempotent, incremental by file and by day."""

import gzip
import json
import os
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from nagtune.analytics.run import api, engine
from nagtune.analytics.sources import ingest, store
from nagtune.cli import cli
from nagtune.parsers.logfiles import archive_order
from nagtune.synth import generate_fleet, generate_node

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "samples")


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only: categoricals of different category sets compare equal when their values do."""
    return frame.astype(
        {c: "object" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    ).reset_index(drop=True)


def store_files(directory: str) -> dict[str, int]:
    """Every Parquet file of a store with its mtime (ns)."""
    found = {}
    for root, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".parquet"):
                path = os.path.join(root, name)
                found[os.path.relpath(path, directory)] = os.stat(path).st_mtime_ns
    return found


def test_store_holds_exactly_the_events_of_the_logs(tmp_path):
    summary = store.ingest_paths(SAMPLES, str(tmp_path / "s"))
    from_logs = ingest.load_events(SAMPLES)
    from_store = store.load_events(str(tmp_path / "s"))
    assert summary.rows_added == len(from_logs) == len(from_store)
    pd.testing.assert_frame_equal(as_text(from_store), as_text(from_logs))
    assert str(from_store["time"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(from_store["host"].dtype, pd.CategoricalDtype)


def test_layout_is_day_and_node(tmp_path):
    store.ingest_paths(SAMPLES, str(tmp_path / "s"))
    files = store_files(str(tmp_path / "s"))
    events = [f for f in files if f.startswith("events" + os.sep)]
    assert events and all(
        f.split(os.sep)[1].startswith("day=") and f.split(os.sep)[2].startswith("node=") for f in events
    )
    assert any(f.startswith("objects" + os.sep) for f in files)
    assert any(f.startswith("perfdata" + os.sep) for f in files)


def test_reingest_adds_nothing_and_rewrites_nothing(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    before = store_files(target)
    again = store.ingest_paths(SAMPLES, target)
    assert again.rows_added == 0 and again.files_read == 0 and again.partitions_written == []
    assert store_files(target) == before


def test_same_lines_under_other_names_are_not_added_twice(tmp_path):
    """A copy of the archives elsewhere (e.g. synced from the node) is read, and adds nothing."""
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    copy = tmp_path / "copy" / "nagios-c0001-01"
    shutil.copytree(os.path.join(SAMPLES, "nagios-c0001-01"), copy)
    for path in (copy / "archives").glob("*.log"):  # and gzip what was plain
        with open(path, "rb") as src, gzip.open(str(path) + ".gz", "wb") as dst:
            dst.write(src.read())
        path.unlink()
    summary = store.ingest_paths(str(copy), target)
    assert summary.files_read > 0 and summary.lines > 0
    assert summary.rows_added == 0 and summary.perfdata_rows_added == 0


def _lines(path):
    with open(path, encoding="utf-8") as handle:
        return handle.readlines()


def test_rotation_between_ingests_adds_only_the_lines_written_since(tmp_path):
    """nagios.log ingested, then more lines written, then Nagios renames it into archives/."""
    source = tmp_path / "full.log"
    generate_node(str(source), "nagios-c0007-01", 6000, seed=3, days=2)
    lines = _lines(source)
    node = tmp_path / "logs" / "nagios-c0007-01"
    (node / "archives").mkdir(parents=True)
    live = node / "nagios.log"
    live.write_text("".join(lines[:2500]), encoding="utf-8")
    target = str(tmp_path / "s")
    first = store.ingest_paths(str(node), target)
    assert first.rows_added == 2500
    # More lines, then rotation: the old file (all 4000 lines) is in archives/, the rest is live.
    live.write_text("".join(lines[:4000]), encoding="utf-8")
    os.rename(live, node / "archives" / "nagios-11-25-2025-00.log")
    live.write_text("".join(lines[4000:]), encoding="utf-8")
    second = store.ingest_paths(str(node), target)
    assert second.rows_added == len(lines) - 2500
    whole = ingest.load_events(str(source))
    stored = store.load_events(target)
    assert len(stored) == len(whole) == len(lines)
    pd.testing.assert_frame_equal(
        as_text(stored).drop(columns=["node", "node_class", "cell"]),
        as_text(whole).drop(columns=["node", "node_class", "cell"]),
    )


def test_repeated_lines_keep_their_multiplicity(tmp_path):
    """Two identical lines in one file are two events; a second file with one copy adds none."""
    node = tmp_path / "nagios-c0001-01"
    node.mkdir()
    line = "[1700000000] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;down\n"
    (node / "nagios.log").write_text(line * 2, encoding="utf-8")
    target = str(tmp_path / "s")
    assert store.ingest_paths(str(node), target).rows_added == 2
    other = tmp_path / "again" / "nagios-c0001-01"
    other.mkdir(parents=True)
    (other / "nagios.log").write_text(line + line.replace("down", "still down"), encoding="utf-8")
    assert store.ingest_paths(str(other), target).rows_added == 1
    assert len(store.load_events(target)) == 3


def test_a_new_day_adds_only_that_days_partitions(tmp_path):
    fleet = tmp_path / "fleet"
    generate_fleet(str(fleet), nodes=2, lines=20000, seed=5, days=5, gzip_archives=True)
    target = str(tmp_path / "s")
    # Hold back the archives rotated on the last day and the live log, as if not written yet.
    held = tmp_path / "held"
    last_day = None
    for node in sorted(os.listdir(fleet)):
        names = sorted(os.listdir(fleet / node / "archives"), key=archive_order)
        last_day = archive_order(names[-1])[1:4]
        (held / node).mkdir(parents=True)
        for name in names:
            if archive_order(name)[1:4] == last_day:
                os.rename(fleet / node / "archives" / name, held / node / name)
        os.rename(fleet / node / "nagios.log", held / node / "nagios.log")
    store.ingest_paths(str(fleet), target)
    before = store_files(target)
    for node in os.listdir(held):
        for name in os.listdir(held / node):
            where = fleet / node / ("nagios.log" if name == "nagios.log" else os.path.join("archives", name))
            os.rename(held / node / name, where)
    summary = store.ingest_paths(str(fleet), target)
    assert summary.rows_added > 0
    after = store_files(target)
    changed = {f for f in after if before.get(f) != after[f]}
    days = {f.split(os.sep)[1] for f in changed}
    # Lines of an archive rotated on a day were written that day or (the midnight one) the day before.
    year, month, day = last_day
    newest = pd.Timestamp(f"{year}-{month}-{day}")
    allowed = {f"day={(newest - pd.Timedelta(days=d)):%Y-%m-%d}" for d in (0, 1)}
    assert days and days <= allowed, days
    assert len(changed) <= 2 * 2 < len(after)  # two days of two nodes, of six days
    stored = store.load_events(target)
    assert len(stored) == len(ingest.load_events(str(fleet)))


def test_window_reads_only_what_it_needs(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    everything = store.load_events(target)
    middle = everything["time"].iloc[len(everything) // 2]
    part = store.load_events(target, since=middle)
    assert len(part) == int((everything["time"] >= middle).sum())
    assert store.nodes(target, since="2100-01-01") == []


def test_not_a_store_and_a_newer_store_are_clear_errors(tmp_path):
    with pytest.raises(store.StoreError, match="not a nagtune store"):
        store.ingest_paths(SAMPLES, SAMPLES)
    target = tmp_path / "s"
    store.ingest_paths(SAMPLES, str(target))
    manifest = json.loads((target / store.MANIFEST).read_text())
    manifest["version"] = 99
    (target / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(store.StoreError, match="version 99"):
        store.load_events(str(target))


def test_pandas_engine_on_the_store_equals_the_analysis_of_the_logs(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    from_store = engine.analyze_store(target)
    from_logs = api.analyze(SAMPLES)
    for table in ("chatty", "chatty_host_service", "quiet", "retunes", "names", "automation", "by_cell", "episodes"):
        pd.testing.assert_frame_equal(
            as_text(getattr(from_store, table)), as_text(getattr(from_logs, table)), obj=table
        )
    assert len(from_store.retunes) > 0 and len(from_store.quiet) > 0


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_ingest_then_rank_from_the_store(tmp_path):
    target = str(tmp_path / "s")
    first = run("ingest", "--no-progress", SAMPLES, "--store", target)
    assert first.exit_code == 0, first.output
    assert "5,055 events" in first.output
    second = run("ingest", "--no-progress", SAMPLES, "--store", target)
    assert second.exit_code == 0 and "0 events" in second.output
    from_store = run("rank", "--store", target, "--format", "csv")
    from_logs = run("rank", SAMPLES, "--format", "csv")
    assert from_store.exit_code == 0, from_store.output
    # From a store only services are ranked (it says so); PATHS rank hosts among them.
    assert "services are ranked without the hosts" in from_store.stderr
    services = [
        line
        for line in from_logs.stdout.splitlines(keepends=True)
        if not line.endswith(",host,\n") and not line.rstrip("\n").split(",")[-2:-1] == ["host"]
    ]
    assert from_store.stdout == "".join(services)


@pytest.mark.parametrize(
    "args, message",
    [
        (["ingest", "/nonexistent/nagios", "--store", "{tmp}/s"], "no such file or directory"),
        (["ingest", SAMPLES, "--store", SAMPLES], "not a nagtune store"),
        (["rank", "--store", "{tmp}/missing"], "not a nagtune store"),
        (["rank", "--engine", "dask", SAMPLES], "--engine dask reads a store"),
        (["rank"], "give PATHS"),
        (["quiet", "--store", "{tmp}/missing", SAMPLES], "not both"),
    ],
)
def test_cli_store_errors_are_one_line(tmp_path, args, message):
    result = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not os.path.exists(tmp_path / "s") or args[0] != "ingest" or "nonexistent" not in args[1]


def test_report_from_the_store_equals_the_report_from_the_logs(tmp_path):
    from nagtune.analytics.report.build import make_report

    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    from_logs = make_report(SAMPLES, str(tmp_path / "logs"), since="3d", keep_history=False)
    from_store = make_report(None, str(tmp_path / "store"), since="3d", keep_history=False, store_dir=target)
    assert from_store.summary == from_logs.summary
    assert from_store.summary["alerts"] > 0
    for name in sorted(os.listdir(tmp_path / "logs" / "tables")):
        assert (tmp_path / "store" / "tables" / name).read_bytes() == (
            tmp_path / "logs" / "tables" / name
        ).read_bytes(), name
    result = run("report", "--store", target, "--since", "3d", "--out", str(tmp_path / "cli"), "--no-history")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "report.html").exists()
