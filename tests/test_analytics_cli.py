"""`nagtune rank|quiet|retune|names` through click's CliRunner: output, errors, exit codes."""
import csv
import io
import json

import pytest
from click.testing import CliRunner

from nagtune.cli import cli
from tests.analytics_scenarios import write_node


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fleet")
    write_node(str(directory))
    return str(directory)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_rank_table_top(fleet):
    result = run("rank", "--top", "2", fleet)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and "reasons" in lines[0]
    assert "HTTP" in lines[1] and "Load" in lines[2]


def test_rank_json_by_host_service(fleet):
    result = run("rank", "--by", "host_service", "--format", "json", fleet)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["host"] == "web01" and rows[0]["service"] == "HTTP" and rows[0]["reasons"]


def test_quiet_csv(fleet):
    result = run("quiet", "--format", "csv", fleet)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"finding": "silent_hard_problem", "service": "MySQL Replication"}.items() <= rows[0].items()
    assert float(rows[0]["duration"]) == 36000.0


def test_retune_and_names(fleet):
    retune = run("retune", "--format", "json", fleet)
    assert retune.exit_code == 0, retune.output
    assert {r["directive"] for r in json.loads(retune.stdout)} >= {"max_check_attempts"}
    names = run("names", "--format", "csv", fleet)
    assert names.exit_code == 0 and "disk_space_var" in names.stdout


def test_since_until_window(fleet):
    result = run("rank", "--since", "2025-11-28", "--until", "2025-11-29", "--format", "json", fleet)
    assert result.exit_code == 0, result.output
    assert "MySQL Replication" not in {r["service"] for r in json.loads(result.stdout)}


@pytest.mark.parametrize("args, message", [
    (["rank", "/no/such/node"], "Error: no such file or directory: '/no/such/node'\n"),
    (["quiet", "/no/such/*.log"], "Error: no file matches '/no/such/*.log'\n"),
    (["retune", "--since", "soon", "FLEET"],
     "Error: cannot read time 'soon': use 7d, 12h, 30m, 2w, an ISO date or an epoch (--since/--until)\n"),
])
def test_errors_are_one_line_and_exit_non_zero(fleet, args, message):
    result = run(*[fleet if a == "FLEET" else a for a in args])
    assert result.exit_code == 1
    assert result.output == message


def test_bad_options_exit_2(fleet):
    assert run("rank", "--top", "0", fleet).exit_code == 2
    assert run("rank", "--format", "xml", fleet).exit_code == 2
    assert run("names").exit_code == 2


@pytest.mark.parametrize("command", ["rank", "quiet", "retune", "names"])
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "--since" in result.output
