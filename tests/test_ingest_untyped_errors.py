"""Errors Nagios writes without an "Error:" type are errors on every path.

Nagios writes ``Error in configuration file '...' - Line N (...)`` with no
``TYPE: `` (with or without a colon later in its text). The reference parser,
the ingest's C splitter and its regular expression (NAGTUNE_PURE_PYTHON=1)
must all class them as ``error``; the expected kinds below are read off the
hand-written log, line by line.
"""

import json
import os
import subprocess
import sys

import pytest

from nagtune.analytics.sources import ingest
from nagtune.parsers.nagios import parse_line

LOG = """\
[1700000000] Error in configuration file '/etc/nagios4/conf.d/x.cfg' - Line 12 (Invalid max_check_attempts value for host 'foo')
[1700000001] Error in configuration file '/etc/x.cfg' - Line 3 (Service notification period: 24x7 not found)
[1700000002] Error: Could not open command file '/var/lib/nagios4/rw/nagios.cmd' for update!
[1700000003] Error processing check result file 'c123' (it is gone)
[1700000004] Error while reading the retention file
[1700000005] Nagios 4.4.6 starting... (PID=1234)
[1700000006] Caught SIGTERM, shutting down...
[1700000007] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection refused
[1700000008] Errors in the config are fun
"""

# (kind, output), one per line above, written by hand.
EXPECTED = [
    (
        "error",
        "Error in configuration file '/etc/nagios4/conf.d/x.cfg' - Line 12 (Invalid max_check_attempts value"
        " for host 'foo')",
    ),
    ("error", "Error in configuration file '/etc/x.cfg' - Line 3 (Service notification period: 24x7 not found)"),
    ("error", "Could not open command file '/var/lib/nagios4/rw/nagios.cmd' for update!"),
    ("error", "Error processing check result file 'c123' (it is gone)"),
    ("error", "Error while reading the retention file"),
    ("program", "Nagios 4.4.6 starting... (PID=1234)"),
    ("program", "Caught SIGTERM, shutting down..."),
    ("service_alert", "Connection refused"),
    ("program", "Errors in the config are fun"),
]


def test_parse_line_classes_untyped_errors():
    events = [parse_line(line) for line in LOG.splitlines()]
    assert [(e.kind, e.output) for e in events] == EXPECTED


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "nagios.log"
    path.write_text(LOG)
    return path


def test_c_splitter_classes_untyped_errors(log_file):
    assert ingest.use_compiled(True), "the C splitter is not built"
    events = ingest.load_events([str(log_file)])
    assert list(zip(events["kind"].astype(str), events["output"].astype(str))) == EXPECTED


def test_regex_fallback_classes_untyped_errors(log_file):
    try:
        assert not ingest.use_compiled(False)
        events = ingest.load_events([str(log_file)])
    finally:
        ingest.use_compiled(True)
    assert list(zip(events["kind"].astype(str), events["output"].astype(str))) == EXPECTED


def test_pure_python_process_classes_untyped_errors(log_file):
    """NAGTUNE_PURE_PYTHON=1 as a user sets it: a fresh process that never uses the C splitter."""
    code = (
        "import json, sys\n"
        "from nagtune.analytics.sources import ingest\n"
        "assert ingest._compiled is None\n"
        "e = ingest.load_events([sys.argv[1]])\n"
        "print(json.dumps(list(zip(e['kind'].astype(str), e['output'].astype(str)))))\n"
    )
    env = dict(os.environ, NAGTUNE_PURE_PYTHON="1")
    done = subprocess.run(
        [sys.executable, "-c", code, str(log_file)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [tuple(row) for row in json.loads(done.stdout)] == EXPECTED


@pytest.mark.parametrize("compiled", [True, False], ids=["c-splitter", "regex"])
def test_untyped_error_among_many_hosts(compiled):
    """The prefix does not swallow the next line, nor change what the lines around it are."""
    lines = []
    for n in range(50):
        lines.append(f"[{1700000000 + n}] SERVICE ALERT: h{n};disk;WARNING;SOFT;1;DISK WARNING - 9% free\n")
        lines.append(f"[{1700000000 + n}] Error in configuration file '/etc/c{n}.cfg' - Line {n} (bad)\n")
    try:
        ingest.use_compiled(compiled)
        frame, total, unparsed = ingest.parse_buffer("".join(lines).encode())
    finally:
        ingest.use_compiled(True)
    assert (total, unparsed) == (100, 0)
    kinds = frame["kind"].astype(str).tolist()
    assert kinds == ["service_alert", "error"] * 50
    assert frame["output"].astype(str).tolist()[1::2] == [
        f"Error in configuration file '/etc/c{n}.cfg' - Line {n} (bad)" for n in range(50)
    ]
