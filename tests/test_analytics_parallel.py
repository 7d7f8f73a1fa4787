"""rank_logs: worker processes per group of nodes and the results cache give what one process gives."""

import gzip
import os
import shutil
import signal
import time

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from nagtune.analytics.findings.chatty import rank_chatty
from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.run import api, parallel, results_cache
from nagtune.analytics.sources.ingest import IngestError, load_events, resolve_paths, window_end
from nagtune.cli import cli

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "samples")


@pytest.fixture()
def samples(tmp_path):
    """A copy of the real Nagios samples (three nodes) that a test may change."""
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy)
    return str(copy)


def one_process(paths, by, since=None, until=None):
    events = load_events(paths, since=since, until=until)
    return rank_chatty(events, build_episodes(events, window_end=window_end(events, until)), by=by, include_hosts=True)


def assert_same_table(got, expected):
    """Equal values, row order included; dtypes as the Parquet cache may give them back."""
    assert list(got.columns) == list(expected.columns)
    assert_frame_equal(got.reset_index(drop=True).astype(object), expected.reset_index(drop=True).astype(object))


@pytest.mark.parametrize("by", ["service", "host_service"])
@pytest.mark.parametrize("window", [(None, None), ("2025-01-01T00:00", "2030-01-01"), (None, "1700100000")])
def test_worker_processes_rank_as_one_process(samples, by, window):
    since, until = window
    expected = one_process([samples], by, since, until)
    for processes in (1, 2, 3):
        got = api.rank_logs([samples], by=by, since=since, until=until, processes=processes)
        assert_same_table(got, expected)
    assert len(expected) or until == "1700100000"


def test_groups_are_whole_nodes_dealt_in_name_order(samples):
    targets = resolve_paths([samples])
    groups = parallel.node_groups(targets, 2)
    nodes = [sorted({node for node, _ in group}) for group in groups]
    assert nodes == [["nagios-c0001-01", "nagios-global01"], ["nagios-c0002-01"]]
    assert sorted(pair for group in groups for pair in group) == sorted(targets)
    assert len(parallel.node_groups(targets, 8)) == 3  # never an empty group


def test_a_workers_ingest_error_is_the_callers(samples):
    broken = os.path.join(samples, "nagios-c0002-01", "archives", "nagios-01-01-2024-00.log.gz")
    with open(broken, "wb") as handle:
        handle.write(gzip.compress(b"[1700000000] SERVICE ALERT: h;s;OK;HARD;1;x\n")[:-6])
    with pytest.raises(IngestError, match="cannot read .*nagios-01-01-2024-00.log.gz"):
        api.rank_logs([samples], processes=2)
    result = CliRunner().invoke(cli, ["rank", "--workers", "2", samples])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "Error: cannot read" in result.output


def test_a_killed_worker_is_one_clear_error(samples):
    def stage(events, window):
        if "nagios-c0002-01" in set(events["node"].astype(str)):
            os.kill(os.getpid(), signal.SIGKILL)
        return len(events)

    with pytest.raises(parallel.WorkerDied, match="nagios-c0002-01.*exit code -9"):
        parallel.map_node_groups(resolve_paths([samples]), stage, processes=2)


def test_the_window_every_group_is_told_is_the_whole_window(samples):
    def stage(events, window):
        return window

    windows, counts = parallel.map_node_groups(resolve_paths([samples]), stage, processes=3)
    events = load_events([samples])
    assert len(set(windows)) == 1
    assert windows[0].end == events["time"].max()
    span = (events["time"].max() - events["time"].min()) / pd.Timedelta(days=7)
    assert windows[0].weeks == pytest.approx(max(span, 1 / 168))  # at least chatty.MIN_HOURS_OF_DATA
    assert counts["lines"] == events.attrs["lines"] and counts["files"] == events.attrs["files"]


