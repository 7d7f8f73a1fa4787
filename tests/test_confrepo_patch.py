"""Suggestions as a patch to data/config-repo: scope, refusals, formatting, golden patches.

The golden patches were read line by line when written; test_confrepo_nagios.py
checks them with the real Nagios."""

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from nagtune.analytics.confrepo import (
    ConfigError,
    ConfigTree,
    ObjectView,
    PatchError,
    Refused,
    plan_patch,
    wanted_changes,
)
from nagtune.analytics.confrepo.objects import parse_lines
from nagtune.cli import cli

from .confrepo_cases import CASES, OVERRIDE_CASE, REPO, TEMPLATE_CASE, row
from .confrepo_nagios import apply_patch

ROOT = Path(__file__).resolve().parent.parent
REPO_DIR = ROOT / REPO
GOLDEN = ROOT / "tests" / "golden" / "config-repo"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_patch(case):
    assert plan_patch(REPO_DIR, CASES[case]).diff == (GOLDEN / f"{case}.diff").read_text()


def test_template_scope_when_every_taker_in_the_whole_repository_is_suggested():
    result = plan_patch(REPO_DIR, TEMPLATE_CASE)
    assert {d.scope for d in result.decisions} == {"template"}
    assert all("all 6 services in the repository" in d.why for d in result.decisions)
    assert result.diff.count("\n-    max_check_attempts") == 1


def test_one_cell_less_and_the_template_stays():
    # c0003's disks were not suggested: the template also serves them, so no template edit.
    rows = [r for r in TEMPLATE_CASE if r["node"] != "nagios-c0003-01"]
    result = plan_patch(REPO_DIR, rows)
    assert "common/cell/templates.cfg" not in result.diff
    assert {d.scope for d in result.decisions} == {"definition"}  # each cell's own host_name definition
    assert "b/environments/test/c0001/services.cfg" in result.diff
    assert "b/environments/test/c0002/services.cfg" in result.diff


def test_group_defined_service_gets_a_host_override_that_repeats_use_and_check_command():
    result = plan_patch(REPO_DIR, [OVERRIDE_CASE[4]])
    (decision,) = result.decisions
    assert decision.scope == "override" and decision.where == "environments/prod/c0003/nagtune-overrides.cfg"
    added = [l[1:].split() for l in result.diff.splitlines() if l.startswith("+    ")]
    assert ["use", "hypervisor-service"] in added and ["check_command", "check_procs_vars!libvirtd"] in added
    assert ["host_name", "hv-c0003-01"] in added and ["_CRIT", "2:"] in added
    assert "b/common/" not in result.diff


def test_threshold_argument_and_custom_variable_are_found():
    result = plan_patch(REPO_DIR, [OVERRIDE_CASE[2], OVERRIDE_CASE[4]])
    by_host = {d.host: d for d in result.decisions}
    assert by_host["hv-c0002-01"].directive == "check_command"
    assert by_host["hv-c0002-01"].new == "check_disk!15%!10%!/var"  # $ARG1$ follows -w
    assert by_host["hv-c0003-01"].directive == "_CRIT"  # -c $_SERVICECRIT$


@pytest.mark.parametrize(
    "bad, reason",
    [
        (
            row("nagios-c0001-01", "db-c0001-01", "Postgres connections", "warning threshold (-w)", "80", "85"),
            "cannot tell which argument",
        ),
        (
            row("nagios-c0001-01", "hv-c0001-01", "Disk /var", "warning threshold (-w)", "~:8000", "~:9000"),
            "the configuration has '20%'",
        ),
        (row("nagios-c0001-01", "hv-c0001-01", "Nope", "max_check_attempts", "3", "4"), "has no service 'Nope'"),
        (row("nagios-c0009-01", "hv-c0009-01", "Load", "max_check_attempts", "3", "4"), "0 directories"),
        (row("nagios-c0001-01", "hv-c0001-01", "Load", "what to do", "3", "4"), "not a configuration directive"),
        (
            row("nagios-c0001-01", "hv-c0001-01", "Load", "low_flap_threshold / high_flap_threshold", "", "on, 40/30"),
            "low < high",
        ),
        (row("nagios-c0001-01", "hv-c0001-01", "SSH", "critical threshold (-c)", "", "5"), "does not pass"),
    ],
)
def test_refusals_say_why_and_change_nothing(bad, reason):
    result = plan_patch(REPO_DIR, [bad, TEMPLATE_CASE[0]])
    assert [r.row for r in result.refusals] == [0]
    assert reason in result.refusals[0].reason
    assert "refused (row 0)" in result.summary()
    # The good row still gets its change (its host taken out of its definition's host list).
    assert [(d.host, d.scope) for d in result.decisions] == [("hv-c0001-01", "override")]


