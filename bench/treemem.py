"""Peak memory of a process and every process it forks, sampled while it runs.

Forked workers map their parent's pages until they write to them, so the sum
of RSS over the tree counts those shared pages once per process (an upper
bound), and the kernel's ``wait4`` peak is the largest single process (a
lower bound). The proportional set size (``Pss`` in ``smaps_rollup``: each
shared page divided among the processes that map it) sums to what the tree
really holds; the benchmarks print it beside the RSS sum.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time


def tree(root: int) -> set[int]:
    """``root`` and all its descendants now."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found


def tree_mib(root: int) -> tuple[float, float]:
    """(sum of RSS, sum of PSS) over ``root``'s tree now, in MiB."""
    rss = pss = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return rss / 1024, pss / 1024


def measure(command: list[str], interval: float = 0.2) -> dict:
    """Run ``command``: wall seconds, stdout, and peak MiB as the kernel's ``wait4`` (largest
    single process), the RSS sum over its tree and the PSS sum over its tree (sampled)."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
    peaks = [0.0, 0.0]
    done = threading.Event()

    def sample():
        while not done.wait(interval):
            rss, pss = tree_mib(process.pid)
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    out.seek(0)
    kernel = usage.ru_maxrss / 1024
    return {
        "seconds": wall,
        "stdout": out.read().decode().strip(),
        "wait4_mib": kernel,
        "rss_sum_mib": max(kernel, peaks[0]),
        "pss_sum_mib": max(kernel, peaks[1]),
    }
