"""Where the report tests get their logs: the real Nagios samples when present."""
from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "data", "samples")
SAMPLE_NODE = "nagios-c0001-01"


def sample_log() -> str:
    """The c0001 node's nagios.log from data/samples (a real Nagios 4 log)."""
    path = os.path.join(SAMPLES, SAMPLE_NODE, "nagios.log")
    if not os.path.isfile(path):
        import tempfile

        from nagtune.synth import generate_node

        path = os.path.join(tempfile.mkdtemp(prefix="nagtune-sample-"), "nagios.log")
        generate_node(path, SAMPLE_NODE, 3000, days=2)
    return path