def test_a_rerun_on_unchanged_logs_reads_the_kept_table(samples, tmp_path, monkeypatch):
    cache = str(tmp_path / "cache")
    first = api.rank_logs([samples], by="host_service", cache_dir=cache, processes=2)
    assert_same_table(first, one_process([samples], "host_service"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("recomputed although nothing changed")

    with monkeypatch.context() as patch:
        patch.setattr(parallel, "map_node_groups", must_not_run)
        assert_same_table(api.rank_logs([samples], by="host_service", cache_dir=cache, processes=2), first)
    # Anything the table depends on misses: another parameter, a code change, a grown log, a moving window.
    computed = []
    real = parallel.map_node_groups
    monkeypatch.setattr(parallel, "map_node_groups", lambda *a, **k: computed.append(1) or real(*a, **k))
    api.rank_logs([samples], by="service", cache_dir=cache)
    with monkeypatch.context() as patch:
        patch.setattr(results_cache, "code_digest", lambda: "another version")
        api.rank_logs([samples], by="host_service", cache_dir=cache)
    with monkeypatch.context() as patch:
        patch.setattr(results_cache, "library_versions", lambda: {"pandas": "99"})
        api.rank_logs([samples], by="host_service", cache_dir=cache)
    api.rank_logs([samples], by="host_service", since="3650d", cache_dir=cache)
    api.rank_logs([samples], by="host_service", since="3650d", cache_dir=cache)
    assert len(computed) == 5
    live = os.path.join(samples, "nagios-c0001-01", "nagios.log")
    with open(live, "a") as handle:
        handle.write("[1800000000] SERVICE ALERT: web01.c0001;HTTP;CRITICAL;SOFT;1;late\n")
    grown = api.rank_logs([samples], by="host_service", cache_dir=cache, processes=2)
    assert len(computed) == 6
    assert_same_table(grown, one_process([samples], "host_service"))


def test_the_results_cache_keeps_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(results_cache, "KEEP", 3)
    table = pd.DataFrame({"a": [1, 2]})
    for index in range(5):
        results_cache.write(str(tmp_path), f"k{index}", table)
        os.utime(os.path.join(tmp_path, "results", f"k{index}.parquet"), ns=(index * 10**9, index * 10**9))
    results_cache.write(str(tmp_path), "k5", table)
    assert sorted(os.listdir(tmp_path / "results")) == ["k3.parquet", "k4.parquet", "k5.parquet"]
    assert results_cache.read(str(tmp_path), "k0") is None
    assert_frame_equal(results_cache.read(str(tmp_path), "k5"), table)


def test_cli_rank_twice_with_a_cache_dir_prints_the_same(samples, tmp_path):
    cache = str(tmp_path / "cache")
    outputs = [CliRunner().invoke(cli, ["rank", "--format", "csv", "--cache-dir", cache, samples]) for _ in range(2)]
    assert all(result.exit_code == 0 for result in outputs), outputs[0].output
    assert outputs[0].stdout == outputs[1].stdout
    assert os.listdir(os.path.join(cache, "results"))


PROBE = """
import sys
from nagtune.cli import cli
try:
    cli.main(args=sys.argv[1:], standalone_mode=False)
finally:
    print("pandas imported" if "pandas" in sys.modules else "pandas not imported", file=sys.stderr)
"""


def run_cli(*args):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.strip().splitlines()[-1]


def test_a_rerun_of_nagtune_rank_prints_what_it_kept_without_pandas(samples, tmp_path):
    cache = str(tmp_path / "cache")
    first, imported = run_cli("rank", "--top", "3", "--cache-dir", cache, samples)
    assert imported == "pandas imported" and "reasons" in first
    again, imported = run_cli("rank", "--top", "3", "--cache-dir", cache, samples)
    assert (again, imported) == (first, "pandas not imported")
    # Another format: printed afresh from the kept table (Parquet), as from no cache at all.
    other, imported = run_cli("rank", "--top", "3", "--format", "csv", "--cache-dir", cache, samples)
    assert imported == "pandas imported" and other != first
    assert other == run_cli("rank", "--top", "3", "--format", "csv", samples)[0]
    # A window relative to now moves between runs: never printed from what was kept.
    for _ in range(2):
        _, imported = run_cli("rank", "--since", "3650d", "--cache-dir", cache, samples)
        assert imported == "pandas imported"


@pytest.mark.parametrize("when", ["7d", " 12h ", "1.5w", "30m", "2026-11-20", "1700000000", "7 days", None])
def test_what_moves_with_the_clock_is_what_parse_when_reads_relative_to_now(when):
    from nagtune.analytics.sources.ingest import parse_when

    moves = results_cache.moves_with_the_clock(when)
    if when is None or when == "7 days":
        assert not moves
        return
    a_day_later = pd.Timestamp("2030-01-02", tz="UTC")
    assert moves == (parse_when(when, now=a_day_later) != parse_when(when, now=pd.Timestamp("2030-01-01", tz="UTC")))


def test_a_missing_path_with_a_cache_dir_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["rank", "--cache-dir", str(tmp_path / "c"), str(tmp_path / "nope")])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "no such file" in result.output


KILLED_PARENT = r"""
import os, sys, time
from nagtune.analytics.run import parallel
from nagtune.analytics.sources.ingest import resolve_paths

def stage(events, window):
    with open(os.path.join(sys.argv[2], str(os.getpid())), "w"):
        pass
    time.sleep(120)

parallel.map_node_groups(resolve_paths([sys.argv[1]]), stage, processes=2)
"""


def test_workers_die_with_their_parent(samples, tmp_path):
    """A cron timeout's SIGKILL of nagtune leaves no worker behind."""
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    pids.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, samples, str(pids)])
    deadline = time.monotonic() + 120
    while len(os.listdir(pids)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(name) for name in os.listdir(pids)]
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [
            pid
            for pid in workers
            if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"
        ]
    assert alive == []


