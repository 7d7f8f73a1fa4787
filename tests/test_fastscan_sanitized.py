"""The C scanner and the C ingest splitter under AddressSanitizer and UBSan, on mutated real logs.

It reads bytes from monitored machines, so an out-of-bounds read or an
overflow there is a security bug, not a wrong count. This builds
``parsers/_fastscan.c`` with the sanitizers into a temporary directory, runs
it in a child process over a few hundred mutated copies of the real c0001
log (bytes flipped to separators, NULs, invalid UTF-8; a 1 MB notification
line), and checks that it reads each as the Python scanner does. Any
invalid memory access aborts the child. The same for
``analytics/sources/_fastingest.c``, whose rows must equal the regex path's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import importlib.util, random, sys
spec = importlib.util.spec_from_file_location("_fastscan", sys.argv[1])
sanitized = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sanitized)
from collections import Counter
from nagtune.parsers import scan
sys.path.insert(0, sys.argv[5])
from tests.test_parser_properties import python_tally_as_c_keeps_it

def expected(buffer):
    by_minute, _, lines, matched = python_tally_as_c_keeps_it(buffer)
    return lines, matched, by_minute

data = open(sys.argv[2], "rb").read()
rng = random.Random(int(sys.argv[3]))
for case in range(int(sys.argv[4])):
    buffer = bytearray(data[rng.randrange(len(data) // 2):][:rng.randrange(1, 100_000)])
    for _ in range(rng.randrange(0, 200)):
        buffer[rng.randrange(len(buffer))] = rng.choice(b";\n\r[] :0123456789\x00\xffSOKHARD")
    if case % 50 == 0:
        buffer += b"[1700000000] SERVICE NOTIFICATION: " + b"x" * (1 << 20) + b";h;s;CRITICAL;c;o"
    buffer = bytes(buffer)
    by_minute, texts, lines, matched = sanitized.tally(buffer, Counter)
    got = (lines, matched, {m: dict(b) for m, b in by_minute.items()})
    assert got == expected(buffer), case
    names = ["n%d" % k for k in range(rng.randrange(0, 300))]
    numbers = [rng.randrange(-2**63, 2**63) for _ in names]
    assert sanitized.plaintext(names, numbers, numbers[::-1]) == scan._plaintext_in_python(names, numbers, numbers[::-1])
    columns = sanitized.named_columns(by_minute, {t: "x" if len(t) % 2 else t.decode("latin-1") for t in texts})
    assert len(columns) == 3
print("ok")
"""


INGEST_CHILD = r"""
import importlib.util, random, sys
import numpy as np
spec = importlib.util.spec_from_file_location("_fastingest", sys.argv[1])
sanitized = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sanitized)
from nagtune.analytics.sources import ingest
from nagtune.parsers import grammar
sanitized.set_types(grammar.splitter_types(), grammar.splitter_prefixes())

def parsed(buffers, splitter, with_texts=True):
    ingest._compiled = splitter
    frame, lines, unparsed = ingest.parse_buffers(buffers, with_texts)
    return frame.astype(str).values.tolist(), lines.tolist(), unparsed.tolist()

data = open(sys.argv[2], "rb").read()
rng = random.Random(int(sys.argv[3]))
for case in range(int(sys.argv[4])):
    buffers = []
    for _ in range(rng.randrange(1, 4)):
        buffer = bytearray(data[rng.randrange(len(data) // 2):][:rng.randrange(0, 60_000)])
        for _ in range(rng.randrange(0, 200)) if buffer else ():
            buffer[rng.randrange(len(buffer))] = rng.choice(b";\n\r[] :0123456789\x00SOKHARD")
        if case % 50 == 0:
            buffer += b"[1700000000] SERVICE ALERT: h;" + b"s" * (1 << 20) + b";CRITICAL;HARD;1;o"
        buffers.append(bytes(buffer))
    assert parsed(buffers, sanitized) == parsed(buffers, None), case
    assert parsed(buffers, sanitized, False) == parsed(buffers, None, False), case
    joined = b"".join(buffers)
    starts = np.array([rng.randrange(-5, len(joined) + 5) for _ in range(50)], dtype=np.int64)
    ends = starts + np.array([rng.randrange(-3, 50) for _ in range(50)], dtype=np.int64)
    try:
        offsets, values = sanitized.gather(joined, starts, ends, b"extra")
        assert len(offsets) == 8 * 51
    except IndexError:
        pass
    try:
        assert len(sanitized.hash_spans(joined, starts, ends, b"extra")) == 8 * 50
    except IndexError:
        pass
print("ok")
"""


def _sanitized_build(tmp_path, source: Path) -> tuple[Path, list[str]]:
    """``source`` built with AddressSanitizer and UBSan, and the runtime libraries to preload."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the C scanner (scripts/install-test-deps.sh installs it)"
    runtime = [
        subprocess.run([gcc, f"-print-file-name={lib}"], capture_output=True, text=True, check=True).stdout.strip()
        for lib in ("libasan.so", "libubsan.so")
    ]
    assert all(os.path.isabs(path) for path in runtime), runtime
    built = tmp_path / (source.stem + ".so")
    subprocess.run(
        [
            gcc,
            "-O1",
            "-g",
            "-fno-omit-frame-pointer",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            "-shared",
            "-fPIC",
            f"-I{sysconfig.get_paths()['include']}",
            str(source),
            "-o",
            str(built),
        ],
        check=True,
    )
    return built, runtime


def _run_sanitized(child_script: str, built: Path, runtime: list[str]) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            child_script,
            str(built),
            str(ROOT / "data/samples/nagios-c0001-01/nagios.log"),
            "7",
            "200",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "LD_PRELOAD": ":".join(runtime), "ASAN_OPTIONS": "detect_leaks=0"},
    )
    assert child.returncode == 0 and child.stdout.strip() == "ok", child.stderr[-3000:]


@pytest.mark.slow
def test_the_c_scanner_is_memory_safe_on_hostile_bytes(tmp_path):
    _run_sanitized(CHILD, *_sanitized_build(tmp_path, ROOT / "parsers" / "_fastscan.c"))


@pytest.mark.slow
def test_the_c_ingest_splitter_is_memory_safe_on_hostile_bytes(tmp_path):
    _run_sanitized(INGEST_CHILD, *_sanitized_build(tmp_path, ROOT / "analytics" / "sources" / "_fastingest.c"))
