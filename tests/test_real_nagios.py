"""A real Nagios 4 writes logs that nagtune's parser reads, line by line.

Runs the sample generator (data/make_samples/make_samples.py) in its quick
mode: one node, a real nagios4 under faketime x60 for 20 Nagios minutes
starting at 23:58:30, so its own hourly rotation happens at midnight. Takes
about 25 s. nagios4 and faketime missing is a FAILURE, never a skip.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nagtune.parsers.nagios import parse_line

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "data" / "make_samples" / "make_samples.py"
NODE = "nagios-c0001-01"


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    assert shutil.which("nagios4"), "nagios4 not found: apt-get install nagios4-core"
    assert shutil.which("faketime"), "faketime not found: apt-get install faketime"
    out = tmp_path_factory.mktemp("samples")
    res = subprocess.run(
        [sys.executable, str(GENERATOR), "--quick", "--out", str(out)], capture_output=True, text=True, timeout=180
    )
    assert res.returncode == 0, (
        f"make_samples.py --quick failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    )
    return out / NODE


def test_quick_run_writes_live_log_rotated_archive_perfdata_and_object_cache(quick_run):
    assert (quick_run / "nagios.log").is_file()
    archives = sorted(p.name for p in (quick_run / "archives").iterdir())
    # Nagios' own hourly rotation at the fake midnight, named for the hour of the rotation;
    # the generator gzips the oldest archive.
    assert archives == ["nagios-11-21-2026-00.log.gz"], archives
    live = _lines(quick_run / "nagios.log")
    assert re.match(rb"^\[\d+\] LOG ROTATION: HOURLY$", live[0]), live[0]
    assert re.match(rb"^\[\d+\] LOG VERSION: 2\.0$", live[1]), live[1]
    archived = _lines(quick_run / "archives" / archives[0])
    assert b"Nagios 4.4.6 starting..." in archived[0]
    assert live[-1].split(b"] ", 1)[1].startswith(b"Successfully shutdown...")

    perf = _lines(quick_run / "service-perfdata.log")
    assert perf and all(line.startswith(b"DATATYPE::SERVICEPERFDATA\tTIMET::") for line in perf)
    assert any(b"SERVICEPERFDATA::load1=" in line for line in perf)
    cache = (quick_run / "objects.cache").read_text()
    assert "service_description\tDisk Space: /var" in cache
    assert "_SCENARIO\tflapping" in cache


def test_event_log_keeps_text_before_pipe_only(quick_run):
    """Perfdata never reaches nagios.log; it is in service-perfdata.log only."""
    log = b"\n".join(_lines(quick_run / "nagios.log") + _lines(quick_run / "archives" / "nagios-11-21-2026-00.log.gz"))
    assert b"load average: " in log
    assert b"load1=" not in log and b"|" not in log


def test_every_line_of_the_real_log_parses(quick_run):
    files = [*sorted((quick_run / "archives").iterdir()), quick_run / "nagios.log"]
    kinds: dict[str, int] = {}
    unparsed = []
    total = 0
    for path in files:
        for raw in _lines(path):
            total += 1
            event = parse_line(raw)
            kinds[event.kind] = kinds.get(event.kind, 0) + 1
            if event.kind == "unparsed":
                unparsed.append(f"{path.name}: {raw!r}")
    assert total > 40
    assert not unparsed, f"{len(unparsed)} of {total} real Nagios lines unparsed:\n" + "\n".join(unparsed[:20])
    for kind in (
        "log_rotation",
        "log_version",
        "current_host_state",
        "current_service_state",
        "service_alert",
        "service_notification",
        "external_command",
    ):
        assert kinds.get(kind), f"no {kind} event in the real log: {kinds}"