def one_process_quiet(paths, since=None, until=None):
    from nagtune.analytics.findings.quiet import find_quiet
    from nagtune.analytics.run.api import find_side_files
    from nagtune.analytics.sources.objects import load_objects

    events = load_events(paths, since=since, until=until)
    files = find_side_files(paths, "objects.cache")
    return find_quiet(
        events,
        build_episodes(events, window_end=window_end(events, until)),
        objects=load_objects(files) if files else None,
    )


@pytest.mark.parametrize("window", [(None, None), ("2025-01-01T00:00", "2030-01-01")])
def test_quiet_in_worker_processes_finds_what_one_process_finds(samples, window):
    since, until = window
    expected = one_process_quiet([samples], since, until)
    assert len(expected) and expected["finding"].nunique() > 1
    for processes in (1, 2, 3):
        assert_same_table(api.quiet_logs([samples], since=since, until=until, processes=processes), expected)


def test_a_quiet_rerun_misses_when_objects_cache_changes(samples, tmp_path):
    objects = os.path.join(samples, "nagios-c0001-01", "objects.cache")
    assert os.path.isfile(objects)
    cache = str(tmp_path / "cache")
    first, imported = run_cli("quiet", "--cache-dir", cache, samples)
    again, imported = run_cli("quiet", "--cache-dir", cache, samples)
    assert (again, imported) == (first, "pandas not imported")
    with open(objects, "a") as handle:
        handle.write("\n")
    _, imported = run_cli("quiet", "--cache-dir", cache, samples)
    assert imported == "pandas imported"


@pytest.mark.parametrize("side_file", ["objects.cache", "service-perfdata.log"])
def test_a_retune_rerun_misses_when_objects_or_perfdata_change(samples, tmp_path, side_file):
    changed = os.path.join(samples, "nagios-c0002-01", side_file)
    assert os.path.isfile(changed)
    cache = str(tmp_path / "cache")
    first, imported = run_cli("retune", "--cache-dir", cache, samples)
    again, imported = run_cli("retune", "--cache-dir", cache, samples)
    assert (again, imported) == (first, "pandas not imported")
    assert first == CliRunner().invoke(cli, ["retune", samples]).stdout  # what the one-process path printed
    with open(changed, "a") as handle:
        handle.write("\n")
    _, imported = run_cli("retune", "--cache-dir", cache, samples)
    assert imported == "pandas imported"


# --- api.analyze on the events in memory, a share of whole nodes per forked process ---

ANALYSIS_TABLES = ("episodes", "chatty", "chatty_host_service", "quiet", "retunes", "names", "automation", "by_cell")


