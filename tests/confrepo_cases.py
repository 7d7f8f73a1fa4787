"""Suggestion tables for data/config-repo, written by hand (no Nagios run produced
logs for that repository yet): what a retune run would name for its services."""

REPO = "data/config-repo"


def row(node, host, service, directive, current, suggested):
    return dict(
        node=node,
        host=host,
        service=service,
        directive=directive,
        current=current,
        suggested=suggested,
        alerts_before=10,
        alerts_after=4,
        reason="hand-made",
    )


# Every service that takes max_check_attempts from hypervisor-disk-service (the /var
# disks of all three cells) should go from 2 to 3: one template line.
TEMPLATE_CASE = [
    row(f"nagios-{cell}-01", f"hv-{cell}-0{n}", "Disk /var", "max_check_attempts", "2", "3")
    for cell in ("c0001", "c0002", "c0003")
    for n in (1, 2)
]

# One cell's services only, each scope once, and a refusal.
OVERRIDE_CASE = [
    row("nagios-c0001-01", "hv-c0001-01", "Load", "max_check_attempts", "4", "6"),
    row("nagios-c0001-01", "hv-c0001-01", "libvirtd", "low_flap_threshold / high_flap_threshold", "0/0", "on, 20/35"),
    row("nagios-c0002-01", "hv-c0002-01", "Disk /var", "warning threshold (-w)", "20%", "15%"),
    row("nagios-c0001-01", "db-c0001-01", "Postgres connections", "warning threshold (-w)", "80", "85"),
    row("nagios-c0003-01", "hv-c0003-01", "libvirtd", "critical threshold (-c)", "1:", "2:"),
]

# The same retune table shape the analytics write: flap detection turned on where it is off.
GLOBAL_CASE = [
    row(
        "nagios-global01",
        "lb-c0001",
        "HTTPS",
        "flap_detection_enabled, low/high_flap_threshold",
        "on, 15/25",
        "on, 10/30",
    ),
    row(
        "nagios-global01",
        "lb-c0003",
        "HTTPS",
        "flap_detection_enabled, low/high_flap_threshold",
        "on, 15/25",
        "on, 10/30",
    ),
    row("nagios-c0001-01", "db-c0001-01", "SSH", "max_check_attempts", "4", "5"),
    row("nagios-c0001-01", "hv-c0001-01", "SSH", "max_check_attempts", "4", "5"),
    row("nagios-c0001-01", "hv-c0001-02", "SSH", "max_check_attempts", "4", "5"),
]

CASES = {"template": TEMPLATE_CASE, "override": OVERRIDE_CASE, "global": GLOBAL_CASE}
