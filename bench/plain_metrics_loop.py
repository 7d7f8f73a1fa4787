"""The peer of ``nagtune parse --metrics`` and a first ``nagtune collect``: what one writes first.

A per-minute Counter over the alert and notification lines (one regular
expression per line), then Graphite plaintext with one ``re.sub`` per name.

    python bench/plain_metrics_loop.py nagios.log > points.txt
"""

import re
import sys
from collections import Counter

LINE = re.compile(r"^\[(\d+)\] (SERVICE ALERT|HOST ALERT|SERVICE NOTIFICATION|HOST NOTIFICATION): (.*)$")
UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
PREFIX = "nagios.default.cell.c0001.nagios-c0001-01"


def main(path: str) -> None:
    counts: Counter = Counter()
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LINE.match(line)
            if not match:
                continue
            stamp, kind, rest = match.groups()
            fields = rest.split(";")
            if kind == "SERVICE ALERT":
                key = ("service_alerts", fields[0], fields[1], fields[2], fields[3])
            elif kind == "HOST ALERT":
                key = ("host_alerts", fields[0], fields[1], fields[2])
            elif kind == "SERVICE NOTIFICATION":
                key = ("service_notifications", fields[1], fields[2], fields[3])
            else:
                key = ("host_notifications", fields[1], fields[2])
            counts[int(stamp) // 60 * 60, key] += 1
    out = []
    for (minute, key), count in counts.items():
        name = UNSAFE.sub("_", PREFIX + "." + ".".join(part.replace(".", "_") for part in key))
        out.append(f"{name} {count} {minute}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
