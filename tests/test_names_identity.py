"""Table tests: node identity from hostnames, and names made Graphite-safe."""

import pytest

from nagtune.parsers.identity import IdentityError, identify
from nagtune.parsers.metrics import MetricKey, MetricNamer
from nagtune.parsers.names import NameRegistry, metric_component, metric_prefix


@pytest.mark.parametrize(
    "hostname, node_class, cell, environment_path",
    [
        ("nagios-c0001-01", "cell", "c0001", "test/c0001"),
        ("nagios-global01", "global", "nocell", "test"),
        ("nagios-mixed-c0003", "mixed", "c0003", "test/c0003"),
        ("NAGIOS-C0042.example.net", "cell", "c0042", "test/c0042"),
        ("monitor01", "unknown", "nocell", "test"),
        ("nagios-c00012", "unknown", "nocell", "test"),  # five digits is not a cell
    ],
)
def test_identity_from_hostname(hostname, node_class, cell, environment_path):
    identity = identify(hostname, environment="test")
    assert (identity.node_class, identity.cell, identity.environment_path) == (node_class, cell, environment_path)


def test_identity_overrides_and_custom_pattern():
    identity = identify("mon-dc7-a", "prod", cell_pattern=r"dc(\d+)", node_class="mixed")
    assert (identity.node_class, identity.cell) == ("mixed", "7")
    assert identify("nagios-c0001", cell="c9999").cell == "c9999"


def test_bad_cell_pattern_is_an_identity_error():
    with pytest.raises(IdentityError, match="not a regular expression"):
        identify("x", cell_pattern="(c")
    with pytest.raises(IdentityError, match="at most one group"):
        identify("x", cell_pattern="(a)(b)")


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("Disk Space /var", "disk_space_var"),
        ("web01.c0001", "web01_c0001"),
        ("naïve – ü", "naive_u"),
        ("HTTP;CRITICAL\nforged.metric 1 1", "http_critical_forged_metric_1_1"),
        ("load-avg_5min", "load-avg_5min"),
    ],
)
def test_metric_component(raw, safe):
    assert metric_component(raw) == safe


def test_empty_and_long_names_get_a_stable_hash():
    assert metric_component("///") == metric_component("///")
    assert metric_component("///").startswith("_")
    assert metric_component("///") != metric_component("...")
    long = metric_component("x" * 500)
    assert len(long) == 120 and long != metric_component("x" * 501)


def test_prefix_levels_are_each_made_safe():
    assert metric_prefix("nagios.prod") == "nagios.prod"
    assert metric_prefix("nagios\nforged 1 1.x") == "nagios_forged_1_1.x"
    assert metric_prefix("..a..b..") == "a.b"


def test_colliding_descriptions_are_reported_and_kept_apart():
    registry = NameRegistry()
    first = registry.safe("Disk Space /var")
    second = registry.safe("Disk Space: /var")
    assert first == "disk_space_var"
    assert second.startswith("disk_space_var_") and second != first
    assert registry.collisions == [("disk_space_var", "Disk Space /var", "Disk Space: /var")]
    again = NameRegistry.from_dict(registry.to_dict())
    assert again.safe("Disk Space: /var") == second and again.safe("Disk Space /var") == first


@pytest.mark.parametrize(
    "granularity, expected",
    [
        (
            "host_service",
            "nagios.test.cell.c0001.nagios-c0001-01.service_alerts.web01_c0001.disk_space_var.CRITICAL.HARD",
        ),
        ("service", "nagios.test.cell.c0001.nagios-c0001-01.service_alerts.disk_space_var.CRITICAL.HARD"),
        ("host", "nagios.test.cell.c0001.nagios-c0001-01.service_alerts.web01_c0001.CRITICAL.HARD"),
        ("node", "nagios.test.cell.c0001.nagios-c0001-01.service_alerts.CRITICAL.HARD"),
    ],
)
def test_granularity_levels(granularity, expected):
    namer = MetricNamer(identify("nagios-c0001-01", "test"), "nagios", granularity)
    key = MetricKey("service_alerts", "web01.c0001", "Disk Space /var", "CRITICAL", "HARD")
    assert namer.name(key) == expected


def test_tags_carry_where_and_what():
    namer = MetricNamer(identify("nagios-c0001-01", "test"), "nagios", tags=True)
    key = MetricKey("service_notifications", "web01.c0001", "HTTP", "CRITICAL", "ACKNOWLEDGEMENT")
    assert namer.name(key) == (
        "nagios.service_notifications;environment=test;class=cell;cell=c0001;"
        "node=nagios-c0001-01;host=web01_c0001;service=http;type=ACKNOWLEDGEMENT;state=CRITICAL"
    )


def test_unknown_granularity_is_refused():
    with pytest.raises(ValueError, match="granularity must be one of"):
        MetricNamer(identify("n"), granularity="galaxy")
