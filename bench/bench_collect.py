"""nagtune collect: cron start-up and throughput, measured beside its peers.

    python bench/bench_collect.py [--lines 1000000] [--runs 15]

(1) start-up: a whole `nagtune collect` process with nothing new to read
    (graphite output to a local listener) vs `python -c pass`, medians.
(2) throughput on a synthetic log (`python -m nagtune.synth`): the collector's
    dry-run path (read + scan + aggregate + format) vs a logster-style parser
    class (re.match + dict update, driven line by line as logster does) and
    vs a naive one-regex loop.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from nagtune.collect.config import build
from nagtune.collect.run import Collector


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


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def median_process(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "nagios.log")
        subprocess.run([sys.executable, "-m", "nagtune.synth", "--lines", str(args.lines), "--out", log], check=True)
        lines = sum(1 for _ in open(log, "rb"))
        port = listener()
        command = [sys.executable, "-m", "nagtune.cli_collect", log, "--state-dir", os.path.join(tmp, "st"),
                   "--node", "nagios-c0001-01", "--graphite", f"127.0.0.1:{port}"]
        subprocess.run(command, check=True)  # first run reads everything; the timed runs find nothing new
        pass_time = median_process([sys.executable, "-c", "pass"], args.runs)
        collect_time = median_process(command, args.runs)

        rows = []
        for label, function, extra in (
            ("nagtune collect path (read+scan+aggregate+format)", collector_path, (os.path.join(tmp, "dry"),)),
            ("logster-style parser class (re.match per line)", logster_style, ()),
            ("naive one-regex loop", naive_loop, ()),
        ):
            best = min(timed(function, log, *extra) for _ in range(3))
            rows.append((label, best))

    print(f"start-up, median of {args.runs} whole processes")
    print(f"  python -c pass                       {pass_time * 1000:8.1f} ms")
    print(f"  nagtune collect, nothing new         {collect_time * 1000:8.1f} ms   ratio {collect_time / pass_time:.2f}x (target <= 2x)")
    print(f"throughput on {lines:,} synthetic lines (best of 3)")
    ours = rows[0][1]
    for label, seconds in rows:
        print(f"  {label:52s} {lines / seconds:12,.0f} lines/s  {seconds:6.2f} s  collector is {seconds / ours:5.2f}x")
    print("targets: >= 3x the logster-style parser, >= 2x the naive loop")


if __name__ == "__main__":
    main()
