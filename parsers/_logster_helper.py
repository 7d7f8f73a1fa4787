"""Stand-in for Etsy logster's ``logster.logster_helper`` where logster is absent.

Etsy logster is on neither PyPI nor Debian (the PyPI package called
``logster`` is an unrelated colour-logging library), so the parser class
must import without it. The names and signatures match logster's own so the
same class runs under logster unchanged.
"""

from __future__ import annotations

import time


class MetricObject:
    """General representation of a metric (logster's contract)."""

    def __init__(self, name, value, units="", type="float", timestamp=None, metric_type="g"):
        self.name = name
        self.value = value
        self.units = units
        self.type = type
        # logster evaluates its default once at import; "now" is what it means.
        self.timestamp = int(time.time()) if timestamp is None else timestamp
        self.metric_type = metric_type


class LogsterParser:
    """Base class for logster parsers."""

    def parse_line(self, line):
        raise RuntimeError("Implement me!")

    def get_state(self, duration):
        raise RuntimeError("Implement me!")


class LogsterParsingException(Exception):
    """Raised by parse_line for a line it skips; logster counts it and goes on."""


class LockingError(Exception):
    """Raised for errors creating or destroying lock files."""
