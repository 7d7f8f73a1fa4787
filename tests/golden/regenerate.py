"""Rewrite the .golden files from the current parser.

Run only when a change of output is intended, then read the diff:
    python tests/golden/regenerate.py && git diff tests/golden
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from tests.golden_cases import GOLDEN_CASES, render_events, render_metrics  # noqa: E402

for case in GOLDEN_CASES:
    case.events_golden.write_text(render_events(case.log), encoding="utf-8")
    case.metrics_golden.write_text(render_metrics(case.log, case.node), encoding="utf-8")
    print("wrote", case.events_golden.name, case.metrics_golden.name)
