"""A hand-written node log whose behaviours are known, for analytics tests.

One week from Monday 2025-11-24 00:00 UTC on node ``nagios-c0001-01``:

- web01 / HTTP: flapping (OK <-> CRITICAL every 2-3 checks, many times);
- web01 / Load: noisy WARNING (SOFT WARNING that clears after 1-2 minutes, hourly);
- web01 / SSH: steady OK (only state snapshots);
- db01 / MySQL Replication: stuck HARD CRITICAL for 10 hours, no notification;
- db01 / Disk Space /var: slow detection (SOFT for 30 minutes before HARD), notified;
- app01: host DOWN for 40 minutes; app01 / PING goes CRITICAL, app01 / NTP Offset stays OK.
"""

from __future__ import annotations

import gzip
import os

START = 1_763_942_400  # Monday 2025-11-24 00:00:00 UTC
NODE = "nagios-c0001-01"


def scenario_lines() -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []

    def add(t, text):
        lines.append((t, text))

    # Flapping HTTP on web01: 30 bursts over the week.
    for burst in range(30):
        t = START + 3600 * 5 * burst + 600
        for flip in range(6):
            add(t, "SERVICE ALERT: web01;HTTP;CRITICAL;HARD;1;HTTP CRITICAL - Connection refused")
            add(
                t,
                "SERVICE NOTIFICATION: oncall;web01;HTTP;CRITICAL;notify-service-by-email;HTTP CRITICAL - Connection refused",
            )
            t += 120
            add(
                t,
                "SERVICE ALERT: web01;HTTP;OK;HARD;1;HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.01 second response time",
            )
            add(t, "SERVICE NOTIFICATION: oncall;web01;HTTP;OK;notify-service-by-email;HTTP OK")
            t += 180
    # Noisy Load WARNING: every hour a SOFT warning that clears.
    for hour in range(0, 24 * 7, 1):
        t = START + 3600 * hour + 1800
        add(t, "SERVICE ALERT: web01;Load;WARNING;SOFT;1;WARNING - load average: 7.20, 5.10, 4.00")
        if hour % 4 == 0:
            add(t + 60, "SERVICE ALERT: web01;Load;WARNING;SOFT;2;WARNING - load average: 7.40, 5.20, 4.00")
            add(t + 120, "SERVICE ALERT: web01;Load;OK;SOFT;3;OK - load average: 0.40, 0.50, 0.60")
        else:
            add(t + 60, "SERVICE ALERT: web01;Load;OK;SOFT;2;OK - load average: 0.42, 0.50, 0.60")
    # Stuck MySQL replication: HARD CRITICAL for 10 hours, notifications off.
    t = START + 86400 * 2 + 3600 * 3
    add(t, "SERVICE ALERT: db01;MySQL Replication;CRITICAL;SOFT;1;CRITICAL - Slave IO not running")
    add(t + 60, "SERVICE ALERT: db01;MySQL Replication;CRITICAL;SOFT;2;CRITICAL - Slave IO not running")
    add(t + 120, "SERVICE ALERT: db01;MySQL Replication;CRITICAL;HARD;3;CRITICAL - Slave IO not running")
    add(t + 36000, "SERVICE ALERT: db01;MySQL Replication;OK;HARD;3;OK - Slave running")
    # Slow detection on Disk Space /var: SOFT for 30 minutes.
    t = START + 86400 * 3 + 3600 * 14
    for attempt in range(1, 4):
        add(
            t + (attempt - 1) * 900,
            f"SERVICE ALERT: db01;Disk Space /var;WARNING;SOFT;{attempt};DISK WARNING - free space: /var 512 MB (8%)",
        )
    add(t + 1800, "SERVICE ALERT: db01;Disk Space /var;WARNING;HARD;4;DISK WARNING - free space: /var 500 MB (8%)")
    add(t + 1800, "SERVICE NOTIFICATION: oncall;db01;Disk Space /var;WARNING;notify-service-by-email;DISK WARNING")
    add(t + 7200, "SERVICE ALERT: db01;Disk Space /var;OK;HARD;4;DISK OK - free space: /var 3000 MB (40%)")
    # app01 DOWN for 40 minutes; PING follows, NTP Offset stays OK.
    t = START + 86400 * 4 + 3600 * 10
    add(t, "HOST ALERT: app01;DOWN;SOFT;1;PING CRITICAL - Packet loss = 100%")
    add(t + 60, "HOST ALERT: app01;DOWN;HARD;2;PING CRITICAL - Packet loss = 100%")
    add(t + 60, "HOST NOTIFICATION: oncall;app01;DOWN;notify-host-by-email;PING CRITICAL - Packet loss = 100%")
    add(t + 90, "SERVICE ALERT: app01;PING;CRITICAL;HARD;1;PING CRITICAL - Packet loss = 100%")
    add(t + 2400, "HOST ALERT: app01;UP;HARD;1;PING OK - Packet loss = 0%")
    add(t + 2430, "SERVICE ALERT: app01;PING;OK;HARD;1;PING OK - Packet loss = 0%")
    lines.sort(key=lambda item: item[0])
    return lines


SERVICES = [
    ("web01", "HTTP"),
    ("web01", "Load"),
    ("web01", "SSH"),
    ("db01", "MySQL Replication"),
    ("db01", "Disk Space /var"),
    ("app01", "PING"),
    ("app01", "NTP Offset"),
]


def write_node(directory: str, days_in_archives: int = 6, gzip_archives: bool = True) -> str:
    """The scenario as Nagios would leave it: daily archives (the first ones gzipped) and nagios.log."""
    import time

    node_dir = os.path.join(directory, NODE)
    os.makedirs(os.path.join(node_dir, "archives"), exist_ok=True)
    by_day: dict[int, list[str]] = {}
    for t, text in scenario_lines():
        by_day.setdefault((t - START) // 86400, []).append(f"[{t}] {text}\n")
    for day in range(7):
        day_start = START + 86400 * day
        head = [f"[{day_start}] LOG ROTATION: DAILY\n", f"[{day_start}] LOG VERSION: 2.0\n"]
        head += [f"[{day_start}] CURRENT SERVICE STATE: {h};{s};OK;HARD;1;OK\n" for h, s in SERVICES]
        body = "".join(head + by_day.get(day, []))
        if day < days_in_archives:
            name = time.strftime("nagios-%m-%d-%Y-00.log", time.gmtime(day_start + 86400))
            path = os.path.join(node_dir, "archives", name)
            if gzip_archives and day < 3:
                with gzip.open(path + ".gz", "wt", encoding="utf-8") as handle:
                    handle.write(body)
            else:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(body)
        else:
            with open(os.path.join(node_dir, "nagios.log"), "w", encoding="utf-8") as handle:
                handle.write(body)
    return node_dir
