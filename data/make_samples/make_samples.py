#!/usr/bin/env python3
"""Regenerate nagtune's real sample logs with real Nagios 4 instances.

Every sample node is a real ``nagios4`` (Debian ``nagios4-core`` 4.4.6) with
a private config in a temp dir, run under ``faketime`` with a sped-up clock
(x60 by default: one real second is one Nagios minute), so a few real minutes
give hours of history that cross midnight and several hourly log rotations.
The monitored hosts are fake: every check runs ``scripted_check.sh``, which
replays a scripted sequence of results written here, so each service has a
KNOWN behaviour (see ``data/samples/SCENARIOS.md``, written by this script
from the same table).

    python3 data/make_samples/make_samples.py                 # all nodes -> data/samples
    python3 data/make_samples/make_samples.py --quick --out /tmp/s   # ~20 s, one node

Standard library only. Needs ``nagios4`` (apt: nagios4-core) and ``faketime``
(apt: faketime). Runs as root (Nagios' ``nagios_user`` is set to root).
See README.md beside this file.
"""

from __future__ import annotations

import argparse
import calendar
import dataclasses
import gzip
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "data" / "samples"

NAGIOS = "nagios4"
FAKETIME = "faketime"

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
UP, DOWN = 0, 2

# One step of a scripted sequence: (exit code, full plugin output incl. "| perfdata").
Step = tuple[int, str]


# --------------------------------------------------------------------------
# Scenario table
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Host:
    name: str
    address: str
    behaviour: str
    conclusion: str
    seq: list[Step]
    parents: str = ""
    follow: str = ""  # key of another object whose failure this host follows
    follow_output: str = ""
    attrs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Service:
    host: str
    desc: str
    scenario: str  # short tag, also written as _SCENARIO custom variable
    behaviour: str
    conclusion: str
    seq: list[Step]
    attrs: dict = dataclasses.field(default_factory=dict)
    follow: str = ""  # host key: while it is failing, print follow_output, exit 2
    follow_output: str = ""
    passive: bool = False
    group: str = ""  # services of one group share one row in SCENARIOS.md
    key: str = ""


@dataclasses.dataclass
class Action:
    """An external command written to the node's command file during the run.

    Fires on the first log line that contains ``match`` (if given) and whose
    timestamp is at least ``after`` fake seconds past the node's fake start.
    ``commands(ts)`` gets that line's timestamp and returns command lines
    (without the leading ``[ts] ``).
    """

    what: str
    commands: Callable[[int], list[str]]
    match: str = ""
    after: int = 0
    fired: bool = False


@dataclasses.dataclass
class Node:
    name: str
    node_class: str
    cell: str
    hosts: list[Host]
    services: list[Service]
    actions: list[Action]


def rng_for(*parts: str) -> random.Random:
    return random.Random("/".join(parts))


N = 400  # steps per sequence (wraps around); a 5-hour run uses ~300 at most


def ping_up(rng: random.Random, n: int = 60) -> list[Step]:
    out = []
    for _ in range(n):
        rta = rng.uniform(0.25, 0.9)
        out.append(
            (
                UP,
                f"PING OK - Packet loss = 0%, RTA = {rta:.2f} ms|rta={rta:.6f}ms;3000.000000;5000.000000;0.000000 pl=0%;80;100;0",
            )
        )
    return out


def ping_down_windows(rng: random.Random, windows: list[tuple[int, int]], n: int = 120) -> list[Step]:
    """Host checks: UP except DOWN for (first check, number of checks) windows."""
    out = ping_up(rng, n)
    for first, length in windows:
        for i in range(first, first + length):
            out[i] = (
                DOWN,
                "PING CRITICAL - Packet loss = 100%|rta=5000.000000ms;3000.000000;5000.000000;0.000000 pl=100%;80;100;0",
            )
    return out


def flapping(
    rng: random.Random, good: Callable[[], str], bad: Callable[[], str], bad_code: int = CRITICAL
) -> list[Step]:
    """Calm stretches (25-35 OK) then bursts that change state every 1-2 checks."""
    out: list[Step] = []
    while len(out) < N:
        out += [(OK, good()) for _ in range(rng.randint(25, 35))]
        for _ in range(rng.randint(6, 8)):
            out += [(bad_code, bad()) for _ in range(rng.randint(1, 2))]
            out += [(OK, good()) for _ in range(rng.randint(1, 2))]
    return out[:N]


def spikes(
    rng: random.Random,
    good: Callable[[], str],
    bad: Callable[[int], tuple[int, str]],
    every: tuple[int, int] = (8, 14),
    length: tuple[int, int] = (1, 2),
) -> list[Step]:
    """Mostly OK; every 8-14 checks one or two non-OK results, then OK again."""
    out: list[Step] = []
    while len(out) < N:
        out += [(OK, good()) for _ in range(rng.randint(*every))]
        out += [bad(i) for i in range(rng.randint(*length))]
    return out[:N]


def episodes(
    rng: random.Random, n: int = N, every: tuple[int, int] = (8, 13), length: tuple[int, int] = (2, 4)
) -> list[bool]:
    """True where a short bad episode is running."""
    flags: list[bool] = []
    while len(flags) < n:
        flags += [False] * rng.randint(*every)
        flags += [True] * rng.randint(*length)
    return flags[:n]


def state_of(value: float, warn: float, crit: float, low_is_bad: bool = False) -> int:
    if low_is_bad:
        return CRITICAL if value < crit else WARNING if value < warn else OK
    return CRITICAL if value > crit else WARNING if value > warn else OK


STATE_WORD = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


# ---- plugin outputs (formats of the monitoring-plugins in Debian bookworm) ----


def http_ok(rng: random.Random) -> Callable[[], str]:
    def f() -> str:
        t, size = rng.uniform(0.004, 0.03), rng.randint(5100, 5200)
        return f"HTTP OK: HTTP/1.1 200 OK - {size} bytes in {t:.3f} second response time |time={t:.6f}s;;;0.000000;10.000000 size={size}B;;;0"

    return f


def http_bad(rng: random.Random) -> Callable[[], str]:
    def f() -> str:
        if rng.random() < 0.5:
            return "CRITICAL - Socket timeout after 10 seconds"
        t = rng.uniform(0.002, 0.01)
        return f"HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 312 bytes in {t:.3f} second response time |time={t:.6f}s;;;0.000000;10.000000 size=312B;;;0"

    return f


def load_series(
    rng: random.Random,
    base: tuple[float, float],
    episode: tuple[float, float],
    warn: float = 5.0,
    crit: float = 10.0,
    every: tuple[int, int] = (8, 13),
    length: tuple[int, int] = (2, 4),
) -> list[Step]:
    """check_load: baseline drifting from base[0] to base[1], short high episodes."""
    bad = episodes(rng, every=every, length=length)
    out: list[Step] = []
    l5 = l15 = base[0]
    for i in range(N):
        b = base[0] + (base[1] - base[0]) * i / N
        v = b + rng.uniform(-0.4, 0.4)
        if bad[i]:
            v = rng.uniform(*episode) + (base[1] - base[0]) * i / N
        v = round(max(v, 0.01), 2)
        l5 = round(l5 + (v - l5) / 5, 2)
        l15 = round(l15 + (v - l15) / 15, 2)
        code = max(state_of(v, warn, crit), state_of(l5, warn, crit), state_of(l15, warn, crit))
        prefix = "OK" if code == OK else STATE_WORD[code]
        perf = " ".join(
            f"{lbl}={x:.3f};{warn:.3f};{crit:.3f};0;" for lbl, x in (("load1", v), ("load5", l5), ("load15", l15))
        )
        out.append((code, f"{prefix} - load average: {v:.2f}, {l5:.2f}, {l15:.2f}|{perf}"))
    return out


