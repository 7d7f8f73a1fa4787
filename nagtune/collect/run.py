"""One collector run: lock -> read -> scan -> aggregate -> ship -> commit.

Order of a run, and why it gives "nothing lost, nothing counted twice":

1. take the lock (``lock.py``), load the committed state;
2. Graphite spool: send old batches first, oldest first, each removed after
   it went out (a later total of a minute must land after an earlier one);
   StatsD spool left by a crash after its commit: send, remove;
3. read the new bytes (``tail.py``) and scan them;
4. add the counts to the open-minute totals of the state; the points to ship
   are the FULL totals of every minute this run touched, and again those of
   the minutes the previous run sent (carbon may have lost what it confirmed);
5. Graphite: send, counted as delivered only when carbon closed the
   connection after reading it all; on any doubt write them to the spool
   (atomic). StatsD: write this run's new counts to its spool (atomic);
6. commit the state (offset, open totals, name registry) atomically; a run
   that changed nothing writes nothing;
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
from typing import Any

from . import tail
from .config import Config
from .lock import Busy, RunLock
from .spool import BadEntry, Spool
from .state import CollectState, StateError, StateStore, atomic_write, ensure_dir, read_regular, state_key

# The parsers (scanner, namer, identity) are imported when there are lines to
# count or names to make: a cron run with nothing new imports neither them nor
# dataclasses, hashlib, gzip or signal (see docs/collect.md, start-up).

CRASH_STEPS = (
    "after_lock",
    "after_spool_flush",
    "after_read",
    "after_send",
    "after_spool_write",
    "after_commit",
    "after_statsd_send",
)
EXIT_SPOOLED = 75  # EX_TEMPFAIL: the run worked, but some metrics wait in the spool
MAX_PAST = 3650 * 86400  # an event ten years before the run (a "[0]" line) is late, not history


def crash_point(step: str) -> None:
    """Die like kill -9 at ``step`` when NAGTUNE_CRASH_AT names it (tests only)."""
    if os.environ.get("NAGTUNE_CRASH_AT") == step:
        import signal

        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _first_unparsed(chunk: bytes):
    """The first line of a chunk the parser cannot read (its number among the chunk's lines)."""
    from ..parsers.events import UNPARSED
    from ..parsers.nagios import parse_line

    for number, line in enumerate(chunk.split(b"\n"), 1):
        if line and parse_line(line).kind == UNPARSED:
            return number, line
    return None


def _say_if_unreadable(where: str, report: RunReport, first) -> None:
    """A run whose new lines could none of them be read says so in one line (the
    ``unparsed`` self metric counts them too): an empty shipment is never silent. Some
    unreadable lines among readable ones are only counted, so cron does not mail every
    minute for them."""
    if not report.lines or report.unparsed < report.lines:
        return
    from ..parsers.unreadable import Unreadable, read_text, unreadable_at

    if first is not None and not isinstance(first, Unreadable):
        first = unreadable_at("", *first)
    said = read_text(1, report.lines, report.unparsed, first).replace("read 1 file(s), ", "read ", 1)
    report.messages.append(f"warning: no line could be read from {where}: {said}")


class RunReport:
    """What a run did; ``messages`` are one-line warnings for stderr."""

    def __init__(self) -> None:
        self.lines = self.unparsed = self.shipped = self.rotations = 0
        self.send_failures = self.spooled_points = self.points = 0
        self.late_lines = self.future_lines = self.old_points = 0
        self.quarantined = 0
        self.busy = False
        self.messages: list[str] = []
        self.held_back = 0  # warnings not repeated during an outage already reported
        self.outages_begun: set[str] = set()

    @property
    def exit_code(self) -> int:
        return EXIT_SPOOLED if self.spooled_points else 0


def make_outputs(config: Config, stdout=None) -> list:
    outputs: list = []
    for kind in dict.fromkeys(config.outputs):
        if kind == "graphite":
            from ..outputs.graphite import GraphiteOutput

            outputs.append(
                GraphiteOutput(
                    config.graphite_host, config.graphite_port, config.graphite_timeout, config.graphite_batch
                )
            )
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

    identity = identify(
        config.node,
        config.environment,
        config.cell_pattern or DEFAULT_CELL_PATTERN,
        node_class=config.node_class,
        cell=config.cell,
    )
    return MetricNamer(
        identity,
        config.prefix,
        config.granularity,
        config.tags,
        hosts=NameRegistry.from_dict(state.hosts),
        services=NameRegistry.from_dict(state.services),
    )


SELF_METRICS = ("lines", "unparsed", "rotations", "send_failures", "spooled_points", "late_lines")


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

    def name_all(self, keys: list) -> list[str]:
        if not keys:  # a run with nothing new builds no namer (no identity, no metrics modules)
            return []
        return self.namer.name_all(keys)

    def _key(self) -> str:
        c = self.config  # socket.gethostname() is uname's nodename on POSIX
        return repr(
            (c.prefix, c.environment, c.node or os.uname().nodename, c.node_class, c.cell, c.cell_pattern, bool(c.tags))
        )

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

    def keep_registries(self) -> None:
        """The namer's registries into the state (a run that named nothing leaves them unread)."""
        if self._namer is not None:
            self.state.hosts, self.state.services = self._namer.hosts.to_dict(), self._namer.services.to_dict()


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


def aggregate(
    state: CollectState, result, namer, now: int, config: Config, report: RunReport, deltas_needed: bool = True
) -> tuple[Points, Counter | None]:
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
    if not floor:  # first run: the live log's history counts, but not a line dated 1970
        floor = max(0, now_minute - MAX_PAST)
    # One name per distinct text of the scanner's per-minute counts.
    shipped = {text: key for text, key in result.keys.items() if key is not None}
    names = dict(zip(shipped, namer.name_all(list(shipped.values()))))
    by_minute = result.by_minute
    if by_minute:
        from ..parsers.scan import no_gc_pauses

        with no_gc_pauses():  # hundreds of thousands of small objects that all live on
            points, deltas = _aggregate_columns(
                state, by_minute, names, now_minute, config.open_window, deltas_needed, floor
            )
            if points is None:  # lines to clamp: one count at a time
                points, deltas = _aggregate_each(state, by_minute, names, now_minute, report, floor)
    else:
        points, deltas = Points([], [], []), Counter()
    if config.max_age:
        report.old_points = sum(map((now - config.max_age).__gt__, points.minutes))
    if report.late_lines:
        report.messages.append(
            f"warning: {report.late_lines} lines dated before the oldest open minute were counted into it "
            f"(self metric late_lines); raise --open-minutes if Nagios writes this late"
        )
    # Close the minutes that fell out of the window (only when the window moved: below the
    # old floor there is nothing, so a run with nothing new never reads the totals).
    if state.newest_minute and max(state.floor, state.newest_minute - config.open_window * 60) > state.floor:
        state.floor = max(state.floor, state.newest_minute - config.open_window * 60)
        totals = state.totals
        for name in list(totals):
            per_name = totals[name]
            if min(per_name) < state.floor:
                per_name = {m: v for m, v in per_name.items() if m >= state.floor}
                if per_name:
                    totals[name] = per_name
                else:
                    del totals[name]
    return points, deltas


def _aggregate_columns(
    state: CollectState,
    by_minute: dict,
    names: dict,
    now_minute: int,
    open_window: int,
    deltas_needed: bool,
    floor: int,
) -> tuple[Points | None, Counter | None]:
    """The common case, in columns: no line needs clamping (none in the
    future, none before the oldest open minute). Python code runs once per
    distinct text, for the points that meet an open total, and for the new
    open totals; not once per point. Returns (None, None) when the case does
    not apply."""
    floor_index = floor // 60  # the floor is a whole minute
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


def _aggregate_each(
    state: CollectState, by_minute: dict, names: dict, now_minute: int, report: RunReport, floor: int | None = None
) -> tuple[Points, Counter]:
    if floor is None:
        floor = state.floor or max(0, now_minute - MAX_PAST)
    if not state.floor:  # first run: the oldest sane minute is the oldest open one
        sane = [m * 60 for m in by_minute if m * 60 >= floor]
        floor = min(sane) if sane else now_minute
        floor = min(floor, now_minute)
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


def _self_counts(report: RunReport) -> dict[str, int]:
    return {what: getattr(report, what) for what in SELF_METRICS}


def _self_totals(state: CollectState, report: RunReport, now: int) -> tuple[int, dict[str, int]]:
    """This run's self metrics added to the totals of its minute (several runs in one
    minute would otherwise overwrite each other in Graphite)."""
    minute = now - now % 60
    counts = _self_counts(report)
    previous = state.self_totals
    if previous.get("minute") == minute:
        counts = {what: value + previous["values"].get(what, 0) for what, value in counts.items()}
    return minute, counts


def _self_points(naming: Naming, minute: int, counts: dict[str, int]) -> list[tuple[str, int, int]]:
    names = naming.self_names()
    return [(names[what], counts[what], minute) for what in SELF_METRICS]


def flush_delay(jitter: float, rng=None) -> float:
    """Seconds to wait before sending a spool backlog: uniform in [0, jitter)."""
    if jitter <= 0:
        return 0.0
    import random

    return (rng or random).uniform(0.0, jitter)


class Collector:
    """Runs of one log with one :class:`Config`."""

    def __init__(self, config: Config, stdout=None, clock=time.time, sleep=time.sleep) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.stdout = stdout
        self.key = state_key(config.log)
        self.store = StateStore(config.state_dir, config.log)

    def _spool(self, output) -> Spool:
        return Spool(os.path.join(self.config.spool_dir, self.key, output.name), self.config.spool_max_mb << 20)

    def _read(self, state: CollectState, report: RunReport) -> tuple:
        the_plan = tail.plan(self.config.log, state.position, self.config.from_end, tuple(self.config.archive_dirs))
        report.rotations = the_plan.rotations
        report.messages += the_plan.warnings
        reader = tail.Reader(the_plan)
        result: Any = _Nothing
        first_unparsed = None
        for chunk in reader.chunks():
            if result is _Nothing:
                from ..parsers.scan import ScanResult

                result = ScanResult()
            from ..parsers.scan import scan

            part = scan(chunk)
            if part.unparsed and first_unparsed is None:
                first_unparsed = _first_unparsed(chunk)
            result.merge(part)
        report.lines, report.unparsed, report.shipped = result.lines, result.unparsed, result.shipped
        _say_if_unreadable(self.config.log, report, first_unparsed)
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
            report.messages.append(
                f"another nagtune collect is running on {self.config.log} (lock {lock.path}); {skipped}"
            )
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

    # --- warnings once per outage -------------------------------------------------------

    def _failed(self, state: CollectState, output_name: str, report: RunReport, message: str) -> None:
        """A send failure: said once when an outage begins, then only counted (self metrics,
        exit 75) until the output works again; cron mails once per outage, not every minute."""
        report.send_failures += 1
        if output_name in state.outages:
            report.held_back += 1
            return
        state.outages[output_name] = int(self.clock())
        report.outages_begun.add(output_name)
        report.messages.append(message + " (further failures of this output are not repeated until it works again)")

    def _worked(self, state: CollectState, output_name: str, report: RunReport) -> None:
        since = state.outages.pop(output_name, None)
        if since is not None:
            minutes = max(0, int(self.clock()) - since) // 60
            report.messages.append(f"note: {output_name} works again after an outage of {minutes} min")

    def _note(self, state: CollectState, output_name: str, report: RunReport, message: str) -> None:
        if output_name in state.outages and output_name not in report.outages_begun:
            report.held_back += 1
        else:
            report.messages.append(message)

    # --- spool ---------------------------------------------------------------------------

    def _quarantine(self, spool: Spool, path: str, why: str, report: RunReport) -> None:
        report.quarantined += 1
        target = spool.quarantine(path)
        where = f"moved to {target}" if target else "left in place (could not move it) and skipped"
        report.messages.append(f"warning: spool entry {path} was not written by nagtune ({why}); not sent, {where}")

    def _flush_spools(self, outputs, report: RunReport, state: CollectState) -> set[str]:
        committed = state.generation
        blocked = set()
        delayed = False
        for output in outputs:
            spool = self._spool(output)
            pending = spool.pending(committed)
            for stray in spool.strays:
                self._quarantine(spool, stray, "not a name nagtune makes, or a directory", report)
            if pending and not delayed:
                delayed = True  # once per run, before the first backlog goes out
                self.sleep(flush_delay(self.config.flush_jitter))
            for index, path in enumerate(pending):
                try:
                    payload = spool.read(path)
                except BadEntry as exc:
                    self._quarantine(spool, path, str(exc), report)
                    continue
                try:
                    output.send(payload)
                except Exception as exc:  # a send error of any output: keep the batch
                    self._failed(
                        state,
                        output.name,
                        report,
                        f"warning: {exc}; {len(pending) - index} batch(es) stay in {spool.directory}",
                    )
                    blocked.add(output.name)
                    break
                self._worked(state, output.name, report)
                Spool.remove(path)
                crash_point("after_spool_flush")
        return blocked

    def _write_spool(self, state: CollectState, output, payload: bytes, generation: int, report: RunReport) -> str:
        spool = self._spool(output)
        path, dropped = spool.write(payload, generation)
        if dropped:
            report.messages.append(
                f"warning: the spool {spool.directory} reached its cap of {self.config.spool_max_mb} MiB; "
                f"the {dropped} oldest batch(es) were dropped (raise --spool-max-mb to keep more)"
            )
        return path

    # --- the run ---------------------------------------------------------------------------

    def _claim_series(self, namer: Naming) -> None:
        """Refuse a second log in this state dir that would write the same series.

        Two Nagios instances on one host with the same node name would
        overwrite each other's totals in Graphite without a word.
        """
        key = namer._key()
        from .state import head_hash

        path = os.path.join(self.config.state_dir, f"series-{head_hash(key.encode('utf-8', 'surrogateescape'))}.claim")
        mine = os.path.abspath(self.config.log)
        try:
            claimed = read_regular(path, limit=1 << 16)
        except StateError:
            claimed = None
        if claimed is None:
            atomic_write(path, mine.encode("utf-8", "surrogateescape"))
            return
        owner = claimed.decode("utf-8", "surrogateescape")
        if owner != mine:
            raise StateError(
                f"{mine} and {owner} would write the same series (same --prefix, --environment and --node); "
                f"give each Nagios instance its own --node (e.g. --node $(hostname)-2), or delete {path} "
                f"if {owner} is no longer collected"
            )

    def _locked_run(self, report: RunReport) -> RunReport:
        config = self.config
        crash_point("after_lock")
        state = self.store.load() or CollectState(log=config.log)
        first_state = state.to_json()
        namer = Naming(config, state)
        self._claim_series(namer)
        outputs = make_outputs(config, self.stdout)
        idempotent = [o for o in outputs if not o.additive]
        additive = [o for o in outputs if o.additive]
        if additive:
            ensure_dir(config.spool_dir, "spool directory")
        blocked = self._flush_spools(outputs, report, state)
        crash_point("after_spool_flush")
        generation = state.generation + 1  # the commit this run will make

        result, reader = self._read(state, report)
        crash_point("after_read")
        now = int(self.clock())
        old_floor = state.floor
        points, deltas = aggregate(state, result, namer, now, config, report, deltas_needed=bool(additive))
        report.points = len(points)
        totals_changed = state.totals_loaded and (bool(len(points)) or state.floor != old_floor)
        self._collisions(namer, report)
        if report.old_points:
            report.messages.append(
                f"warning: {report.old_points} points are older than max_age ({config.max_age} s); "
                f"whisper drops points older than its retention"
            )
        if state.totals_loaded:
            self._series_guard(state, report)

        # The minutes the last run sent go out again (their current totals): a connection
        # carbon confirmed may still have lost its points (carbon killed before writing).
        sent_minutes = sorted(set(points.minutes))
        if idempotent and state.resend_minutes:
            points = self._with_resend(points, state)
        spooled_before = report.spooled_points
        for output in idempotent:
            self._ship(state, output, output.encode(points), output.name in blocked, report, generation)
        minute, self_counts = _self_totals(state, report, now)
        for output in idempotent:
            selfs = _self_points(namer, minute, self_counts)
            self._ship(state, output, output.encode(selfs), output.name in blocked, report, generation)
        crash_point("after_send")

        statsd_files = []
        for output in additive:
            counters = sorted((deltas or {}).items())  # deltas are made when an output is additive
            counters += [(name, value) for name, value, _ in _self_points(namer, minute, _self_counts(report)) if value]
            if counters:
                statsd_files.append(
                    (output, self._write_spool(state, output, output.encode(counters), generation, report))
                )
        crash_point("after_spool_write")

        state.log = config.log
        if reader.position is not None:
            state.position = reader.position
        namer.keep_registries()
        state.resend_minutes = sent_minutes
        minute, self_counts = _self_totals(state, report, now)  # with the failures of this run's sends
        if any(self_counts.values()):
            state.self_totals = {"minute": minute, "values": self_counts}
        spooled = report.spooled_points > spooled_before or statsd_files
        if spooled or totals_changed or state.to_json() != first_state:  # else a quiet node writes nothing
            state.generation = generation
            self.store.commit(state, totals_changed=totals_changed)
        crash_point("after_commit")

        outages = dict(state.outages)
        for output, path in statsd_files:
            if output.name in blocked:
                report.spooled_points += 1
                continue
            try:
                output.send(self._spool(output).read(path))
            except Exception as exc:
                report.spooled_points += 1  # committed counts wait in the spool: exit 75
                self._failed(state, output.name, report, f"warning: {exc}; the counts stay in {path} for the next run")
                continue
            self._worked(state, output.name, report)
            crash_point("after_statsd_send")
            Spool.remove(path)
        if state.outages != outages:  # a StatsD outage began or ended after the commit: remember it
            self.store.commit(state, totals_changed=False)
        return report

    def _with_resend(self, points: Points, state: CollectState):
        """``points`` plus the totals of the last run's minutes this run did not touch
        (a plain list when this run has none: formatting it needs no scanner)."""
        touched = set(zip(points.names, points.minutes))
        wanted = set(state.resend_minutes)
        again = [
            (name, per_name[minute], minute)
            for name, per_name in state.totals.items()
            for minute in wanted.intersection(per_name)
            if (name, minute) not in touched
        ]
        if not len(points):
            return again
        for name, value, minute in again:
            points.names.append(name)
            points.values.append(value)
            points.minutes.append(minute)
        return points

    def _series_guard(self, state: CollectState, report: RunReport) -> None:
        count = len(state.totals)
        if count > self.config.max_series:
            if "max_series" not in state.outages:
                state.outages["max_series"] = int(self.clock())
                report.messages.append(
                    f"warning: {count} series have open minutes, more than --max-series {self.config.max_series}; "
                    f"the state and every run grow with them (a coarser --granularity keeps fewer); "
                    f"said once until the count drops"
                )
        else:
            state.outages.pop("max_series", None)

    def _ship(
        self, state: CollectState, output, payload: bytes, blocked: bool, report: RunReport, generation: int
    ) -> None:
        if not payload:
            return
        if not blocked:
            try:
                output.send(payload)
                self._worked(state, output.name, report)
                return
            except Exception as exc:
                self._failed(state, output.name, report, f"warning: {exc}; spooling")
        path = self._write_spool(state, output, payload, generation, report)
        lines = payload.count(b"\n")
        report.spooled_points += lines
        self._note(state, output.name, report, f"note: {lines} points for {output.name} spooled in {path}")

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
            if report.lines and report.unparsed >= report.lines:
                from ..parsers.unreadable import first_unreadable

                _say_if_unreadable(", ".join(archives), report, first_unreadable(sorted(archives, key=archive_order)))
            points = result.points(namer)
            report.points = len(points)
            self._collisions(namer, report)
            outputs = [o for o in make_outputs(config, self.stdout) if not o.additive]
            blocked = self._flush_spools(outputs, report, state)
            state.generation += 1
            for output in outputs:
                self._ship(state, output, output.encode(points), output.name in blocked, report, state.generation)
            state.hosts, state.services = namer.hosts.to_dict(), namer.services.to_dict()
            self.store.commit(state, totals_changed=False)
            return report

    @staticmethod
    def _collisions(namer, report: RunReport) -> None:
        for safe, owner, newcomer in namer.collisions:
            report.messages.append(
                f"warning: {newcomer!r} and {owner!r} both make {safe!r}; {newcomer!r} gets a suffix (kept across runs)"
            )
