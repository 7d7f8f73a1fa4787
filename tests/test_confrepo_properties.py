"""Property: whatever the suggestions, a patch changes the suggested values and
nothing else, on every node the repository serves (the diff applied by git)."""

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nagtune.analytics.confrepo import ConfigTree, ObjectView, plan_patch, read_node_map, served_views

from .confrepo_cases import REPO, row
from .confrepo_nagios import apply_patch

ROOT = Path(__file__).resolve().parent.parent
REPO_DIR = ROOT / REPO
VIEWS = served_views(REPO_DIR, read_node_map(REPO_DIR))
TREE = ConfigTree.read(REPO_DIR)
BEFORE = {node: ObjectView(TREE, dirs) for node, dirs in VIEWS.items()}
SERVICES = sorted((node, host, service) for node, view in BEFORE.items() for host, service in view.services)
DIRECTIVES = ["max_check_attempts", "retry_interval", "check_interval", "notification_interval", "flap", "warning"]
# Where a warning level lives, by check command (data/config-repo/common/cell/commands.cfg).
WARNING_AT = {"check_disk": 1, "check_load": 1, "check_procs_vars": "_WARN"}


@st.composite
def suggestions(draw):
    picked = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=12, unique=True))
    # Often the same directive and value for all: templates become candidates.
    same = draw(st.booleans())
    directive, value = draw(st.sampled_from(DIRECTIVES)), draw(st.integers(1, 9))
    rows = []
    for node, host, service in picked:
        if not same:
            directive, value = draw(st.sampled_from(DIRECTIVES)), draw(st.integers(1, 9))
        instance = BEFORE[node].services[(host, service)]
        if directive == "warning" and instance.value("check_command").split("!")[0] in WARNING_AT:
            rows.append(row(node, host, service, "warning threshold (-w)", "", f"{value * 10}%"))
        elif directive == "flap":
            rows.append(
                row(
                    node,
                    host,
                    service,
                    "low_flap_threshold / high_flap_threshold",
                    "",
                    f"on, {value * 5}/{value * 5 + 10}",
                )
            )
        else:
            rows.append(
                row(node, host, service, "max_check_attempts" if directive == "warning" else directive, "", str(value))
            )
    return rows


def _expected(rows):
    wanted = {}
    for r in rows:
        key = (r["host"], r["service"])
        if r["directive"] == "warning threshold (-w)":
            node_services = BEFORE[r["node"]].services
            command = node_services[key].value("check_command")
            where = WARNING_AT[command.split("!")[0]]
            if where == "_WARN":
                wanted[key] = {"_WARN": r["suggested"]}
            else:
                parts = command.split("!")
                parts[where] = r["suggested"]
                wanted[key] = {"check_command": "!".join(parts)}
        elif r["directive"] == "low_flap_threshold / high_flap_threshold":
            low, high = r["suggested"].split(", ")[1].split("/")
            wanted[key] = {"flap_detection_enabled": "1", "low_flap_threshold": low, "high_flap_threshold": high}
        else:
            wanted[key] = {r["directive"]: r["suggested"]}
    return wanted


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=suggestions())
def test_patch_changes_only_the_suggested_services(rows, tmp_path_factory):
    result = plan_patch(REPO_DIR, rows)
    assert not result.refusals
    patched = apply_patch(REPO_DIR, result.diff, tmp_path_factory.mktemp("p") / "repo")
    after_tree = ConfigTree.read(patched)
    wanted = _expected(rows)
    for node, dirs in VIEWS.items():
        before, after = BEFORE[node], ObjectView(after_tree, dirs)
        assert set(before.services) == set(after.services)
        for key, old in before.services.items():
            expected = {n: r.value for n, r in old.values.items() if n not in ("host_name", "hostgroup_name")}
            expected.update(wanted.get(key, {}))
            got = {
                n: r.value for n, r in after.services[key].values.items() if n not in ("host_name", "hostgroup_name")
            }
            assert got == expected, (node, key)
    # Only lines that held a suggested directive (or a host list a host left) are removed.
    touched = {d for w in wanted.values() for d in w} | {"host_name"}
    for line in result.diff.splitlines():
        if line.startswith("-") and not line.startswith("---"):
            assert re.match(r"-\s*(\S+)", line).group(1) in touched, line