def test_already_effective_value_makes_no_patch():
    result = plan_patch(REPO_DIR, [row("nagios-c0001-01", "hv-c0001-01", "Load", "max_check_attempts", "4", "4")])
    assert result.diff == "" and result.decisions[0].scope == "unchanged"
    assert "already has every suggested value" in result.summary()


def test_contradicting_suggestions_are_an_error():
    rows = [
        row("nagios-c0001-01", "hv-c0001-01", "Load", "max_check_attempts", "4", "5"),
        row("nagios-c0001-01", "hv-c0001-01", "Load", "max_check_attempts", "4", "6"),
    ]
    with pytest.raises(PatchError, match="both"):
        plan_patch(REPO_DIR, rows)


def test_reader_follows_nagios_inheritance_rules():
    tree = ConfigTree.read(REPO_DIR)
    view = ObjectView(tree, ["common/cell", "environments/test/c0001"])
    postgres = view.services[("db-c0001-01", "Postgres connections")]
    # use database-service,quick-retry-service: database-service's whole chain wins.
    assert postgres.value("retry_interval") == "2" and postgres.value("max_check_attempts") == "4"
    assert postgres.values["max_check_attempts"].source.get("name") == "cell-service"
    disk = view.services[("hv-c0001-01", "Disk /var")]
    assert disk.value("contact_groups") == "cell-admins,storage-admins"  # `+storage-admins`
    assert view.services[("hv-c0001-01", "libvirtd")].via_hostgroup
    assert view.hosts["hv-c0001-01"] == {"hypervisors"}


@pytest.mark.parametrize("group_first", [True, False])
def test_host_name_definition_beats_hostgroup_definition_whatever_the_order(tmp_path, group_first):
    # Nagios' own rule is subtler (test_confrepo_resolver_oracle.py): the group definition keeps
    # its first host (the latest-defined member, h2) as if named; h1 is one of its copies.
    (tmp_path / "a").mkdir()
    by_group = "define service {\n hostgroup_name g\n service_description S\n max_check_attempts 2\n}\n"
    by_name = "define service {\n host_name h1\n service_description S\n max_check_attempts 7\n}\n"
    (tmp_path / "a" / "1.cfg").write_text(
        "define host {\n host_name h1\n hostgroups g\n}\ndefine host {\n host_name h2\n hostgroups g\n}\n"
        "define hostgroup {\n hostgroup_name g\n}\n" + (by_group + by_name if group_first else by_name + by_group)
    )
    view = ObjectView(ConfigTree.read(tmp_path), ["a"])
    assert view.services[("h1", "S")].value("max_check_attempts") == "7"
    assert view.services[("h2", "S")].value("max_check_attempts") == "2"


def test_comments_and_escaped_semicolons():
    (definition,) = parse_lines(
        "x.cfg", ["# c\n", "define service { ; c\n", "  name  a ; comment\n", "  notes  x\\;y ; c\n", "}\n"]
    )
    assert definition.get("name") == "a" and definition.get("notes") == "x\\;y"


@pytest.mark.parametrize(
    "text, message",
    [
        ("define service {\n name a\n", "never closed"),
        ("define service {\n name a }\n", "own line"),
        ("service {\n}\n", "expected 'define"),
        ("define service {\n use missing\n service_description x\n host_name h\n}\n", "template 'missing'"),
    ],
)
def test_unreadable_configuration_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "environments" / "t" / "c0001").mkdir(parents=True)
    (tmp_path / "common" / "cell").mkdir(parents=True)
    (tmp_path / "environments" / "t" / "c0001" / "x.cfg").write_text(text)
    with pytest.raises(ConfigError, match=message):
        plan_patch(tmp_path, [row("nagios-c0001-01", "h", "x", "max_check_attempts", "1", "2")])


def test_crlf_file_keeps_its_line_ends_and_git_applies(tmp_path):
    repo = tmp_path / "repo"
    apply_patch(REPO_DIR, "", repo)
    services = repo / "environments/test/c0001/services.cfg"
    services.write_bytes(services.read_bytes().replace(b"\n", b"\r\n"))
    result = plan_patch(repo, [OVERRIDE_CASE[0]])
    assert "+    max_check_attempts      6\r\n" in result.diff
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "apply", "--check", "-"], input=result.diff.encode(), cwd=repo, check=True)


def test_wanted_changes_reads_the_table_defensively():
    assert (
        wanted_changes(
            {
                "node": "n",
                "host": "h",
                "service": "s",
                "directive": "max_check_attempts",
                "suggested": 5,
                "extra": object(),
            }
        )[0].value
        == "5"
    )
    with pytest.raises(Refused, match="lacks"):
        wanted_changes({"host": "h", "service": "s", "directive": "max_check_attempts", "suggested": float("nan")})
    flap = wanted_changes(
        {
            "host": "h",
            "service": "s",
            "directive": "flap_detection_enabled, low/high_flap_threshold",
            "suggested": "on, 5/20",
        }
    )
    assert [(w.directive, w.value) for w in flap] == [
        ("flap_detection_enabled", "1"),
        ("low_flap_threshold", "5"),
        ("high_flap_threshold", "20"),
    ]


