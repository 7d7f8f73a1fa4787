"""The golden pairs: a log and, next to it, the events and metrics it must give.

Hand-written grammar cases live in tests/golden/*.log; the real Nagios 4
samples in data/samples/<node>/ get their goldens in tests/golden/samples/.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

from nagtune.parsers.identity import identify
from nagtune.parsers.logfiles import node_log_files, open_log
from nagtune.parsers.metrics import MetricNamer, plaintext
from nagtune.parsers.nagios import iter_lines, parse_line
from nagtune.parsers.scan import scan_stream

ROOT = pathlib.Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SAMPLES = ROOT / "data" / "samples"


@dataclass(frozen=True)
class GoldenCase:
    log: pathlib.Path
    node: str
    events_golden: pathlib.Path
    metrics_golden: pathlib.Path

    @property
    def id(self) -> str:
        return self.events_golden.name.removesuffix(".events.golden")


def _cases() -> list[GoldenCase]:
    cases = [
        GoldenCase(log, "nagios-c0001-01", log.with_suffix(".events.golden"), log.with_suffix(".metrics.golden"))
        for log in sorted(GOLDEN.glob("*.log"))
    ]
    for node_dir in sorted(p for p in SAMPLES.glob("*") if p.is_dir()):
        for log in node_log_files(str(node_dir)):
            log = pathlib.Path(log)
            stem = f"{node_dir.name}__{log.name.removesuffix('.gz').removesuffix('.log')}"
            cases.append(
                GoldenCase(
                    log,
                    node_dir.name,
                    GOLDEN / "samples" / f"{stem}.events.golden",
                    GOLDEN / "samples" / f"{stem}.metrics.golden",
                )
            )
    return cases


GOLDEN_CASES = _cases()


def render_events(log: pathlib.Path) -> str:
    with open_log(str(log)) as stream:
        return "".join(json.dumps(parse_line(line)._asdict(), ensure_ascii=False) + "\n" for line in iter_lines(stream))


def render_metrics(log: pathlib.Path, node: str) -> str:
    namer = MetricNamer(identify(node, environment="test"), prefix="nagios")
    with open_log(str(log)) as stream:
        result = scan_stream(stream)
    header = f"# lines={result.lines} unparsed={result.unparsed}\n"
    return header + plaintext(result.points(namer))
