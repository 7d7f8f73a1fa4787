"""carbon-cache writing whisper files in a temp dir."""

from __future__ import annotations

import importlib.util
import pickle
import site
import socket
import struct
import sys
from collections.abc import Callable
from pathlib import Path

from .ports import HOST, accepts, free_port, poll
from .process import MissingComponent, ServerProcess

INSTALL_HINT = "run scripts/install-test-deps.sh"

# Retentions decide what is kept, and whisper drops the rest silently (the
# .wsp file is still created, empty):
# - The collector stamps points with the event time from the log, and the
#   samples are days to a year old, so the default keeps one-minute points
#   for five years. One archive only: a point goes to the first archive
#   whose retention covers its age, so a second, coarser archive would make
#   old points land with another step than new ones.
# - StatsD stamps each flush (every second in the tests) with its own clock;
#   a coarser slot would keep only the last flush of each slot.
# Sparse creation keeps the 30 MB five-year files a few KB on disk.
STORAGE_SCHEMAS = """\
[statsd]
pattern = ^stats(_counts)?\\.
retentions = 1s:1d

[default]
pattern = .*
retentions = 60s:5y
"""

# Counts are summed when whisper rolls up (not used with one archive, but a
# test that adds archives should not average alert counts).
STORAGE_AGGREGATION = """\
[default]
pattern = .*
xFilesFactor = 0
aggregationMethod = sum
"""

Point = tuple[int, float]


def carbon_lib_dir() -> Path:
    """Where carbon's modules are.

    carbon 1.1.x from PyPI installs them as data files under
    ``<site-packages>/opt/graphite/lib`` (or ``/opt/graphite/lib`` for an
    old setup.py install), where ``import carbon`` does not find them;
    its ``carbon-cache.py`` script looks in ``<prefix>/lib``, which is wrong
    too. So look, and hand the directory to the server on PYTHONPATH.
    """
    spec = importlib.util.find_spec("carbon")
    if spec and spec.origin and Path(spec.origin).with_name("util.py").is_file():
        return Path(spec.origin).parent.parent
    bases = [*site.getsitepackages(), site.getusersitepackages(), *sys.path, "/"]
    for base in bases:
        lib = Path(base or ".") / "opt" / "graphite" / "lib"
        if (lib / "carbon" / "util.py").is_file():
            return lib
    raise MissingComponent(f"carbon is not installed (pip package carbon==1.1.10): {INSTALL_HINT}")


def _whisper():
    try:
        import whisper
    except ImportError:
        raise MissingComponent(f"whisper is not installed (pip package whisper==1.1.10): {INSTALL_HINT}") from None
    return whisper


