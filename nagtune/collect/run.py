"""One collector run: lock -> read -> scan -> aggregate -> ship -> commit.

Order of a run, and why it gives "nothing lost, nothing counted twice":

1. take the lock (``lock.py``), load the committed state;
2. Graphite spool: send old batches first, oldest first, each removed after
   it went out (a later total of a minute must land after an earlier one);
   StatsD spool left by a crash after its commit: send, remove;
3. read the new bytes (``tail.py``) and scan them;
4. add the counts to the open-minute totals of the state; the points to ship
   are the FULL totals of every minute this run touched;
5. Graphite: send; on failure write them to the spool (atomic). StatsD: write
   this run's new counts to its spool (atomic);
6. commit the state (offset, open totals, name registry) atomically;
7. StatsD: send the spool written in 5, then remove it.

A run killed anywhere before 6 is repeated whole by the next run from the
same offset with the same totals: Graphite keeps the last value per
(name, minute), so identical values re-sent change nothing. StatsD counters
add, so its counts are committed (spooled) before they are sent; the one
window left is a kill between the UDP send and the spool removal in 7,
after which the next run sends that batch again.

``NAGTUNE_CRASH_AT=<step>`` makes the run SIGKILL itself at a named step
(tests use it to prove the above): after_lock, after_spool_flush,
after_read, after_send, after_spool_write, after_commit, after_statsd_send.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from itertools import compress
from operator import itemgetter

from . import tail
from .config import Config
from .lock import Busy, RunLock
from .spool import Spool
from .state import CollectState, StateStore, ensure_dir, state_key

# The parsers (scanner, namer, identity) are imported when there are lines to
# count or names to make: a cron run with nothing new imports neither them nor
# dataclasses, hashlib, gzip or signal (see docs/collect.md, start-up).

CRASH_STEPS = ("after_lock", "after_spool_flush", "after_read", "after_send",
               "after_spool_write", "after_commit", "after_statsd_send")
EXIT_SPOOLED = 75  # EX_TEMPFAIL: the run worked, but some metrics wait in the spool


def crash_point(step: str) -> None:
    """Die like kill -9 at ``step`` when NAGTUNE_CRASH_AT names it (tests only)."""
    if os.environ.get("NAGTUNE_CRASH_AT") == step:
        import signal

        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


class RunReport:
    """What a run did; ``messages`` are one-line warnings for stderr."""

    def __init__(self) -> None:
        self.lines = self.unparsed = self.shipped = self.rotations = 0
        self.send_failures = self.spooled_points = self.points = 0
        self.late_lines = self.future_lines = self.old_points = 0
        self.busy = False
        self.messages: list[str] = []

    @property
    def exit_code(self) -> int:
        return EXIT_SPOOLED if self.spooled_points else 0


def make_outputs(config: Config, stdout=None) -> list:
    outputs = []
    for kind in dict.fromkeys(config.outputs):
        if kind == "graphite":
            from ..outputs.graphite import GraphiteOutput

            outputs.append(GraphiteOutput(config.graphite_host, config.graphite_port,
                                          config.graphite_timeout, config.graphite_batch))
        elif kind == "statsd":
            from ..outputs.statsd import StatsdOutput

            outputs.append(StatsdOutput(config.statsd_host, config.statsd_port, config.statsd_max_datagram))
        else:
            from ..outputs.stdout import StdoutOutput

            outputs.append(StdoutOutput(stdout))
    return outputs


def make_namer(config: Config, state: CollectState):
    from ..parsers.identity import DEFAULT_CELL_PATTERN, identify
    from ..parsers.metrics import MetricNamer
    from ..parsers.names import NameRegistry

    identity = identify(config.node, config.environment, config.cell_pattern or DEFAULT_CELL_PATTERN,
                        node_class=config.node_class, cell=config.cell)
    return MetricNamer(identity, config.prefix, config.granularity, config.tags,
                       hosts=NameRegistry.from_dict(state.hosts),
                       services=NameRegistry.from_dict(state.services))


SELF_METRICS = ("lines", "unparsed", "rotations", "send_failures", "spooled_points")


class Naming:
    """The run's :class:`~nagtune.parsers.metrics.MetricNamer`, made on first use.

    A run with nothing new needs only the names of its self metrics; the
    state keeps them (with the settings that made them), so such a run does
    not import the parsers at all.
    """

    def __init__(self, config: Config, state: CollectState) -> None:
        self.config, self.state = config, state
        self._namer = None

    @property
    def namer(self):
        if self._namer is None:
            self._namer = make_namer(self.config, self.state)
        return self._namer

    def name(self, key) -> str:
        return self.namer.name(key)

    def _key(self) -> str:
        c = self.config  # socket.gethostname() is uname's nodename on POSIX
        return repr((c.prefix, c.environment, c.node or os.uname().nodename, c.node_class, c.cell,
                     c.cell_pattern, bool(c.tags)))

    def self_names(self) -> dict[str, str]:
        key = self._key()
        cached = self.state.self_names
        if cached.get("key") == key and set(cached.get("names", ())) == set(SELF_METRICS):
            return cached["names"]
        names = {what: self.namer.self_metric(what) for what in SELF_METRICS}
        self.state.self_names = {"key": key, "names": names}
        return names

    @property
    def collisions(self) -> list:
        return self._namer.collisions if self._namer is not None else []

    def registries(self) -> tuple[dict, dict]:
        if self._namer is None:
            return self.state.hosts, self.state.services
        return self._namer.hosts.to_dict(), self._namer.services.to_dict()


class _Nothing:
    """The scan of no bytes (without importing the scanner)."""

    by_minute: dict = {}
    keys: dict = {}
    lines = unparsed = shipped = 0


class Points:
    """The points of a run as three columns: names, totals, minutes.

    Hundreds of thousands of points are never made into tuples one by one:
    the columns come from the scanner's counts through C-level ``map`` and
    ``compress``, and :meth:`graphite_payload` formats them in C.
    Iterating gives ``(name, total, minute)`` tuples.
    """

    __slots__ = ("names", "values", "minutes")

    def __init__(self, names: list[str], values: list[int], minutes: list[int]) -> None:
        self.names, self.values, self.minutes = names, values, minutes

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return zip(self.names, self.values, self.minutes)

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def graphite_payload(self) -> bytes:
        """``name total minute\\n`` lines, ASCII (the caller checks the names)."""
        if not self.names:  # a run with nothing new never imports the scanner
            return b""
        from ..parsers.scan import plaintext

        return plaintext(self.names, self.values, self.minutes)


_first, _second = itemgetter(0), itemgetter(1)


def aggregate(state: CollectState, result, namer, now: int,
              config: Config, report: RunReport, deltas_needed: bool = True) -> tuple[Points, Counter]:
    """Add this run's counts to the open totals.

    Returns the full totals of every (name, minute) touched, and the new
    counts per name (for StatsD; empty unless ``deltas_needed``). Lines
    dated in the future are counted in the current minute (whisper drops
    future points); lines older than the oldest open minute are counted into
    it (never dropped, and never overwriting a minute already closed with a
    partial count).
    """
    now_minute = now - now % 60
    floor = state.floor
    # One name lookup per distinct text of the scanner's per-minute counts.
    names = {text: namer.name(key) for text, key in result.keys.items() if key is not None}
    by_minute = result.by_minute
    if by_minute:
        from ..parsers.scan import no_gc_pauses

        with no_gc_pauses():  # hundreds of thousands of small objects that all live on
            points, deltas = _aggregate_columns(state, by_minute, names, now_minute, config.open_window,
                                                deltas_needed)
            if points is None:  # lines to clamp: one count at a time
                points, deltas = _aggregate_each(state, by_minute, names, now_minute, report)
    else:
        points, deltas = Points([], [], []), Counter()
    if config.max_age:
        report.old_points = sum(map((now - config.max_age).__gt__, points.minutes))
    # Close the minutes that fell out of the window.
    totals = state.totals
    if state.newest_minute:
        state.floor = max(floor, state.newest_minute - config.open_window * 60)
        for name in list(totals):
            per_name = totals[name]
            if min(per_name) < state.floor:
                per_name = {m: v for m, v in per_name.items() if m >= state.floor}
                if per_name:
                    totals[name] = per_name
                else:
                    del totals[name]
    return points, deltas


def _aggregate_columns(state: CollectState, by_minute: dict, names: dict, now_minute: int, open_window: int,
                       deltas_needed: bool) -> tuple[Points | None, Counter | None]:
    """The common case, in columns: no line needs clamping (none in the
    future, none before the oldest open minute). Python code runs once per
    distinct text, for the points that meet an open total, and for the new
    open totals; not once per point. Returns (None, None) when the case does
    not apply."""
    floor_index = state.floor // 60  # the floor is a whole minute
    if min(by_minute) < floor_index or max(by_minute) > now_minute // 60:
        return None, None
    from ..parsers.scan import named_columns

    point_names, values, minutes = named_columns(by_minute, names)
    if not point_names:
        return Points([], [], []), Counter()
    deltas: Counter = Counter()
    if deltas_needed:
        for name, value in zip(point_names, values):
            deltas[name] += value
    totals = state.totals
    if totals:  # points in minutes that were already open: their totals grow
        for i in compress(range(len(minutes)), map(state.newest_minute.__ge__, minutes)):
            open_totals = totals.get(point_names[i])
            if open_totals:
                values[i] += open_totals.get(minutes[i], 0)
    newest = max(state.newest_minute, max(minutes))
    state.newest_minute = newest
    # Keep the totals of the minutes still open after this run (the floor only rises).
    keep_from = max(state.floor, newest - open_window * 60)
    for i in compress(range(len(minutes)), map(keep_from.__le__, minutes)):
        open_totals = totals.get(point_names[i])
        if open_totals is None:
            open_totals = totals[point_names[i]] = {}
        open_totals[minutes[i]] = values[i]
    return Points(point_names, values, minutes), deltas


def _aggregate_each(state: CollectState, by_minute: dict, names: dict, now_minute: int,
                     report: RunReport) -> tuple[Points, Counter]:
    floor = state.floor
    touched: dict[tuple[str, int], None] = {}
    deltas: Counter = Counter()
    totals = state.totals
    newest = state.newest_minute
    for minute_index, text, value in _counts_of(by_minute):
        name = names.get(text)
        if name is None:
            continue
        minute = minute_index * 60
        if minute > now_minute:
            report.future_lines += value
            minute = now_minute
        if minute < floor:
            report.late_lines += value
            minute = floor
        per_name = totals.get(name)
        if per_name is None:
            per_name = totals[name] = {}
        per_name[minute] = per_name.get(minute, 0) + value
        touched[(name, minute)] = None
        deltas[name] += value
        if minute > newest:
            newest = minute
    state.newest_minute = newest
    point_names = list(map(_first, touched))
    minutes = list(map(_second, touched))
    values = [totals[name][minute] for name, minute in touched]
    return Points(point_names, values, minutes), deltas


def _counts_of(by_minute: dict):
    """(minute index, text, lines) for every count of a scan's ``by_minute``."""
    for minute_index, block in by_minute.items():
        for text, value in block.items():
            yield minute_index, text, value


