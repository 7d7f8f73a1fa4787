"""Inputs of the report tests: the real Nagios samples, plus one hostile node.

The samples (``data/samples/<node>/``) are real Nagios 4 logs; while they are
not in the checkout a seeded synthetic fleet stands in. The hostile node's
names and plugin output are what an attacker who controls a monitored host,
or a careless service description, can put in the log.
"""

from __future__ import annotations

import glob
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# NAGTUNE_TEST_SAMPLES: run the report tests on other node directories (e.g. make_samples --quick).
SAMPLES = os.environ.get("NAGTUNE_TEST_SAMPLES") or os.path.join(ROOT, "data", "samples")
SAMPLE_NODE = "nagios-c0001-01"
HOSTILE_NODE = "nagios-c0666-01"
HOSTILE_OUTPUT = "<script>alert('output')</script> CRITICAL =1+2"
HOSTILE_SERVICE = "<img src=x onerror=alert(1)> =cmd|' /C calc'!A0"
HOSTILE_HOST = "-2+3@evil.example"


def sample_dirs() -> list[str]:
    return (
        sorted(
            os.path.join(SAMPLES, name)
            for name in os.listdir(SAMPLES)
            if os.path.isfile(os.path.join(SAMPLES, name, "nagios.log"))
        )
        if os.path.isdir(SAMPLES)
        else []
    )


def sample_node_files() -> list[str]:
    """The c0001 node's logs from the samples (a real Nagios 4): archives, then nagios.log."""
    node = os.path.join(SAMPLES, SAMPLE_NODE)
    if not os.path.isfile(os.path.join(node, "nagios.log")):
        import tempfile

        from nagtune.synth import generate_node

        node = os.path.join(tempfile.mkdtemp(prefix="nagtune-sample-"), SAMPLE_NODE)
        generate_node(node, SAMPLE_NODE, 3000, days=2, archives=True, gzip_archives=True)
    archives = sorted(glob.glob(os.path.join(node, "archives", "*.log*")))
    return archives + [os.path.join(node, "nagios.log")]


def write_hostile_node(directory: str, start: int) -> str:
    """A node whose one service flaps every 10 minutes for a day with hostile names and output."""
    node_dir = os.path.join(directory, HOSTILE_NODE)
    os.makedirs(node_dir, exist_ok=True)
    lines = [f"[{start}] LOG VERSION: 2.0"]
    who = f"{HOSTILE_HOST};{HOSTILE_SERVICE}"
    for step in range(144):
        t = start + step * 600
        lines += [
            f"[{t}] SERVICE ALERT: {who};CRITICAL;SOFT;1;{HOSTILE_OUTPUT}",
            f"[{t + 60}] SERVICE ALERT: {who};CRITICAL;HARD;2;{HOSTILE_OUTPUT}",
            f"[{t + 60}] SERVICE NOTIFICATION: oncall;{who};CRITICAL;notify-by-email;{HOSTILE_OUTPUT}",
            f"[{t + 180}] SERVICE ALERT: {who};OK;HARD;2;OK - fine",
            f"[{t + 180}] SERVICE NOTIFICATION: oncall;{who};OK;notify-by-email;OK - fine",
        ]
    with open(os.path.join(node_dir, "nagios.log"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return node_dir


def report_inputs(directory: str) -> list[str]:
    """Node directories: the samples (or a synthetic stand-in) and the hostile node."""
    nodes = sample_dirs()
    if not nodes:
        from nagtune.synth import generate_fleet

        nodes = generate_fleet(os.path.join(directory, "fleet"), 3, 12000, days=7, gzip_archives=True)
    copies = []
    for node in nodes:
        target = os.path.join(directory, "in", os.path.basename(node))
        shutil.copytree(node, target)
        copies.append(target)
    newest = _newest_epoch(copies)
    copies.append(write_hostile_node(os.path.join(directory, "in"), newest - 86400 - 3600))
    return copies


def _newest_epoch(node_dirs: list[str]) -> int:
    newest = 0
    for node in node_dirs:
        with open(os.path.join(node, "nagios.log"), "rb") as handle:
            for line in handle:
                if line.startswith(b"[") and b"]" in line[:14]:
                    newest = max(newest, int(line[1 : line.index(b"]")]))
    return newest