def disk_free_series(
    rng: random.Random, start: float, per_check: float, size: int = 10240, warn_free: int = 1024, crit_free: int = 768
) -> list[float]:
    vals, free = [], start
    for _ in range(N):
        vals.append(max(free + rng.uniform(-25, 25), 50))
        free -= per_check
    return vals


def check_disk(
    mount: str, free_mb: list[float], size: int = 10240, warn_free: int = 1024, crit_free: int = 768
) -> list[Step]:
    """check_disk -w 1024 -c 768 (MB free): perfdata is USED space, thresholds as used MB."""
    out = []
    for f in free_mb:
        free = int(f)
        code = state_of(free, warn_free, crit_free, low_is_bad=True)
        pct = free * 100 // size
        used = size - free
        out.append(
            (
                code,
                f"DISK {STATE_WORD[code]} - free space: {mount} {free} MB ({pct}% inode=97%);| {mount}={used}MB;{size - warn_free};{size - crit_free};0;{size}",
            )
        )
    return out


def custom_disk(
    mount: str, free_mb: list[float], size: int = 10240, warn_free: int = 1024, crit_free: int = 768
) -> list[Step]:
    """An in-house disk plugin: perfdata is FREE space, thresholds in 'N:' (alert below N) syntax."""
    out = []
    for f in free_mb:
        free = int(f)
        code = state_of(free, warn_free, crit_free, low_is_bad=True)
        out.append(
            (
                code,
                f"DISK {STATE_WORD[code]} - {mount} has {free} MB free ({free * 100 / size:.1f}%) | free={free}MB;{warn_free}:;{crit_free}:;0;{size}",
            )
        )
    return out


def steady(fn: Callable[[], str]) -> list[Step]:
    return [(OK, fn()) for _ in range(N)]


def silent_critical(
    rng: random.Random, good: Callable[[], str], bad: Callable[[int], str], ok_checks: int = 8
) -> list[Step]:
    return [(OK, good()) for _ in range(ok_checks)] + [(CRITICAL, bad(i)) for i in range(N - ok_checks)]


def hangs(rng: random.Random, good: Callable[[], str], every: int = 12, hard_at: int = 30) -> list[Step]:
    """OK, but every `every`-th check hangs (killed at the check timeout); around
    check `hard_at` three hangs in a row, enough for a HARD CRITICAL."""
    out: list[Step] = [(OK, good()) for _ in range(N)]
    for i in range(every - 1, N, every):
        out[i] = (HANG, "")
    for i in range(hard_at, hard_at + 3):
        out[i] = (HANG, "")
    return out


def fleet(node: str, cell: str, numbers: range) -> tuple[list[Host], list[Service]]:
    """A cell's web fleet: the same three services on every host, chattiness
    falling with the host number (so a ranking has a known order)."""
    hosts, svcs = [], []
    first, last = f"web{numbers[0]:02d}.{cell}", f"web{numbers[-1]:02d}.{cell}"
    group = f"{first} .. {last}"
    for j, num in enumerate(numbers):
        h = f"web{num:02d}.{cell}"
        r = lambda *p, h=h: rng_for(node, h, *p)  # noqa: E731
        hosts.append(
            Host(
                h,
                f"10.{int(cell[1:]) if cell[1:].isdigit() else 0}.2.{num}",
                "always UP",
                "no host alerts",
                ping_up(r()),
            )
        )
        rh = r("HTTP")
        svcs.append(
            Service(
                h,
                "HTTP",
                "fleet-http",
                "",
                "",
                spikes(
                    rh,
                    http_ok(rh),
                    lambda i, f=http_bad(rh): (CRITICAL, f()),
                    every=(5 + 3 * j, 9 + 6 * j),
                    length=(1, 3),
                ),
                {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 3, "flap_detection_enabled": 0},
                group=f"{group}|HTTP",
            )
        )
        svcs.append(
            Service(
                h,
                "Load",
                "fleet-load",
                "",
                "",
                load_series(r("Load"), (1.5, 2.5), (5.2, 7.5), every=(3 + 2 * j, 6 + 4 * j), length=(1, 3)),
                {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 2, "flap_detection_enabled": 0},
                group=f"{group}|Load",
            )
        )
        svcs.append(
            Service(
                h,
                "Disk Space /",
                "fleet-disk",
                "",
                "",
                check_disk("/", disk_free_series(r("disk"), 9000 - 300 * j, 1, size=20480), size=20480),
                {"check_interval": 10},
                group=f"{group}|Disk",
            )
        )
    n = len(numbers)
    svcs[0].behaviour = (
        f"{n} hosts; HTTP: OK with 1-3-check CRITICAL spikes (3 = HARD, max_check_attempts 3); the gap "
        f"between spikes grows with the host number: every 5-9 checks on {first} up to every "
        f"{5 + 3 * (n - 1)}-{9 + 6 * (n - 1)} on {last}"
    )
    svcs[0].conclusion = (
        f"a ranking with a known trend: {first} chattiest, {last} among the quietest (neighbours may swap: "
        f"the rate is drawn at random); mostly SOFT, some HARD with notifications"
    )
    svcs[1].behaviour = (
        f"check_load, warn 5 crit 10, max_check_attempts 2: 1-3-check episodes at 5.2-7.5 every 3-6 checks on {first} "
        f"up to every {3 + 2 * (n - 1)}-{6 + 4 * (n - 1)} on {last}"
    )
    svcs[1].conclusion = (
        f"noisy-WARNING ranking with a known trend ({first} first, {last} among the last; neighbours may swap); "
        f"1-check episodes stay SOFT; retune warn to ~8 from perfdata"
    )
    svcs[2].behaviour = "check_disk on / (20 GB), free space 9000 MB - 300 MB per host number, shrinking 1 MB/check"
    svcs[2].conclusion = "never alerts"
    return hosts, svcs


# ---- the three nodes ----


