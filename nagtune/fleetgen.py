"""Seeded Nagios nodes shaped like a real fleet's: for benchmarks and scale tests.

A cell node watches its cell's control plane and thousands of hypervisors,
tens of services each; a global node watches fewer hosts with more services
each; a mixed node sits between. :mod:`nagtune.synth` keeps the old small
shape (20 hosts, a few services each); this module writes what such nodes
log:

- **noise is Zipf-skewed**: a few host/service pairs produce most alerts
  (weight ``1 / rank ** zipf``), most pairs alert rarely or never;
- **problems**: SOFT attempts one ``retry_interval`` apart, HARD at
  ``max_check_attempts``, a notification to every contact of the object
  (2-4), re-notification every ``notification_interval`` while the problem
  lasts, recovery and its notifications; some problems are acknowledged
  (the external command and the ACKNOWLEDGEMENT notification); some are
  transient (one SOFT attempt, then OK);
- **host outages**: the host goes DOWN SOFT then HARD within
  ``max_check_attempts x retry_interval``, the host notifications go out,
  and every service of the host goes CRITICAL (SOFT, then HARD) without
  notifications (Nagios suppresses them while the host is down), then all
  recover;
- **flapping**: state changes every few minutes, ``FLAPPING ALERT
  STARTED`` / ``STOPPED`` and the FLAPPINGSTART / FLAPPINGSTOP
  notifications;
- Nagios' own lines: retention auto-saves, ``wproc:`` reports, external
  commands;
- **rotation**: daily (``archives/nagios-MM-DD-YYYY-00.log``, named for
  the hour of rotation, the newest day in ``nagios.log``), each file
  opening with ``LOG ROTATION``, ``LOG VERSION`` and a ``CURRENT HOST
  STATE`` / ``CURRENT SERVICE STATE`` snapshot true to that instant;
  archives older than ``gzip_after_days`` gzipped; or ``hourly_split``: the
  same lines cut at each hour (no snapshots, so the content equals the
  one-file log's); or one file;
- ``objects.cache`` (every host and service with the settings used above),
  ``nagios.cfg`` (paths, rotation method, flap thresholds) and
  ``service-perfdata.log`` (one line per service alert, pnp4nagios'
  ``KEY::value`` template, the value the output prints).

One problem of a pair never overlaps another of the same pair or an outage
of its host, so every alert sequence is one Nagios could write.

    python -m nagtune.fleetgen --node-class cell --hosts 2000 --lines 1000000 --days 1 --out /tmp/cell
    python -m nagtune.fleetgen --node-class cell --lines 1000000 --days 1 --hourly-split --out /tmp/cell-h
    python -m nagtune.fleetgen --fleet 20 --lines 10000000 --days 7 --out /tmp/fleet

Each run prints the shape written: hosts, pairs, pairs that alert,
distinct alert heads (the line up to the plugin output), lines and the mix
of line types.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import itertools
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

START = 1_795_132_800  # 2026-11-20 00:00:00 UTC

# Services every hypervisor has, then a pool each host draws the rest from.
HYPERVISOR_BASE = (
    "PING",
    "SSH",
    "Load",
    "Memory",
    "Swap Usage",
    "NTP Offset",
    "Zombie Processes",
    "Disk Space /",
    "Disk Space /var",
    "Disk Space /var/lib/nova",
    "Nova Compute",
    "Neutron OVS Agent",
    "libvirtd",
    "Open vSwitch",
    "Kernel OOM",
    "RAID Status",
)
HYPERVISOR_POOL = tuple(
    [f"NIC eth{i} errors" for i in range(4)]
    + [f"NIC bond{i} members" for i in range(2)]
    + [f"Disk Space /srv/instances{i}" for i in range(6)]
    + [f"IPMI {sensor}" for sensor in ("Fan 1", "Fan 2", "PSU 1", "PSU 2", "CPU Temp", "Inlet Temp")]
    + [
        "Ceph OSD",
        "Multipath",
        "Conntrack Table",
        "DNS Resolver",
        "Puppet Agent",
        "Collectd",
        "SMART /dev/sda",
        "SMART /dev/sdb",
        "Hugepages",
        "KSM",
        "Nova Instances Running",
        "Libvirt Domains",
        "Cinder Volume Mounts",
        "Neutron L3 Agent",
        "Metadata Agent",
    ]
)
CONTROL_SERVICES = tuple(
    ["PING", "SSH", "Load", "Memory", "Disk Space /", "Disk Space /var", "NTP Offset"]
    + [
        f"HTTP {api} API"
        for api in (
            "Nova",
            "Neutron",
            "Glance",
            "Cinder",
            "Keystone",
            "Placement",
            "Heat",
            "Swift",
            "Barbican",
            "Octavia",
        )
    ]
    + [f"RabbitMQ Queue {q}" for q in ("nova", "neutron", "cinder", "notifications", "heat")]
    + [
        "RabbitMQ Cluster",
        "MySQL Replication",
        "MySQL Connections",
        "Galera Cluster Size",
        "HAProxy Backends",
        "Memcached",
        "Keepalived VIP",
        "Nova Scheduler",
        "Nova Conductor",
        "Neutron Server",
        "Etcd Health",
        "Certificate Expiry",
        "Backup Age",
    ]
    + [f"Disk Space /srv/node/sd{c}" for c in "bcdefghijklmnopqrstuvwxyz"]
    + [f"Swift Replication {r}" for r in ("object", "container", "account")]
    + [f"Region Endpoint {r}" for r in ("eu-west", "eu-central", "us-east", "us-west", "ap-south")]
)
CONTACTS = ("oncall-primary", "oncall-secondary", "cell-team", "noc-mail", "hw-vendor", "net-team")

# Output text per service family and state: the value varies, as real plugins'.
_TEMPLATES = {
    "disk": ("DISK {S} - free space: {n} {v} MB ({p}% inode={q}%)", "free", "MB"),
    "load": ("{S} - load average: {a:.2f}, {b:.2f}, {c:.2f}", "load1", ""),
    "ping": ("PING {S} - Packet loss = {p}%, RTA = {a:.2f} ms", "rta", "ms"),
    "http": ("HTTP {S}: HTTP/1.1 {code} - {v} bytes in {a:.3f} second response time", "time", "s"),
    "queue": ("{S} - {v} messages in queue {n}", "messages", ""),
    "generic": ("{S} - {n}: value {v}", "value", ""),
}
_CODES = {"OK": "200 OK", "WARNING": "302 Found", "CRITICAL": "503 Service Unavailable", "UNKNOWN": "000"}


def _family(service: str) -> str:
    if service.startswith(("Disk Space", "SMART")):
        return "disk"
    if service in ("Load", "Memory", "Swap Usage"):
        return "load"
    if service == "PING":
        return "ping"
    if service.startswith("HTTP"):
        return "http"
    if "Queue" in service:
        return "queue"
    return "generic"


@dataclass
class _Pair:
    host: int
    service: str
    max_attempts: int
    notification_interval: int  # minutes, 0: notify once
    flappy: bool
    busy: list = field(default_factory=list)  # sorted (start, end, state) of its problems
    history: list = field(default_factory=list)  # (time, state, SOFT/HARD, attempt) of its alerts


@dataclass
class NodeShape:
    """What one generated node holds; printed by the command line."""

    node: str
    node_class: str
    hosts: int
    pairs: int
    pairs_alerting: int = 0
    distinct_heads: int = 0
    lines: int = 0
    files: int = 0
    mix: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        mix = ", ".join(f"{kind} {count / max(self.lines, 1):.1%}" for kind, count in self.mix.most_common())
        return (
            f"{self.node} ({self.node_class}): {self.hosts:,} hosts, {self.pairs:,} host/service pairs, "
            f"{self.pairs_alerting:,} alerting, {self.distinct_heads:,} distinct alert heads, "
            f"{self.lines:,} lines in {self.files} file(s); mix: {mix}"
        )


NODE_CLASSES = {
    # hosts, services per host (min, max), control-plane share of hosts
    "cell": (2000, (20, 40), 0.02),
    "global": (300, (60, 100), 1.0),
    "mixed": (1000, (30, 60), 0.2),
}


def _build_objects(rng: random.Random, node: str, node_class: str, hosts: int):
    cell = node.split("-")[1] if node.count("-") >= 2 else "global"
    _, (low, high), control_share = NODE_CLASSES[node_class]
    names, host_attempts, host_contacts, pairs = [], [], [], []
    control = max(1, int(hosts * control_share))
    for index in range(hosts):
        is_control = index < control
        names.append(f"{'ctl' if is_control else 'cmp'}{index:04d}.{cell}")
        host_attempts.append(rng.choice((3, 3, 3, 5, 10)))
        host_contacts.append(rng.sample(CONTACTS, rng.randint(2, 4)))
        if is_control:
            count = min(len(CONTROL_SERVICES), rng.randint(max(low, 40), max(high, 60)))
            services = CONTROL_SERVICES[:7] + tuple(rng.sample(CONTROL_SERVICES[7:], count - 7))
        else:
            count = min(rng.randint(low, high), len(HYPERVISOR_BASE) + len(HYPERVISOR_POOL))
            base = HYPERVISOR_BASE[: min(count, len(HYPERVISOR_BASE))]
            services = base + tuple(rng.sample(HYPERVISOR_POOL, max(0, count - len(base))))
        for service in services:
            pairs.append(
                _Pair(
                    index,
                    service,
                    rng.choice((3, 3, 3, 4, 5)),
                    rng.choice((60, 60, 120, 0)),
                    flappy=rng.random() < 0.01,
                )
            )
    return names, host_attempts, host_contacts, pairs


def _free(busy: list, start: int, end: int) -> bool:
    """No interval of ``busy`` (sorted by start) overlaps [start, end]."""
    at = bisect.bisect_left(busy, (start,))
    if at < len(busy) and busy[at][0] <= end:
        return False
    return not (at > 0 and busy[at - 1][1] >= start)


class _Writer:
    """Collects (time, order, text) lines and the service alerts' perfdata."""

    def __init__(self, names, end):
        self.names = names
        self.end = end
        self.inside = 0  # lines before ``end``
        self.lines: list = []
        self.perf: list = []
        self.order = itertools.count()

    def add(self, t: int, text: str) -> None:
        self.lines.append((t, next(self.order), text))
        self.inside += t < self.end

    def alert(self, t, pair: _Pair, state, kind, attempt, rng, host_down=False):
        host = self.names[pair.host]
        output = _output(pair.service, state, rng, host_down)
        self.add(t, f"SERVICE ALERT: {host};{pair.service};{state};{kind};{attempt};{output}")
        pair.history.append((t, state, kind, attempt))
        value = output.rsplit(" ", 1)[-1]
        self.perf.append((t, host, pair.service, state, kind, attempt, output, value))
        return output


