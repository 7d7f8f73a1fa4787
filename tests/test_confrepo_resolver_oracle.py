"""Property: for drawn template trees (multiple `use`, `+` additive lists, host_name
and hostgroup_name services), nagtune's resolver gives the values Nagios 4 itself
resolves (`nagios4 -v -p`)."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.analytics.confrepo import ConfigTree, ObjectView

from .confrepo_nagios import main_config, resolved_services, verify

pytestmark = pytest.mark.slow
NUMERIC = ["max_check_attempts", "check_interval", "retry_interval", "notification_interval"]
GROUPS = ["g1", "g2", "g3"]

BASE = (
    """define timeperiod {
    timeperiod_name 24x7
    alias           Always
    monday          00:00-24:00
}
define command {
    command_name    c
    command_line    /bin/true
}
define contact {
    contact_name                    x
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       d
    service_notification_options    c
    host_notification_commands      c
    service_notification_commands   c
}
"""
    + "".join(f"define contactgroup {{\n    contactgroup_name {g}\n    members x\n}}\n" for g in GROUPS)
    + """
define hostgroup {
    hostgroup_name  hg
}
define hostgroup {
    hostgroup_name  hg2
    members         MEMBERS
}
define host {
    host_name       h1
    address         127.0.0.1
    max_check_attempts 3
    check_period    24x7
    contacts        x
    hostgroups      hg
}
define host {
    host_name       h2
    address         127.0.0.1
    max_check_attempts 3
    check_period    24x7
    contacts        x
    hostgroups      hg
}
define service {
    name                    t0
    check_period            24x7
    notification_period     24x7
    contacts                x
    max_check_attempts      3
    check_interval          5
    retry_interval          1
    notification_interval   60
    contact_groups          g1
    register                0
}
"""
)


@st.composite
def configurations(draw):
    directives = st.dictionaries(st.sampled_from(NUMERIC + ["contact_groups"]), st.integers(1, 9), max_size=3)
    templates = []
    for index in range(1, draw(st.integers(1, 5)) + 1):
        parents = draw(st.lists(st.integers(0, index - 1), min_size=1, max_size=3, unique=True))
        templates.append((f"t{index}", [f"t{p}" for p in parents], draw(directives), draw(st.booleans())))
    services = []
    for index in range(draw(st.integers(1, 5))):
        uses = draw(st.lists(st.integers(0, len(templates)), min_size=1, max_size=3, unique=True))
        target = draw(
            st.sampled_from(
                [
                    "host_name h1",
                    "host_name h2",
                    "host_name h1,h2",
                    "host_name h2,h1",
                    "hostgroup_name hg",
                    "hostgroup_name hg2",
                ]
            )
        )
        services.append(
            (f"S{draw(st.integers(0, 2))}", [f"t{u}" for u in uses], target, draw(directives), draw(st.booleans()))
        )
    return templates, services, draw(st.sampled_from(["h1,h2", "h2,h1", "h1", "h2"]))


def _lines(values: dict, additive: bool) -> str:
    out = []
    for name, number in values.items():
        if name == "contact_groups":
            group = GROUPS[number % len(GROUPS)]
            out.append(f"    contact_groups  {'+' if additive else ''}{group}\n")
        else:
            out.append(f"    {name}  {number}\n")
    return "".join(out)


@settings(max_examples=25, deadline=None)
@given(configurations())
def test_resolver_agrees_with_nagios(configuration):
    templates, services, members = configuration
    text = BASE.replace("MEMBERS", members)
    for name, parents, values, additive in templates:
        text += (
            f"define service {{\n    name  {name}\n    use  {','.join(parents)}\n"
            f"{_lines(values, additive)}    register  0\n}}\n"
        )
    for description, uses, target, values, additive in services:
        text += (
            f"define service {{\n    use  {','.join(uses)}\n    {target}\n    service_description  {description}\n"
            f"    check_command  c\n{_lines(values, additive)}}}\n"
        )
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        (root / "conf").mkdir()
        (root / "conf" / "objects.cfg").write_text(text)
        config = main_config(root, ["conf"], root / "run")
        verify(config)
        nagios = resolved_services(config)
        ours = ObjectView(ConfigTree.read(root), ["conf"]).services
    assert set(nagios) == set(ours)
    for key, instance in ours.items():
        for name in NUMERIC:
            assert float(nagios[key][name]) == float(instance.value(name)), (key, name)
        assert set(nagios[key]["contact_groups"].split(",")) == set(instance.value("contact_groups").split(","))
