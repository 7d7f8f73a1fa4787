"""Graphite plaintext on stdout: dry runs, and piping into ``nc``."""

from __future__ import annotations

import sys

from .graphite import format_points


class StdoutOutput:
    name = "stdout"
    additive = False

    def __init__(self, stream=None) -> None:
        self.stream = stream

    def encode(self, points) -> bytes:
        return format_points(points)

    def send(self, payload: bytes) -> None:
        stream = self.stream or sys.stdout.buffer
        stream.write(payload)
        stream.flush()
