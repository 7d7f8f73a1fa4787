"""Analytics at fleet scale: nagtune rank vs naive pandas vs awk, same run, same files.

    python bench/bench_analytics.py                  # 10,000,000 seeded synthetic lines, 20 nodes
    python bench/bench_analytics.py --lines 1000000  # smaller

The archive set comes from ``nagtune.fleetgen.generate_fleet`` (one global,
one mixed and 2,000-host cell nodes, daily archives, the older gzipped, a
live nagios.log per node; ``--shape small``: ``nagtune.synth``'s 20-host
nodes in hourly archives), seeded, written once per
--shape/--lines/--nodes/--seed under --out. Each contender runs as its own process;
peak RSS is the kernel's (``wait4``). Contenders, all over the same files:

- nagtune rank: ``nagtune rank --by host_service --format csv`` (through
  its click entry point, output captured): ingest, episodes and ranking, in
  one worker process per core (groups of whole nodes) as by default;
- nagtune, one process: ``load_events`` + ``build_episodes`` +
  ``rank_chatty`` in one process (what a notebook holding the events frame
  does); its table must equal nagtune rank's;
- naive pandas: every line into a Series, one ``str.extract`` regex, then
  top producers by host and service (what one writes first);
- awk: ``zcat -f`` piped into ``awk`` counting SERVICE ALERT lines per
  host;service, ``sort -rn``;
- nagtune rank with ``--cache-dir``: a first run, a re-run on unchanged logs
  (what the first printed is printed again), and a re-run after one line was appended to
  every node's live nagios.log (the ingest cache reads the new bytes only;
  everything after it runs again). The appended lines are cut off afterwards.

Peak RSS is the larger of the kernel's and the process tree's, sampled.
The one-process run, naive pandas and awk must find the same number of
SERVICE ALERT lines, and the two nagtune tables must be equal. Results are
appended to ``bench/results_analytics.csv``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import sys
import tempfile
import time

import treemem

NAGTUNE = r"""
import hashlib, sys, time
from nagtune.analytics.sources.ingest import load_events
from nagtune.analytics.findings.episodes import build_episodes
from nagtune.analytics.findings.chatty import rank_chatty
t0 = time.perf_counter()
events = load_events([sys.argv[1]])
t1 = time.perf_counter()
episodes = build_episodes(events)
ranked = rank_chatty(events, episodes, by="host_service")
t2 = time.perf_counter()
digest = hashlib.sha256(ranked.to_csv(index=False).encode()).hexdigest()[:12]
print(int((events["kind"] == "service_alert").sum()), f"ingest={t1 - t0:.2f}", f"rank={t2 - t1:.2f}",
      f"rows={len(events)}", f"table={digest}")
"""

# `nagtune rank` as a user runs it (the console script's entry point); prints a digest of its CSV.
NAGTUNE_RANK = r"""
import contextlib, hashlib, io, sys
from nagtune.cli import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    cli.main(args=["rank", "--by", "host_service", "--format", "csv", *sys.argv[1:]], standalone_mode=False)
text = out.getvalue()
print(f"table={hashlib.sha256(text.encode()).hexdigest()[:12]}", f"ranked={text.count(chr(10)) - 1}")
"""

NAIVE_PANDAS = r"""
import gzip, sys, glob, os
import pandas as pd
from nagtune.parsers.logfiles import node_log_files
lines = []
for node in sorted(glob.glob(os.path.join(sys.argv[1], '*'))):
    for path in node_log_files(node):
        opener = gzip.open if path.endswith('.gz') else open
        with opener(path, 'rt', encoding='utf-8', errors='replace') as handle:
            lines.extend(handle.read().splitlines())
