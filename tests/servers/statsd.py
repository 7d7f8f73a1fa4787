"""Etsy StatsD (npm ``statsd``) flushing into a carbon every second."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

from .ports import HOST, accepts, free_port
from .process import MissingComponent, ServerProcess

REPO = Path(__file__).resolve().parents[2]
INSTALL_HINT = "run scripts/install-test-deps.sh"


def statsd_js() -> Path:
    """stats.js under $NAGTUNE_STATSD_DIR or the repo's .test-tools/ (an npm
    prefix, or the statsd package directory itself)."""
    roots = [Path(os.environ["NAGTUNE_STATSD_DIR"])] if os.environ.get("NAGTUNE_STATSD_DIR") else []
    roots.append(REPO / ".test-tools")
    for root in roots:
        for candidate in (root / "node_modules" / "statsd" / "stats.js", root / "stats.js"):
            if candidate.is_file():
                return candidate
    raise MissingComponent(
        f"statsd is not installed (npm package statsd@0.9.0 in .test-tools/ or $NAGTUNE_STATSD_DIR): {INSTALL_HINT}"
    )


class StatsD(ServerProcess):
    name = "statsd"

    def __init__(self, workdir: Path, graphite_host: str, graphite_port: int, flush_interval_ms: int = 1000) -> None:
        super().__init__(workdir)
        self.node = shutil.which("node") or shutil.which("nodejs")
        if not self.node:
            raise MissingComponent(f"node is not installed (Debian package nodejs): {INSTALL_HINT}")
        self.stats_js = statsd_js()
        self.host = HOST
        self.port = free_port(socket.SOCK_DGRAM)
        self.mgmt_port = free_port()
        self.config = {
            "address": HOST,
            "port": self.port,
            "mgmt_address": HOST,
            "mgmt_port": self.mgmt_port,
            "flushInterval": flush_interval_ms,
            "backends": ["./backends/graphite"],
            "graphiteHost": graphite_host,
            "graphitePort": graphite_port,
            # Without it every flush resends idle counters as 0, and with a
            # one-second flush that 0 can overwrite a real count in its slot.
            "deleteIdleStats": True,
        }

    def prepare(self) -> None:
        # JSON is a JavaScript object literal, which is what statsd evals.
        (self.workdir / "config.js").write_text(json.dumps(self.config, indent=2))

    def command(self) -> list[str]:
        return [self.node, str(self.stats_js), str(self.workdir / "config.js")]

    def ready(self) -> bool:
        # The admin TCP port opens right after the UDP one is bound.
        return accepts(self.mgmt_port)

    def send(self, *metrics: str) -> None:
        """All ``metrics`` in ONE datagram, newline-separated."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto("\n".join(metrics).encode(), (HOST, self.port))

    def admin(self, command: str) -> str:
        """A management command ("stats", "counters", "health", ...); its reply."""
        # "health" answers one line; the others end their listing with END.
        done = (lambda r: r.endswith(b"\n")) if command == "health" else (lambda r: b"END" in r)
        reply = b""
        with socket.create_connection((HOST, self.mgmt_port), timeout=5) as sock:
            sock.sendall(f"{command}\n".encode())
            while not done(reply):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return reply.decode()