class Carbon(ServerProcess):
    """carbon-cache on 127.0.0.1; ports and data stay across stop()/start().

    Real carbon behaviour a test must allow for:
    - A point is written 0-1 s after it arrives; stop() (SIGTERM) or kill()
      in that window loses it, as carbon does not flush on shutdown. Wait
      with total()/fetch() first when the point must survive.
    - Two points in one slot (same minute) are not added: the later one
      replaces the earlier.
    """

    name = "carbon-cache"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.lib_dir = carbon_lib_dir()
        _whisper()
        self.host = HOST
        self.line_port = free_port()
        self.pickle_port = free_port()
        self.cache_query_port = free_port()
        self.storage_dir = self.workdir / "whisper"
        self.conf_dir = self.workdir / "conf"
        self.pidfile = self.workdir / "carbon-cache.pid"

    def prepare(self) -> None:
        for d in (self.storage_dir, self.conf_dir, self.workdir / "log"):
            d.mkdir(parents=True, exist_ok=True)
        # A pidfile left by a kill -9 makes carbon refuse to start.
        self.pidfile.unlink(missing_ok=True)
        root = self.workdir
        (self.conf_dir / "carbon.conf").write_text(f"""\
[cache]
STORAGE_DIR = {root}
LOCAL_DATA_DIR = {self.storage_dir}
WHITELISTS_DIR = {root}/lists
CONF_DIR = {self.conf_dir}
LOG_DIR = {root}/log
PID_DIR = {root}
USER =
LINE_RECEIVER_INTERFACE = {HOST}
LINE_RECEIVER_PORT = {self.line_port}
PICKLE_RECEIVER_INTERFACE = {HOST}
PICKLE_RECEIVER_PORT = {self.pickle_port}
CACHE_QUERY_INTERFACE = {HOST}
CACHE_QUERY_PORT = {self.cache_query_port}
# The defaults throttle: beyond 50 new metrics a minute carbon DROPS points.
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
WHISPER_SPARSE_CREATE = True
# No carbon.* self-metrics among the tests' metrics.
CARBON_METRIC_INTERVAL = 0
# Tags on would make carbon POST every tagged series to a graphite-web.
ENABLE_TAGS = False
ENABLE_LOGROTATION = False
LOG_UPDATES = False
LOG_CACHE_HITS = False
""")
        (self.conf_dir / "storage-schemas.conf").write_text(STORAGE_SCHEMAS)
        (self.conf_dir / "storage-aggregation.conf").write_text(STORAGE_AGGREGATION)

    def command(self) -> list[str]:
        # What carbon-cache.py does, without depending on where pip put it.
        launcher = "from carbon.util import run_twistd_plugin; run_twistd_plugin('carbon-cache.py')"
        return [
            sys.executable,
            "-c",
            launcher,
            f"--config={self.conf_dir / 'carbon.conf'}",
            f"--pidfile={self.pidfile}",
            f"--logdir={self.workdir / 'log'}",
            "--nodaemon",
            "start",
        ]

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PYTHONPATH"] = ":".join(filter(None, [str(self.lib_dir), env.get("PYTHONPATH")]))
        env["GRAPHITE_ROOT"] = str(self.workdir)
        return env

    def ready(self) -> bool:
        return all(accepts(p) for p in (self.line_port, self.pickle_port, self.cache_query_port))

    # Sending ---------------------------------------------------------------

    def send(self, *lines: str) -> None:
        """Plaintext protocol: ``"path value timestamp"`` lines, one connection."""
        with socket.create_connection((HOST, self.line_port), timeout=5) as sock:
            sock.sendall("".join(f"{line}\n" for line in lines).encode())

    # Reading ---------------------------------------------------------------

    def wsp_path(self, metric_path: str) -> Path:
        return self.storage_dir.joinpath(*metric_path.split(".")).with_suffix(".wsp")

    def points(self, metric_path: str) -> list[Point]:
        """Every stored point ``(slot timestamp, value)``, oldest first; [] if none yet.

        Reads the archive raw: ``whisper.fetch`` over five years of
        one-minute slots takes half a second, this takes 30 ms.
        """
        import numpy as np

        whisper = _whisper()
        path = self.wsp_path(metric_path)
        try:
            archive = (whisper.info(str(path)) or {"archives": []})["archives"][0]
            with open(path, "rb") as fh:
                fh.seek(archive["offset"])
                raw = fh.read(archive["size"])
        except (OSError, whisper.WhisperException, struct.error, IndexError):
            # Absent, or caught between carbon's create and header write.
            return []
        slots = np.frombuffer(raw, dtype=[("t", ">u4"), ("v", ">f8")])
        slots = np.sort(slots[slots["t"] != 0], order="t")
        return [(int(t), float(v)) for t, v in slots]

    def fetch(
        self,
        metric_path: str,
        from_ts: int,
        until_ts: int,
        predicate: Callable[[list[Point]], bool] = bool,
        timeout: float = 10.0,
    ) -> list[Point]:
        """Points whose slot starts in ``[from_ts, until_ts]``.

        Carbon writes a point up to a second after it arrives, so this reads
        again until ``predicate(points)`` holds (default: any point) or
        ``timeout`` passes, and returns the last read either way: the caller
        asserts on it and sees what was there.
        """
        seen: list[Point] = []

        def check() -> bool:
            nonlocal seen
            seen = [(t, v) for t, v in self.points(metric_path) if from_ts <= t <= until_ts]
            return predicate(seen)

        poll(check, timeout)
        return seen

    def total(self, metric_path: str, expect: float | None = None, timeout: float = 10.0) -> float:
        """Sum of all points of a metric.

        With ``expect``, reads until the sum equals it (or timeout). Without,
        reads until the metric has points and carbon's cache holds none
        for it, so what carbon received is on disk.
        """
        value = 0.0

        def check() -> bool:
            nonlocal value
            pts = self.points(metric_path)
            value = sum(v for _, v in pts)
            if expect is not None:
                return value == expect
            return bool(pts) and not self.cached(metric_path)

        poll(check, timeout)
        return value

    def cached(self, metric_path: str) -> list[Point]:
        """Points carbon holds in memory, not yet written ([] if carbon is down)."""
        request = pickle.dumps({"type": "cache-query", "metric": metric_path}, protocol=2)
        try:
            with socket.create_connection((HOST, self.cache_query_port), timeout=5) as sock:
                sock.sendall(struct.pack("!L", len(request)) + request)
                reply = sock.makefile("rb")
                (size,) = struct.unpack("!L", reply.read(4))
                body = reply.read(size)
        except (OSError, struct.error):
            return []
        return [tuple(p) for p in pickle.loads(body).get("datapoints", [])]

    def list_metrics(self) -> list[str]:
        """Dotted names of every .wsp file, sorted."""
        return sorted(
            ".".join(p.relative_to(self.storage_dir).with_suffix("").parts) for p in self.storage_dir.rglob("*.wsp")
        )