def assert_same_analysis(got, expected):
    def values(frame):
        return frame.astype(
            {c: "object" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
        ).reset_index(drop=True)

    for table in ANALYSIS_TABLES:
        assert_frame_equal(values(getattr(got, table)), values(getattr(expected, table)), obj=table, check_exact=True)


@pytest.fixture(scope="module")
def fleet_events(tmp_path_factory):
    from nagtune.synth import generate_fleet

    base = tmp_path_factory.mktemp("analysis-fleet")
    generate_fleet(str(base), nodes=7, lines=70_000, seed=5, days=14, gzip_archives=True)
    return load_events([str(base)])


@pytest.mark.parametrize("retune_top", [api.RETUNE_TOP, 3])
def test_analysis_in_processes_is_the_one_process_analysis(fleet_events, retune_top):
    expected = api.analyze(fleet_events, retune_top=retune_top, processes=1)
    assert len(expected.retunes) and len(expected.quiet) and len(expected.automation)
    for processes in (2, 3):
        got = api.analyze(fleet_events, retune_top=retune_top, processes=processes)
        assert_same_analysis(got, expected)
        assert got.events is fleet_events  # the report draws from them here


def test_analysis_of_the_samples_in_processes(samples):
    """With the samples' objects.cache and perfdata files, read once, used by every share."""
    expected = api.analyze([samples], processes=1)
    assert len(expected.retunes) and expected.retunes["current"].notna().any()
    assert_same_analysis(api.analyze([samples], processes=2), expected)


def test_node_shares_are_runs_of_consecutive_nodes_balanced_by_events(fleet_events):
    nodes = sorted(set(fleet_events["node"].astype(str)))
    counts = fleet_events["node"].astype(str).value_counts()
    for wanted in (1, 2, 3, 7, 20):
        shares = api.node_shares(fleet_events, wanted)
        assert [node for share in shares for node in share] == nodes  # every node once, in name order
        assert len(shares) == min(wanted, len(nodes))
        ideal = len(fleet_events) / len(shares)
        assert all(abs(counts[share].sum() - ideal) <= counts.max() for share in shares)
    assert api.node_shares(fleet_events.head(0), 2) == []


def test_a_forked_function_gives_its_value_or_its_exception():
    assert parallel.Forked(lambda: os.getpid(), "pid").result() != os.getpid()
    assert parallel.Forked(lambda: os.getpid(), "pid", fork=False).result() == os.getpid()
    assert parallel.forked_map([lambda: 1, lambda: 2], ["one", "two"]) == [1, 2]

    def fails():
        raise IngestError("cannot read x.log")

    with pytest.raises(IngestError, match="cannot read x.log"):
        parallel.Forked(fails, "the reader").result()
    with pytest.raises(parallel.WorkerDied, match="the plots ended without an answer .exit code -9"):
        parallel.Forked(lambda: os.kill(os.getpid(), signal.SIGKILL), "the plots").result()


def test_a_caller_that_fails_first_ends_its_child():
    import time

    child = parallel.Forked(lambda: time.sleep(60), "the sleeper")
    pid = child._process.pid
    started = time.monotonic()
    child.close()
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_stage_drops_the_texts_from_the_frame_it_owns(samples):
    """In place: a copy without them left the texts alive in the stage's name until it
    returned, after the memory had been handed back (a worker's episodes began 200 MB higher)."""
    events = load_events([samples])
    kept = api._without_texts(events)
    assert kept is events
    assert not {"output", "author", "comment"} & set(events.columns)


def test_group_caches_no_run_used_for_a_week_are_removed(samples, tmp_path):
    import fcntl

    cache = tmp_path / "cache"
    api.rank_logs([samples], cache_dir=str(cache), processes=2)
    used = sorted((cache / "groups").iterdir())
    assert len(used) == 2
    week_ago = time.time() - 8 * 86_400
    stale, recent, held = (cache / "groups" / name for name in ("stale", "recent", "held"))
    for directory in (stale, recent, held):
        directory.mkdir()
        (directory / ".lock").touch()
    for directory in used + [stale, held]:
        os.utime(directory, (week_ago, week_ago))
    with open(held / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a run reading it now
        # by="host_service": not the kept table, so the groups are read (and their caches touched).
        api.rank_logs([samples], by="host_service", cache_dir=str(cache), processes=2)
    assert sorted(p.name for p in (cache / "groups").iterdir()) == sorted([p.name for p in used] + ["held", "recent"])
    api.rank_logs([samples], cache_dir=str(cache), processes=3, until="2030-01-01")  # other groups
    assert {p.name for p in used} <= {p.name for p in (cache / "groups").iterdir()}  # used a moment ago


def test_a_cache_removed_while_a_run_waited_for_its_lock_is_made_again(tmp_path):
    import fcntl
    import threading

    from nagtune.analytics.sources import ingest

    directory = tmp_path / "group"
    directory.mkdir()
    held_a_lock_on_a_file_that_is_there = []
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)

        def waiter():
            with ingest._locked(str(directory)):
                held_a_lock_on_a_file_that_is_there.append((directory / ".lock").exists())

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)
        shutil.rmtree(directory)  # as drop_stale_group_caches does, lock held
    thread.join(10)
    assert held_a_lock_on_a_file_that_is_there == [True]


def test_names_in_worker_processes_find_collisions_across_nodes(tmp_path):
    """Collisions are per node (each node's collector keeps its own registry): nodes read by
    different workers still report every one. Three services claim http_check on c0001 (the
    owner and its two newcomers: 3 rows), "Disk /var" and "Disk: /var" claim disk_var on c0003
    (2 rows); c0002's names are free, though c0001 and c0003 use the same ones."""
    from nagtune.analytics.findings.names import audit_names

    services = {
        "nagios-c0001-01": ("HTTP Check", "HTTP_Check", "http check"),
        "nagios-c0002-01": ("HTTP Check", "Disk /var"),
        "nagios-c0003-01": ("Disk /var", "Disk: /var"),
    }
    for node, names in services.items():
        directory = tmp_path / node
        directory.mkdir()
        (directory / "nagios.log").write_text(
            "".join(
                f"[{1700000000 + i}] SERVICE ALERT: web01;{service};CRITICAL;HARD;3;down\n"
                f"[{1700000060 + i}] SERVICE ALERT: web01;{service};OK;HARD;3;up\n"
                for i, service in enumerate(names)
            )
        )
    expected = audit_names(load_events([str(tmp_path)]))
    assert (expected["collides_with"] != "").sum() == 5
    for processes in (1, 2, 3):
        assert_same_table(api.names_logs([str(tmp_path)], processes=processes), expected)
