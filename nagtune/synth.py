"""Seeded synthetic Nagios event logs for benchmarks and scale tests.

Real sample logs come from a real Nagios 4 (``data/samples``); these are for
volume. Each service follows one behaviour (steady, transient, noisy,
flapping, stuck) and the generator writes what Nagios would: SOFT/HARD
alerts with attempts, notifications per contact, flapping alerts, a state
snapshot after every rotation, and some of Nagios' own chatter.

    python -m nagtune.synth --lines 1000000 --out /tmp/synthetic.log
    python -m nagtune.synth --nodes 20 --days 7 --lines 10000000 --out /tmp/fleet --gzip-archives
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import time
from dataclasses import dataclass

BEHAVIOURS = ("steady", "steady", "steady", "transient", "noisy", "flapping", "stuck")
SERVICES = (
    "PING",
    "SSH",
    "HTTP",
    "HTTPS",
    "Disk Space /var",
    "Disk Space /",
    "Load",
    "Swap Usage",
    "NTP Offset",
    "Memory",
    "Zombie Processes",
    "RabbitMQ Queues",
    "MySQL Replication",
    "Nova Compute",
    "Neutron Agent",
    "Cinder Volume",
)
OUTPUTS = {
    "OK": "OK - load=0.42",
    "WARNING": "WARNING - load=7.20",
    "CRITICAL": "CRITICAL - load=12.80",
    "UNKNOWN": "UNKNOWN - plugin timed out",
}
START = 1_763_942_400  # 2025-11-24 00:00:00 UTC: a Monday


@dataclass
class _Service:
    host: str
    name: str
    behaviour: str
    max_attempts: int
    notifies: bool


def _node_services(rng: random.Random, node: str, hosts: int) -> list[_Service]:
    cell = node.rsplit("-", 2)[-2] if node.count("-") >= 2 else "global"
    services = []
    for index in range(hosts):
        host = f"host{index:03d}.{cell}"
        for name in rng.sample(SERVICES, k=rng.randint(4, 8)):
            behaviour = rng.choice(BEHAVIOURS)
            services.append(_Service(host, name, behaviour, rng.choice((3, 3, 4, 5)), notifies=behaviour != "stuck"))
    return services


def _problem_lines(rng: random.Random, svc: _Service, start: int, step: int) -> list[tuple[int, str]]:
    """Lines of one problem episode of a service, starting at ``start``."""
    prefix = f"{svc.host};{svc.name}"
    state = "CRITICAL" if svc.behaviour in ("stuck", "flapping") or rng.random() < 0.5 else "WARNING"
    if svc.behaviour == "noisy":
        state = "WARNING"
    t = start
    lines = []
    soft_attempts = 1 if svc.behaviour == "transient" else svc.max_attempts - 1
    for attempt in range(1, soft_attempts + 1):
        lines.append((t, f"SERVICE ALERT: {prefix};{state};SOFT;{attempt};{OUTPUTS[state]}"))
        t += step
    if svc.behaviour == "transient":
        lines.append((t, f"SERVICE ALERT: {prefix};OK;SOFT;{soft_attempts + 1};{OUTPUTS['OK']}"))
        return lines
    lines.append((t, f"SERVICE ALERT: {prefix};{state};HARD;{svc.max_attempts};{OUTPUTS[state]}"))
    if svc.notifies:
        for contact in ("oncall", "team-mail"):
            lines.append(
                (t, f"SERVICE NOTIFICATION: {contact};{prefix};{state};notify-service-by-email;{OUTPUTS[state]}")
            )
    duration = {"noisy": 5, "flapping": 2, "stuck": 600}.get(svc.behaviour, 30) * step
    if svc.behaviour == "flapping" and rng.random() < 0.3:
        lines.append(
            (
                t + step,
                f"SERVICE FLAPPING ALERT: {prefix};STARTED; Service appears to have started flapping (24.3% change >= 20.0% threshold)",
            )
        )
        lines.append(
            (
                t + 2 * step,
                f"SERVICE FLAPPING ALERT: {prefix};STOPPED; Service appears to have stopped flapping (3.1% change < 5.0% threshold)",
            )
        )
    if rng.random() < 0.05:
        lines.append((t + step, f"EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;{svc.host};{svc.name};2;1;1;alice;looking"))
    t += duration
    lines.append((t, f"SERVICE ALERT: {prefix};OK;HARD;{svc.max_attempts};{OUTPUTS['OK']}"))
    if svc.notifies:
        for contact in ("oncall", "team-mail"):
            lines.append((t, f"SERVICE NOTIFICATION: {contact};{prefix};OK;notify-service-by-email;{OUTPUTS['OK']}"))
    return lines


def generate_node(
    path: str,
    node: str,
    lines: int,
    seed: int = 1,
    days: float = 7.0,
    hosts: int = 20,
    archives: bool = False,
    gzip_archives: bool = False,
) -> int:
    """Write about ``lines`` lines of one node's log; returns the count written.

    With ``archives`` the log is cut into hourly files the way Nagios rotates
    (``archives/nagios-MM-DD-YYYY-HH.log``, the last hour in ``nagios.log``);
    ``path`` is then a directory. Otherwise ``path`` is one file.
    """
    rng = random.Random(f"{seed}:{node}")
    services = _node_services(rng, node, hosts)
    span = int(days * 86400)
    chatty = [s for s in services if s.behaviour != "steady"]
    pending: list[tuple[int, str]] = []
    # Episodes are drawn until the line budget is spent, then sorted in time.
    approx = 0
    while approx < lines and chatty:
        svc = rng.choice(chatty)
        start = START + rng.randrange(span)
        # Nights and weekends get fewer problems, as on a real fleet.
        hour = (start // 3600) % 24
        if (hour < 7 or hour > 20) and rng.random() < 0.4:
            continue
        episode = _problem_lines(rng, svc, start, 60)
        pending.extend(episode)
        approx += len(episode)
    hours = sorted({t - t % 3600 for t, _ in pending} | {START, START + span - span % 3600})
    for hour_start in hours:
        if rng.random() < 0.5:
            pending.append((hour_start + 1, "Auto-save of retention data completed successfully."))
    pending.sort(key=lambda item: item[0])
    if not archives:
        del pending[lines:]
    written = 0
    out = None
    current_hour = None

    def open_hour(hour_start: int, last: bool):
        nonlocal written
        if not archives:
            return open(path, "w", encoding="utf-8") if out is None else out
        os.makedirs(os.path.join(path, "archives"), exist_ok=True)
        rotated = time.gmtime(hour_start + 3600)
        name = os.path.join(path, "archives", time.strftime("nagios-%m-%d-%Y-%H.log", rotated))
        if last:
            name = os.path.join(path, "nagios.log")
        handle = (
            gzip.open(name + ".gz", "wt", encoding="utf-8")
            if gzip_archives and not last
            else open(name, "w", encoding="utf-8")
        )
        handle.write(f"[{hour_start}] LOG ROTATION: HOURLY\n[{hour_start}] LOG VERSION: 2.0\n")
        for svc in services:
            handle.write(f"[{hour_start}] CURRENT SERVICE STATE: {svc.host};{svc.name};OK;HARD;1;{OUTPUTS['OK']}\n")
        written += 2 + len(services)
        return handle

    last_hour = pending[-1][0] - pending[-1][0] % 3600 if pending else START
    for t, text in pending:
        hour_start = t - t % 3600
        if out is None or (archives and hour_start != current_hour):
            if out is not None:
                out.close()
            out = open_hour(hour_start, hour_start == last_hour)
            current_hour = hour_start
        out.write(f"[{t}] {text}\n")
        written += 1
    if out is not None:
        out.close()
    return written


def generate_fleet(
    out_dir: str, nodes: int, lines: int, seed: int = 1, days: float = 7.0, gzip_archives: bool = True
) -> list[str]:
    """One directory per node (``nagios-c0001-01`` ...), ``lines`` lines in all."""
    paths = []
    for index in range(nodes):
        node = "nagios-global01" if index == 0 else f"nagios-c{index:04d}-01"
        path = os.path.join(out_dir, node)
        generate_node(
            path, node, max(1, lines // nodes), seed=seed, days=days, archives=True, gzip_archives=gzip_archives
        )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", required=True, help="a file (one node) or, with --nodes, a directory")
    parser.add_argument("--nodes", type=int, default=0, help="write a fleet: one directory per node")
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip-archives", action="store_true")
    args = parser.parse_args(argv)
    if args.nodes:
        generate_fleet(args.out, args.nodes, args.lines, args.seed, args.days, args.gzip_archives)
    else:
        generate_node(args.out, "nagios-c0001-01", args.lines, args.seed, args.days)


if __name__ == "__main__":
    main()