def _output(service: str, state: str, rng: random.Random, host_down: bool = False) -> str:
    if host_down:
        return f"CRITICAL - Socket timeout after 10 seconds ({rng.randrange(1, 255)} retries)"
    if state == "UNKNOWN":
        return f"UNKNOWN - plugin timed out after {rng.choice((10, 30, 60))} seconds"
    template, _, _ = _TEMPLATES[_family(service)]
    return template.format(
        S=state,
        n=service.split()[-1],
        v=rng.randrange(1, 100000),
        p=rng.randrange(0, 100),
        q=rng.randrange(0, 100),
        a=rng.random() * 20,
        b=rng.random() * 20,
        c=rng.random() * 20,
        code=_CODES[state],
    )


def _notify(writer, t, contacts, host, service, state, output, command="notify-service-by-email"):
    for contact in contacts:
        if service is None:
            writer.add(t, f"HOST NOTIFICATION: {contact};{host};{state};notify-host-by-email;{output}")
        else:
            writer.add(t, f"SERVICE NOTIFICATION: {contact};{host};{service};{state};{command};{output}")


def _problem(writer, rng, pair, contacts, start, step=60):
    """One problem of a pair; False when it would overlap one already drawn."""
    transient = rng.random() < 0.35
    minutes = int(rng.paretovariate(1.2) * 8)  # long-tailed: most short, some last for days
    if pair.flappy:
        minutes = rng.randint(20, 90)
    end = start + step * (pair.max_attempts + (1 if transient else minutes))
    if not _free(pair.busy, start, end):
        return False
    host = writer.names[pair.host]
    state = rng.choices(("WARNING", "CRITICAL", "UNKNOWN"), (0.5, 0.42, 0.08))[0]
    bisect.insort(pair.busy, (start, end, state))
    t = start
    last = pair.max_attempts if not transient else 1
    for attempt in range(1, last):
        writer.alert(t, pair, state, "SOFT", attempt, rng)
        t += step
    if transient:
        writer.alert(t, pair, state, "SOFT", 1, rng)
        writer.alert(t + step, pair, "OK", "SOFT", 2, rng)
        return True
    output = writer.alert(t, pair, state, "HARD", pair.max_attempts, rng)
    _notify(writer, t, contacts, host, pair.service, state, output)
    if pair.flappy:
        flip, now = state, t
        writer.add(
            t + 2 * step,
            f"SERVICE FLAPPING ALERT: {host};{pair.service};STARTED; Service appears to have "
            f"started flapping ({rng.uniform(20, 40):.1f}% change >= 20.0% threshold)",
        )
        _notify(writer, t + 2 * step, contacts, host, pair.service, f"FLAPPINGSTART ({state})", output)
        now += 3 * step
        while now < end - 5 * step:
            flip = "OK" if flip != "OK" else state
            writer.alert(now, pair, flip, "HARD", 1 if flip == "OK" else pair.max_attempts, rng)
            now += step * rng.randint(2, 6)
        writer.add(
            end - step,
            f"SERVICE FLAPPING ALERT: {host};{pair.service};STOPPED; Service appears to have "
            f"stopped flapping ({rng.uniform(1, 4.9):.1f}% change < 5.0% threshold)",
        )
        _notify(writer, end - step, contacts, host, pair.service, f"FLAPPINGSTOP ({flip})", output)
    else:
        acknowledged = rng.random() < 0.08 and end - t > 10 * step
        if acknowledged:
            at = t + step * rng.randint(2, 10)
            writer.add(
                at,
                f"EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;{host};{pair.service};2;1;1;"
                f"{rng.choice(CONTACTS)};looking into it",
            )
            _notify(writer, at, contacts, host, pair.service, f"ACKNOWLEDGEMENT ({state})", output)
        elif pair.notification_interval:
            again = t + pair.notification_interval * 60
            while again < end:
                _notify(writer, again, contacts, host, pair.service, state, output)
                again += pair.notification_interval * 60
    output = writer.alert(end, pair, "OK", "HARD", pair.max_attempts, rng)
    _notify(writer, end, contacts, host, pair.service, "OK", output)
    return True


