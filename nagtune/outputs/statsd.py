"""StatsD counters, many per UDP datagram.

Counters ADD in StatsD, so the collector sends each run's new counts (never
minute totals), and StatsD stamps them with its own flush time: the event
time is lost (backfill needs Graphite directly). Datagrams hold as many
``name:value|c`` lines as fit in ``max_datagram`` bytes (1432 by default,
which avoids IP fragmentation on an Ethernet LAN; use 512 across the
internet).
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_PORT = 8125
DEFAULT_MAX_DATAGRAM = 1432


class SendError(Exception):
    pass


def format_counters(counters: Iterable[tuple[str, int]]) -> bytes:
    """``name:value|c`` lines (names from the MetricNamer: no ``:|`` or whitespace)."""
    out = []
    for name, value in counters:
        if not name or any(ch.isspace() or ch in ":|@" for ch in name):
            raise ValueError(f"unsafe StatsD name {name!r}")
        out.append(f"{name}:{int(value)}|c\n")
    return "".join(out).encode("ascii")


def pack(payload: bytes, max_datagram: int = DEFAULT_MAX_DATAGRAM) -> list[bytes]:
    """Newline-separated lines into datagrams of at most ``max_datagram`` bytes.

    A single line longer than the limit goes alone in its own datagram
    (it cannot be split; names are at most a few hundred bytes in practice).
    """
    datagrams: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in payload.split(b"\n"):
        if not line:
            continue
        extra = len(line) + (1 if current else 0)
        if current and size + extra > max_datagram:
            datagrams.append(b"\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        datagrams.append(b"\n".join(current))
    return datagrams


class StatsdOutput:
    """Additive output: a re-send counts twice, so the collector commits first."""

    name = "statsd"
    additive = True

    def __init__(self, host: str, port: int = DEFAULT_PORT, max_datagram: int = DEFAULT_MAX_DATAGRAM) -> None:
        self.host, self.port, self.max_datagram = host, port, max_datagram
        self.datagrams_sent = 0

    def encode(self, counters: list[tuple[str, int]]) -> bytes:
        return format_counters(counters)

    def send(self, payload: bytes) -> None:
        import socket  # only when there is something to send

        try:
            address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
            with socket.socket(address[0], socket.SOCK_DGRAM) as sock:
                for datagram in pack(payload, self.max_datagram):
                    sock.sendto(datagram, address[4])
                    self.datagrams_sent += 1
        except OSError as exc:
            raise SendError(f"statsd {self.host}:{self.port}: {exc.strerror or exc}") from None