def _self_points(naming: Naming, report: RunReport, now: int) -> list[tuple[str, int, int]]:
    names = naming.self_names()
    return [(names[what], getattr(report, what), now) for what in SELF_METRICS]


class Collector:
    """Runs of one log with one :class:`Config`."""

    def __init__(self, config: Config, stdout=None, clock=time.time) -> None:
        self.config = config
        self.clock = clock
        self.stdout = stdout
        self.key = state_key(config.log)
        self.store = StateStore(config.state_dir, config.log)

    def _spool(self, output) -> Spool:
        return Spool(os.path.join(self.config.spool_dir, self.key, output.name))

    def _read(self, state: CollectState, report: RunReport) -> tuple:
        the_plan = tail.plan(self.config.log, state.position, self.config.from_end,
                             tuple(self.config.archive_dirs))
        report.rotations = the_plan.rotations
        report.messages += the_plan.warnings
        reader = tail.Reader(the_plan)
        result = _Nothing
        for chunk in reader.chunks():
            if result is _Nothing:
                from ..parsers.scan import ScanResult

                result = ScanResult()
            from ..parsers.scan import scan

            result.merge(scan(chunk))
        report.lines, report.unparsed, report.shipped = result.lines, result.unparsed, result.shipped
        return result, reader

    def dry_run(self) -> RunReport:
        """What a run would send to Graphite, on stdout; nothing is written."""
        from ..outputs.stdout import StdoutOutput

        report = RunReport()
        state = self.store.load() or CollectState(log=self.config.log)
        namer = Naming(self.config, state)
        result, _ = self._read(state, report)
        points, _ = aggregate(state, result, namer, int(self.clock()), self.config, report, deltas_needed=False)
        report.points = len(points)
        out = StdoutOutput(self.stdout)
        out.send(out.encode(points))
        self._collisions(namer, report)
        return report

    @contextmanager
    def _lock(self, report: RunReport, skipped: str):
        """Hold the run lock of this log; yields False (and says so) when another run has it."""
        ensure_dir(self.config.state_dir, "state directory")
        lock = RunLock(os.path.join(self.config.state_dir, self.key + ".lock"))
        try:
            lock.acquire(self.config.wait)
        except Busy:
            report.busy = True
            report.messages.append(f"another nagtune collect is running on {self.config.log} "
                                   f"(lock {lock.path}); {skipped}")
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def run(self) -> RunReport:
        report = RunReport()
        with self._lock(report, "this run skipped") as locked:
            return self._locked_run(report) if locked else report

    def _flush_spools(self, outputs, report: RunReport, committed: int) -> set[str]:
        blocked = set()
        for output in outputs:
            spool = self._spool(output)
            for path in spool.pending(committed):
                try:
                    output.send(Spool.read(path))
                except Exception as exc:  # a send error of any output: keep the batch
                    report.send_failures += 1
                    report.messages.append(f"warning: {exc}; {len(spool.pending(committed))} batch(es) stay in {spool.directory}")
                    blocked.add(output.name)
                    break
                Spool.remove(path)
                crash_point("after_spool_flush")
        return blocked

    def _locked_run(self, report: RunReport) -> RunReport:
        config = self.config
        crash_point("after_lock")
        state = self.store.load() or CollectState(log=config.log)
        namer = Naming(config, state)
        outputs = make_outputs(config, self.stdout)
        idempotent = [o for o in outputs if not o.additive]
        additive = [o for o in outputs if o.additive]
        if additive:
            ensure_dir(config.spool_dir, "spool directory")
        blocked = self._flush_spools(outputs, report, state.generation)
        crash_point("after_spool_flush")
        generation = state.generation + 1  # the commit this run will make

        result, reader = self._read(state, report)
        crash_point("after_read")
        now = int(self.clock())
        points, deltas = aggregate(state, result, namer, now, config, report, deltas_needed=bool(additive))
        report.points = len(points)
        self._collisions(namer, report)
        if report.old_points:
            report.messages.append(
                f"warning: {report.old_points} points are older than max_age ({config.max_age} s); "
                f"whisper drops points older than its retention")

        for output in idempotent:
            self._ship(output, output.encode(points), len(points), output.name in blocked, report, generation)
        for output in idempotent:
            selfs = _self_points(namer, report, now)
            self._ship(output, output.encode(selfs), 0, output.name in blocked, report, generation)
        crash_point("after_send")

        statsd_files = []
        for output in additive:
            counters = sorted(deltas.items())
            counters += [(name, value) for name, value, _ in _self_points(namer, report, now) if value]
            if counters:
                statsd_files.append((output, self._spool(output).write(output.encode(counters), generation)))
        crash_point("after_spool_write")

        state.log = config.log
        state.generation = generation
        if reader.position is not None:
            state.position = reader.position
        state.hosts, state.services = namer.registries()
        self.store.commit(state)
        crash_point("after_commit")

        for output, path in statsd_files:
            if output.name in blocked:
                continue
            try:
                output.send(Spool.read(path))
            except Exception as exc:
                report.send_failures += 1
                report.messages.append(f"warning: {exc}; the counts stay in {path} for the next run")
                continue
            crash_point("after_statsd_send")
            Spool.remove(path)
        return report

    def _ship(self, output, payload: bytes, count: int, blocked: bool, report: RunReport,
              generation: int) -> None:
        if not payload:
            return
        if not blocked:
            try:
                output.send(payload)
                return
            except Exception as exc:
                report.send_failures += 1
                report.messages.append(f"warning: {exc}; spooling")
        path = self._spool(output).write(payload, generation)
        lines = payload.count(b"\n")
        report.spooled_points += lines
        report.messages.append(f"note: {lines} points for {output.name} spooled in {path}")

    def backfill(self, archives: list[str]) -> RunReport:
        """Send the per-minute totals of old archives (plain or .gz), oldest first.

        The live log's offset and open totals are not touched; the name
        registry is shared, so names agree with the live runs.
        """
        config = self.config
        report = RunReport()
        with self._lock(report, "backfill skipped") as locked:
            if not locked:
                return report
            from ..parsers.logfiles import archive_order
            from ..parsers.scan import ScanResult, scan

            state = self.store.load() or CollectState(log=config.log)
            namer = make_namer(config, state)
            the_plan = tail.Plan([tail.Segment(p, 0, live=False) for p in sorted(archives, key=archive_order)])
            for path in archives:
                tail.stat_log(path)
            reader = tail.Reader(the_plan)
            result = ScanResult()
            for chunk in reader.chunks():
                result.merge(scan(chunk))
            report.lines, report.unparsed, report.shipped = result.lines, result.unparsed, result.shipped
            points = result.points(namer)
            report.points = len(points)
            self._collisions(namer, report)
            outputs = [o for o in make_outputs(config, self.stdout) if not o.additive]
            blocked = self._flush_spools(outputs, report, state.generation)
            state.generation += 1
            for output in outputs:
                self._ship(output, output.encode(points), len(points), output.name in blocked, report,
                           state.generation)
            state.hosts, state.services = namer.hosts.to_dict(), namer.services.to_dict()
            self.store.commit(state)
            return report

    @staticmethod
    def _collisions(namer, report: RunReport) -> None:
        for safe, owner, newcomer in namer.collisions:
            report.messages.append(f"warning: {newcomer!r} and {owner!r} both make {safe!r}; "
                                   f"{newcomer!r} gets a suffix (kept across runs)")
