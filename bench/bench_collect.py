"""nagtune collect: cron start-up and throughput, measured beside its peers.

    python bench/bench_collect.py [--lines 1000000] [--runs 15] [--csv bench/results_collect.csv]

(1) start-up: a whole `nagtune collect` process (the installed console
    script, as cron runs it) with nothing new to read (graphite output to a
    local listener) vs `python -c pass`, medians, the two interleaved so that
    load from other work on the machine hits both alike.
(2) throughput on a synthetic log (`python -m nagtune.synth`): the collector's
    dry-run path (read + scan + aggregate + format, with the C scanner that
    `pip install` builds) vs a logster-style parser class (re.match + dict
    update, driven line by line as logster does) and vs a naive one-regex
    loop; and the same path with the pure-Python scanner, the fallback where
    no C compiler was at hand.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import nagtune
import nagtune.parsers
from nagtune.collect.config import build
from nagtune.collect.run import Collector
from nagtune.parsers import scan


class LogsterStyleParser:
    """What a hand-written Etsy logster parser for Nagios alerts looks like."""

    def __init__(self):
        self.counts = {}
        self.reg = re.compile(r"\[(\d+)\] (SERVICE ALERT|HOST ALERT|SERVICE NOTIFICATION|HOST NOTIFICATION): (.*)")

    def parse_line(self, line):
        match = self.reg.match(line)
        if not match:
            raise ValueError("not an alert")
        stamp, kind, fields = match.groups()
        parts = fields.split(";")
        key = (int(stamp) // 60, kind, *parts[:4])
        self.counts[key] = self.counts.get(key, 0) + 1

    def get_state(self, duration):
        return [(f"nagios.{'.'.join(k[1:])}", v, k[0] * 60) for k, v in self.counts.items()]


def logster_style(path: str) -> int:
    parser = LogsterStyleParser()
    with open(path, encoding="utf-8", errors="replace") as handle:  # logster reads text lines
        for line in handle:
            try:
                parser.parse_line(line)
            except ValueError:
                pass
    return len(parser.get_state(0))


NAIVE = re.compile(r"^\[(\d+)\] SERVICE ALERT: ([^;]*);([^;]*);([^;]*);([^;]*);")


def naive_loop(path: str) -> int:
    counts: dict = {}
    with open(path, "rb") as handle:
        for raw in handle:
            match = NAIVE.match(raw.decode("utf-8", "replace"))
            if match:
                key = (int(match[1]) // 60, match[2], match[3], match[4], match[5])
                counts[key] = counts.get(key, 0) + 1
    return len(counts)


def collector_path(path: str, state_dir: str) -> int:
    config = build({}, {"log": path, "state_dir": state_dir, "node": "nagios-c0001-01", "outputs": ["stdout"]})
    with open(os.devnull, "wb") as sink:
        return Collector(config, stdout=sink).dry_run().points


def collector_path_pure_python(path: str, state_dir: str) -> int:
    """The same path where no C compiler built nagtune.parsers._fastscan."""
    try:
        scan.use_compiled(False)
        return collector_path(path, state_dir)
    finally:
        scan.use_compiled(True)


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def median_processes(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, run in turn ``runs`` times."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, spent in zip(commands, times):
            start = time.perf_counter()
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def listener() -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)

    def drain():
        while True:
            conn, _ = server.accept()
            while conn.recv(65536):
                pass
            conn.close()

    threading.Thread(target=drain, daemon=True).start()
    return server.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--csv", default=None, help="write the table to this CSV file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "nagios.log")
        subprocess.run([sys.executable, "-m", "nagtune.synth", "--lines", str(args.lines), "--out", log], check=True)
        lines = sum(1 for _ in open(log, "rb"))
        port = listener()
        script = shutil.which("nagtune", path=os.path.dirname(sys.executable)) or shutil.which("nagtune")
        entry = [script] if script else [sys.executable, "-m", "nagtune.cli"]
        command = [
            *entry,
            "collect",
            log,
            "--state-dir",
            os.path.join(tmp, "st"),
            "--node",
            "nagios-c0001-01",
            "--graphite",
            f"127.0.0.1:{port}",
        ]
        subprocess.run(command, check=True)  # first run reads everything; the timed runs find nothing new
        # Bytecode as an install leaves it: with PYTHONDONTWRITEBYTECODE set (or a
        # read-only checkout), an editable install would compile every module
        # it imports from source on each run, which no deployed node does.
        for package in (nagtune, nagtune.parsers):
            compileall.compile_dir(os.path.dirname(package.__file__), quiet=1)
        pass_time, collect_time = median_processes([[sys.executable, "-c", "pass"], command], args.runs)

        if not scan.use_compiled(True):
            sys.exit("bench_collect: nagtune.parsers._fastscan is not built (pip install -e . needs a C compiler)")
        peers = (
            ("nagtune collect path (read+scan+aggregate+format)", collector_path, (os.path.join(tmp, "dry"),)),
            ("logster-style parser class (re.match per line)", logster_style, ()),
            ("naive one-regex loop", naive_loop, ()),
            ("nagtune, pure-Python scanner (no C compiler)", collector_path_pure_python, (os.path.join(tmp, "pure"),)),
        )
        best = [float("inf")] * len(peers)
        for _ in range(3):  # interleaved: the three see the same load
            for i, (_, function, extra) in enumerate(peers):
                best[i] = min(best[i], timed(function, log, *extra))
        rows = [(label, seconds) for (label, _, _), seconds in zip(peers, best)]

    startup_ratio = collect_time / pass_time
    print(f"start-up, median of {args.runs} whole processes ({' '.join(os.path.basename(c) for c in entry)} collect)")
    print(f"  python -c pass                       {pass_time * 1000:8.1f} ms")
    print(
        f"  nagtune collect, nothing new         {collect_time * 1000:8.1f} ms   ratio {startup_ratio:.2f}x (target <= 2x)"
    )
    print(f"throughput on {lines:,} synthetic lines (best of 3)")
    ours = rows[0][1]
    for label, seconds in rows:
        print(f"  {label:52s} {lines / seconds:12,.0f} lines/s  {seconds:6.2f} s  collector is {seconds / ours:5.2f}x")
    print("targets: >= 3x the logster-style parser, >= 2x the naive loop")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["measure", "peer", "value", "unit", "ratio", "target", "met", "cpus", "load_1min"])
            cpus, load = os.cpu_count(), os.getloadavg()[0]
            out.writerow(
                [
                    "startup_nothing_new",
                    "python -c pass",
                    round(collect_time * 1000, 1),
                    "ms",
                    round(startup_ratio, 2),
                    "<= 2",
                    startup_ratio <= 2,
                    cpus,
                    round(load, 2),
                ]
            )
            out.writerow(
                ["startup_python_pass", "", round(pass_time * 1000, 1), "ms", "", "", "", cpus, round(load, 2)]
            )
            for (label, seconds), target in zip(rows, (None, 3, 2, None)):
                ratio = seconds / ours
                out.writerow(
                    [
                        f"throughput {label}",
                        "" if label == rows[0][0] else "collector vs this",
                        round(lines / seconds),
                        "lines/s",
                        round(ratio, 2),
                        "" if target is None else f">= {target}",
                        "" if target is None else ratio >= target,
                        cpus,
                        round(load, 2),
                    ]
                )


if __name__ == "__main__":
    main()
