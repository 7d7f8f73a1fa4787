"""Stores and caches heal: a damaged Parquet part is quarantined and rebuilt
from its source files, an ingest killed before its first manifest resumes."""

from __future__ import annotations

import os

import pandas as pd
from click.testing import CliRunner

from nagtune.analytics.run import results_cache
from nagtune.analytics.sources import ingest, store
from nagtune.cli import cli

from .test_store import SAMPLES, as_text, store_files

NODE_DIR = os.path.join(SAMPLES, "nagios-c0001-01")


def _damage(path) -> None:
    with open(path, "r+b") as handle:  # keep the size, break the footer and the pages
        size = handle.seek(0, 2)
        handle.seek(0)
        handle.write(b"\x00garbage" * (size // 8))


def _an_events_partition(target: str, node: str = "nagios-c0001-01") -> str:
    files = [f for f in store_files(target) if f.startswith("events") and f"node={node}" in f]
    return os.path.join(target, sorted(files)[0])


def test_a_damaged_partition_is_quarantined_and_rebuilt_by_the_next_ingest(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    damaged = _an_events_partition(target)
    _damage(damaged)

    summary = store.ingest_paths(SAMPLES, target)

    assert len(summary.quarantined) == 1 and "damaged partition" in str(summary)
    assert summary.files_read > 0
    assert os.listdir(os.path.join(target, store.QUARANTINE))
    pd.testing.assert_frame_equal(as_text(store.load_events(target)), as_text(ingest.load_events(SAMPLES)))


def test_a_reader_meeting_a_damaged_partition_says_so_in_one_line_and_ingest_rebuilds_it(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    damaged = _an_events_partition(target)
    _damage(damaged)

    result = CliRunner().invoke(cli, ["rank", "--store", target, "--format", "csv"])

    assert result.exit_code != 0
    assert "Traceback" not in result.output and "is damaged" in result.output and "ingest" in result.output
    assert not os.path.exists(damaged)
    again = CliRunner().invoke(cli, ["ingest", "--no-progress", SAMPLES, "--store", target])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(as_text(store.load_events(target)), as_text(ingest.load_events(SAMPLES)))


def test_a_damaged_partition_of_a_node_not_in_the_ingest_names_that_node(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    _damage(_an_events_partition(target, "nagios-c0002-01"))

    summary = store.ingest_paths(NODE_DIR, target)

    assert summary.nodes_to_ingest_again == ["nagios-c0002-01"]
    assert "ingest the logs of nagios-c0002-01 again" in str(summary)
    store.ingest_paths(SAMPLES, target)
    pd.testing.assert_frame_equal(as_text(store.load_events(target)), as_text(ingest.load_events(SAMPLES)))


def test_an_ingest_killed_before_its_first_manifest_is_resumed(tmp_path):
    target = str(tmp_path / "s")
    store.ingest_paths(SAMPLES, target)
    os.unlink(os.path.join(target, store.MANIFEST))  # partitions written, manifest never saved

    summary = store.ingest_paths(SAMPLES, target)

    assert summary.rows_added == 0  # the partitions were there: nothing counted twice
    pd.testing.assert_frame_equal(as_text(store.load_events(target)), as_text(ingest.load_events(SAMPLES)))


def test_a_damaged_part_of_the_ingest_cache_is_parsed_again(tmp_path):
    cache = str(tmp_path / "cache")
    expected = ingest.load_events(SAMPLES)
    ingest.load_events(SAMPLES, cache_dir=cache)
    parts = sorted(name for name in os.listdir(cache) if name.startswith("part-"))
    assert parts
    _damage(os.path.join(cache, parts[0]))

    healed = ingest.load_events(SAMPLES, cache_dir=cache)
    again = ingest.load_events(SAMPLES, cache_dir=cache)

    pd.testing.assert_frame_equal(as_text(healed), as_text(expected))
    pd.testing.assert_frame_equal(as_text(again), as_text(expected))
    assert parts[0] not in os.listdir(cache)


def test_a_damaged_result_table_is_computed_again(tmp_path):
    cache = str(tmp_path / "cache")
    results_cache.write(cache, "abc", pd.DataFrame({"a": [1, 2]}))
    path = os.path.join(cache, "results", "abc.parquet")
    _damage(path)

    assert results_cache.read(cache, "abc") is None
    assert not os.path.exists(path)
