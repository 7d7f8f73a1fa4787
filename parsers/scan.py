"""Count the shipped lines of a whole buffer at once: the node's hot path.

The reference parser (:func:`nagtune.parsers.nagios.parse_line`) costs a few
Python calls per line. On a busy node most lines are alerts and
notifications whose countable part (time, host, service, state, type) a
single regular expression can pick out, so this module lets ``re.findall``
walk the buffer in C and ``Counter`` tally the tuples, and does Python work
only once per distinct tuple. Rare shipped lines (flapping, downtime,
acknowledgements) are handed to the reference parser.

The two must agree on every input: ``tests/test_scan.py`` checks that with
hypothesis on hostile lines. Keep the patterns here in step with the rules in
:mod:`nagtune.parsers.nagios`.
"""
from __future__ import annotations

import gc
import re
from collections import Counter
from contextlib import contextmanager
from operator import itemgetter
from dataclasses import dataclass, field

from . import events as ev
from .metrics import (
    HOST_ALERTS, HOST_NOTIFICATIONS, SERVICE_ALERTS, SERVICE_NOTIFICATIONS, MetricKey,
    MetricNamer, MetricPoint, metric_key, minute_of,
)
from .nagios import _notification_state, decode, parse_line

# Two groups only (epoch, countable text): findall is several times faster
# with few groups, and the text of a line without its output repeats a lot.
_END = rb"(?=;\d+(?:;|\r*$))"  # the attempt, a number; parse_line strips trailing \r
_LINE = re.compile(
    rb"\n\[(\d{1,12})\] ("
    rb"SERVICE ALERT: [^;\n]+;[^;\n]+;(?:OK|WARNING|CRITICAL|UNKNOWN);(?:SOFT|HARD)" + _END
    + rb"|HOST ALERT: [^;\n]+;(?:UP|DOWN|UNREACHABLE);(?:SOFT|HARD)" + _END
    + rb"|SERVICE NOTIFICATION: [^;\n]*;[^;\n]+;[^;\n]+;[^;\n]*(?=;)"
    rb"|HOST NOTIFICATION: [^;\n]*;[^;\n]+;[^;\n]*(?=;)"
    # Rare lines go whole to the reference parser.
    rb"|(?:SERVICE|HOST) (?:FLAPPING|DOWNTIME) ALERT: [^\n]*"
    rb"|EXTERNAL COMMAND: ACKNOWLEDGE_(?:SVC|HOST)_PROBLEM;[^\n]*"
    # A shipped type whose fields did not fit above: unparsed.
    rb"|(?:SERVICE|HOST) (?:ALERT|NOTIFICATION|FLAPPING ALERT|DOWNTIME ALERT):"
    # Any other stamped line, so that the rest are known to be unstamped.
    rb"|)",
    re.MULTILINE,
)

_SERVICE_STATES = frozenset(ev.SERVICE_STATES)
_HOST_STATES = frozenset(ev.HOST_STATES)
_to_minute_index = (60).__rfloordiv__  # a C-level x // 60 for map()
_first, _second = itemgetter(0), itemgetter(1)


@dataclass
class ScanResult:
    """What a scan found: line counts to ship, and numbers about the input.

    ``pairs`` counts lines by (epoch // 60, countable text); ``keys`` says what
    each text means (a :class:`MetricKey`, or None for lines not shipped).
    Keeping the raw text as the key lets C code do the counting; use
    :meth:`counts` or :meth:`points` for named results.
    """

    pairs: Counter = field(default_factory=Counter)
    keys: dict = field(default_factory=dict)
    lines: int = 0
    unparsed: int = 0  # no [epoch] prefix, or a shipped TYPE whose fields do not fit
    shipped: int = 0  # lines counted into metrics

    def merge(self, other: "ScanResult") -> None:
        if self.pairs:
            self.pairs.update(other.pairs)
        else:  # the common case of one chunk: no need to copy it key by key
            self.pairs = other.pairs
        self.keys.update(other.keys)
        self.lines += other.lines
        self.unparsed += other.unparsed
        self.shipped += other.shipped

    def counts(self) -> Counter:
        """(minute, MetricKey) -> lines, as :func:`nagtune.parsers.metrics.count_events` gives."""
        counts: Counter = Counter()
        keys = self.keys
        for (minute_index, text), value in self.pairs.items():
            key = keys[text]
            if key is not None:
                counts[(minute_index * 60, key)] += value
        return counts

    def points(self, namer: MetricNamer) -> list[MetricPoint]:
        """Named per-minute points, sorted by name and time."""
        named: Counter = Counter()
        names = {text: namer.name(key) for text, key in self.keys.items() if key is not None}
        for (minute_index, text), value in self.pairs.items():
            name = names.get(text)
            if name is not None:
                named[(name, minute_index * 60)] += value
        return [MetricPoint(name, value, minute) for (name, minute), value in sorted(named.items())]


