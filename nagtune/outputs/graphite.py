"""Graphite plaintext: a pure formatter, and a sender that confirms delivery.

``send`` returning when the kernel has the bytes proves nothing: carbon may
reset the connection, never read (SIGSTOPped), or die with the bytes in its
socket buffer. So after the payload the sender half-closes the connection
(``shutdown(SHUT_WR)``) and waits, up to the timeout, for carbon to close
its side: carbon closes a plaintext connection only after it has read
everything up to the end of file, so that close confirms carbon received
every line. A reset, a timeout or any other doubt raises :class:`SendError`,
and the collector spools the payload (re-sending a total is harmless in
Graphite). graphyte cannot wait for that close, so the few lines of socket
code are here; ``socket`` is imported only when there is something to send.

Names come from :class:`nagtune.parsers.metrics.MetricNamer` and are safe by
construction; :func:`format_points` still refuses whitespace so a bug can
never forge a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from typing import Protocol

    class PointColumns(Protocol):
        """Points as columns (:class:`nagtune.collect.run.Points`)."""

        names: list[str]

        def graphite_payload(self) -> bytes: ...


DEFAULT_PORT = 2003
DEFAULT_BATCH = 1000  # kept for the config file's [graphite] batch; one connection carries a payload


class SendError(Exception):
    """A batch could not be delivered; the message says where and why."""


_SAFE = re.compile(r"[^\s]+")


def format_points(points: Iterable[tuple[str, int, int]] | PointColumns) -> bytes:
    """``name value timestamp\\n`` lines, ASCII.

    ``points`` may also be columns (``names``, ``values``, ``minutes``) with a
    ``graphite_payload()`` method, as :class:`nagtune.collect.run.Points`:
    then the scanner's formatter makes the bytes, without a tuple per point.
    """
    columns = cast("PointColumns", points) if hasattr(points, "graphite_payload") else None
    rows = None if columns is not None else list(cast("Iterable[tuple[str, int, int]]", points))
    for name in set(columns.names) if columns is not None else {p[0] for p in rows or ()}:  # each distinct name once
        if not _SAFE.fullmatch(name):
            raise ValueError(f"unsafe metric name {name!r}")
    if columns is not None:
        return columns.graphite_payload()
    return "".join([f"{n} {int(v)} {int(t)}\n" for n, v, t in rows or ()]).encode("ascii")


def batches(payload: bytes, batch_size: int = DEFAULT_BATCH) -> list[bytes]:
    lines = payload.splitlines(keepends=True)
    return [b"".join(lines[i : i + batch_size]) for i in range(0, len(lines), batch_size)]


def deliver(host: str, port: int, payload: bytes, timeout: float) -> None:
    """Send ``payload`` on one TCP connection and wait for the server to close it.

    Raises OSError (or ``TimeoutError``) when the server resets, does not
    read, or does not close within ``timeout`` seconds of the half-close.
    """
    import socket

    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        while True:  # carbon sends nothing back: EOF is its close, after reading ours
            if not sock.recv(4096):
                return


class GraphiteOutput:
    """Idempotent output: a re-sent (name, minute) total overwrites itself."""

    name = "graphite"
    additive = False

    def __init__(
        self, host: str, port: int = DEFAULT_PORT, timeout: float = 5.0, batch_size: int = DEFAULT_BATCH
    ) -> None:
        self.host, self.port, self.timeout, self.batch_size = host, port, timeout, batch_size

    def encode(self, points: list[tuple[str, int, int]]) -> bytes:
        return format_points(points)

    def send(self, payload: bytes) -> None:
        try:
            deliver(self.host, self.port, payload, self.timeout)
        except TimeoutError:
            raise SendError(
                f"graphite {self.host}:{self.port}: no confirmation within {self.timeout:g} s "
                f"(carbon did not read and close)"
            ) from None
        except OSError as exc:
            if exc.__class__.__name__ == "timeout":  # socket.timeout before Python 3.10
                raise SendError(
                    f"graphite {self.host}:{self.port}: no confirmation within {self.timeout:g} s "
                    f"(carbon did not read and close)"
                ) from None
            raise SendError(f"graphite {self.host}:{self.port}: {exc.strerror or exc}") from None
