"""Shared fixtures: real carbon-cache, StatsD and graphite-render on 127.0.0.1.

Each test gets its own servers on free ports and its own whisper dir; they
are stopped by PID (the whole process group) when the test ends, passed or
failed. A server part that is not installed FAILS the test, naming the
package: a green run must mean the servers were really there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# CI shares its machine: how fast hypothesis generates inputs or runs one example says
# nothing about the code on a busy 2-core runner. Every property still runs its examples;
# only the timing checks are off (no per-example deadline, no too-slow health check).
settings.register_profile("nagtune", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("nagtune")

try:
    from .servers import Carbon, GraphiteRender, MissingComponent, ServerProcess, StatsD
except ImportError:  # tests/ without __init__.py: pytest puts tests/ on sys.path
    from servers import Carbon, GraphiteRender, MissingComponent, ServerProcess, StatsD


def _run(make) -> Iterator[ServerProcess]:
    try:
        server = make()
    except MissingComponent as exc:
        missing = str(exc)
    else:
        missing = None
    if missing:  # outside the except: one line, no chained traceback
        pytest.fail(missing, pytrace=False)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def carbon(tmp_path) -> Iterator[Carbon]:
    """carbon-cache: host, line_port, pickle_port, storage_dir (the whisper
    dir); send(), points(), fetch(), total(), list_metrics(); stop()/start()
    keep the ports and the data, kill() crashes it."""
    yield from _run(lambda: Carbon(tmp_path / "carbon"))


@pytest.fixture
def statsd(tmp_path, carbon) -> Iterator[StatsD]:
    """Etsy StatsD flushing into ``carbon`` every second: host, port (UDP),
    mgmt_port (TCP admin); send() puts several metrics in one datagram."""
    yield from _run(lambda: StatsD(tmp_path / "statsd", carbon.host, carbon.line_port))


@pytest.fixture
def graphite_render(tmp_path, carbon) -> Iterator[GraphiteRender]:
    """The Graphite render API over ``carbon``'s whisper dir: url, render()."""
    yield from _run(lambda: GraphiteRender(tmp_path / "graphite-render", carbon.storage_dir))


SERVER_FIXTURES = {"carbon", "statsd", "graphite_render"}


def pytest_collection_modifyitems(config, items):
    """A test that starts a real server is slow, marked or not: `scripts/test.sh --fast`
    (`-m "not slow"`) then never starts one."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