_BAD = object()


def _classify(text: bytes):
    """The countable text of one matched line -> MetricKey, None (not shipped) or _BAD."""
    if not text:
        return None
    kind, _, fields = text.partition(b": ")
    if not fields:
        return _BAD
    parts = fields.split(b";")
    if kind == b"SERVICE ALERT":
        host, service, state, state_type = parts
        return MetricKey(SERVICE_ALERTS, decode(host), decode(service), state.decode(), state_type.decode())
    if kind == b"HOST ALERT":
        host, state, state_type = parts
        return MetricKey(HOST_ALERTS, decode(host), "", state.decode(), state_type.decode())
    if kind == b"SERVICE NOTIFICATION":
        _, host, service, state_text = parts
        parsed = _notification_state(decode(state_text), _SERVICE_STATES, "OK")
        family, service = SERVICE_NOTIFICATIONS, decode(service)
    elif kind == b"HOST NOTIFICATION":
        _, host, state_text = parts
        parsed = _notification_state(decode(state_text), _HOST_STATES, "UP")
        family, service = HOST_NOTIFICATIONS, ""
    else:
        event = parse_line(b"[0] " + text)
        return _BAD if event.kind == ev.UNPARSED else metric_key(event)
    if parsed is None:
        return _BAD
    return MetricKey(family, decode(host), service, parsed[1], parsed[0])


@contextmanager
def _no_gc_pauses():
    """The scan makes a million small tuples that all live until it returns;
    the cyclic collector would walk them again and again for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def scan(buffer: bytes) -> ScanResult:
    """Count the shipped lines of ``buffer``: complete lines, each ending in ``\\n``
    except perhaps the last (a caller holding a partial line keeps it back)."""
    result = ScanResult()
    if not buffer:
        return result
    result.lines = buffer.count(b"\n") + (0 if buffer.endswith(b"\n") else 1)
    with _no_gc_pauses():
        matches = _LINE.findall(b"\n" + buffer)
        result.unparsed = result.lines - len(matches)
        minutes = map(_to_minute_index, map(int, map(_first, matches)))
        result.pairs = Counter(zip(minutes, map(_second, matches)))
        texts = Counter(map(_second, matches))
        del matches
    bad = set()
    for text, times in texts.items():
        key = _classify(text)
        if key is _BAD:
            result.unparsed += times
            bad.add(text)
        else:
            result.keys[text] = key
            if key is not None:
                result.shipped += times
    if bad:
        for pair in [pair for pair in result.pairs if pair[1] in bad]:
            del result.pairs[pair]
    return result


def scan_stream(stream, chunk_size: int = 128 << 20) -> ScanResult:
    """Scan a binary stream in chunks cut at line ends, so memory stays bounded."""
    result = ScanResult()
    tail = b""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        chunk = tail + chunk
        cut = chunk.rfind(b"\n") + 1
        tail = chunk[cut:]
        result.merge(scan(chunk[:cut]))
    if tail:
        result.merge(scan(tail))
    return result


def reference_scan(lines) -> ScanResult:
    """What :func:`scan` computes, the slow way, line by line with the reference parser.

    Its ``pairs`` are keyed by MetricKey itself instead of the raw text.
    """
    result = ScanResult()
    for line in lines:
        result.lines += 1
        event = parse_line(line)
        if event.kind == ev.UNPARSED:
            body = event.output.partition("] ")[2] if event.output.startswith("[") else ""
            if event.time is None or body.startswith(_SHIPPED_TYPES):
                result.unparsed += 1
            continue
        key = metric_key(event)
        if key is not None:
            result.pairs[(event.time // 60, key)] += 1
            result.keys[key] = key
            result.shipped += 1
    return result


_SHIPPED_TYPES = (
    "SERVICE ALERT:", "HOST ALERT:", "SERVICE NOTIFICATION:", "HOST NOTIFICATION:",
    "SERVICE FLAPPING ALERT:", "HOST FLAPPING ALERT:", "SERVICE DOWNTIME ALERT:",
    "HOST DOWNTIME ALERT:",
)
