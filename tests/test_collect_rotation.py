"""Nagios renames the log into archives/ and starts a new one between runs."""

from __future__ import annotations

import gzip
import os

import pytest

from .collect_helpers import BASE, alert_lines, append, assert_carbon_has, collect, graphite_args

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("compress", [False, True], ids=["renamed", "renamed_then_gzipped"])
def test_nagios_rotation_into_archives_between_runs(tmp_path, carbon, compress):
    log, state = tmp_path / "nagios.log", tmp_path / "state"
    (tmp_path / "archives").mkdir()
    first, unread, after = alert_lines(30), alert_lines(20, BASE + 400, seed=1), alert_lines(30, BASE + 3600, seed=2)
    log.write_bytes(first)
    assert collect(log, state, *graphite_args(carbon)).returncode == 0
    append(log, unread)  # written after the run, before the rotation
    archive = tmp_path / "archives" / "nagios-11-24-2026-15.log"
    os.rename(log, archive)
    if compress:
        with open(archive, "rb") as src, gzip.open(str(archive) + ".gz", "wb") as dst:
            dst.write(src.read())
        archive.unlink()
    log.write_bytes(after)

    run = collect(log, state, *graphite_args(carbon))

    assert run.returncode == 0, run.stderr
    assert_carbon_has(carbon, first + unread + after)
