"""Count the shipped lines of a whole buffer at once: the node's hot path.

The reference parser (:func:`nagtune.parsers.nagios.parse_line`) costs a few
Python calls per line. On a busy node most lines are alerts and
notifications whose countable part (time, host, service, state, type) one
pattern can pick out, so this module counts each minute's texts without a
Python step per line, and does Python work only once per minute and once per
distinct text. Rare shipped lines (flapping, downtime, acknowledgements) are
handed whole to the reference parser.

Two implementations give the same answers: ``_fastscan.c``, which ``pip
install`` builds where a C compiler is found (line by line in C, and the
Graphite plaintext too), and the pure-Python one (``re.findall`` walking the
buffer, ``Counter`` tallying), used otherwise or with NAGTUNE_PURE_PYTHON=1.
``tests/test_parser_properties.py`` checks both against the reference
parser, and the C reading of each line against the pattern here, with
hypothesis on hostile lines. Keep the patterns here, the C code and the
rules in :mod:`nagtune.parsers.nagios` in step.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import warnings
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, compress, groupby, islice, repeat
from operator import add, itemgetter, le

from . import events as ev
from .metrics import (
    HOST_ALERTS,
    HOST_NOTIFICATIONS,
    SERVICE_ALERTS,
    SERVICE_NOTIFICATIONS,
    MetricKey,
    MetricNamer,
    MetricPoint,
    metric_key,
)
from .nagios import _notification_state, decode, parse_line

try:  # built by `pip install` where a C compiler is found; same answers, several times faster
    from . import _fastscan  # type: ignore[attr-defined]  # C, no stub
except ImportError:
    _fastscan = None
    if not os.environ.get("NAGTUNE_PURE_PYTHON"):
        warnings.warn(
            "nagtune.parsers._fastscan is not built: the pure-Python scanner (about 2x the CPU) is in use;"
            " reinstall with a C compiler and Python headers",
            RuntimeWarning,
            stacklevel=2,
        )

# Two groups only (epoch, countable text): findall is several times faster
# with few groups, and the text of a line without its output repeats a lot.
# Quantifiers are possessive (``++``, ``*+``): each class excludes the
# character that follows it, so giving characters back could never help, and
# the engine then keeps no backtracking state (about a tenth faster).
_END = rb"(?=;\d++(?:;|\r*+$))"  # the attempt, a number; parse_line strips trailing \r
_STAMPED = (
    rb"\[(\d{1,12}+)\] ("
    rb"SERVICE ALERT: [^;\n]++;[^;\n]++;(?:OK|WARNING|CRITICAL|UNKNOWN);(?:SOFT|HARD)"
    + _END
    + rb"|HOST ALERT: [^;\n]++;(?:UP|DOWN|UNREACHABLE);(?:SOFT|HARD)"
    + _END
    + rb"|SERVICE NOTIFICATION: [^;\n]*+;[^;\n]++;[^;\n]++;[^;\n]*+(?=;)"
    rb"|HOST NOTIFICATION: [^;\n]*+;[^;\n]++;[^;\n]*+(?=;)"
    # Rare lines go whole to the reference parser.
    rb"|(?:SERVICE|HOST) (?:FLAPPING|DOWNTIME) ALERT: [^\n]*+"
    rb"|EXTERNAL COMMAND: ACKNOWLEDGE_(?:SVC|HOST)_PROBLEM;[^\n]*+"
    # A shipped type whose fields did not fit above: unparsed.
    rb"|(?:SERVICE|HOST) (?:ALERT|NOTIFICATION|FLAPPING ALERT|DOWNTIME ALERT):"
    # Any other stamped line, so that the rest are known to be unstamped.
    rb"|)"
)


@lru_cache(maxsize=None)
def _line_patterns() -> tuple[re.Pattern, re.Pattern]:
    """(every line but the first, the first line), compiled when first needed:
    only the pure-Python scanner uses them, and compiling them would cost
    every cron run a few ms. Every line but the first follows a newline: the
    literal "\\n[" lets the regex engine skip ahead fast. The first line is
    matched on its own, so the buffer is never copied to put a newline in front."""
    stamped = _STAMPED if sys.version_info >= (3, 11) else _greedy(_STAMPED)
    return re.compile(rb"\n" + stamped, re.MULTILINE), re.compile(stamped, re.MULTILINE)


def _greedy(pattern: bytes) -> bytes:
    """``pattern`` with its possessive quantifiers made greedy, for Python < 3.11
    (whose ``re`` has none; the node side runs on 3.8+). Same matches: no
    quantifier in :data:`_STAMPED` can gain by giving characters back (above)."""
    return pattern.replace(b"++", b"+").replace(b"*+", b"*").replace(b"}+", b"}")


_SERVICE_STATES = frozenset(ev.SERVICE_STATES)
_HOST_STATES = frozenset(ev.HOST_STATES)
_to_minute_index = (60).__rfloordiv__  # a C-level x // 60 for map()
_first, _second = itemgetter(0), itemgetter(1)


@dataclass
class ScanResult:
    """What a scan found: line counts to ship, and numbers about the input.

    ``by_minute`` maps a minute index (epoch // 60) to a Counter of lines per
    countable text; ``keys`` says what each text means (a :class:`MetricKey`,
    or None for lines not shipped). Keeping the raw text as the key lets C
    code do the counting, and one Counter per minute suits a log written in
    time order (a run of lines shares its minute); use :meth:`counts` or
    :meth:`points` for named results.
    """

    by_minute: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    lines: int = 0
    unparsed: int = 0  # no [epoch] prefix, or a shipped TYPE whose fields do not fit
    shipped: int = 0  # lines counted into metrics

    def merge(self, other: ScanResult) -> None:
        _add_minutes(self.by_minute, other.by_minute)
        self.keys.update(other.keys)
        self.lines += other.lines
        self.unparsed += other.unparsed
        self.shipped += other.shipped

    def counts(self) -> Counter:
        """(minute, MetricKey) -> lines, as :func:`nagtune.parsers.metrics.count_events` gives."""
        counts: Counter = Counter()
        keys = self.keys
        for minute_index, block in self.by_minute.items():
            for text, value in block.items():
                key = keys[text]
                if key is not None:
                    counts[(minute_index * 60, key)] += value
        return counts

    def names(self, namer: MetricNamer) -> dict:
        """Each shipped text's Graphite name (each distinct host and service named once)."""
        shipped = {text: key for text, key in self.keys.items() if key is not None}
        return dict(zip(shipped, namer.name_all(list(shipped.values()))))

    def graphite_plaintext(self, namer: MetricNamer) -> bytes:
        """The Graphite plaintext of every named per-minute count, sorted by name and time:
        the one path from a scan to Graphite text (``nagtune parse --metrics`` and the
        collector's points). Counts become columns and text in C where it was built;
        Python runs per distinct text and per point only to sort."""
        point_names, values, minutes = named_columns(self.by_minute, self.names(namer))
        # Sorted by name, then time: the distinct names are sorted as strings, each point
        # by one integer (its name's rank, then its minute), all in C-level maps.
        rank = {name: index for index, name in enumerate(sorted(set(point_names)))}
        keys = list(map(add, map((1 << 41).__mul__, map(rank.__getitem__, point_names)), minutes))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return plaintext(
            list(map(point_names.__getitem__, order)),
            list(map(values.__getitem__, order)),
            list(map(minutes.__getitem__, order)),
        )

    def points(self, namer: MetricNamer) -> list[MetricPoint]:
        """Named per-minute points, sorted by name and time."""
        named: Counter = Counter()
        names = {text: namer.name(key) for text, key in self.keys.items() if key is not None}
        for minute_index, block in self.by_minute.items():
            minute = minute_index * 60
            for text, value in block.items():
                name = names.get(text)
                if name is not None:
                    named[(name, minute)] += value
        return [MetricPoint(name, value, minute) for (name, minute), value in sorted(named.items())]


def _add_minutes(into: dict, more: dict) -> None:
    """Add per-minute Counters into ``into``; Python runs once per minute, not per text."""
    for minute_index, block in more.items():
        _add_block(into, minute_index, block)


def _add_block(into: dict, minute_index: int, block: Counter) -> None:
    """Add one minute's Counter into ``into`` (taken as is when the minute is new)."""
    mine = into.get(minute_index)
    if mine is None:
        into[minute_index] = block
    else:
        mine.update(block)


_BAD = object()


_DECODED: dict[bytes, str] = {}


def _decoded(raw: bytes) -> str:
    """``decode(raw)``, remembered: a fleet's texts are a few thousand hosts and a few
    dozen services and states in many combinations, so each is decoded once."""
    if len(_DECODED) > 1 << 16:
        _DECODED.clear()
    text = _DECODED[raw] = decode(raw)
    return text


@lru_cache(maxsize=1 << 18)  # a log's texts repeat from chunk to chunk
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
        known = _DECODED.get
        return MetricKey(
            SERVICE_ALERTS,
            known(host) or _decoded(host),
            known(service) or _decoded(service),
            known(state) or _decoded(state),
            known(state_type) or _decoded(state_type),
        )
    if kind == b"HOST ALERT":
        host, state, state_type = parts
        known = _DECODED.get
        return MetricKey(
            HOST_ALERTS,
            known(host) or _decoded(host),
            "",
            known(state) or _decoded(state),
            known(state_type) or _decoded(state_type),
        )
    if kind == b"SERVICE NOTIFICATION":
        _, host, raw_service, state_text = parts
        parsed = _notification_state(decode(state_text), _SERVICE_STATES, "OK")
        family, service_name = SERVICE_NOTIFICATIONS, _DECODED.get(raw_service) or _decoded(raw_service)
    elif kind == b"HOST NOTIFICATION":
        _, host, state_text = parts
        parsed = _notification_state(decode(state_text), _HOST_STATES, "UP")
        family, service_name = HOST_NOTIFICATIONS, ""
    else:
        event = parse_line(b"[0] " + text)
        return _BAD if event.kind == ev.UNPARSED else metric_key(event)
    if parsed is None:
        return _BAD
    return MetricKey(family, _DECODED.get(host) or _decoded(host), service_name, parsed[1], parsed[0])


@contextmanager
def no_gc_pauses():
    """No cyclic garbage collection while a scan or an aggregation makes
    hundreds of thousands of small objects that all live on: the collector
    would walk them again and again for nothing."""
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
    with no_gc_pauses():
        by_minute, texts, result.lines, matched = _tally(buffer)
        # In order of first appearance: the namer settles a name shared by two
        # raw names in favour of the one it met first.
        keys = {text: _classify(text) for text in texts}
    result.by_minute = by_minute
    # Every line is shipped but those of the few texts that are not.
    not_shipped = [text for text, key in keys.items() if key is None or key is _BAD]
    times = _occurrences(by_minute, not_shipped)
    bad = {text for text in not_shipped if keys[text] is _BAD}
    result.unparsed = result.lines - matched + sum(times[text] for text in bad)
    result.shipped = matched - sum(times.values())
    result.keys = {text: key for text, key in keys.items() if text not in bad}
    if bad:
        for minute_index in list(by_minute):
            block = by_minute[minute_index]
            for text in bad.intersection(block):
                del block[text]
            if not block:
                del by_minute[minute_index]
    return result


def _tally_in_python(buffer: bytes) -> tuple[dict, list, int, int]:
    """(by_minute, distinct texts in order of first appearance, lines, matched lines),
    as the C ``tally`` returns them, with ``re.findall`` walking the buffer."""
    lines = buffer.count(b"\n") + (0 if buffer.endswith(b"\n") else 1)
    every_line, first_line = _line_patterns()
    matches = every_line.findall(buffer)
    first = first_line.match(buffer)
    if first:
        matches.insert(0, first.groups())
    texts = list(map(_second, matches))
    epochs = list(map(_first, matches))
    del matches
    return _count_by_minute(epochs, texts), list(dict.fromkeys(texts)), lines, len(texts)


def _occurrences(by_minute: dict, wanted: list) -> dict:
    """Lines of each of ``wanted`` (the few texts not shipped) over all minutes."""
    totals = dict.fromkeys(wanted, 0)
    if wanted:
        for block in by_minute.values():
            for text in totals.keys() & block.keys():
                totals[text] += block[text]
    return totals


def _count_by_minute(epochs: list, texts: list) -> dict:
    """{minute index: Counter of texts} for matched lines given as two columns."""
    # Bisecting costs a few Python steps per minute: worth it only when the
    # lines are many per minute (a quiet log is small anyway).
    if len(epochs) >= 8 * _minute_span(epochs) and _in_time_order(epochs):
        return _count_sorted(epochs, texts)
    return _count_runs(epochs, texts)


def _minute_span(epochs: list) -> int:
    """Minutes from the first stamp to the last (a guess if out of order)."""
    return abs(int(epochs[-1]) // 60 - int(epochs[0]) // 60) + 1 if epochs else 0


def _in_time_order(epochs: list) -> bool:
    """Stamps of one length in ascending order (then bytes compare as numbers)."""
    return len(set(map(len, epochs))) == 1 and all(map(le, epochs, islice(epochs, 1, None)))


def _count_sorted(epochs: list, texts: list) -> dict:
    """Nagios writes in time order: find where each minute ends by bisecting
    the stamps, and count that minute's texts at once, in C. Python runs once
    per minute, never per line."""
    by_minute = {}
    width = len(epochs[0])
    start, end_of_all = 0, len(epochs)
    while start < end_of_all:
        minute_index = int(epochs[start]) // 60
        next_minute = b"%0*d" % (width, (minute_index + 1) * 60)
        end = end_of_all if len(next_minute) > width else bisect_left(epochs, next_minute, start)
        by_minute[minute_index] = Counter(texts[start:end])
        start = end
    return by_minute


def _count_runs(epochs: list, texts: list) -> dict:
    """Any order: one Counter per run of lines in the same minute, added to
    the minute's Counter when the minute comes back (a clock stepped back)."""
    by_minute: dict = {}
    start = 0
    for minute_index, run in groupby(map(_to_minute_index, map(int, epochs))):
        end = start + len(list(run))
        _add_block(by_minute, minute_index, Counter(texts[start:end]))
        start = end
    return by_minute


# Bound by use_compiled() below: the C kernels when built, else the pure-Python ones.
_tally: Callable[[bytes], tuple[dict, list, int, int]]
named_columns: Callable[[dict, dict], tuple[list, list, list]]
plaintext: Callable[[list, list, list], bytes]


def use_compiled(wanted: bool) -> bool:
    """Choose the scanner: the C one (when it was built) or the pure-Python one.
    Returns whether the C one is in use. Tests run both; NAGTUNE_PURE_PYTHON=1
    chooses the Python one for a whole process."""
    global _tally, named_columns, plaintext
    compiled = bool(wanted and _fastscan is not None)
    if compiled:
        _tally, named_columns, plaintext = _tally_compiled, _fastscan.named_columns, _fastscan.plaintext
    else:
        _tally, named_columns, plaintext = _tally_in_python, _named_columns_in_python, _plaintext_in_python
    return compiled


def _tally_compiled(buffer: bytes) -> tuple[dict, list, int, int]:
    return _fastscan.tally(buffer, Counter)


def _named_columns_in_python(by_minute: dict, names: dict) -> tuple[list, list, list]:
    """(names, lines, minutes) of every named count of ``by_minute``; texts that
    make the same name in one minute (granularity drops levels; the Python
    scanner keeps a notification's contact in its text) are added up. Texts
    without a name (counted, not shipped) are left out. As the C
    ``named_columns`` computes it, in another order, with C-level ``map`` and
    ``compress`` instead of a Python step per count."""
    blocks = by_minute.values()
    indexes = list(chain.from_iterable(map(repeat, by_minute, map(len, blocks))))
    texts = list(chain.from_iterable(blocks))
    values = list(chain.from_iterable(map(dict.values, blocks)))
    owner: dict[str, bytes] = {}
    canon = {text: owner.setdefault(name, text) for text, name in names.items()}
    per_name = Counter(names.values())
    kind = {text: 2 if per_name[name] > 1 else 1 for text, name in names.items()}
    kinds = list(map(kind.get, texts, repeat(0)))  # 0: a line counted but not shipped
    if kinds.count(1) != len(kinds):
        shared_at = list(map((2).__eq__, kinds))
        unique_at = list(map((1).__eq__, kinds))
        shared_keys = zip(compress(indexes, shared_at), map(canon.__getitem__, compress(texts, shared_at)))
        # Counter counts in C; repeat() turns "key, value" into value copies of key.
        merged = Counter(chain.from_iterable(map(repeat, shared_keys, compress(values, shared_at))))
        indexes = list(compress(indexes, unique_at))
        texts = list(compress(texts, unique_at))
        values = list(compress(values, unique_at))
        indexes += map(_first, merged)
        texts += map(_second, merged)
        values += merged.values()
    return list(map(names.__getitem__, texts)), values, list(map((60).__mul__, indexes))


def _plaintext_in_python(names: list, values: list, times: list) -> bytes:
    """``name value time\\n`` lines, as the C ``plaintext`` makes them."""
    text = "".join(map("%s %d %d\n".__mod__, zip(names, values, times)))
    if not text.isascii():
        raise ValueError("a metric name is not ASCII text")
    return text.encode("ascii")


use_compiled(not os.environ.get("NAGTUNE_PURE_PYTHON"))


# A few MB at a time: the per-line objects of one chunk are freed before the
# next is read, so their memory is reused (fewer page faults, a warmer cache):
# about 5% faster than 128 MB chunks, and 140 instead of 370 MB at peak for a
# 100 MB log (bench_parse).
CHUNK = 4 << 20


def scan_stream(stream, chunk_size: int = CHUNK) -> ScanResult:
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

    Its ``by_minute`` Counters are keyed by MetricKey itself instead of the raw text.
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
        if key is not None and event.time is not None:  # a parsed line has its time
            block = result.by_minute.setdefault(event.time // 60, Counter())
            block[key] += 1
            result.keys[key] = key
            result.shipped += 1
    return result


_SHIPPED_TYPES = (
    "SERVICE ALERT:",
    "HOST ALERT:",
    "SERVICE NOTIFICATION:",
    "HOST NOTIFICATION:",
    "SERVICE FLAPPING ALERT:",
    "HOST FLAPPING ALERT:",
    "SERVICE DOWNTIME ALERT:",
    "HOST DOWNTIME ALERT:",
)
