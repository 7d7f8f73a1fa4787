"""Graphite plaintext: a pure formatter, and a sender through graphyte.

The sender uses graphyte without ``interval`` (no background thread, which
drops metrics silently when carbon is down) and with
``raise_send_errors=True``, so every failure reaches the collector, which
spools. Names come from :class:`nagtune.parsers.metrics.MetricNamer` and are
safe by construction; :func:`format_points` still refuses whitespace so a bug
can never forge a line.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_PORT = 2003
DEFAULT_BATCH = 1000  # lines per TCP connection


class SendError(Exception):
    """A batch could not be delivered; the message says where and why."""


_SAFE = re.compile(r"[^\s]+")


def format_points(points: Iterable[tuple[str, int, int]]) -> bytes:
    """``name value timestamp\\n`` lines, ASCII.

    ``points`` may also be columns (``names``, ``values``, ``minutes``) with a
    ``graphite_payload()`` method, as :class:`nagtune.collect.run.Points`:
    then the scanner's formatter makes the bytes, without a tuple per point.
    """
    columns = hasattr(points, "graphite_payload")
    if not columns:
        points = list(points)
    for name in set(points.names) if columns else {p[0] for p in points}:  # each distinct name once
        if not _SAFE.fullmatch(name):
            raise ValueError(f"unsafe metric name {name!r}")
    if columns:
        return points.graphite_payload()
    return "".join([f"{n} {int(v)} {int(t)}\n" for n, v, t in points]).encode("ascii")


def batches(payload: bytes, batch_size: int = DEFAULT_BATCH) -> list[bytes]:
    lines = payload.splitlines(keepends=True)
    return [b"".join(lines[i:i + batch_size]) for i in range(0, len(lines), batch_size)]


class GraphiteOutput:
    """Idempotent output: a re-sent (name, minute) total overwrites itself."""

    name = "graphite"
    additive = False

    def __init__(self, host: str, port: int = DEFAULT_PORT, timeout: float = 5.0,
                 batch_size: int = DEFAULT_BATCH) -> None:
        self.host, self.port, self.timeout, self.batch_size = host, port, timeout, batch_size
        self._sender = None

    def encode(self, points: list[tuple[str, int, int]]) -> bytes:
        return format_points(points)

    def send(self, payload: bytes) -> None:
        if self._sender is None:
            import graphyte  # only when there is something to send: keeps cron start-up small

            self._sender = graphyte.Sender(self.host, self.port, prefix=None, timeout=self.timeout,
                                           batch_size=self.batch_size, raise_send_errors=True)
        for batch in batches(payload, self.batch_size):
            try:
                self._sender.send_socket(batch)
            except OSError as exc:
                raise SendError(f"graphite {self.host}:{self.port}: {exc.strerror or exc}") from None