def test_cli_needs_both_options_and_reports_a_bad_repository(tmp_path):
    runner = CliRunner()
    logs = str(ROOT / "data/samples/nagios-c0001-01")
    done = runner.invoke(cli, ["retune", logs, "--config-repo", str(REPO_DIR)])
    assert done.exit_code == 2 and "go together" in done.output
    done = runner.invoke(
        cli, ["retune", logs, "--config-repo", str(tmp_path / "none"), "--patch", str(tmp_path / "p.diff")]
    )
    assert done.exit_code == 1 and "Error: configuration repository" in done.output


def test_a_node_that_ran_with_another_value_than_the_repository_is_refused():
    result = plan_patch(REPO_DIR, [row("nagios-c0001-01", "hv-c0001-01", "Load", "max_check_attempts", "2", "6")])
    assert (
        result.diff == ""
        and "the node ran with max_check_attempts 2, the repository gives 4" in result.refusals[0].reason
    )


def test_flap_threshold_zero_is_shown_as_the_global_setting():
    result = plan_patch(REPO_DIR, [OVERRIDE_CASE[1]])
    low = next(d for d in result.decisions if d.directive == "low_flap_threshold")
    assert low.old == "0 (global)" and low.new == "20"


def test_appending_to_an_override_file_without_a_final_newline(tmp_path):
    repo = tmp_path / "repo"
    apply_patch(REPO_DIR, "", repo)
    existing = repo / "environments/prod/c0003/nagtune-overrides.cfg"
    existing.write_text("; kept by hand\ndefine command {\n    command_name    extra\n    command_line    /bin/true\n}")
    result = plan_patch(repo, [OVERRIDE_CASE[4]])
    assert "\\ No newline at end of file" in result.diff
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "apply", "-"], input=result.diff.encode(), cwd=repo, check=True)
    view = ObjectView(ConfigTree.read(repo), ["common/cell", "environments/prod/c0003"])
    assert view.services[("hv-c0003-01", "libvirtd")].value("_CRIT") == "2:"
    assert existing.read_text().startswith("; kept by hand\n")


def test_one_host_name_in_two_cells_is_two_services(tmp_path):
    """c0002 also has a host called db-c0001-01: the shared SSH definition serves both; a
    suggestion for every SSH but c0002's copy must not edit the shared definition."""
    repo = tmp_path / "repo"
    apply_patch(REPO_DIR, "", repo)
    with open(repo / "environments/test/c0002/hosts.cfg", "a") as hosts:
        hosts.write(
            "\ndefine host {\n    use             generic-host\n    host_name       db-c0001-01\n"
            "    address         127.0.0.1\n    hostgroups      databases\n}\n"
        )
    views = {
        n: ObjectView(ConfigTree.read(repo), d)
        for n, d in {
            "nagios-c0001-01": ["common/cell", "environments/test/c0001"],
            "nagios-c0002-01": ["common/cell", "environments/test/c0002"],
            "nagios-c0003-01": ["common/cell", "environments/prod/c0003"],
        }.items()
    }
    rows = [
        row(node, host, "SSH", "max_check_attempts", "4", "5")
        for node, view in views.items()
        for host, service in view.services
        if service == "SSH" and (node, host) != ("nagios-c0002-01", "db-c0001-01")
    ]
    result = plan_patch(repo, rows)
    assert "b/common/" not in result.diff
    assert {d.scope for d in result.decisions} == {"override"}
    after = ObjectView(
        ConfigTree.read(apply_patch(repo, result.diff, tmp_path / "after")), ["common/cell", "environments/test/c0002"]
    )
    assert after.services[("db-c0001-01", "SSH")].value("max_check_attempts") == "4"


def test_a_dataframe_table_and_a_bad_node_map(tmp_path):
    import pandas as pd

    assert plan_patch(REPO_DIR, pd.DataFrame(TEMPLATE_CASE)).diff == (GOLDEN / "template.diff").read_text()
    bad = tmp_path / "nodes.toml"
    bad.write_text('[nodes."nagios-c0001-01"]\ndirs = "common/cell"\n')
    done = CliRunner().invoke(
        cli,
        [
            "retune",
            str(ROOT / "data/config-repo-logs/nagios-c0001-01"),
            "--config-repo",
            str(REPO_DIR),
            "--patch",
            str(tmp_path / "p.diff"),
            "--node-map",
            str(bad),
        ],
    )
    assert done.exit_code == 1 and "Error: node map" in done.output and "needs dirs" in done.output
