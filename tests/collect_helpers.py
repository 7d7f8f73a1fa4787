"""Helpers of the collector tests: logs, running ``nagtune collect`` as cron
does (a whole process), and what the reference parser says should be shipped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from nagtune.parsers.identity import identify
from nagtune.parsers.metrics import MetricNamer
from nagtune.parsers.nagios import iter_lines
from nagtune.parsers.scan import reference_scan

NODE = "nagios-c0001-01"
PREFIX = "nagios"
BASE = (int(time.time()) - 3 * 86400) // 3600 * 3600  # inside whisper's retention, in the past
SERVICES = ("PING", "Disk Space /var", "HTTP", "Load")
STATES = ("CRITICAL", "WARNING", "OK")


def alert_lines(count: int, start: int = BASE, step: int = 7, hosts: int = 3, seed: int = 0) -> bytes:
    """``count`` Nagios lines: alerts, notifications and some chatter."""
    out = []
    for i in range(count):
        t = start + i * step
        host = f"web{(i + seed) % hosts:02d}-c0001"
        service = SERVICES[(i // 2 + seed) % len(SERVICES)]
        state = STATES[i % 3]
        kind = (i + seed) % 5
        if kind == 3:
            out.append(f"[{t}] SERVICE NOTIFICATION: oncall;{host};{service};{state};notify-by-email;{state} - x\n")
        elif kind == 4:
            out.append(f"[{t}] Auto-save of retention data completed successfully.\n")
        else:
            hard = "HARD" if i % 2 else "SOFT"
            out.append(f"[{t}] SERVICE ALERT: {host};{service};{state};{hard};{1 + i % 3};{state} - value={i}\n")
    return "".join(out).encode()


def expected_totals(data: bytes, prefix: str = PREFIX, node: str = NODE, granularity: str = "host_service") -> Counter:
    """metric name -> lines, by the reference parser, over the whole log history."""
    namer = MetricNamer(identify(node), prefix, granularity)
    result = reference_scan(iter_lines(__import__("io").BytesIO(data)))
    totals: Counter = Counter()
    for point in result.points(namer):
        totals[point.name] += point.value
    return totals


def expected_points(data: bytes, prefix: str = PREFIX, node: str = NODE) -> dict:
    namer = MetricNamer(identify(node), prefix)
    result = reference_scan(iter_lines(__import__("io").BytesIO(data)))
    return {(p.name, p.timestamp): p.value for p in result.points(namer)}


# As root (CI), a process started under this prefix lacks the capabilities that
# bypass file modes, and obeys them like any user.
NO_DAC = ("setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search")


def collect_command(log, state_dir, *args: str) -> list[str]:
    """The command line of one cron run of ``nagtune collect`` (this node, no flush jitter)."""
    return [
        sys.executable,
        "-m",
        "nagtune.cli_collect",
        str(log),
        "--state-dir",
        str(state_dir),
        "--node",
        NODE,
        "--prefix",
        PREFIX,
        "--flush-jitter",
        "0",
        *args,
    ]


def collect(
    log, state_dir, *args: str, env: dict | None = None, prefix_cmd: tuple = (), timeout: float = 60
) -> subprocess.CompletedProcess:
    """One cron run: ``nagtune collect`` in a process of its own."""
    command = [*prefix_cmd, *collect_command(log, state_dir, *args)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, timeout=timeout, env=full_env)


def graphite_args(carbon) -> tuple[str, ...]:
    return ("--output", "graphite", "--graphite", f"{carbon.host}:{carbon.line_port}", "--graphite-timeout", "2")


def whisper_totals(carbon, names, expect: Counter | None = None, timeout: float = 90.0) -> Counter:
    """Sum of the stored points of each name, read until equal to ``expect`` (or timeout).

    Reading one metric reads its whole five-year archive (~30 MB), so a
    poll of every metric takes seconds on a loaded machine: later polls
    re-read only the metrics that did not match yet, and once all match,
    one last full read checks that none has moved past its expected total.
    """

    def total(name: str) -> int:
        return int(sum(v for _, v in carbon.points(name)))

    deadline = time.monotonic() + timeout
    seen = {name: total(name) for name in names}
    while expect is not None:
        pending = [name for name in names if seen[name] != expect.get(name, 0)]
        if not pending:
            seen = {name: total(name) for name in names}
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        seen.update((name, total(name)) for name in pending)
    return +Counter(seen)


def assert_carbon_has(carbon, data: bytes, **kwargs) -> None:
    """Whisper holds, for every metric, exactly the alerts the reference parser counts."""
    expect = expected_totals(data, **kwargs)
    assert expect, "the test log ships nothing"
    seen = whisper_totals(carbon, list(expect), expect)
    assert seen == expect
    alert_metrics = {m for m in carbon.list_metrics() if ".nagtune." not in m}
    assert alert_metrics == set(expect)


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


class Sink:
    """A loopback TCP server standing in for carbon, in a thread.

    ``mode="capture"`` reads every connection to its end, keeps the bytes and
    closes (as carbon does after EOF); ``mode="reset"`` accepts, waits for the
    first byte, and resets the connection (SO_LINGER 0) with the rest unread,
    as a carbon that dies after accepting.
    """

    def __init__(self, mode: str = "capture") -> None:
        import socket
        import threading

        self.mode = mode
        self.received: list[bytes] = []
        self.connections = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import socket
        import struct

        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                if self.mode == "reset":  # the first bytes arrived (the sender thinks it is done): reset
                    conn.settimeout(10)
                    try:
                        conn.recv(1)
                    except OSError:
                        pass
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    continue
                chunks = []
                while True:
                    block = conn.recv(65536)
                    if not block:
                        break
                    chunks.append(block)
                self.received.append(b"".join(chunks))

    @property
    def lines(self) -> list[bytes]:
        return b"".join(self.received).splitlines()

    def args(self) -> tuple[str, ...]:
        return ("--output", "graphite", "--graphite", f"127.0.0.1:{self.port}", "--graphite-timeout", "3")

    def close(self) -> None:
        self._server.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
