"""Real servers on 127.0.0.1 for the tests: carbon-cache, StatsD, graphite-render.

Each controller starts its server in a process group of its own on free
ports, waits until it answers (polling, with a deadline) and stops it by PID.
"""

from .carbon import Carbon
from .ports import HOST, free_port
from .process import MissingComponent, ServerProcess
from .render import GraphiteRender
from .statsd import StatsD

__all__ = ["Carbon", "GraphiteRender", "HOST", "MissingComponent", "ServerProcess", "StatsD", "free_port"]
