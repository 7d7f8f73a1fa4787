"""The Dask engine on a real dask.distributed LocalCluster of 2 worker processes.

Its tables must equal the pandas engine's row for row, on the real samples
and on a seeded synthetic fleet, and a worker killed with SIGKILL while it
runs a node's analysis must not change the result.
"""

import os
import signal
import threading
import time

import pandas as pd
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from nagtune.analytics.run import engine
from nagtune.analytics.sources import store
from nagtune.cli import cli
from nagtune.synth import generate_fleet

# A real LocalCluster (scheduler and worker processes on loopback): the full lane only.
pytestmark = pytest.mark.slow

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "samples")
TABLES = ("chatty", "chatty_host_service", "quiet", "retunes", "names", "automation", "by_cell", "episodes")


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="1.5GB"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    target = str(tmp_path_factory.mktemp("store") / "s")
    store.ingest_paths(SAMPLES, target)
    return target


@pytest.fixture(scope="module")
def fleet_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    generate_fleet(str(base / "logs"), nodes=10, lines=200_000, seed=11, days=14, gzip_archives=True)
    target = str(base / "s")
    store.ingest_paths(str(base / "logs"), target)
    return target


def values(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(
        {c: "object" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    ).reset_index(drop=True)


def assert_same_tables(left, right):
    for table in TABLES:
        pd.testing.assert_frame_equal(
            values(getattr(left, table)), values(getattr(right, table)), obj=table, check_exact=True
        )


def test_samples_dask_equals_pandas(cluster, sample_store):
    on_dask = engine.analyze_store(sample_store, engine="dask", scheduler=cluster.scheduler_address)
    on_pandas = engine.analyze_store(sample_store, engine="pandas")
    assert_same_tables(on_dask, on_pandas)
    assert on_dask.events is None  # events stay on the workers
    assert len(on_dask.chatty) and len(on_dask.quiet) and len(on_dask.retunes)


def test_synthetic_fleet_dask_equals_pandas(cluster, fleet_store):
    on_dask = engine.analyze_store(fleet_store, engine="dask", scheduler=cluster.scheduler_address)
    on_pandas = engine.analyze_store(fleet_store, engine="pandas")
    assert_same_tables(on_dask, on_pandas)
    assert on_dask.chatty["node"].nunique() == 10
    # The ranking really mixes nodes: a split-by-node bug would show up in the order.
    assert on_dask.chatty["node"].head(10).nunique() > 1


def test_window_dask_equals_pandas(cluster, fleet_store):
    args = dict(since="2025-11-28", until="2025-12-03 12:00")
    on_dask = engine.analyze_store(fleet_store, engine="dask", scheduler=cluster.scheduler_address, **args)
    on_pandas = engine.analyze_store(fleet_store, engine="pandas", **args)
    assert_same_tables(on_dask, on_pandas)
    assert on_pandas.episodes["start"].min() >= pd.Timestamp("2025-11-28", tz="UTC")


def test_incremental_ingest_is_idempotent_for_the_engine(cluster, sample_store):
    before = engine.analyze_store(sample_store, engine="dask", scheduler=cluster.scheduler_address)
    summary = store.ingest_paths(SAMPLES, sample_store)
    assert summary.rows_added == 0
    after = engine.analyze_store(sample_store, engine="dask", scheduler=cluster.scheduler_address)
    assert_same_tables(before, after)


def test_a_worker_killed_mid_run_does_not_change_the_result(fleet_store):
    expected = engine.analyze_store(fleet_store, engine="pandas")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local,
        Client(local) as watcher,
    ):
        result: dict = {}

        def run():
            result["analysis"] = engine.analyze_store(fleet_store, engine="dask", scheduler=local.scheduler_address)

        worker = threading.Thread(target=run)
        worker.start()
        killed = None
        deadline = time.monotonic() + 120
        while killed is None and worker.is_alive() and time.monotonic() < deadline:
            # Kill the first worker seen running a node's analysis.
            for address, keys in watcher.processing().items():
                if any("_node_part" in str(key) for key in keys):
                    pid = watcher.run(os.getpid, workers=[address])[address]
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
                    break
            time.sleep(0.005)
        worker.join(timeout=300)
    assert killed is not None, "the analysis finished before a worker could be killed"
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)
    assert_same_tables(result["analysis"], expected)


def test_cli_rank_on_dask_equals_pandas(cluster, sample_store):
    runner = CliRunner()
    on_dask = runner.invoke(
        cli,
        [
            "rank",
            "--store",
            sample_store,
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--format",
            "csv",
        ],
    )
    on_pandas = runner.invoke(cli, ["rank", "--store", sample_store, "--format", "csv"])
    assert on_dask.exit_code == 0, on_dask.output
    assert on_dask.stdout == on_pandas.stdout


def test_unreachable_scheduler_is_a_one_line_error(sample_store):
    result = CliRunner().invoke(
        cli, ["quiet", "--store", sample_store, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert result.exit_code != 0
    assert "cannot reach the Dask scheduler" in result.output
    assert "Traceback" not in result.output
