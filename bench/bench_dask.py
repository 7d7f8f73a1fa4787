"""nagtune at fleet scale: the Dask engine on 1 then 2 workers over a large store.

    python bench/bench_dask.py [--lines 50000000] [--nodes 200] [--days 14]
                               [--memory-limit 1GB] [--workdir /tmp/nagtune-bench-dask]

1. A seeded synthetic fleet (``nagtune.synth``, hourly archives, gzipped) is
   written once into WORKDIR/logs and ingested into WORKDIR/store with
   ``nagtune ingest`` (timed; re-runs reuse both).
2. The full analysis (episodes, ranking, quiet, retunes, names, automation)
   runs with ``--engine dask`` on a LocalCluster of 1, then 2 worker
   processes, each worker limited to MEMORY_LIMIT: wall time and peak RSS
   of each worker (VmHWM, read on the worker).
   The in-memory size of the events is estimated from a sample node, to show
   the store is several times larger than the workers' memory.
3. The pandas engine on the part that fits in memory (a window of the first
   days), and the Dask engine (2 workers) on the same window, in the same run.

Prints a table and writes bench/results_dask.csv.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _generate(args):
    from nagtune.synth import generate_node

    path, node, lines, seed, days = args
    return generate_node(path, node, lines, seed=seed, days=days, archives=True, gzip_archives=True)


def make_fleet(directory: str, nodes: int, lines: int, days: float, seed: int) -> None:
    if os.path.exists(os.path.join(directory, ".complete")):
        return
    names = ["nagios-global01"] + [f"nagios-c{i:04d}-01" for i in range(1, nodes)]
    jobs = [(os.path.join(directory, n), n, lines // nodes, seed, days) for n in names]
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        written = sum(pool.map(_generate, jobs))
    with open(os.path.join(directory, ".complete"), "w") as handle:
        handle.write(str(written))


def du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def maxrss_mb() -> float:
    """Peak RSS of this process image (VmHWM: unlike ru_maxrss it does not carry the parent's
    peak across fork+exec, which is how Dask starts its workers)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dask(store_dir: str, workers: int, memory_limit: str, **window) -> dict:
    from distributed import Client, LocalCluster

    from nagtune.analytics.run import engine

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=":0",
            silence_logs=50,
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        analysis = engine.analyze_store(store_dir, engine="dask", scheduler=cluster.scheduler_address, **window)
        seconds = time.perf_counter() - started
        peaks = client.run(maxrss_mb)
    return {
        "seconds": seconds,
        "worker_peak_mb": sorted(peaks.values()),
        "episodes": len(analysis.episodes),
        "chatty": len(analysis.chatty),
    }


