"""`nagtune parse` through click's CliRunner: output, errors, exit codes."""

import csv
import gzip
import io
import json

from click.testing import CliRunner

from nagtune.cli import cli
from tests.golden_cases import GOLDEN

GRAMMAR = str(GOLDEN / "grammar.log")


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_events_as_json_lines_one_per_log_line():
    result = run("parse", GRAMMAR)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 56
    assert events[6]["kind"] == "service_alert" and events[6]["service"] == "Disk Space /var"
    assert sum(e["kind"] == "unparsed" for e in events) == 8


def test_events_as_csv_round_trip():
    result = run("parse", "--format", "csv", GRAMMAR)
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 56
    assert rows[41]["output"] == "WARNING - a;b;c with semicolons kept"


def test_metrics_are_the_golden_metrics():
    result = run("parse", "--metrics", "--node", "nagios-c0001-01", "--environment", "test", GRAMMAR)
    assert result.exit_code == 0
    golden = (GOLDEN / "grammar.metrics.golden").read_text().split("\n", 1)[1]
    assert result.stdout == golden


def test_gzip_logs_read_like_plain_ones(tmp_path):
    packed = tmp_path / "nagios-11-24-2026-15.log.gz"
    packed.write_bytes(gzip.compress((GOLDEN / "grammar.log").read_bytes()))
    assert run("parse", str(packed)).stdout == run("parse", GRAMMAR).stdout


def test_missing_file_is_one_clear_line_and_exit_1(tmp_path):
    result = run("parse", str(tmp_path / "nope.log"))
    assert result.exit_code == 1
    assert result.output == f"Error: cannot read {tmp_path / 'nope.log'}: No such file or directory\n"


def test_unreadable_file_is_an_error_not_a_traceback(tmp_path):
    result = run("parse", str(tmp_path))  # a directory is not a log
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot read {tmp_path}: ")
    assert "Traceback" not in result.output


def test_truncated_gzip_is_an_error(tmp_path):
    broken = tmp_path / "cut.log.gz"
    broken.write_bytes(gzip.compress(b"[1700000000] LOG VERSION: 2.0\n" * 1000)[:40])
    result = run("parse", str(broken))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(f"Error: cannot read {broken}")


def test_bad_option_is_a_usage_error():
    result = run("parse", "--granularity", "galaxy", GRAMMAR)
    assert result.exit_code == 2
    assert "Invalid value for '--granularity'" in result.output


def test_bad_cell_pattern_is_named():
    result = run("parse", "--metrics", "--cell-pattern", "(c", GRAMMAR)
    assert result.exit_code == 2
    assert "--cell-pattern" in result.output


def test_no_log_given_is_a_usage_error():
    assert run("parse").exit_code == 2