series = pd.Series(lines, dtype=object)
del lines
fields = series.str.extract(r'^\[(\d+)\] ([A-Z ]+): ([^;]*);([^;]*);([^;]*);?([^;]*);?([^;]*);?(.*)$')
alerts = fields[fields[1] == 'SERVICE ALERT']
top = alerts.groupby([2, 3]).size().sort_values(ascending=False)
print(int(top.sum()))
"""

AWK = r"""
cd "$1" && for node in */; do zcat -f "$node"archives/* "$node"nagios.log; done \
 | awk -F': ' '$1 ~ / SERVICE ALERT$/ { split($2, f, ";"); c[f[1] ";" f[2]]++ } END { for (k in c) print c[k], k }' \
 | sort -rn > "$2"
awk '{ s += $1 } END { print s }' "$2"
"""


def measure(command: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak memory (MiB) two ways, and stdout of one process.

    Both peaks are sampled every 0.2 s over the process and the workers it
    forks (:mod:`treemem`): the RSS sum counts pages a worker shares with its
    parent in each (an upper bound), the PSS sum divides them (what the tree
    holds); each is at least the kernel's peak for the largest process.
    """
    result = treemem.measure(command)
    return result["seconds"], result["rss_sum_mib"], result["pss_sum_mib"], result["stdout"]


@contextlib.contextmanager
def grown_live_logs(directory: str):
    """One more line at the end of every node's live nagios.log, cut off again afterwards."""
    grown = []
    try:
        for node in sorted(os.listdir(directory)):
            live = os.path.join(directory, node, "nagios.log")
            if os.path.isfile(live):
                size = os.path.getsize(live)
                with open(live, "ab") as handle:
                    handle.write(b"[2000000000] SERVICE ALERT: bench-host;bench;CRITICAL;SOFT;1;grown\n")
                grown.append((live, size))
        yield
    finally:
        for live, size in grown:
            os.truncate(live, size)


def fleet(out: str, lines: int, nodes: int, seed: int, shape: str = "realistic") -> str:
    """The fleet's directory, written once: fleetgen's nodes (one global, one mixed, the rest
    2,000-host cells; daily archives, the older gzipped) or synth's small 20-host ones."""
    directory = os.path.join(out, f"fleet-{shape}-{lines}-{nodes}-{seed}")
    marker = os.path.join(directory, ".complete")
    if not os.path.exists(marker):
        shutil.rmtree(directory, ignore_errors=True)
        if shape == "realistic":
            from nagtune.fleetgen import generate_fleet

            for node_shape in generate_fleet(directory, nodes, lines, seed=seed):
                print(node_shape.describe())
        else:
            from nagtune.synth import generate_fleet

            generate_fleet(directory, nodes, lines, seed=seed, gzip_archives=True)
        open(marker, "w").close()
    return directory


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--shape",
        choices=("realistic", "small"),
        default="realistic",
        help="realistic: nagtune.fleetgen's nodes; small: nagtune.synth's 20-host nodes",
    )
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "nagtune-bench-analytics"))
    parser.add_argument("--skip-naive", action="store_true", help="Do not run the naive pandas ingest.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    directory = fleet(args.out, args.lines, args.nodes, args.seed, args.shape)
    generated = time.perf_counter() - started
    files = sum(len(f) for _, _, f in os.walk(directory))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(directory) for f in fs)
    print(f"fleet: {directory} ({files} files, {size / 1e6:.0f} MB on disk, generated in {generated:.0f}s)")
    python = sys.executable
    results = {}
    results["nagtune rank"] = measure([python, "-c", NAGTUNE_RANK, directory])
    results["nagtune one process"] = measure([python, "-c", NAGTUNE, directory])
    awk_out = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
    results["awk"] = measure(["bash", "-c", AWK, "awk", directory, awk_out])
    cache = tempfile.mkdtemp(prefix="nagtune-cache-")
    try:
        results["rank cache first"] = measure([python, "-c", NAGTUNE_RANK, "--cache-dir", cache, directory])
        results["rank cache rerun"] = measure([python, "-c", NAGTUNE_RANK, "--cache-dir", cache, directory])
        with grown_live_logs(directory):
            results["rank rerun, logs grown"] = measure([python, "-c", NAGTUNE_RANK, "--cache-dir", cache, directory])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if not args.skip_naive:
        results["naive pandas"] = measure([python, "-c", NAIVE_PANDAS, directory])
    alerts = {
        name: int(results[name][3].split()[0])
        for name in ("nagtune one process", "awk", "naive pandas")
        if name in results
    }
    if len(set(alerts.values())) != 1:
        raise SystemExit(f"contenders disagree on SERVICE ALERT lines: {alerts}")
    tables = {
        name: out.split("table=")[1].split()[0]
        for name, (_, _, _, out) in results.items()
        if "table=" in out and "grown" not in name
    }
    if len(set(tables.values())) != 1:
        raise SystemExit(f"nagtune's tables differ: {tables}")
    print(f"{'contender':24} {'seconds':>8} {'peak MiB, RSS sum':>18} {'PSS sum':>8}  output")
    for name, (seconds, rss, pss, out) in results.items():
        print(f"{name:24} {seconds:8.1f} {rss:18.0f} {pss:8.0f}  {out}")
    nag = results["nagtune rank"][0]
    ratios = {
        "vs naive pandas (x faster)": results["naive pandas"][0] / nag if "naive pandas" in results else float("nan"),
        "vs awk (x faster)": results["awk"][0] / nag,
        "rerun speed-up (x)": results["rank cache first"][0] / results["rank cache rerun"][0],
        "rerun, logs grown (x)": results["rank cache first"][0] / results["rank rerun, logs grown"][0],
    }
    for name, value in ratios.items():
        print(f"{name:28} {value:6.2f}")
    row = {
        "date": time.strftime("%Y-%m-%d"),
        "lines": args.lines,
        "nodes": args.nodes,
        "files": files,
        "alerts": next(iter(alerts.values())),
        "cpus": os.cpu_count(),
    }
    for name, (seconds, rss, pss, _) in results.items():
        key = name.replace(",", "").replace(" ", "_")
        row[f"{key}_s"] = round(seconds, 2)
        row[f"{key}_peak_mb"] = round(rss)
        row[f"{key}_pss_mb"] = round(pss)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results_analytics.csv")
    names = (
        "nagtune rank",
        "nagtune one process",
        "awk",
        "rank cache first",
        "rank cache rerun",
        "rank rerun logs grown",
        "naive pandas",
    )
    fields = ["date", "lines", "nodes", "files", "alerts", "cpus"] + [
        f"{n.replace(' ', '_')}_{m}" for n in names for m in ("s", "peak_mb", "pss_mb")
    ]
    if os.path.exists(path):
        with open(path, newline="") as handle:
            changed = next(csv.reader(handle), None) != fields
        if changed:  # the contenders or columns changed: keep the old rows aside, never over older ones
            aside, number = path.replace(".csv", f"-until-{time.strftime('%Y%m%d')}.csv"), 1
            while os.path.exists(aside):
                number += 1
                aside = path.replace(".csv", f"-until-{time.strftime('%Y%m%d')}-{number}.csv")
            os.replace(path, aside)
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


if __name__ == "__main__":
    main()
