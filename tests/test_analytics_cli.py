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
    # First what the rates are per, then the header and two rows.
    assert len(lines) == 4 and lines[0].startswith("(7.0 days of data: rates are per week") and "reasons" in lines[1]
    assert "HTTP" in lines[2] and "Load" in lines[3]


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


@pytest.mark.parametrize(
    "args, message",
    [
        (["rank", "/no/such/node"], "Error: no such file or directory: '/no/such/node'\n"),
        (["quiet", "/no/such/*.log"], "Error: no file matches '/no/such/*.log'\n"),
        (
            ["retune", "--since", "soon", "FLEET"],
            "Error: cannot read time 'soon': use 7d, 12h, 30m, 2w, an ISO date or an epoch (--since/--until)\n",
        ),
    ],
)
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


@pytest.mark.parametrize("setting, asked", [(None, "False"), ("1", "True")])
def test_analytics_commands_keep_numpy_from_asking_for_huge_pages(setting, asked):
    """Unless the user says otherwise: on a kernel that compacts memory for every madvised
    huge page, numpy's asking cost a rank 5% of its time (see nagtune/cli.py)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    samples = str(Path(__file__).resolve().parent.parent / "data" / "samples")
    code = (
        "from nagtune.cli import cli\n"
        f"cli.main(args=['rank', '--top', '1', '--format', 'csv', {samples!r}], standalone_mode=False)\n"
        "from numpy._core import multiarray\n"
        "print(multiarray._get_madvise_hugepage())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == asked
