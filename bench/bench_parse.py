"""Parser throughput: nagtune vs a naive one-regex loop vs grep -c, same run, same file.

    python bench/bench_parse.py                 # 1,000,000 seeded synthetic lines
    python bench/bench_parse.py --lines 200000 --repeat 3

Each contender runs as its own process (median of --repeat runs, the
contenders interleaved round by round; peak RSS from the kernel), on the
same seeded synthetic log, and must produce the same alert count. "nagtune
scan" is parse+aggregate: per-minute counts per host/service/state/type,
what the collector ships. "nagtune reference" is
the line-by-line parser (what `nagtune parse` and the logster class use).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

NAGTUNE_SCAN = """
import sys
from nagtune.parsers.scan import scan_stream
with open(sys.argv[1], 'rb') as stream:
    result = scan_stream(stream)
print(result.shipped)
"""

NAGTUNE_REFERENCE = """
import sys
from nagtune.parsers.nagios import iter_lines
from nagtune.parsers.scan import reference_scan
with open(sys.argv[1], 'rb') as stream:
    result = reference_scan(iter_lines(stream))
print(result.shipped)
"""

# What one writes first for the same job: one regex for the shipped line
# types, a loop, a Counter keyed by minute, type and the leading fields.
NAIVE_LOOP = r"""
import re, sys
from collections import Counter
shipped = re.compile(r'^\[(\d+)\] ((?:SERVICE|HOST) (?:ALERT|NOTIFICATION|FLAPPING ALERT|DOWNTIME ALERT)'
                     r'|EXTERNAL COMMAND(?=: ACKNOWLEDGE_(?:SVC|HOST)_PROBLEM;)): (.*)$')
counts = Counter()
with open(sys.argv[1], encoding='utf-8', errors='replace') as log:
    for line in log:
        match = shipped.match(line)
        if match:
            counts[(int(match.group(1)) // 60, match.group(2), *match.group(3).split(';')[:4])] += 1
print(sum(counts.values()))
"""


def run(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MiB of that one child (wait4), stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"{argv[0]} failed with exit code {child.returncode}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode().strip()


def measure(contenders: list[tuple[str, list[str]]], repeat: int) -> list[dict]:
    """Each contender ``repeat`` times, interleaved round by round, so that a
    burst of load from other work on the machine hits all of them alike."""
    runs: dict[str, list] = {name: [] for name, _ in contenders}
    for _ in range(repeat):
        for name, argv in contenders:
            runs[name].append(run(argv))
    rows = []
    for name, _ in contenders:
        outputs = {out for _, _, out in runs[name]}
        rows.append(
            {
                "contender": name,
                "seconds": statistics.median(wall for wall, _, _ in runs[name]),
                "peak_mib": max(rss for _, rss, _ in runs[name]),
                "counted": outputs.pop() if len(outputs) == 1 else "differs between runs",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", help="also append the rows to this CSV file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        log = os.path.join(work, "synthetic.log")
        subprocess.run(
            [sys.executable, "-m", "nagtune.synth", "--lines", str(args.lines), "--seed", str(args.seed), "--out", log],
            check=True,
        )
        py = sys.executable
        rows = measure(
            [
                ("nagtune scan (parse+aggregate)", [py, "-c", NAGTUNE_SCAN, log]),
                ("nagtune reference parser", [py, "-c", NAGTUNE_REFERENCE, log]),
                ("naive one-regex loop", [py, "-c", NAIVE_LOOP, log]),
                (
                    "grep -c",
                    [
                        "grep",
                        "-c",
                        "-E",
                        r"^\[[0-9]+\] ((SERVICE|HOST) (ALERT|NOTIFICATION|FLAPPING ALERT|DOWNTIME ALERT)"
                        r"|EXTERNAL COMMAND: ACKNOWLEDGE_(SVC|HOST)_PROBLEM;)",
                        log,
                    ],
                ),
            ],
            args.repeat,
        )
    naive = rows[2]["seconds"]
    print(f"{args.lines:,} lines, median of {args.repeat} runs, each a separate process")
    print(f"{'contender':34} {'seconds':>8} {'lines/s':>12} {'vs naive':>9} {'peak MiB':>9} {'counted':>9}")
    for row in rows:
        row["lines_per_s"] = args.lines / row["seconds"]
        row["speedup_vs_naive"] = naive / row["seconds"]
        print(
            f"{row['contender']:34} {row['seconds']:8.2f} {row['lines_per_s']:12,.0f} "
            f"{row['speedup_vs_naive']:8.2f}x {row['peak_mib']:9.0f} {row['counted']:>9}"
        )
    counts = {row["counted"] for row in rows}
    print("alert counts agree" if len(counts) == 1 else f"ALERT COUNTS DIFFER: {counts}")
    if args.csv:
        new = not os.path.exists(args.csv)
        with open(args.csv, "a", newline="") as out:
            writer = csv.DictWriter(out, ["date", "lines", *rows[0].keys()])
            if new:
                writer.writeheader()
            for row in rows:
                writer.writerow({"date": time.strftime("%Y-%m-%d"), "lines": args.lines, **row})
    if len(counts) != 1:
        sys.exit(1)


if __name__ == "__main__":
    main()