def run_pandas(store_dir: str, **window) -> dict:
    """In a child process, so its peak RSS is its own."""
    code = (
        "import json,resource,sys,time\nfrom nagtune.analytics.run import engine\n"
        "t=time.perf_counter()\n"
        f"a=engine.analyze_store({store_dir!r}, engine='pandas', **{window!r})\n"
        "print(json.dumps({'seconds': time.perf_counter()-t, 'peak_mb': "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, 'episodes': len(a.episodes), "
        "'events': len(a.events)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    import json

    return json.loads(out.strip().splitlines()[-1])


def event_bytes_per_row(store_dir: str) -> float:
    from nagtune.analytics.sources import store

    node = store.nodes(store_dir)[1]
    frame = store.read_node(store_dir, node)
    return frame.memory_usage(deep=True).sum() / max(1, len(frame))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000_000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-limit", default="1GB", help="per Dask worker")
    parser.add_argument("--fit-days", type=float, default=3, help="window of the pandas engine comparison")
    parser.add_argument("--workdir", default="/tmp/nagtune-bench-dask")
    args = parser.parse_args()

    from nagtune.analytics.sources import store
    from nagtune.synth import START

    logs = os.path.join(args.workdir, f"logs-{args.lines}-{args.nodes}-{args.days:g}-{args.seed}")
    store_dir = logs + "-store"
    os.makedirs(logs, exist_ok=True)
    t = time.perf_counter()
    make_fleet(logs, args.nodes, args.lines, args.days, args.seed)
    print(f"fleet: {logs} ({du(logs) / 1e9:.2f} GB on disk, written in {time.perf_counter() - t:.0f} s)", flush=True)
    ingest_seconds, ingest_peak = None, "(an earlier run)"
    if not os.path.exists(os.path.join(store_dir, store.MANIFEST)):
        t = time.perf_counter()
        summary = store.ingest_paths(logs, store_dir)
        ingest_seconds = time.perf_counter() - t
        print(f"ingest: {summary} in {ingest_seconds:.0f} s", flush=True)
        ingest_peak = f"{maxrss_mb():.0f}"
        with open(os.path.join(store_dir, "bench-ingest-seconds"), "w") as handle:
            handle.write(str(ingest_seconds))
    else:
        with open(os.path.join(store_dir, "bench-ingest-seconds")) as handle:
            ingest_seconds = float(handle.read())
    manifest = store.load_manifest(store_dir)
    rows = sum(info["rows"] for name, info in manifest["partitions"].items() if name.startswith("events/"))
    per_row = event_bytes_per_row(store_dir)
    in_memory = rows * per_row
    print(
        f"store: {rows:,} events, {du(store_dir) / 1e9:.2f} GB Parquet, ~{in_memory / 1e9:.1f} GB as a "
        f"DataFrame ({per_row:.0f} B/row)",
        flush=True,
    )

    results = []
    one = run_dask(store_dir, 1, args.memory_limit)
    print(f"dask 1 worker: {one}", flush=True)
    two = run_dask(store_dir, 2, args.memory_limit)
    print(f"dask 2 workers: {two}", flush=True)
    import pandas as pd

    window = {
        "since": str(pd.Timestamp(START, unit="s", tz="UTC")),
        "until": str(pd.Timestamp(START, unit="s", tz="UTC") + pd.Timedelta(days=args.fit_days)),
    }
    fit_pandas = run_pandas(store_dir, **window)
    print(f"pandas, first {args.fit_days:g} days: {fit_pandas}", flush=True)
    fit_dask = run_dask(store_dir, 2, args.memory_limit, **window)
    print(f"dask 2 workers, same window: {fit_dask}", flush=True)
    assert fit_dask["episodes"] == fit_pandas["episodes"], "engines disagree"

    results = [
        ("ingest (1 process)", f"{rows:,}", ingest_seconds, "", ingest_peak, ""),
        (
            "dask, 1 worker",
            f"{rows:,}",
            one["seconds"],
            args.memory_limit,
            "/".join(f"{m:.0f}" for m in one["worker_peak_mb"]),
            "1.00",
        ),
        (
            "dask, 2 workers",
            f"{rows:,}",
            two["seconds"],
            args.memory_limit,
            "/".join(f"{m:.0f}" for m in two["worker_peak_mb"]),
            f"{one['seconds'] / two['seconds']:.2f}",
        ),
        (
            f"pandas, first {args.fit_days:g} days",
            f"{fit_pandas['events']:,}",
            fit_pandas["seconds"],
            "none",
            f"{fit_pandas['peak_mb']:.0f}",
            "1.00",
        ),
        (
            f"dask 2 workers, first {args.fit_days:g} days",
            f"{fit_pandas['events']:,}",
            fit_dask["seconds"],
            args.memory_limit,
            "/".join(f"{m:.0f}" for m in fit_dask["worker_peak_mb"]),
            f"{fit_pandas['seconds'] / fit_dask['seconds']:.2f}",
        ),
    ]
    header = ("run", "events", "seconds", "memory limit/worker", "peak RSS MB (per worker)", "speed-up")
    print()
    print(f"store {du(store_dir) / 1e9:.2f} GB Parquet, ~{in_memory / 1e9:.1f} GB in memory; {os.cpu_count()} cores")
    print(" | ".join(header))
    for row in results:
        print(" | ".join("" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v)) for v in row))
    with open(os.path.join(HERE, "results_dask.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header + ("store_parquet_gb", "store_in_memory_gb", "cores"))
        for row in results:
            writer.writerow(
                [("" if v is None else (round(v, 1) if isinstance(v, float) else v)) for v in row]
                + [round(du(store_dir) / 1e9, 2), round(in_memory / 1e9, 1), os.cpu_count()]
            )


if __name__ == "__main__":
    main()