def _outage(writer, rng, host_index, pairs_of_host, attempts, contacts, start, step=60):
    """A host DOWN with its services CRITICAL; False when it would overlap a problem drawn."""
    minutes = rng.randint(5, 120)
    end = start + step * (attempts + minutes)
    for pair in pairs_of_host:
        if not _free(pair.busy, start, end):
            return False
    host = writer.names[host_index]
    t = start
    for attempt in range(1, attempts):
        writer.add(t, f"HOST ALERT: {host};DOWN;SOFT;{attempt};CRITICAL - Host Unreachable ({host})")
        t += step
    writer.add(t, f"HOST ALERT: {host};DOWN;HARD;{attempts};CRITICAL - Host Unreachable ({host})")
    _notify(writer, t, contacts, host, None, "DOWN", f"CRITICAL - Host Unreachable ({host})")
    for pair in pairs_of_host:
        bisect.insort(pair.busy, (start, end, "CRITICAL"))
        at = start + rng.randrange(0, step * 5)
        for attempt in range(1, pair.max_attempts):
            writer.alert(min(at, end - step), pair, "CRITICAL", "SOFT", attempt, rng, host_down=True)
            at += step
        writer.alert(min(at, end - step), pair, "CRITICAL", "HARD", pair.max_attempts, rng, host_down=True)
        writer.alert(end + rng.randrange(0, step * 5), pair, "OK", "HARD", pair.max_attempts, rng)
    writer.add(end, f"HOST ALERT: {host};UP;HARD;1;PING OK - Packet loss = 0%, RTA = 0.41 ms")
    _notify(writer, end, contacts, host, None, "UP", "PING OK - Packet loss = 0%, RTA = 0.41 ms")
    return True


