"""nagtune on a realistic cell node, each row beside its peer in the same run.

    python bench/bench_cell.py                      # every row
    python bench/bench_cell.py --only rank --rounds 5

Data (``nagtune.fleetgen``, seeded, written once under --out): a cell node
of 2,000 hypervisors x 20-40 services, one day; its shape is printed.

- ``rank``: ``nagtune rank --by host_service --format csv`` vs the awk
  top-producers count (``zcat -f`` into awk counting SERVICE ALERT lines per
  host;service, ``sort -rn``), on the 1M-line node as one file and as the
  same lines cut into hourly archives;
- ``metrics``: ``nagtune parse --metrics`` and a first ``nagtune collect
  --output stdout`` vs ``bench/plain_metrics_loop.py`` (a per-minute Counter
  loop writing Graphite plaintext, one ``re.sub`` per name) on 300k lines;
- ``tick``: ``nagtune collect`` to a Graphite listener with nothing new,
  and with one busy minute (2,000 lines) appended, vs ``python -c pass``.

Every contender runs as its own process, the contenders in alternation for
--rounds rounds; the row is the median wall time, the CPU time (user+sys of
the process and its children) and the peak RSS (the kernel's, wait4). The
machine may be shared: ratios of one run are what to compare. Rows are
appended to ``bench/results_cell.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AWK = r"""
cd "$1" && zcat -f archives/* nagios.log 2>/dev/null \
 | awk -F': ' '$1 ~ / SERVICE ALERT$/ { split($2, f, ";"); c[f[1] ";" f[2]]++ } END { for (k in c) print c[k], k }' \
 | sort -rn
"""


def run(command: list[str], stdin=None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user+sys, children included) and peak RSS MiB of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=stdin)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 75):
        raise SystemExit(f"bench_cell: {' '.join(command)} exited {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def alternate(contenders: dict[str, list[str]], rounds: int) -> dict[str, tuple[float, float, float]]:
    """Median wall, median CPU and largest peak RSS of each contender, run in turn."""
    runs: dict[str, list] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, command in contenders.items():
            runs[name].append(run(command))
    return {
        name: (statistics.median(r[0] for r in got), statistics.median(r[1] for r in got), max(r[2] for r in got))
        for name, got in runs.items()
    }


def nagtune() -> list[str]:
    script = shutil.which("nagtune", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "nagtune.cli"]


def generate(out: str, name: str, lines: int, *flags: str) -> str:
    """A fleetgen node under ``out`` (written once; in a child process, so this one stays
    small and the children it forks do not start with its pages)."""
    path = os.path.join(out, name)
    if not os.path.isdir(path):
        subprocess.run(
            [sys.executable, "-m", "nagtune.fleetgen", "--out", path, "--lines", str(lines), "--days", "1", *flags],
            check=True,
        )
    return path


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "nagtune-bench-cell"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("rank", "metrics", "tick"), action="append")
    parser.add_argument("--csv", default=os.path.join(HERE, "results_cell.csv"))
    args = parser.parse_args()
    only = set(args.only or ("rank", "metrics", "tick"))
    rows = []
    load = os.getloadavg()[0]

    def row(measure, ours, peer_name, peer, target, command, shape, ratio_of="wall"):
        index = 0 if ratio_of == "wall" else 1
        ratio = peer[index] / ours[index]
        rows.append(
            [
                measure,
                round(ours[0], 3),
                round(ours[1], 3),
                round(ours[2]),
                peer_name,
                round(peer[0], 3),
                round(peer[1], 3),
                f"{ratio:.2f}",
                target,
                command,
                shape,
                os.cpu_count(),
                round(load, 2),
            ]
        )
        print(
            f"{measure}: nagtune {ours[0]:.2f} s wall {ours[1]:.2f} s CPU {ours[2]:.0f} MiB | {peer_name} "
            f"{peer[0]:.2f} s wall {peer[1]:.2f} s CPU | peer/nagtune ({ratio_of}) {ratio:.2f} (target {target})"
        )

    if "rank" in only:
        one = generate(args.out, "cell-1m", 1_000_000, "--one-file")
        hourly = generate(args.out, "cell-1m-hourly", 1_000_000, "--hourly-split")
        shape = "cell node, 2,000 hosts, 1 day, 1M event lines"
        for path, how in ((one, "one file"), (hourly, "hourly archives")):
            got = alternate(
                {
                    "nagtune": [*nagtune(), "rank", "--by", "host_service", "--format", "csv", path],
                    "awk": ["bash", "-c", AWK, "awk", path],
                },
                args.rounds,
            )
            row(
                f"rank --by host_service ({how})",
                got["nagtune"],
                "awk count + sort",
                got["awk"],
                ">= 1 (no slower), <= 1 GiB",
                "nagtune rank --by host_service --format csv NODE",
                f"{shape}, {how}",
            )
    if "metrics" in only:
        node = generate(args.out, "cell-300k", 240_000, "--one-file")
        log = os.path.join(node, "nagios.log")
        state = os.path.join(args.out, "collect-state")
        first = [*nagtune(), "collect", log, "--output", "stdout", "--state-dir", state, "--node", "nagios-c0001-01"]
        got = {"parse": [], "collect": [], "peer": []}
        for _ in range(args.rounds):
            got["parse"].append(run([*nagtune(), "parse", "--metrics", "--node", "nagios-c0001-01", log]))
            shutil.rmtree(state, ignore_errors=True)
            got["collect"].append(run(first))
            got["peer"].append(run([sys.executable, os.path.join(HERE, "plain_metrics_loop.py"), log]))
        med = {
            k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), max(r[2] for r in v))
            for k, v in got.items()
        }
        shape = "cell node, 2,000 hosts, 300k lines (incl. a 62k-line state snapshot)"
        row(
            "parse --metrics",
            med["parse"],
            "plain per-minute Counter loop",
            med["peer"],
            ">= 2",
            "nagtune parse --metrics --node NODE nagios.log",
            shape,
        )
        row(
            "collect, first run",
            med["collect"],
            "plain per-minute Counter loop",
            med["peer"],
            ">= 2",
            "nagtune collect nagios.log --output stdout",
            shape,
        )
    if "tick" in only:
        node = generate(args.out, "cell-300k", 240_000, "--one-file")
        work = os.path.join(args.out, "tick")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        log = os.path.join(work, "nagios.log")
        shutil.copy(os.path.join(node, "nagios.log"), log)
        with open(log, "rb") as handle:
            lines = handle.read().splitlines(keepends=True)
        # 2,000 event lines all stamped in the minute after the log's last line.
        minute = int(lines[-1][1:11]) // 60 * 60 + 60
        busy = b"".join(b"[%d]" % (minute + i % 60) + line[12:] for i, line in enumerate(lines[-2000:]))
        del lines  # the children forked to measure start without these pages
        port = listener()
        tick = [
            *nagtune(),
            "collect",
            log,
            "--state-dir",
            os.path.join(work, "state"),
            "--node",
            "nagios-c0001-01",
            "--graphite",
            f"127.0.0.1:{port}",
        ]
        subprocess.run(tick, check=True)
        quiet, busy_runs, bare = [], [], []
        for _ in range(args.rounds * 3):
            bare.append(run([sys.executable, "-c", "pass"]))
            quiet.append(run(tick))
            with open(log, "ab") as handle:
                handle.write(busy)
            busy_runs.append(run(tick))
        med = {
            name: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), max(r[2] for r in v))
            for name, v in (("quiet", quiet), ("busy", busy_runs), ("bare", bare))
        }
        shape = "cell node log, 2,000 hosts; Graphite plaintext to a local listener"
        for name, what in (("quiet", "nothing new"), ("busy", "one busy minute, 2,000 lines")):
            ours = med[name]
            ratio = ours[0] / med["bare"][0]
            rows.append(
                [
                    f"collect cron tick, {what}",
                    round(ours[0], 3),
                    round(ours[1], 3),
                    round(ours[2]),
                    "python -c pass",
                    round(med["bare"][0], 3),
                    round(med["bare"][1], 3),
                    f"{ratio:.2f}",
                    "<= 2 (nagtune/pass wall)",
                    "nagtune collect nagios.log --graphite HOST",
                    shape,
                    os.cpu_count(),
                    round(load, 2),
                ]
            )
            print(
                f"tick {what}: {ours[0] * 1000:.0f} ms wall {ours[1] * 1000:.0f} ms CPU | python -c pass "
                f"{med['bare'][0] * 1000:.0f} ms | nagtune/pass {ratio:.2f} (target <= 2)"
            )
    print(f"load average at start: {load:.2f} on {os.cpu_count()} cores")
    new = not os.path.exists(args.csv)
    with open(args.csv, "a", newline="") as handle:
        out = csv.writer(handle)
        if new:
            out.writerow(
                [
                    "measure",
                    "nagtune_wall_s",
                    "nagtune_cpu_s",
                    "nagtune_peak_rss_mib",
                    "peer",
                    "peer_wall_s",
                    "peer_cpu_s",
                    "ratio",
                    "target",
                    "command",
                    "data",
                    "cpus",
                    "load_1min",
                ]
            )
        out.writerows(rows)


if __name__ == "__main__":
    main()
