"""The patches checked by the real Nagios 4: `nagios4 -v` on every node of the
repository, and its resolved objects before and after (`nagios4 -v -p`)."""

from pathlib import Path

import pytest

from nagtune.analytics.confrepo import ConfigTree, ObjectView, plan_patch, read_node_map, served_views, wanted_changes

from .confrepo_cases import CASES, REPO
from .confrepo_nagios import apply_patch, main_config, resolved_services, same_value, verify

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
REPO_DIR = ROOT / REPO
VIEWS = served_views(REPO_DIR, read_node_map(REPO_DIR))


def test_every_node_of_the_repository_passes_nagios_and_resolves_as_nagios_does(tmp_path):
    tree = ConfigTree.read(REPO_DIR)
    assert len(VIEWS) == 4
    for node, dirs in VIEWS.items():
        config = main_config(REPO_DIR, dirs, tmp_path / node)
        verify(config)
        nagios = resolved_services(config)
        ours = ObjectView(tree, dirs).services
        assert set(nagios) == set(ours), node
        for key, instance in ours.items():
            for name, resolved in instance.values.items():
                if name in ("hostgroup_name", "service_description", "host_name"):
                    continue
                theirs = nagios[key].get(name.upper() if name.startswith("_") else name)
                if name.endswith(("groups", "contacts", "_options")):  # lists: Nagios writes its own order
                    assert set(theirs.split(",")) == set(resolved.value.split(",")), (node, key, name)
                elif theirs is not None:
                    assert same_value(theirs, resolved.value), (node, key, name, theirs, resolved.value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_patch_applies_passes_nagios_and_changes_exactly_the_suggested_values(case, tmp_path):
    rows = CASES[case]
    result = plan_patch(REPO_DIR, rows)
    patched = apply_patch(REPO_DIR, result.diff, tmp_path / "patched")
    suggested = {}
    for decision in result.decisions:
        if decision.scope != "unchanged":
            suggested.setdefault((decision.host, decision.service), {})[decision.directive] = decision.new
    assert suggested, "every case changes something"
    seen = set()
    for node, dirs in VIEWS.items():
        before = resolved_services(main_config(REPO_DIR, dirs, tmp_path / "before" / node))
        config = main_config(patched, dirs, tmp_path / "after" / node)
        verify(config)
        after = resolved_services(config)
        assert set(before) == set(after), node
        for key in before:
            changed = {
                name
                for name in set(before[key]) | set(after[key])
                if not same_value(before[key].get(name), after[key].get(name))
            }
            wanted = {
                name.upper() if name.startswith("_") else name: value for name, value in suggested.get(key, {}).items()
            }
            assert changed == set(wanted), (node, key, changed, wanted)
            for name, value in wanted.items():
                assert same_value(after[key][name], value), (node, key, name)
            if wanted:
                seen.add(key)
    assert seen == set(suggested)


def test_retune_on_real_nagios_logs_writes_a_patch_nagios_accepts(tmp_path):
    """Logs of real Nagios 4 runs of the example repository's three cell nodes
    (data/config-repo-logs/make_logs.py) -> retune -> patch -> nagios4 -v -p on every node."""
    import csv
    import io

    from click.testing import CliRunner

    from nagtune.cli import cli

    patch = tmp_path / "retune.diff"
    done = CliRunner().invoke(
        cli,
        [
            "retune",
            "--format",
            "csv",
            str(ROOT / "data/config-repo-logs"),
            "--config-repo",
            str(REPO_DIR),
            "--patch",
            str(patch),
        ],
    )
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert table, "the scripted run has chatty services"
    assert "Verified:" in done.stderr
    patched = apply_patch(REPO_DIR, patch.read_text(), tmp_path / "patched")
    # The three cells' /var disks recover alike: the shared template changes, once; each cell's
    # Load definition changes in its cell (the template it inherits from serves more services).
    decisions = plan_patch(REPO_DIR, table).decisions
    assert {d.scope for d in decisions if d.service == "Disk /var"} == {"template"}
    assert {d.scope for d in decisions if d.service == "Load"} == {"definition"}
    assert len([d for d in decisions if d.service == "Disk /var"]) == 6
    assert patch.read_text().count("+++ b/common/cell/templates.cfg") == 1
    wanted = {}
    for decision in decisions:
        if decision.scope != "unchanged":
            wanted.setdefault((decision.host, decision.service), {})[decision.directive] = decision.new
    for r in table:  # what each row asks for (through the one adapter) is what changes
        for change in wanted_changes(r):
            if change.directive:
                effective = (
                    ObjectView(ConfigTree.read(REPO_DIR), VIEWS[r["node"]])
                    .services[(r["host"], r["service"])]
                    .value(change.directive)
                )
                assert wanted[(r["host"], r["service"])].get(change.directive, effective) == change.value
    for node, dirs in VIEWS.items():
        before = resolved_services(main_config(REPO_DIR, dirs, tmp_path / "before" / node))
        config = main_config(patched, dirs, tmp_path / "after" / node)
        verify(config)
        after = resolved_services(config)
        for key in before:
            changed = {n for n in before[key] if not same_value(before[key][n], after[key].get(n))}
            expected = {n.upper() if n.startswith("_") else n: v for n, v in wanted.get(key, {}).items()}
            assert changed == set(expected), (node, key)
            for name, value in expected.items():
                assert same_value(after[key][name], value)


def test_duplicate_and_group_services_resolve_as_nagios_does(tmp_path):
    """Two host_name definitions of one service (the later wins) and a hostgroup one
    (loses to both), checked against nagios4 -v -p."""
    (tmp_path / "a").mkdir()
    service = (
        "define service {{\n    {target}\n    service_description S\n    check_command c\n"
        "    max_check_attempts {n}\n    use s\n}}\n"
    )
    (tmp_path / "a" / "x.cfg").write_text(
        (REPO_DIR / "common/cell/timeperiods.cfg").read_text()
        + "define command {\n    command_name c\n    command_line /bin/true\n}\n"
        "define contact {\n    contact_name x\n    host_notification_period 24x7\n"
        "    service_notification_period 24x7\n    host_notification_options d\n"
        "    service_notification_options c\n    host_notification_commands c\n"
        "    service_notification_commands c\n}\n"
        "define hostgroup {\n    hostgroup_name g\n}\n"
        + "".join(
            f"define host {{\n    host_name {h}\n    address 127.0.0.1\n    max_check_attempts 3\n"
            f"    check_period 24x7\n    contacts x\n    hostgroups g\n}}\n"
            for h in ("h1", "h2")
        )
        + "define service {\n    name s\n    check_interval 1\n    retry_interval 1\n    check_period 24x7\n"
        "    contacts x\n    register 0\n}\n"
        + service.format(target="hostgroup_name g", n=9)
        + service.format(target="host_name h1", n=7)
        + service.format(target="host_name h1", n=2)
        + service.format(target="hostgroup_name g", n=5)
    )
    config = main_config(tmp_path, ["a"], tmp_path / "run")
    verify(config)
    nagios = resolved_services(config)
    ours = ObjectView(ConfigTree.read(tmp_path), ["a"]).services
    assert {k: v["max_check_attempts"] for k, v in nagios.items()} == {
        k: v.value("max_check_attempts") for k, v in ours.items()
    }


def test_report_writes_the_same_patch_beside_the_report(tmp_path):
    from click.testing import CliRunner

    from nagtune.cli import cli

    logs = str(ROOT / "data/config-repo-logs")
    done = CliRunner().invoke(
        cli,
        [
            "report",
            logs,
            "--since",
            "2026-11-01",
            "--out",
            str(tmp_path / "out"),
            "--no-history",
            "--config-repo",
            str(REPO_DIR),
        ],
    )
    assert done.exit_code == 0, done.output
    patch = (tmp_path / "out" / "retune.patch").read_text()
    assert "Verified:" in (tmp_path / "out" / "retune-patch.txt").read_text()
    retuned = CliRunner().invoke(
        cli, ["retune", logs, "--config-repo", str(REPO_DIR), "--patch", str(tmp_path / "retune.diff")]
    )
    assert retuned.exit_code == 0, retuned.output
    assert patch and patch == (tmp_path / "retune.diff").read_text()
    patched = apply_patch(REPO_DIR, patch, tmp_path / "patched")
    for node, dirs in VIEWS.items():
        verify(main_config(patched, dirs, tmp_path / "run" / node))


def test_one_nodes_logs_leave_the_shared_template_alone(tmp_path):
    """Only nagios-c0001-01's logs: its disks were suggested, the other cells' were not, so
    the template in common/cell stays and the cell's own definition changes."""
    from click.testing import CliRunner

    from nagtune.cli import cli

    patch = tmp_path / "retune.diff"
    done = CliRunner().invoke(
        cli,
        [
            "retune",
            str(ROOT / "data/config-repo-logs/nagios-c0001-01"),
            "--config-repo",
            str(REPO_DIR),
            "--patch",
            str(patch),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "b/common/" not in patch.read_text() and "b/environments/test/c0001/services.cfg" in patch.read_text()
    patched = apply_patch(REPO_DIR, patch.read_text(), tmp_path / "patched")
    for node, dirs in VIEWS.items():
        before = resolved_services(main_config(REPO_DIR, dirs, tmp_path / "before" / node))
        config = main_config(patched, dirs, tmp_path / "after" / node)
        verify(config)
        after = resolved_services(config)
        changed = {key for key in before if before[key] != after[key]}
        if node != "nagios-c0001-01":
            assert not changed, node
        else:
            assert ("hv-c0001-01", "Disk /var") in changed
