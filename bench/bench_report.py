"""The weekly report for a synthetic fleet: time and peak RSS, with the ingest alone beside it.

    python bench/bench_report.py                         # 1,000 nodes x 7 days
    python bench/bench_report.py --nodes 100 --csv bench/results_report.csv

The fleet is seeded (``nagtune.synth``): one directory per node with hourly
gzipped archives, as Nagios rotates them, each archive opening with the
state snapshot Nagios writes after a rotation. Lines per node are kept
modest (``--lines-per-node`` problem lines, ``--hosts`` hosts per node) so
1,000 nodes fit a 2-core machine; the total line count is printed.

Two separate processes, each with its own peak memory:
1. ingest alone: ``analytics.sources.ingest.load_events`` over every archive;
2. the full report, as ``nagtune report FLEET --since 7d --out DIR`` runs it:
   ingest again (no cache), every analytics stage (in forked processes, a
   share of whole nodes each, as the report's default does from a million
   events), plots (drawn in a forked process while the tables are written),
   HTML, Markdown, tables, history. It also prints its own stage times.
Target: (2) takes at most twice (1), in at most 2 GB. Peak memory is the
proportional set size summed over the process and the ones it forks, sampled
(:mod:`treemem`: forked children share their parent's pages, which an RSS sum
would count in each). Each runs ``--runs`` times (3), interleaved; the table
shows medians (peak memory: the largest).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time

import treemem

INGEST = """
import json, sys, time
from nagtune.analytics.sources import ingest
start = time.perf_counter()
events = ingest.load_events([sys.argv[1]])
print(json.dumps({"events": len(events), "lines": int(events.attrs.get("lines", 0)),
                  "seconds": time.perf_counter() - start}))
"""

REPORT = """
import json, sys, time
from nagtune.analytics.run import api
from nagtune.analytics.sources import ingest
from nagtune.analytics.report import build as report
t0 = time.perf_counter()
events = ingest.load_events([sys.argv[1]])
t1 = time.perf_counter()
start, end = report.resolve_window("7d", None, events["time"].max())
events = ingest.window(events, start, end)  # as report.analyze_window does
analysis = api.analyze(events, until=end)  # its default: forked shares of nodes from a million events
t2 = time.perf_counter()
result = report.build_report(analysis, sys.argv[2], start, end)
t3 = time.perf_counter()
print(json.dumps({"ingest": t1 - t0, "analyze": t2 - t1, "report": t3 - t2,
                  "alerts": result.summary["alerts"], "chatty": result.summary["chatty_services"]}))
"""


def run(argv: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, peak MiB (PSS summed over the process and the ones it forks) and its JSON line."""
    result = treemem.measure(argv)
    return result["seconds"], result["pss_sum_mib"], json.loads(result["stdout"].splitlines()[-1])


def make_fleet(directory: str, nodes: int, lines_per_node: int, hosts: int, seed: int, days: float) -> int:
    """generate_fleet's layout and names, with ``hosts`` hosts per node; returns lines written."""
    from nagtune.synth import generate_node

    written = 0
    for index in range(nodes):
        node = "nagios-global01" if index == 0 else f"nagios-c{index:04d}-01"
        written += generate_node(
            os.path.join(directory, node),
            node,
            lines_per_node,
            seed=seed,
            days=days,
            hosts=hosts,
            archives=True,
            gzip_archives=True,
        )
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--lines-per-node", type=int, default=600, help="problem lines per node (snapshots extra)")
    parser.add_argument("--hosts", type=int, default=3, help="monitored hosts per node")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="keep the fleet and the report in this directory")
    parser.add_argument("--csv", help="also append the result to this CSV file")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each; medians are reported")
    args = parser.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="nagtune-bench-report-")
    fleet, out = os.path.join(work, "fleet"), os.path.join(work, "report")
    started = time.perf_counter()
    if not os.path.isdir(fleet):
        make_fleet(fleet, args.nodes, args.lines_per_node, args.hosts, args.seed, args.days)
    files = sum(len(names) for _, _, names in os.walk(fleet))
    print(
        f"fleet: {args.nodes:,} nodes x {args.days:g} days, {files:,} files "
        f"(made in {time.perf_counter() - started:.0f} s)"
    )

    py = sys.executable
    # Interleaved, medians: on a shared machine one pair of runs can differ by a
    # fifth from the next (1.73x and 2.19x on the same code, minutes apart).
    pairs = []
    for _ in range(args.runs):
        pairs.append((run([py, "-c", INGEST, fleet]), run([py, "-c", REPORT, fleet, out])))
    ratios = [report[0] / ingest_run[0] for ingest_run, report in pairs]
    ingest_wall = statistics.median(i[0] for i, _ in pairs)
    report_wall = statistics.median(r[0] for _, r in pairs)
    ingest_rss = max(i[1] for i, _ in pairs)
    report_rss = max(r[1] for _, r in pairs)
    ingest = pairs[0][0][2]
    stages = {key: statistics.median(r[2][key] for _, r in pairs) for key in ("ingest", "analyze", "report")}
    stages.update(alerts=pairs[0][1][2]["alerts"], chatty=pairs[0][1][2]["chatty"])
    ratio = report_wall / ingest_wall
    print(f"{ingest['lines']:,} lines, {ingest['events']:,} events")
    print(f"{'run':30} {'seconds':>8} {'peak MiB (PSS, tree)':>21}")
    print(f"{'ingest alone':30} {ingest_wall:8.1f} {ingest_rss:21.0f}")
    print(f"{'full report (nagtune report)':30} {report_wall:8.1f} {report_rss:21.0f}")
    print(
        f"  stages: ingest {stages['ingest']:.1f} s, analytics {stages['analyze']:.1f} s, "
        f"report (tables, plots, HTML, Markdown, history) {stages['report']:.1f} s"
    )
    if args.runs > 1:
        print(
            f"medians of {args.runs} interleaved runs; report / ingest in each: "
            + ", ".join(f"{r:.2f}" for r in ratios)
        )
    print(
        f"report / ingest = {ratio:.2f} (target <= 2.0), peak {report_rss:,.0f} MiB (target <= 2048); "
        f"{stages['alerts']:,} alerts, {stages['chatty']} chatty services"
    )
    if args.csv:
        new = not os.path.exists(args.csv)
        with open(args.csv, "a", newline="") as handle:
            row = {
                "date": time.strftime("%Y-%m-%d"),
                "nodes": args.nodes,
                "days": args.days,
                "lines": ingest["lines"],
                "files": files,
                "ingest_s": round(ingest_wall, 2),
                "ingest_peak_mib": round(ingest_rss),
                "report_s": round(report_wall, 2),
                "report_peak_mib": round(report_rss),
                "analytics_s": round(stages["analyze"], 2),
                "report_stage_s": round(stages["report"], 2),
                "ratio": round(ratio, 2),
            }
            writer = csv.DictWriter(handle, list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if ratio > 2.0 or report_rss > 2048:
        sys.exit(1)


if __name__ == "__main__":
    main()