def generate_node(
    path: str,
    node: str = "nagios-c0001-01",
    node_class: str = "cell",
    hosts: int | None = None,
    lines: int = 1_000_000,
    days: float = 1.0,
    seed: int = 1,
    zipf: float = 1.1,
    hourly_split: bool = False,
    one_file: bool = False,
    gzip_after_days: int = 2,
) -> NodeShape:
    """Write one node directory at ``path``; returns its shape.

    :param node_class: ``cell``, ``global`` or ``mixed`` (hosts and services per host)
    :param lines: about this many event lines (state snapshots come on top)
    :param hourly_split: cut the lines at every hour into ``archives/`` (no snapshots)
    :param one_file: everything in ``nagios.log`` (one snapshot at the start)
    """
    rng = random.Random(f"{seed}:{node}:{node_class}")
    default_hosts = NODE_CLASSES[node_class][0]
    names, host_attempts, host_contacts, pairs = _build_objects(rng, node, node_class, hosts or default_hosts)
    by_host: dict[int, list[_Pair]] = {}
    for pair in pairs:
        by_host.setdefault(pair.host, []).append(pair)
    span = int(days * 86400)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** zipf for rank in range(len(pairs))))
    writer = _Writer(names, START + span)
    outage_share = 0.15  # of the lines budget
    while writer.inside < lines:
        start = START + rng.randrange(span)
        # Fewer problems at night, as on a real fleet.
        if (start // 3600) % 24 < 6 and rng.random() < 0.4:
            continue
        if rng.random() < outage_share / 25:
            host = rng.randrange(len(names))
            _outage(writer, rng, host, by_host[host], host_attempts[host], host_contacts[host], start)
            continue
        pair = pairs[order[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]]
        _problem(writer, rng, pair, host_contacts[pair.host], start)
    for hour in range(START, START + span, 3600):
        writer.add(hour + rng.randrange(60, 600), "Auto-save of retention data completed successfully.")
        if rng.random() < 0.3:
            t = hour + rng.randrange(3600)
            writer.add(t, f"wproc: host={names[rng.randrange(len(names))]}; service=Puppet Agent;")
            writer.add(t, "wproc:   early_timeout=1; exited_ok=0; wait_status=0; error_code=62;")
    writer.lines = sorted(line for line in writer.lines if line[0] < writer.end)[:lines]
    shape = NodeShape(node, node_class, len(names), len(pairs))
    _write_files(
        path,
        writer,
        names,
        pairs,
        host_attempts,
        host_contacts,
        shape,
        hourly_split=hourly_split,
        one_file=one_file,
        gzip_after_days=gzip_after_days,
        rng=rng,
    )
    return shape


def _state_at(pair: _Pair, t: int) -> tuple[str, str, int]:
    """(state, SOFT/HARD, attempt) of a pair just before ``t``: what its last alert said."""
    at = bisect.bisect_left(pair.history, (t,)) - 1
    if at < 0 or pair.history[at][1] == "OK":
        return "OK", "HARD", 1
    return pair.history[at][1:]


def _write_files(
    path, writer, names, pairs, host_attempts, host_contacts, shape, *, hourly_split, one_file, gzip_after_days, rng
):
    os.makedirs(os.path.join(path, "archives"), exist_ok=True)
    events = writer.lines
    for pair in pairs:
        pair.history.sort()
    last_t = events[-1][0] if events else START
    period = 3600 if hourly_split else 86400
    heads: set = set()
    mix = shape.mix
    for _, _, text in events:
        kind, _, rest = text.partition(": ")
        if kind in ("SERVICE ALERT", "HOST ALERT"):
            heads.add(text[: text.rfind(";")])
            mix[kind] += 1
        elif kind in ("SERVICE NOTIFICATION", "HOST NOTIFICATION", "SERVICE FLAPPING ALERT", "EXTERNAL COMMAND"):
            mix[kind] += 1
        else:
            mix["other"] += 1
    shape.distinct_heads = len(heads)
    shape.pairs_alerting = sum(1 for pair in pairs if pair.busy)

    def header(stamp: int, snapshot: bool) -> list[str]:
        out = [f"[{stamp}] LOG ROTATION: {'HOURLY' if hourly_split else 'DAILY'}", f"[{stamp}] LOG VERSION: 2.0"]
        if snapshot:
            out += [
                f"[{stamp}] CURRENT HOST STATE: {name};UP;HARD;1;PING OK - Packet loss = 0%, RTA = 0.40 ms"
                for name in names
            ]
            for p in pairs:
                state, kind, attempt = _state_at(p, stamp)
                out.append(
                    f"[{stamp}] CURRENT SERVICE STATE: {names[p.host]};{p.service};{state};{kind};{attempt};"
                    f"{_output(p.service, state, rng)}"
                )
        mix["rotation/snapshot"] += len(out)
        return out

    files = []
    if one_file:
        files.append(("nagios.log", START, events))
    else:
        at = 0
        for begin in range(START, last_t + 1, period):
            stop = bisect.bisect_left(events, (begin + period,), lo=at)
            chunk = events[at:stop]
            at = stop
            if begin + period > last_t:
                files.append(("nagios.log", begin, chunk))
            else:
                name = time.strftime("nagios-%m-%d-%Y-%H.log", time.gmtime(begin + period))
                old = (last_t - (begin + period)) >= gzip_after_days * 86400
                files.append((os.path.join("archives", name + (".gz" if old else "")), begin, chunk))
    for name, begin, chunk in files:
        body = header(begin, snapshot=not hourly_split)
        body += [f"[{t}] {text}" for t, _, text in chunk]
        data = ("\n".join(body) + "\n").encode("utf-8")
        target = os.path.join(path, name)
        if name.endswith(".gz"):
            with gzip.open(target, "wb", compresslevel=1) as handle:
                handle.write(data)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
        shape.lines += len(body)
    shape.files = len(files)
    _write_perfdata(os.path.join(path, "service-perfdata.log"), writer.perf, last_t)
    _write_objects(os.path.join(path, "objects.cache"), names, pairs, host_attempts, host_contacts)
    _write_cfg(os.path.join(path, "nagios.cfg"), hourly_split)


def _write_perfdata(target, perf, last_t):
    label_of = {family: (label, unit) for family, (_, label, unit) in _TEMPLATES.items()}
    with open(target, "w", encoding="utf-8") as handle:
        for t, host, service, state, kind, attempt, output, value in sorted(perf):
            if t > last_t:
                continue
            label, unit = label_of[_family(service)]
            number = "".join(ch for ch in value if ch.isdigit() or ch == ".") or "0"
            handle.write(
                f"DATATYPE::SERVICEPERFDATA\tTIMET::{t}\tHOSTNAME::{host}\tSERVICEDESC::{service}\t"
                f"SERVICESTATE::{state}\tSERVICESTATETYPE::{kind}\tSERVICEATTEMPT::{attempt}\t"
                f"SERVICEOUTPUT::{output}\tSERVICEPERFDATA::{label}={number.strip('.') or 0}{unit};;;0;\n"
            )


def _write_objects(target, names, pairs, host_attempts, host_contacts):
    out = ["# NAGIOS OBJECT CACHE FILE (generated by nagtune.fleetgen)", ""]
    for index, name in enumerate(names):
        out.append(
            f"define host {{\n\thost_name\t{name}\n\talias\t{name}\n\taddress\t10.{index // 65536}."
            f"{index // 256 % 256}.{index % 256}\n\tcheck_command\tcheck-host-alive\n"
            f"\tcontacts\t{','.join(host_contacts[index])}\n\tcheck_interval\t5.000000\n"
            f"\tretry_interval\t1.000000\n\tmax_check_attempts\t{host_attempts[index]}\n"
            f"\tactive_checks_enabled\t1\n\tnotifications_enabled\t1\n\tnotification_interval\t60.000000\n"
            f"\tflap_detection_enabled\t1\n\tlow_flap_threshold\t0.000000\n\thigh_flap_threshold\t0.000000\n"
            "\t}\n"
        )
    for pair in pairs:
        name = names[pair.host]
        command = f"check_{_family(pair.service)}!{pair.service.split()[-1]}"
        out.append(
            f"define service {{\n\thost_name\t{name}\n\tservice_description\t{pair.service}\n"
            f"\tcheck_command\t{command}\n\tcontacts\t{','.join(host_contacts[pair.host])}\n"
            f"\tcheck_interval\t5.000000\n\tretry_interval\t1.000000\n"
            f"\tmax_check_attempts\t{pair.max_attempts}\n\tactive_checks_enabled\t1\n"
            f"\tnotifications_enabled\t1\n\tnotification_interval\t{pair.notification_interval}.000000\n"
            f"\tflap_detection_enabled\t1\n\tlow_flap_threshold\t0.000000\n\thigh_flap_threshold\t0.000000\n"
            "\t}\n"
        )
    with open(target, "w", encoding="utf-8") as handle:
        handle.write("\n".join(out))


def _write_cfg(target, hourly):
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(
            "# nagios.cfg (the settings the generated log follows)\n"
            "log_file=nagios.log\n"
            "log_archive_path=archives\n"
            f"log_rotation_method={'h' if hourly else 'd'}\n"
            "object_cache_file=objects.cache\n"
            "process_performance_data=1\n"
            "service_perfdata_file=service-perfdata.log\n"
            "service_perfdata_file_template=DATATYPE::SERVICEPERFDATA\\tTIMET::$TIMET$\\tHOSTNAME::$HOSTNAME$"
            "\\tSERVICEDESC::$SERVICEDESC$\\tSERVICESTATE::$SERVICESTATE$\\tSERVICESTATETYPE::$SERVICESTATETYPE$"
            "\\tSERVICEATTEMPT::$SERVICEATTEMPT$\\tSERVICEOUTPUT::$SERVICEOUTPUT$\\tSERVICEPERFDATA::$SERVICEPERFDATA$\n"
            "enable_flap_detection=1\n"
            "low_service_flap_threshold=5.0\nhigh_service_flap_threshold=20.0\n"
            "low_host_flap_threshold=5.0\nhigh_host_flap_threshold=20.0\n"
            "use_retained_program_state=1\nretain_state_information=1\n"
        )


def generate_fleet(
    out_dir: str, nodes: int, lines: int, seed: int = 1, days: float = 7.0, hosts: int | None = None
) -> list[NodeShape]:
    """``nodes`` node directories, ``lines`` lines in all: one global node, one mixed, the rest cells."""
    shapes = []
    for index in range(nodes):
        node_class = "global" if index == 0 else "mixed" if index == 1 else "cell"
        node = "nagios-global01" if index == 0 else f"nagios-c{index:04d}-01"
        shapes.append(
            generate_node(
                os.path.join(out_dir, node),
                node,
                node_class,
                hosts=hosts if node_class == "cell" else None,
                lines=max(1, lines // nodes),
                days=days,
                seed=seed,
            )
        )
    return shapes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the node directory (or, with --fleet, the fleet's)")
    parser.add_argument("--node-class", choices=sorted(NODE_CLASSES), default="cell")
    parser.add_argument("--node", default="nagios-c0001-01", help="node name (its cell is the second part)")
    parser.add_argument("--hosts", type=int, default=None, help="default: 2,000 cell, 300 global, 1,000 mixed")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--zipf", type=float, default=1.1, help="skew of the noise over pairs")
    parser.add_argument("--hourly-split", action="store_true", help="cut into hourly archives, no snapshots")
    parser.add_argument("--one-file", action="store_true", help="everything in nagios.log")
    parser.add_argument("--gzip-after-days", type=int, default=2)
    parser.add_argument("--fleet", type=int, default=0, help="write this many nodes under --out")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.fleet:
        shapes = generate_fleet(args.out, args.fleet, args.lines, args.seed, args.days, args.hosts)
    else:
        shapes = [
            generate_node(
                args.out,
                args.node,
                args.node_class,
                args.hosts,
                args.lines,
                args.days,
                args.seed,
                args.zipf,
                args.hourly_split,
                args.one_file,
                args.gzip_after_days,
            )
        ]
    for shape in shapes:
        print(shape.describe())
    print(f"written in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