def node_c0001(start: int) -> Node:
    cell = "c0001"
    r = lambda *p: rng_for("nagios-c0001-01", *p)  # noqa: E731

    hosts = [
        Host(f"web01.{cell}", "10.1.1.11", "always UP", "no host alerts", ping_up(r("web01"))),
        Host(
            f"web02.{cell}",
            "10.1.1.12",
            "DOWN for host checks 10-15 and 40-42 (counted per host check, on-demand checks included)",
            "host DOWN episodes (HARD DOWN + host notifications, one host ACKNOWLEDGEMENT); its service alerts during them are consequences, not service problems",
            ping_down_windows(r("web02"), [(10, 6), (40, 3)]),
        ),
        Host(f"db01.{cell}", "10.1.1.21", "always UP", "no host alerts", ping_up(r("db01"))),
        Host(f"cache01.{cell}", "10.1.1.31", "always UP", "no host alerts", ping_up(r("cache01"))),
    ]

    rr = r("web01", "HTTP")
    free = disk_free_series(r("db01", "var"), 1450, 7)
    svcs = [
        Service(
            f"web01.{cell}",
            "HTTP",
            "flapping",
            "calm stretches of 25-35 OK checks, then bursts flipping OK/CRITICAL every 1-2 checks; flap detection on (thresholds 10/25 on the object); event handler",
            "flapping: several FLAPPING STARTED/STOPPED; retune = fix the cause or raise max_check_attempts, not thresholds; notifications suppressed while flapping",
            flapping(rr, http_ok(rr), http_bad(rr)),
            {
                "check_interval": 1,
                "retry_interval": 1,
                "max_check_attempts": 2,
                "low_flap_threshold": 10.0,
                "high_flap_threshold": 25.0,
                "event_handler": "restart-httpd",
            },
        ),
        Service(
            f"web01.{cell}",
            "Load",
            "noisy-warning",
            "check_load, load1 baseline 2.0->3.2 with 2-4-check episodes at 5.3-7.8 every 8-13 checks (warn 5, crit 10); max_check_attempts 2",
            "noisy WARNING that notifies: many short HARD WARNING episodes, each a notification and a recovery; retune: warn above the episode values (perfdata load1 ~8), or longer max_check_attempts",
            load_series(r("web01", "Load"), (2.0, 3.2), (5.3, 7.8)),
            {
                "check_interval": 1,
                "retry_interval": 1,
                "max_check_attempts": 2,
                "notification_interval": 30,
                "flap_detection_enabled": 0,
            },
        ),
        Service(
            f"web01.{cell}",
            "SSH",
            "steady-ok",
            "always OK",
            "never alerts: zero alerts, zero notifications (only CURRENT SERVICE STATE snapshots)",
            steady(
                lambda rs=r("web01", "SSH"): (
                    f"SSH OK - OpenSSH_9.2p1 Debian-2+deb12u3 (protocol 2.0) | time={rs.uniform(0.005, 0.02):.6f}s;;;0.000000;10.000000"
                )
            ),
            {"check_interval": 5},
        ),
        Service(
            f"web02.{cell}",
            "HTTP",
            "host-down-victim",
            "OK, but CRITICAL (socket timeout) whenever host web02 is failing",
            "alerts only while the host is DOWN: attribute them to the host, not to this service; no service notifications (host is down)",
            steady(http_ok(r("web02", "HTTP"))),
            {"check_interval": 2},
            follow=f"web02.{cell}",
            follow_output="CRITICAL - Socket timeout after 10 seconds",
        ),
        Service(
            f"web02.{cell}",
            "Load",
            "host-down-victim",
            "OK (NRPE check_load), CRITICAL via check_nrpe while host web02 is failing",
            "as web02 HTTP: consequence of the host DOWN",
            load_series(r("web02", "Load"), (0.3, 0.6), (0.8, 1.5)),
            {"check_interval": 2},
            follow=f"web02.{cell}",
            follow_output="CHECK_NRPE STATE CRITICAL: Socket timeout after 10 seconds.",
        ),
        Service(
            f"db01.{cell}",
            "Disk Space /var",
            "perfdata-drift",
            "check_disk -w 1024 -c 768 MB free: free space /var shrinking ~7 MB/check from 1450 MB; perfdata = USED MB with used thresholds (9216;9472 of 10240)",
            "value drifts down: WARNING then CRITICAL late in the run; ACKNOWLEDGED at its first HARD CRITICAL (sticky) so re-notifications stop; retune from perfdata, collides with 'Disk Space: /var'",
            check_disk("/var", free),
            {"check_interval": 2, "max_check_attempts": 3, "flap_detection_enabled": 0},
        ),
        Service(
            f"db01.{cell}",
            "Disk Space: /var",
            "name-collision",
            "the same /var numbers through an in-house plugin: perfdata = FREE MB with '1024:'/'768:' (alert below) ranges",
            "'Disk Space /var' and 'Disk Space: /var' collide once made machine-readable: must be reported, never merged; not acknowledged, so it re-notifies every 60 min",
            custom_disk("/var", free),
            {"check_interval": 2, "max_check_attempts": 3, "flap_detection_enabled": 0},
        ),
        Service(
            f"db01.{cell}",
            "MySQL Replication",
            "silent-critical",
            "8 OK checks, then CRITICAL for the rest of the run; notifications_enabled 0",
            "long silent HARD CRITICAL: 3 alerts then nothing, no notification ever: 'not chatty enough' (present in every CURRENT SERVICE STATE snapshot)",
            silent_critical(
                r("db01", "repl"),
                lambda: "OK - Slave_IO_Running: Yes, Slave_SQL_Running: Yes, Seconds_Behind_Master: 0",
                lambda i: "CRITICAL - Slave_IO_Running: Yes, Slave_SQL_Running: No, Last_SQL_Errno: 1062",
            ),
            {"check_interval": 5, "notifications_enabled": 0},
        ),
        Service(
            f"db01.{cell}",
            "MySQL Connections",
            "steady-sibling",
            "always OK (30-60 threads) on the host whose MySQL Replication and disks fail",
            "sibling that stays OK while others on the same host fail: per-service, not per-host, attribution",
            steady(
                lambda rs=r("db01", "conn"): (lambda t: f"OK - {t} threads connected | threads={t};150;180;0;200")(
                    rs.randint(30, 60)
                )
            ),
            {"check_interval": 5},
        ),
        Service(
            f"cache01.{cell}",
            "Memcached",
            "soft-spikes",
            "mostly OK; every 8-14 checks 1-2 WARNING/CRITICAL results, then OK; max_check_attempts 4",
            "transient SOFT spikes only: SOFT alerts and SOFT recoveries, never HARD, no notification; do not rank as chatty for paging",
            spikes(
                r("cache01", "mc"),
                lambda rs=r("cache01", "mc-ok"): (
                    f"MEMCACHED OK - {rs.uniform(0.3, 1.5):.1f} ms response, {rs.randint(700, 900)} curr_connections | time={rs.uniform(0.0003, 0.0015):.4f}s;0.05;0.1;0; conns={rs.randint(700, 900)};1000;1500;0;"
                ),
                lambda i, rs=r("cache01", "mc-bad"): (
                    (
                        WARNING,
                        f"MEMCACHED WARNING - {rs.uniform(55, 95):.1f} ms response, 1180 curr_connections | time={rs.uniform(0.055, 0.095):.4f}s;0.05;0.1;0; conns=1180;1000;1500;0;",
                    )
                    if i == 0
                    else (CRITICAL, "MEMCACHED CRITICAL - connect to 10.1.1.31:11211: Connection refused")
                ),
            ),
            {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 4},
        ),
        Service(
            f"cache01.{cell}",
            "Memory",
            "steady-sibling",
            "always OK",
            "never alerts, while Memcached on the same host spikes",
            steady(
                lambda rs=r("cache01", "mem"): (
                    lambda u: f"OK - {u * 100 / 8192:.1f}% ({u} MB) used | used={u}MB;6553;7372;0;8192"
                )(rs.randint(3000, 3300))
            ),
            {"check_interval": 5},
        ),
    ]
    actions = [
        Action(
            "acknowledge the /var disk at its first HARD CRITICAL (sticky, notify, persistent)",
            lambda ts: [
                f"ACKNOWLEDGE_SVC_PROBLEM;db01.{cell};Disk Space /var;2;1;1;jdoe;OPS-1234 cleaning /var/log, growing since the upgrade"
            ],
            match=f"SERVICE ALERT: db01.{cell};Disk Space /var;CRITICAL;HARD",
        ),
        Action(
            "acknowledge host web02 at its first HARD DOWN",
            lambda ts: [f"ACKNOWLEDGE_HOST_PROBLEM;web02.{cell};1;1;1;jdoe;Hypervisor maintenance, see OPS-1240"],
            match=f"HOST ALERT: web02.{cell};DOWN;HARD",
        ),
        Action(
            "custom notification on web01 Load, 90 min in",
            lambda ts: [
                f"SEND_CUSTOM_SVC_NOTIFICATION;web01.{cell};Load;1;jdoe;Load review: thresholds look too tight"
            ],
            after=90 * 60,
        ),
        Action(
            "45-minute fixed downtime on web01 HTTP (the flapping service), 140 min in (crosses midnight)",
            lambda ts: [
                f"SCHEDULE_SVC_DOWNTIME;web01.{cell};HTTP;{ts};{ts + 2700};1;0;2700;jdoe;Planned: load-balancer firmware upgrade CHG-2026-118"
            ],
            after=140 * 60,
        ),
    ]
    fh, fs = fleet("nagios-c0001-01", cell, range(3, 13))
    return Node("nagios-c0001-01", "cell", cell, hosts + fh, svcs + fs, actions)


def node_c0002(start: int) -> Node:
    cell = "c0002"
    r = lambda *p: rng_for("nagios-c0002-01", *p)  # noqa: E731

    hosts = [
        Host(f"{h}.{cell}", a, "always UP", "no host alerts", ping_up(r(h)))
        for h, a in (("web01", "10.2.1.11"), ("app01", "10.2.1.41"), ("db01", "10.2.1.21"), ("mq01", "10.2.1.51"))
    ]

    # app01 App Status: hostile output (non-ASCII, HTML, quotes, a ';', one byte that is not UTF-8)
    ra = r("app01", "App")
    bad = episodes(ra, every=(7, 11), length=(2, 3))
    app: list[Step] = []
    for i in range(N):
        d = ra.randint(12, 19) if bad[i] else ra.randint(1, 8)
        if bad[i] and i % 5 == 0:
            app.append(
                (
                    CRITICAL,
                    f"APP CRITICAL - caf\udce9 backend (latin-1 byte) down; queue depth={d} | 'queue depth'={d};10;20;0;",
                )
            )
        elif bad[i]:
            app.append(
                (
                    WARNING,
                    f"APP WARNING - na\u00efve \u2013 \u00fc <script>alert(1)</script> &amp; \"quoted\" 'single'; queue depth={d} | 'queue depth'={d};10;20;0;",
                )
            )
        else:
            app.append((OK, f"APP OK - na\u00efve \u2013 \u00fc queue depth={d} | 'queue depth'={d};10;20;0;"))

    # app01 Java Heap: value hovering around the warning threshold -> flapping
    rh = r("app01", "heap")
    heap: list[Step] = []
    for i in range(N):
        mean = 80 + 8 * i / N + (4 if (i // 40) % 2 else 0)
        v = round(min(mean + rh.gauss(0, 2.5), 99.0), 1)
        code = state_of(v, 85, 95)
        heap.append(
            (
                code,
                f"JVM HEAP {STATE_WORD[code]} - heap used {v}% ({int(v * 40.96)} of 4096 MB) | heap={v}%;85;95;0;100",
            )
        )

    rq = r("mq01", "queue")
    qbad = episodes(rq, every=(9, 14), length=(2, 3))
    queue: list[Step] = []
    for i in range(N):
        v = rq.randint(1300, 2600) + 4 * i if qbad[i] else rq.randint(100, 700) + 2 * i
        code = state_of(v, 1000, 5000)
        queue.append((code, f"QUEUE {STATE_WORD[code]} - depth={v} messages | depth={v};1000;5000;0;"))

    rp = r("db01", "pgconn")
    rl = r("db01", "lag")
    srv = disk_free_series(r("db01", "srv"), 6000, 3, size=20480)
    svcs = [
        Service(
            f"web01.{cell}",
            "HTTP",
            "steady-ok",
            "always OK",
            "never alerts",
            steady(http_ok(r("web01", "HTTP"))),
            {"check_interval": 2},
        ),
        Service(
            f"web01.{cell}",
            "Load",
            "steady-ok",
            "always OK, load 0.3-1.3",
            "never alerts; perfdata far below thresholds",
            load_series(r("web01", "Load"), (0.5, 0.8), (1.0, 1.3)),
            {"check_interval": 5},
        ),
        Service(
            f"app01.{cell}",
            "App Status",
            "hostile-output",
            "OK/WARNING episodes every 7-11 checks; output with UTF-8 (na\u00efve \u2013 \u00fc), HTML (<script>, &amp;), quotes and a ';'; every 5th bad check a CRITICAL with the Latin-1 byte 0xE9 (not UTF-8); perfdata label with a space ('queue depth')",
            "parser must keep every byte readable and never fail; the ';' in the text arrives as ':' in nagios.log; acknowledged (non-sticky) at its first HARD WARNING",
            app,
            {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 2, "flap_detection_enabled": 0},
        ),
        Service(
            f"app01.{cell}",
            "Java Heap",
            "flapping",
            "heap % hovering around warn 85 (mean 80->88, +4 in alternate 40-check blocks, sd 2.5); max_check_attempts 1",
            "flapping from a threshold set at the typical value: retune warn above the perfdata p95 (~92), then it stops flapping",
            heap,
            {"check_interval": 1, "retry_interval": 1, "max_check_attempts": 1, "notification_interval": 30},
        ),
        Service(
            f"db01.{cell}",
            "PostgreSQL Connections",
            "soft-spikes",
            "mostly 40-120 of 200; every 8-14 checks 1-2 checks at 165-195; max_check_attempts 3",
            "transient SOFT spikes only, never HARD, no notification",
            spikes(
                rp,
                lambda: (
                    lambda c: (
                        f"POSTGRES_CONNECTIONS OK - {c} of 200 connections ({c * 100 // 200}%) | connections={c};160;190;0;200"
                    )
                )(rp.randint(40, 120)),
                lambda i: (
                    lambda c: (
                        state_of(c, 160, 190),
                        f"POSTGRES_CONNECTIONS {STATE_WORD[state_of(c, 160, 190)]} - {c} of 200 connections ({c * 100 // 200}%) | connections={c};160;190;0;200",
                    )
                )(rp.randint(165, 195)),
            ),
            {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 3},
        ),
        Service(
            f"db01.{cell}",
            "Disk Space /srv",
            "perfdata-drift-ok",
            "check_disk on /srv (20 GB), free 6000 MB shrinking 3 MB/check; thresholds 1024/768 MB free",
            "never alerts; perfdata trend only (days until full), no retune",
            check_disk("/srv", srv, size=20480),
            {"check_interval": 5},
        ),
        Service(
            f"db01.{cell}",
            "Replication Lag",
            "silent-critical",
            "6 OK checks (lag 0-3 s), then CRITICAL with lag growing ~60 s per check; notifications_enabled 0",
            "long silent HARD CRITICAL with a growing value: not chatty enough (nobody is told)",
            silent_critical(
                rl,
                lambda: (lambda s: f"POSTGRES_HOT_STANDBY_DELAY OK - lag {s} s | lag={s}s;300;900;0;")(
                    rl.randint(0, 3)
                ),
                lambda i: (
                    f"POSTGRES_HOT_STANDBY_DELAY CRITICAL - lag {1200 + 60 * i} s | lag={1200 + 60 * i}s;300;900;0;"
                ),
                ok_checks=6,
            ),
            {"check_interval": 2, "notifications_enabled": 0},
        ),
        Service(
            f"mq01.{cell}",
            "Queue Depth",
            "noisy-warning",
            "depth 100-700 (+2/check) with 2-3-check episodes at 1300-2600 (+4/check) every 9-14 checks; warn 1000, crit 5000",
            "noisy WARNING that notifies; retune warn above the episode values from perfdata; a downtime was scheduled then CANCELLED while in effect",
            queue,
            {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 2, "flap_detection_enabled": 0},
        ),
        Service(
            f"mq01.{cell}",
            "Nightly Backup",
            "passive",
            "passive only (no active checks): results submitted with PROCESS_SERVICE_CHECK_RESULT, OK at 170 min, CRITICAL at 235 min (text with a ';'); max_check_attempts 1; notification_period backup-window",
            "PASSIVE SERVICE CHECK lines; one HARD CRITICAL with notification",
            [(OK, "passive only")],
            {
                "active_checks_enabled": 0,
                "max_check_attempts": 1,
                "notification_period": "backup-window",
                "check_command": "passive-only",
            },
            passive=True,
        ),
    ]
    actions = [
        Action(
            "acknowledge App Status at its first HARD WARNING (normal, notify; comment with HTML and a ';')",
            lambda ts: [
                f"ACKNOWLEDGE_SVC_PROBLEM;app01.{cell};App Status;1;1;0;asmith;Known issue <b>APP-77</b>; vendor fix next week"
            ],
            match=f"SERVICE ALERT: app01.{cell};App Status;WARNING;HARD",
        ),
        Action(
            "60-minute downtime on Queue Depth, 100 min in",
            lambda ts: [
                f"SCHEDULE_SVC_DOWNTIME;mq01.{cell};Queue Depth;{ts};{ts + 3600};1;0;3600;asmith;Broker rebalancing"
            ],
            after=100 * 60,
        ),
        Action("cancel that downtime (id 1) 20 min later", lambda ts: ["DEL_SVC_DOWNTIME;1"], after=120 * 60),
        Action(
            "passive OK for Nightly Backup, 170 min in",
            lambda ts: [f"PROCESS_SERVICE_CHECK_RESULT;mq01.{cell};Nightly Backup;0;BACKUP OK - 41.7 GB in 1h12m"],
            after=170 * 60,
        ),
        Action(
            "passive CRITICAL for Nightly Backup, 235 min in",
            lambda ts: [
                f"PROCESS_SERVICE_CHECK_RESULT;mq01.{cell};Nightly Backup;2;BACKUP CRITICAL - rsync exited 23; some files vanished, see /var/log/backup.log"
            ],
            after=235 * 60,
        ),
    ]
    fh, fs = fleet("nagios-c0002-01", cell, range(2, 12))
    return Node("nagios-c0002-01", "cell", cell, hosts + fh, svcs + fs, actions)


def node_global(start: int) -> Node:
    r = lambda *p: rng_for("nagios-global01", *p)  # noqa: E731
    hosts = [
        Host("lb01.global", "10.0.1.11", "always UP", "no host alerts", ping_up(r("lb01"))),
        Host(
            "dns01.global",
            "10.0.1.21",
            "always UP (in downtime 200-230 min)",
            "HOST DOWNTIME ALERT STARTED/STOPPED, no host alert",
            ping_up(r("dns01")),
        ),
        Host("ntp01.global", "10.0.1.31", "always UP", "no host alerts", ping_up(r("ntp01"))),
        Host(
            "sw01.global",
            "10.0.0.1",
            "core switch: DOWN for host checks 14-18",
            "HOST ALERT DOWN (HARD) + host notifications, acknowledged at the first HARD DOWN; the cause of ntp02's UNREACHABLE",
            ping_down_windows(r("sw01"), [(14, 5)]),
        ),
        Host(
            "ntp02.global",
            "10.0.2.32",
            "behind sw01.global (parents); fails while sw01 fails",
            "UNREACHABLE, not DOWN: Nagios blames the parent; do not count it as a problem of ntp02",
            ping_up(r("ntp02")),
            parents="sw01.global",
            follow="sw01.global",
            follow_output="CRITICAL - Network Unreachable (10.0.2.32)",
        ),
    ]
    rv = r("lb01", "vip1")
    rd = r("dns01", "dns")
    rn = r("ntp01", "ntp")
    nbad = episodes(rn, every=(8, 12), length=(2, 4))
    ntp: list[Step] = []
    for i in range(N):
        v = rn.uniform(0.52, 0.9) + 0.15 * i / N if nbad[i] else rn.uniform(0.05, 0.25) + 0.15 * i / N
        code = state_of(v, 0.5, 1.0)
        word = "OK" if code == OK else STATE_WORD[code]
        ntp.append((code, f"NTP {word}: Offset {v:.9f} secs|offset={v:.6f}s;0.500000;1.000000;"))
    svcs = [
        Service(
            "lb01.global",
            "HTTPS VIP c0001",
            "flapping",
            "calm stretches then OK/CRITICAL bursts; flap detection on (thresholds 10/25 on the object)",
            "flapping: FLAPPING STARTED/STOPPED and FLAPPINGSTART/FLAPPINGSTOP notifications; the global view of cell c0001",
            flapping(rv, http_ok(rv), http_bad(rv)),
            {
                "check_interval": 1,
                "retry_interval": 1,
                "max_check_attempts": 2,
                "low_flap_threshold": 10.0,
                "high_flap_threshold": 25.0,
            },
        ),
        Service(
            "lb01.global",
            "HTTPS VIP c0002",
            "steady-ok",
            "always OK",
            "never alerts",
            steady(http_ok(r("lb01", "vip2"))),
            {"check_interval": 2},
        ),
        Service(
            "lb01.global",
            "Certificate Expiry",
            "silent-critical",
            "4 OK checks, then CRITICAL (certificate expires in 3 days) for the rest of the run; notifications_enabled 0",
            "long silent HARD CRITICAL: not chatty enough",
            silent_critical(
                r("lb01", "cert"),
                lambda: "SSL OK - Certificate 'www.example.com' will expire on Mon Nov 23 23:59:00 2026 +0000.",
                lambda i: (
                    "SSL CRITICAL - Certificate 'www.example.com' expires in 3 day(s) (Mon Nov 23 23:59:00 2026 +0000)."
                ),
                ok_checks=4,
            ),
            {"check_interval": 10, "notifications_enabled": 0},
        ),
        Service(
            "dns01.global",
            "DNS Resolution",
            "soft-spikes",
            "mostly OK; every 8-14 checks 1-2 slow/timeout results; max_check_attempts 3",
            "transient SOFT spikes, never HARD; alerts continue during the host downtime",
            spikes(
                rd,
                lambda: (
                    lambda t: (
                        f"DNS OK: {t:.3f} seconds response time. www.example.com returns 192.0.2.10|time={t:.6f}s;;;0.000000"
                    )
                )(rd.uniform(0.002, 0.03)),
                lambda i: (
                    (
                        WARNING,
                        (
                            lambda t: (
                                f"DNS WARNING: {t:.3f} seconds response time. www.example.com returns 192.0.2.10|time={t:.6f}s;;;0.000000"
                            )
                        )(rd.uniform(2.1, 4.5)),
                    )
                    if i == 0
                    else (CRITICAL, "DNS CRITICAL - 10 seconds response time (Socket timeout)")
                ),
            ),
            {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 3},
        ),
        Service(
            "ntp01.global",
            "NTP Offset",
            "noisy-warning",
            "offset 0.05-0.25 s (+0.15 over the run) with 2-4-check episodes at 0.52-0.9 s every 8-12 checks; warn 0.5, crit 1.0",
            "noisy WARNING that notifies; retune warn above the episode values (perfdata offset ~1.0) or fix the clock source",
            ntp,
            {
                "check_interval": 1,
                "retry_interval": 1,
                "max_check_attempts": 2,
                "notification_interval": 30,
                "flap_detection_enabled": 0,
            },
        ),
        Service(
            "ntp02.global",
            "NTP Offset",
            "host-unreachable-victim",
            "OK; CRITICAL (socket timeout) while host ntp02 is failing (i.e. while sw01 is DOWN)",
            "alerts caused by an unreachable host; same service description as on ntp01: host+service is the key, not the description",
            steady(
                lambda rs=r("ntp02", "ntp"): (
                    lambda v: f"NTP OK: Offset {v:.9f} secs|offset={v:.6f}s;0.500000;1.000000;"
                )(rs.uniform(0.001, 0.02))
            ),
            {"check_interval": 2},
            follow="ntp02.global",
            follow_output="NTP CRITICAL: No response from NTP server",
        ),
    ]
    rz = r("dns01", "axfr")
    svcs.append(
        Service(
            "dns01.global",
            "Zone Transfer",
            "check-timeout",
            "OK, but every 12th check hangs until Nagios kills it at service_check_timeout (300 s); checks 30-32 hang in a row",
            "timeouts: '(Service check timed out after ...)' CRITICAL results with wproc: reports and a Warning: line; mostly SOFT, one HARD CRITICAL",
            hangs(rz, lambda: f"AXFR OK - example.com serial 2026112001, {rz.randint(1400, 1450)} records"),
            {"check_interval": 5, "retry_interval": 1, "max_check_attempts": 3},
        )
    )
    for j, c in enumerate(range(3, 11)):
        rc = r("lb01", f"vip{c}")
        svcs.append(
            Service(
                "lb01.global",
                f"HTTPS VIP c{c:04d}",
                "fleet-vip",
                "",
                "",
                spikes(
                    rc,
                    http_ok(rc),
                    lambda i, f=http_bad(rc): (CRITICAL, f()),
                    every=(4 + 3 * j, 7 + 6 * j),
                    length=(1, 3),
                ),
                {"check_interval": 2, "retry_interval": 1, "max_check_attempts": 2, "flap_detection_enabled": 0},
                group="lb01.global|VIP",
            )
        )
    vips = [s for s in svcs if s.group == "lb01.global|VIP"]
    vips[0].behaviour = (
        "8 VIPs of cells c0003..c0010: OK with 1-3-check CRITICAL spikes (2+ = HARD, max_check_attempts 2); "
        "the gap grows with the cell number: every 4-7 checks for c0003 up to 25-49 for c0010"
    )
    vips[
        0
    ].conclusion = "per-cell ranking with a known trend: c0003 chattiest, c0010 among the quietest (neighbours may swap); CRITICAL pages the pager contact"
    actions = [
        Action(
            "acknowledge sw01 at its first HARD DOWN",
            lambda ts: ["ACKNOWLEDGE_HOST_PROBLEM;sw01.global;2;1;1;asmith;Line card replaced, waiting for vendor RMA"],
            match="HOST ALERT: sw01.global;DOWN;HARD",
        ),
        Action(
            "30-minute host downtime on dns01, 200 min in",
            lambda ts: [f"SCHEDULE_HOST_DOWNTIME;dns01.global;{ts};{ts + 1800};1;0;1800;asmith;DNS software upgrade"],
            after=200 * 60,
        ),
    ]
    fh, fs = fleet("nagios-global01", "global", range(1, 7))
    return Node("nagios-global01", "global", "", hosts + fh, svcs + fs, actions)


NODES: dict[str, Callable[[int], Node]] = {
    "nagios-global01": node_global,
    "nagios-c0001-01": node_c0001,
    "nagios-c0002-01": node_c0002,
}


# --------------------------------------------------------------------------
# Running one node
# --------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_")


HANG = "hang"  # step code: the plugin sleeps until Nagios' check timeout kills it


def write_steps(state: Path, key: str, seq: list[Step], follow_output: str = "") -> None:
    """The plugin's files for one object: KEY.steps/N, KEY.len, KEY.count, KEY.down[, KEY.follow]."""
    steps = state / f"{key}.steps"
    steps.mkdir()
    for i, (code, text) in enumerate(seq):
        if "\n" in text or "\t" in text:
            raise ValueError(f"scripted output may not hold a newline or tab: {text!r}")
        # surrogateescape: '\udce9' in a scenario becomes the raw byte 0xE9 (not UTF-8)
        (steps / str(i)).write_bytes(f"{code}\t{text}\n".encode("utf-8", "surrogateescape"))
    (state / f"{key}.len").write_text(f"{len(seq)}\n")
    (state / f"{key}.count").write_text("0\n")
    (state / f"{key}.down").write_text("0\n")
    if follow_output:
        (state / f"{key}.follow").write_text(follow_output + "\n")


def obj(kind: str, attrs: list[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in attrs) + 4
    body = "".join(f"    {k.ljust(width)}{v}\n" for k, v in attrs)
    return f"define {kind} {{\n{body}}}\n\n"


class NodeRun:
    def __init__(
        self,
        node: Node,
        out_dir: Path,
        start: str,
        speed: int,
        fake_seconds: int,
        keep_tmp: bool,
        log: Callable[[str], None],
    ):
        self.node = node
        self.out_dir = out_dir
        self.start_text = start
        self.start_epoch = calendar.timegm(time.strptime(start, "%Y-%m-%d %H:%M:%S"))
        self.speed = speed
        self.fake_seconds = fake_seconds
        self.keep_tmp = keep_tmp
        self.say = lambda msg: log(f"[{node.name}] {msg}")
        self.run = Path(tempfile.mkdtemp(prefix=f"nagtune-{node.name}-"))
        self.pid: int | None = None
        self.proc: subprocess.Popen | None = None
        self.error: str | None = None
        self.fired: list[str] = []

    # ---- config ----
    def prepare(self) -> None:
        run = self.run
        for d in ("etc", "archives", "checkresults", "rw", "tmp", "state"):
            (run / d).mkdir()
        shutil.copy(HERE / "scripted_check.sh", run / "scripted_check.sh")
        (run / "scripted_check.sh").chmod(0o755)
        cfg = (HERE / "nagios.cfg.in").read_text().replace("@RUN@", str(run))
        (run / "nagios.cfg").write_text(cfg)
        shutil.copy(HERE / "templates.cfg", run / "etc" / "templates.cfg")
        (run / "etc" / "resource.cfg").write_text(f"$USER1$={run}\n$USER2$={run / 'state'}\n")

        state = run / "state"
        parts = [
            f"# Objects of sample node {self.node.name} (class {self.node.node_class}"
            f"{', cell ' + self.node.cell if self.node.cell else ''}), written by make_samples.py\n\n"
        ]
        for h in self.node.hosts:
            write_steps(state, h.name, h.seq, h.follow_output if h.follow else "")
            if h.follow:
                cmd = f"scripted-follow!{h.name}!{h.follow}"
            else:
                cmd = f"scripted!{h.name}"
            attrs: list[tuple[str, object]] = [
                ("use", "generic-host"),
                ("host_name", h.name),
                ("alias", h.name),
                ("address", h.address),
                ("check_command", cmd),
            ]
            if h.parents:
                attrs.append(("parents", h.parents))
            attrs += list(h.attrs.items())
            parts.append(obj("host", attrs))
        used: set[str] = set()
        for s in self.node.services:
            key = f"{s.host}__{slug(s.desc)}"
            while key in used:
                key += "_"
            used.add(key)
            s.key = key
            write_steps(state, key, s.seq, s.follow_output if s.follow else "")
            if s.follow:
                cmd = f"scripted-follow!{key}!{s.follow}"
            else:
                cmd = f"scripted!{key}"
            attrs = [
                ("use", "generic-service"),
                ("host_name", s.host),
                ("service_description", s.desc),
                ("check_command", s.attrs.get("check_command", cmd)),
                ("_SCENARIO", s.scenario),
            ]
            attrs += [(k, v) for k, v in s.attrs.items() if k != "check_command"]
            parts.append(obj("service", attrs))
        (run / "etc" / "objects.cfg").write_text("".join(parts))

    def verify(self) -> None:
        res = subprocess.run([NAGIOS, "-v", str(self.run / "nagios.cfg")], capture_output=True, text=True)
        if res.returncode != 0 or "Total Errors:   0" not in res.stdout:
            raise RuntimeError(f"{self.node.name}: nagios4 -v failed:\n{res.stdout[-3000:]}{res.stderr[-1000:]}")
        warnings = re.search(r"Total Warnings:\s+(\d+)", res.stdout)
        self.say(f"nagios4 -v: 0 errors, {warnings.group(1) if warnings else '?'} warnings")

    # ---- process control ----
    def start(self) -> None:
        env = dict(os.environ, TZ="UTC", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        spec = f"@{self.start_text} x{self.speed}"
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [FAKETIME, "-f", spec, NAGIOS, "-d", str(self.run / "nagios.cfg")],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=open(self.run / "nagios.stdout", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        lock = self.run / "nagios.lock"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = lock.read_text().strip() if lock.exists() else ""
            if text.isdigit() and self._alive(int(text)):
                self.pid = int(text)
                self.say(f"nagios4 running, PID {self.pid} (from lock file), clock {spec}")
                return
            if self.proc.poll() not in (None, 0):
                break
            time.sleep(0.05)
        raise RuntimeError(
            f"{self.node.name}: nagios4 did not start:\n{(self.run / 'nagios.stdout').read_text(errors='replace')[-2000:]}"
        )

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

    def _workers(self) -> list[int]:
        """PIDs of this node's processes still alive (found by the node's unique run dir)."""
        needle = str(self.run).encode()
        pids = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit() or int(p.name) == os.getpid():
                continue
            try:
                cmd = (p / "cmdline").read_bytes()
            except OSError:
                continue
            if needle in cmd and self._alive(int(p.name)):
                pids.append(int(p.name))
        return pids

    def command(self, ts: int, line: str) -> None:
        with open(self.run / "rw" / "nagios.cmd", "w", encoding="utf-8") as fifo:
            fifo.write(f"[{ts}] {line}\n")

    def stop(self) -> None:
        if self.pid and self._alive(self.pid):
            now = self.start_epoch + int((time.monotonic() - self.t0) * self.speed)
            try:
                self.command(now, "SHUTDOWN_PROGRAM")
            except OSError as exc:
                self.say(f"could not write SHUTDOWN_PROGRAM ({exc}); sending SIGTERM")
                os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self._alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._alive(self.pid):
                self.say(f"PID {self.pid} still alive after SHUTDOWN_PROGRAM; SIGTERM")
                os.kill(self.pid, signal.SIGTERM)
                time.sleep(2)
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.monotonic() + 5
        while self._workers() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self._workers():
            self.say(f"leftover process {pid} of this node: SIGKILL")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._workers():
            self.error = "worker processes survived"
        else:
            self.say("stopped; no nagios4 or --worker process of this node left")

    # ---- watching the log, firing the scripted external commands ----
    def watch(self) -> None:
        end_real = self.t0 + self.fake_seconds / self.speed
        path = self.run / "nagios.log"
        fh = None
        buf = b""
        line_re = re.compile(rb"^\[(\d+)\] (.*)$")
        while time.monotonic() < end_real:
            if self.pid and not self._alive(self.pid):
                raise RuntimeError(f"{self.node.name}: nagios4 (PID {self.pid}) died during the run")
            if fh is None and path.exists():
                fh = open(path, "rb")
            if fh is not None:
                chunk = fh.read()
                try:
                    rotated = os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino
                except FileNotFoundError:
                    rotated = True
                if rotated:  # finish the renamed file, then follow the new one
                    chunk += fh.read()
                    fh.close()
                    fh = None
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    m = line_re.match(raw)
                    if m:
                        self._actions(int(m.group(1)), m.group(2).decode("utf-8", "replace"))
            time.sleep(0.05)
        if fh:
            fh.close()

    def _actions(self, ts: int, text: str) -> None:
        for a in self.node.actions:
            if a.fired or ts < self.start_epoch + a.after or (a.match and a.match not in text):
                continue
            a.fired = True
            for cmd in a.commands(ts):
                self.command(ts, cmd)
            self.fired.append(a.what)
            self.say(f"external command at {time.strftime('%H:%M:%S', time.gmtime(ts))}: {a.what}")

    # ---- collecting the results ----
    def collect(self) -> None:
        dest = self.out_dir / self.node.name
        if dest.exists():
            shutil.rmtree(dest)
        (dest / "archives").mkdir(parents=True)
        shutil.copy(self.run / "nagios.log", dest / "nagios.log")
        archives = sorted((self.run / "archives").glob("nagios-*.log"), key=lambda p: p.stat().st_mtime)
        if not archives:
            raise RuntimeError(f"{self.node.name}: no log rotation happened (no archive)")
        for i, a in enumerate(archives):
            if i == 0:  # the oldest archive is gzipped, as logrotate's compress would
                with (
                    open(a, "rb") as src,
                    open(dest / "archives" / (a.name + ".gz"), "wb") as raw,
                    gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
                ):
                    shutil.copyfileobj(src, gz)
            else:
                shutil.copy(a, dest / "archives" / a.name)
        shutil.copy(self.run / "service-perfdata.log", dest / "service-perfdata.log")
        shutil.copy(self.run / "objects.cache", dest / "objects.cache")

    def cleanup(self) -> None:
        if self.keep_tmp:
            self.say(f"kept {self.run}")
        else:
            shutil.rmtree(self.run, ignore_errors=True)


# --------------------------------------------------------------------------
# SCENARIOS.md
# --------------------------------------------------------------------------

LINE_TYPE = re.compile(rb"^\[\d+\] ([A-Z][A-Z ]*[A-Z]|wproc|qh|Warning|Error):")


def read_log(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def census(node_dir: Path) -> tuple[int, Counter]:
    total, kinds = 0, Counter()
    for p in [*sorted((node_dir / "archives").iterdir()), node_dir / "nagios.log"]:
        for raw in read_log(p).splitlines():
            total += 1
            m = LINE_TYPE.match(raw)
            kinds[m.group(1).decode() if m else "(other)"] += 1
    return total, kinds


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\udce9", "\\xE9")


def write_scenarios(
    out: Path, nodes: list[Node], runs: list[NodeRun], args: argparse.Namespace, seconds: float
) -> None:
    rows = [
        "| node | host | service | scripted behaviour | what analytics must conclude |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n in nodes:
        for h in n.hosts:
            if h.behaviour != "always UP":
                rows.append(f"| {n.name} | {h.name} | (host) | {md_cell(h.behaviour)} | {md_cell(h.conclusion)} |")
        seen: set[str] = set()
        for s in n.services:
            if s.group:
                if s.group in seen:
                    continue
                seen.add(s.group)
                members = [x for x in n.services if x.group == s.group]
                hosts = sorted({x.host for x in members})
                host = hosts[0] if len(hosts) == 1 else f"{hosts[0]} .. {hosts[-1]}"
                desc = s.desc if len({x.desc for x in members}) == 1 else f"{members[0].desc} .. {members[-1].desc}"
                rows.append(
                    f"| {n.name} | {host} | {md_cell(desc)} | `{s.scenario}`: {md_cell(s.behaviour)} | {md_cell(s.conclusion)} |"
                )
                continue
            rows.append(
                f"| {n.name} | {s.host} | {md_cell(s.desc)} | `{s.scenario}`: {md_cell(s.behaviour)} | {md_cell(s.conclusion)} |"
            )
    acts = []
    for r in runs:
        for a in r.node.actions:
            acts.append(f"- {r.node.name}: {a.what} - {'fired' if a.fired else 'NOT fired in this run'}")
    stats = ["| node | class | cell | lines | per line type |", "| --- | --- | --- | --- | --- |"]
    for n in nodes:
        total, kinds = census(out / n.name)
        per = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        stats.append(f"| {n.name} | {n.node_class} | {n.cell or '-'} | {total} | {per} |")
    observed = (HERE / "observed.md").read_text() if (HERE / "observed.md").exists() else ""
    text = f"""# Sample logs: what is scripted, what analytics must conclude

Written by `data/make_samples/make_samples.py` (see its README); do not edit
by hand: edit the scenario table in the script or `data/make_samples/observed.md`.

Every directory here is one Nagios node: a real Nagios 4.4.6 (Debian
`nagios4-core`) run under `faketime -f "@{args.start} x{args.speed}"` (one
real second = one Nagios minute) for {args.hours:g} fake hours, with hourly log
rotation (`log_rotation_method=h`). Each node directory holds:

- `nagios.log`: the live event log at shutdown (starts with `LOG ROTATION: HOURLY`);
- `archives/nagios-MM-DD-YYYY-HH.log`: Nagios' own hourly archives (named
  for the hour of the rotation); the oldest one of each node is gzipped
  (`.log.gz`, as logrotate would);
- `service-perfdata.log`: every service check result through
  `service_perfdata_file`, one PNP4Nagios-style line per result:
  `DATATYPE::SERVICEPERFDATA<TAB>TIMET::..<TAB>HOSTNAME::..<TAB>SERVICEDESC::..<TAB>SERVICESTATE::..<TAB>SERVICESTATETYPE::..<TAB>SERVICEATTEMPT::..<TAB>SERVICEOUTPUT::..<TAB>SERVICEPERFDATA::..`;
- `objects.cache`: Nagios' object cache (current max_check_attempts,
  check/retry intervals, notifications_enabled, flap thresholds; every
  service carries its scenario as custom variable `_SCENARIO`).

Node classes: `nagios-global01` is the global node; `nagios-c0001-01` and
`nagios-c0002-01` are cell nodes of cells `c0001` and `c0002`. All monitored
hosts are fake; every check is `scripted_check.sh` replaying a deterministic
sequence (seeded per node/host/service), counted per check (retries and
on-demand host checks advance it too), so the sequence is fixed while the
exact timestamps vary slightly from run to run.

## Scenarios

Hosts that are always UP are left out of the table (their host check prints
`PING OK - ...`).

{chr(10).join(rows)}

## External commands written during the run

{chr(10).join(acts)}

## What the last run produced

Regenerated in {seconds:.0f} s. Lines over `archives/*` and `nagios.log`, by
line type (the word(s) before the first `:`):

{chr(10).join(stats)}

{observed}"""
    (out / "SCENARIOS.md").write_text(text)


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where node directories go (default: data/samples)")
    ap.add_argument("--nodes", nargs="+", choices=sorted(NODES), default=None, help="only these nodes")
    ap.add_argument("--start", default="2026-11-20 21:40:00", help="fake start time, UTC (default: %(default)s)")
    ap.add_argument("--hours", type=float, default=5.0, help="fake hours to run (default: %(default)s)")
    ap.add_argument("--speed", type=int, default=60, help="faketime speed-up (default: x%(default)s)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="one node (nagios-c0001-01), 20 fake minutes from 23:58:30: one rotation, ~20 s",
    )
    ap.add_argument("--keep-tmp", action="store_true", help="keep each node's temp run dir")
    args = ap.parse_args(argv)
    if args.quick:
        args.nodes = args.nodes or ["nagios-c0001-01"]
        args.start = "2026-11-20 23:58:30"
        args.hours = 20 / 60
    names = args.nodes or list(NODES)

    for tool, pkg in ((NAGIOS, "nagios4-core"), (FAKETIME, "faketime")):
        if not shutil.which(tool):
            print(f"make_samples: {tool} not found (apt-get install {pkg})", file=sys.stderr)
            return 2

    lock = threading.Lock()

    def log(msg: str) -> None:
        with lock:
            print(msg, flush=True)

    t_start = time.monotonic()
    start_epoch = calendar.timegm(time.strptime(args.start, "%Y-%m-%d %H:%M:%S"))
    nodes = [NODES[n](start_epoch) for n in names]
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [NodeRun(n, args.out, args.start, args.speed, int(args.hours * 3600), args.keep_tmp, log) for n in nodes]
    for r in runs:
        r.prepare()
        r.verify()

    def go(r: NodeRun) -> None:
        try:
            r.start()
            r.watch()
        except Exception as exc:  # noqa: BLE001 - reported below, node still stopped
            r.error = str(exc)
        finally:
            r.stop()
        if not r.error:
            try:
                r.collect()
            except Exception as exc:  # noqa: BLE001
                r.error = str(exc)

    threads = [threading.Thread(target=go, args=(r,)) for r in runs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        for r in runs:
            r.stop()
        raise
    failed = [r for r in runs if r.error]
    for r in runs:
        if r.error:
            log(f"[{r.node.name}] FAILED: {r.error} (run dir kept: {r.run})")
        else:
            r.cleanup()
    if failed:
        return 1
    seconds = time.monotonic() - t_start
    write_scenarios(args.out, nodes, runs, args, seconds)
    for n in nodes:
        total, _ = census(args.out / n.name)
        log(f"{n.name}: {total} log lines")
    log(f"done in {seconds:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
