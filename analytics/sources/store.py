"""A partitioned Parquet event store: archives of many nodes ingested once, read by day and node.

Layout, one Parquet file per partition::

    STORE/manifest.json
    STORE/events/day=2026-11-17/node=nagios-c0001-01/part.parquet
    STORE/perfdata/day=2026-11-17/node=nagios-c0001-01/part.parquet
    STORE/objects/node=nagios-c0001-01/part.parquet

Why day and node: a weekly report reads seven days of every node, a fleet
analysis reads every day of one node at a time (problems and flapping are
per host and service, and a host belongs to one node), so both reads touch
only the files they need, and one node-window is the unit of work of the
Dask engine (:mod:`.engine`).

**Idempotent by content.** A partition holds each distinct line as many
times as the file that holds it most often (a multiset union, the same rule
as :func:`.ingest.load_events` uses for a log and its archive overlapping).
So re-ingesting the same archives adds nothing, yesterday's ``nagios.log``
that became today's ``archives/nagios-…log.gz`` adds only the lines written
after the last ingest, and a new day's archives add only that day's
partitions. Files whose path, size and mtime are in the manifest are not
even read. A partition is replaced atomically (write, then rename), and
the manifest is saved after its partitions: an ingest killed anywhere
re-reads some files next time and adds nothing twice. A new store gets its
(empty) manifest before any partition, and a store left without one by an
ingest killed before that (only nagtune's own folders in it) is resumed.

**Healing.** A partition that cannot be read (a disk error, a truncated
copy) is moved to ``STORE/quarantine/`` and rebuilt: every ingest checks the
footer of every partition, and a reader or a merge that meets a damaged one
moves it there too; its node's source files are then forgotten by the
manifest, so an ingest over them reads them again (the multiset union adds
nothing to the node's sound partitions and rebuilds the lost one). When they
are not in that ingest, the summary names the node whose logs to ingest again.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from ...parsers.logfiles import node_dirs
from .._frames import EVENT_CATEGORIES, EVENT_COLUMNS, PERFDATA_COLUMNS, empty
from . import ingest
from .coverage import SIGNAL_KINDS
from .objects import load_objects, read_contact_groups

STORE_VERSION = 1
MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
_OWN_ENTRIES = {
    "events",
    "perfdata",
    "objects",
    "contactgroups",
    QUARANTINE,
}  # what an ingest writes besides the manifest
# Files parsed per batch (on-disk bytes; a gzip counts as this many times its size).
BATCH_BYTES = 256 << 20
GZIP_RATIO = 8
# Columns that tell two lines apart (the node is the partition's).
_EVENT_CONTENT = [c for c in EVENT_COLUMNS if c not in ("node", "node_class", "cell", "environment")]
_PERF_CONTENT = [c for c in PERFDATA_COLUMNS if c != "node"]
_DAY_NS = 86_400 * 10**9


class StoreError(ValueError):
    """A store that cannot be used (not a nagtune store, newer version, unreadable)."""


class DamagedPartition(StoreError):
    """A partition file that cannot be read; it was moved to the quarantine."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass
class IngestSummary:
    """What one :func:`ingest_paths` call did."""

    files_read: int = 0
    files_unchanged: int = 0
    lines: int = 0
    unparsed: int = 0
    rows_added: int = 0
    perfdata_rows_added: int = 0
    partitions_written: list = field(default_factory=list)  # "events/day=…/node=…"
    quarantined: list = field(default_factory=list)  # damaged partitions moved to STORE/quarantine
    nodes_to_ingest_again: list = field(default_factory=list)  # their source files were not in this ingest

    def __str__(self) -> str:
        text = (
            f"{self.files_read} files read, {self.files_unchanged} unchanged; {self.lines:,} lines, "
            f"{self.unparsed:,} unparsed; {self.rows_added:,} events and {self.perfdata_rows_added:,} "
            f"perfdata rows added in {len(self.partitions_written)} partitions"
        )
        if self.quarantined:
            text += (
                f"; {len(self.quarantined)} damaged partition(s) moved to {QUARANTINE}/ and rebuilt "
                f"from their source files"
            )
        if self.nodes_to_ingest_again:
            text += (
                f"; ingest the logs of {', '.join(sorted(self.nodes_to_ingest_again))} again to rebuild "
                f"their damaged partitions (their files were not in this ingest)"
            )
        return text


# ---------------------------------------------------------------- manifest


def _manifest_path(store: str) -> str:
    return os.path.join(store, MANIFEST)


def load_manifest(store: str) -> dict:
    """The store's manifest (files seen, partitions with rows and time span); empty for a new store."""
    path = _manifest_path(store)
    if not os.path.exists(path):
        # An ingest killed before its first manifest write leaves only its own folders: resumed.
        if os.path.isdir(store) and any(
            name not in _OWN_ENTRIES and not name.startswith(".tmp-") for name in os.listdir(store)
        ):
            raise StoreError(f"{store!r} is not empty and has no {MANIFEST}: not a nagtune store")
        return {"version": STORE_VERSION, "files": {}, "partitions": {}}
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("version") != STORE_VERSION:
        raise StoreError(
            f"{path}: store version {manifest.get('version') if isinstance(manifest, dict) else '?'}"
            f" is not {STORE_VERSION}"
        )
    return manifest


def _atomic_write(path: str, write) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _save_manifest(store: str, manifest: dict) -> None:
    def write(path):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=0, sort_keys=True)

    _atomic_write(_manifest_path(store), write)


def _stat_key(path: str) -> dict:
    info = os.stat(path)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


# ---------------------------------------------------------------- partitions


def partition_name(stage: str, node: str, day: str | None = None) -> str:
    """``events/day=2026-11-17/node=<node, URL-quoted>`` (node names come from hostnames)."""
    quoted = "node=" + urllib.parse.quote(node, safe="")
    return f"{stage}/day={day}/{quoted}" if day is not None else f"{stage}/{quoted}"


def _partition_file(store: str, name: str) -> str:
    return os.path.join(store, *name.split("/"), "part.parquet")


def concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Frames of the same columns into one, categoricals kept categorical (categories united)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out = {}
    for column in columns:
        pieces = [f[column] for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in pieces):
            out[column] = union_categoricals([p.array for p in pieces], ignore_order=True)
        else:
            out[column] = pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(out)


def _nanoseconds(times: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(times).asi8


def _content_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


def _multiset_new(existing: pd.DataFrame | None, new: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Mask of ``new`` rows the partition lacks: the n-th copy of a line is new if it has fewer."""
    if existing is None or not len(existing):
        return np.ones(len(new), dtype=bool)
    old = pd.Series(_content_hash(existing, columns)).value_counts()
    hashes = _content_hash(new, columns)
    nth = pd.Series(hashes).groupby(hashes).cumcount().to_numpy()
    have = old.reindex(hashes).fillna(0).to_numpy()
    return nth >= have


def _read_file(path: str, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
        store, name = _split_partition_path(path)
        moved = _quarantine(store, name)
        raise DamagedPartition(
            f"partition {path} is damaged ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
            f"moved to {moved}: run nagtune ingest over the logs of node {_parse_name(name)[2]!r} again "
            f"to rebuild it",
            name,
        ) from None


def _split_partition_path(path: str) -> tuple[str, str]:
    """(store, partition name) of a ``.../part.parquet`` path."""
    parts = os.path.normpath(path).split(os.sep)[:-1]  # without part.parquet
    depth = 3 if len(parts) >= 3 and parts[-2].startswith("day=") else 2
    return os.sep.join(parts[:-depth]) or os.sep, "/".join(parts[-depth:])


def _quarantine(store: str, name: str) -> str:
    """Move a damaged partition file out of the store's way; where it went."""
    source = _partition_file(store, name)
    target = os.path.join(store, QUARANTINE, name.replace("/", "__") + f".{os.getpid()}.parquet")
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
    except OSError:
        return source + " (could not move it: delete it)"
    return target


def _heal(store: str, manifest: dict, summary: IngestSummary, targets) -> None:
    """Forget what the manifest says about damaged or missing partitions, so their files are read again."""
    damaged = []
    for name in list(manifest["partitions"]):
        path = _partition_file(store, name)
        try:
            pq.read_metadata(path)
        except FileNotFoundError:
            damaged.append(name)  # moved away by a reader that met it damaged, or deleted by hand
        except Exception:  # noqa: BLE001 - any unreadable footer
            _quarantine(store, name)
            summary.quarantined.append(name)
            damaged.append(name)
    _forget(manifest, damaged, summary, targets)


def _forget(manifest: dict, names, summary: IngestSummary, targets) -> None:
    nodes = set()
    for name in names:
        manifest["partitions"].pop(name, None)
        nodes.add(_parse_name(name)[2])
    if not nodes:
        return
    for path, info in list(manifest["files"].items()):
        if info.get("node") in nodes:
            del manifest["files"][path]
    given = {node for node, _ in targets}
    summary.nodes_to_ingest_again.extend(sorted(nodes - given - set(summary.nodes_to_ingest_again)))


def _merge_partition(
    store: str, name: str, new: pd.DataFrame, columns: list[str], content: list[str], manifest: dict
) -> int:
    """Add to partition ``name`` the rows of ``new`` it lacks; returns how many were added."""
    path = _partition_file(store, name)
    existing = _read_file(path) if os.path.exists(path) else None  # DamagedPartition: see ingest_paths
    added = new[_multiset_new(existing, new, content)]
    if not len(added):
        if existing is not None and len(existing) and name not in manifest["partitions"]:
            # written by an ingest killed before its manifest
            manifest["partitions"][name] = _partition_info(existing)
        return 0
    merged = concat([existing, added] if existing is not None else [added], columns)
    # Time order; lines of one second keep their order (stored ones first, they were written first).
    merged = merged.iloc[np.argsort(_nanoseconds(merged["time"]), kind="stable")].reset_index(drop=True)
    table = pa.Table.from_pandas(merged[columns], preserve_index=False)
    _atomic_write(path, lambda temporary: pq.write_table(table, temporary, compression="zstd"))
    manifest["partitions"][name] = _partition_info(merged)
    return len(added)


def _partition_info(frame: pd.DataFrame) -> dict:
    """A partition's manifest entry: rows, first and last time, and the last alert or
    notification (``signal_max_ns``, None without one) where a default window ends."""
    times = _nanoseconds(frame["time"])
    info = {"rows": len(frame), "min_ns": int(times.min()), "max_ns": int(times.max())}
    if "kind" in frame:
        signal = frame["kind"].isin(SIGNAL_KINDS).to_numpy()
        info["signal_max_ns"] = int(times[signal].max()) if signal.any() else None
    return info


def newest_signal(store: str) -> pd.Timestamp | None:
    """Where a default window ends over the store: its newest alert or notification, else its
    newest event (as :func:`.coverage.newest_signal` over the same events). A partition written
    before the manifest kept ``signal_max_ns`` counts by its newest event."""
    partitions = [info for name, info in load_manifest(store)["partitions"].items() if name.startswith("events/")]
    signals = [info.get("signal_max_ns", info["max_ns"]) for info in partitions]
    newest = max((ns for ns in signals if ns is not None), default=None)
    if newest is None:
        newest = max((info["max_ns"] for info in partitions), default=None)
    return None if newest is None else pd.Timestamp(newest, tz="UTC")


def span_text(store: str) -> str:
    """Where the store's events are: ``the store holds 2026-11-20 21:40 .. 2026-11-21 02:40 UTC``."""
    partitions = [
        info
        for name, info in load_manifest(store)["partitions"].items()
        if name.startswith("events/") and info.get("rows")
    ]
    if not partitions:
        return "the store holds no event"
    first = pd.Timestamp(min(p["min_ns"] for p in partitions), tz="UTC")
    last = pd.Timestamp(max(p["max_ns"] for p in partitions), tz="UTC")
    return f"the store holds {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC"


def _by_day(frame: pd.DataFrame):
    """(day "YYYY-MM-DD", rows) of a frame, by its UTC ``time``."""
    days = _nanoseconds(frame["time"]) // _DAY_NS
    for day in np.unique(days):
        label = pd.Timestamp(int(day) * _DAY_NS).strftime("%Y-%m-%d")
        yield label, frame[days == day]


# ---------------------------------------------------------------- ingest


def _batches(files: list[str], limit: int):
    batch, size = [], 0
    for path in files:
        cost = os.path.getsize(path) * (GZIP_RATIO if path.endswith(".gz") else 1)
        if batch and size + cost > limit:
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += cost
    if batch:
        yield batch


def _seen(manifest: dict, path: str, node: str) -> bool:
    """Ingested before, and unchanged since (same path, size and mtime)."""
    return manifest["files"].get(os.path.realpath(path)) == {**_stat_key(path), "node": node}


def _remember(manifest: dict, path: str, node: str) -> None:
    manifest["files"][os.path.realpath(path)] = {**_stat_key(path), "node": node}


def _add_by_day(store: str, stage: str, node: str, rows: pd.DataFrame, manifest: dict, summary: IngestSummary) -> int:
    """Merge ``rows`` of one node into the stage's day partitions; returns the rows added."""
    columns, content = (EVENT_COLUMNS, _EVENT_CONTENT) if stage == "events" else (PERFDATA_COLUMNS, _PERF_CONTENT)
    total = 0
    for day, part in _by_day(rows):
        name = partition_name(stage, node, day)
        added = _merge_partition(store, name, part, columns, content, manifest)
        if added:
            total += added
            summary.partitions_written.append(name)
    return total


def ingest_paths(
    paths,
    store: str,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    progress: bool = False,
    batch_bytes: int = BATCH_BYTES,
) -> IngestSummary:
    """Add the events (and perfdata, objects) of Nagios logs under ``paths`` to ``store``.

    :param paths: as for :func:`.ingest.load_events`: node directories, their
        parents, log files (plain or ``.gz``) or globs.
    :param store: the store directory (created if missing).
    :returns: what was read and added. Running it again on the same files
        adds nothing.
    :raises ingest.IngestError: a path matches nothing or cannot be read.
    :raises StoreError: ``store`` is not a nagtune store.
    """
    targets = ingest.resolve_paths(paths)
    manifest = load_manifest(store)
    os.makedirs(store, exist_ok=True)
    if not os.path.exists(_manifest_path(store)):
        _save_manifest(store, manifest)  # first: an ingest killed early leaves a store the next one resumes
    summary = IngestSummary()
    _heal(store, manifest, summary, targets)
    try:
        _ingest(paths, targets, store, manifest, summary, environment, cell_pattern, progress, batch_bytes)
    except DamagedPartition as exc:  # met while merging: forget its node's files and read them again
        summary.quarantined.append(exc.name)
        _forget(manifest, [exc.name], summary, targets)
        _save_manifest(store, manifest)
        again = ingest_paths(paths, store, environment, cell_pattern, progress, batch_bytes)
        again.quarantined[:0] = summary.quarantined
        return again
    return summary


def _ingest(paths, targets, store, manifest, summary, environment, cell_pattern, progress, batch_bytes) -> None:
    by_node: dict[str, list[str]] = {}
    for node, path in targets:
        try:
            os.stat(path)
        except OSError as exc:
            raise ingest.IngestError(f"cannot read {path}: {exc.strerror or exc}") from None
        if _seen(manifest, path, node):
            summary.files_unchanged += 1
        else:
            by_node.setdefault(node, []).append(path)
    bar = None
    if progress and sum(len(f) for f in by_node.values()) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(len(f) for f in by_node.values()), unit="file", desc="nagtune ingest")
    for node, files in by_node.items():
        for batch in _batches(files, batch_bytes):
            events = ingest.load_events(batch, environment=environment, cell_pattern=cell_pattern)
            summary.lines += events.attrs.get("lines", 0)
            summary.unparsed += events.attrs.get("unparsed", 0)
            summary.rows_added += _add_by_day(store, "events", node, events, manifest, summary)
            for path in batch:
                _remember(manifest, path, node)
            summary.files_read += len(batch)
            _save_manifest(store, manifest)
            if bar is not None:
                bar.update(len(batch))
    if bar is not None:
        bar.close()
    _ingest_side_files(paths, store, manifest, summary, node_dirs)
    _save_manifest(store, manifest)


def _ingest_side_files(paths, store: str, manifest: dict, summary: IngestSummary, node_dirs) -> None:
    """``service-perfdata.log`` (merged by day like events) and ``objects.cache`` (newest wins)."""
    for directory in node_dirs(paths):
        node = os.path.basename(os.path.normpath(os.path.abspath(directory)))
        perf = os.path.join(directory, "service-perfdata.log")
        if os.path.isfile(perf) and not _seen(manifest, perf, node):
            rows = ingest.load_perfdata([perf])
            summary.perfdata_rows_added += _add_by_day(store, "perfdata", node, rows, manifest, summary)
            _remember(manifest, perf, node)
            summary.files_read += 1
        objects = os.path.join(directory, "objects.cache")
        if os.path.isfile(objects) and not _seen(manifest, objects, node):
            frame = load_objects([objects])
            name = partition_name("objects", node)
            path = _partition_file(store, name)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            _atomic_write(path, lambda temporary, table=table: pq.write_table(table, temporary, compression="zstd"))
            manifest["partitions"][name] = {"rows": len(frame)}
            groups = read_contact_groups([objects])
            name = partition_name("contactgroups", node)
            table = pa.Table.from_pandas(groups, preserve_index=False)
            _atomic_write(
                _partition_file(store, name),
                lambda temporary, table=table: pq.write_table(table, temporary, compression="zstd"),
            )
            manifest["partitions"][name] = {"rows": len(groups)}
            _remember(manifest, objects, node)
            summary.partitions_written.append(name)
            summary.files_read += 1


# ---------------------------------------------------------------- reading


def _parse_name(name: str) -> tuple[str, str | None, str]:
    parts = name.split("/")
    node = urllib.parse.unquote(parts[-1][len("node=") :])
    day = parts[1][len("day=") :] if len(parts) == 3 else None
    return parts[0], day, node


def _in_window(info: dict, start: pd.Timestamp | None, end: pd.Timestamp | None) -> bool:
    if start is not None and info["max_ns"] < start.value:
        return False
    return end is None or info["min_ns"] < end.value


def nodes(store: str, since=None, until=None) -> list[str]:
    """Nodes with events in ``[since, until)``, sorted."""
    start, end = ingest.window_bounds(since, until)
    found = set()
    for name, info in load_manifest(store)["partitions"].items():
        stage, _, node = _parse_name(name)
        if stage == "events" and _in_window(info, start, end):
            found.add(node)
    return sorted(found)


def _partition_files(store: str, stage: str, node: str, start, end) -> list[str]:
    manifest = load_manifest(store)
    chosen = []
    for name, info in manifest["partitions"].items():
        part_stage, day, part_node = _parse_name(name)
        if part_stage == stage and part_node == node and _in_window(info, start, end):
            chosen.append((day, _partition_file(store, name)))
    return [path for _, path in sorted(chosen)]


def _window(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= (frame["time"] >= start).to_numpy()
    if end is not None:
        mask &= (frame["time"] < end).to_numpy()
    return frame if mask.all() else frame[mask].reset_index(drop=True)


def read_node_times(store: str, node: str, since=None, until=None) -> pd.DataFrame:
    """Only the ``time`` column of one node's events in the window (cheap: one column is read)."""
    start, end = ingest.window_bounds(since, until)
    frames = [_read_file(path, ["time"]) for path in _partition_files(store, "events", node, start, end)]
    if not frames:
        return pd.DataFrame({"time": pd.Series(dtype="datetime64[ns, UTC]")})
    return _window(pd.concat(frames, ignore_index=True), start, end)


def read_node(store: str, node: str, since=None, until=None) -> pd.DataFrame:
    """One node's events in ``[since, until)``, in time order, as :func:`.ingest.load_events` gives them."""
    start, end = ingest.window_bounds(since, until)
    frames = [_read_file(path) for path in _partition_files(store, "events", node, start, end)]
    merged = concat(frames, EVENT_COLUMNS)
    if merged is None:
        return empty_events()
    return _window(merged, start, end)[EVENT_COLUMNS]


def empty_events() -> pd.DataFrame:
    """An events frame with no rows and the dtypes of a real one."""
    frame = empty(EVENT_COLUMNS)
    frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    for column in EVENT_CATEGORIES:
        frame[column] = pd.Categorical([])
    frame["attempt"] = pd.array([], dtype="Int16")
    for column in ("output", "author", "comment"):
        frame[column] = pd.array([], dtype="string")
    return frame


def read_node_perfdata(store: str, node: str, since=None, until=None) -> pd.DataFrame | None:
    """One node's perfdata rows in the window, or None when the store has none for it."""
    start, end = ingest.window_bounds(since, until)
    frames = [_read_file(path) for path in _partition_files(store, "perfdata", node, start, end)]
    merged = concat(frames, PERFDATA_COLUMNS)
    return None if merged is None else _window(merged, start, end)


def read_node_objects(store: str, node: str) -> pd.DataFrame | None:
    """The newest ``objects.cache`` ingested for ``node``, or None."""
    path = _partition_file(store, partition_name("objects", node))
    return _read_file(path) if os.path.exists(path) else None


def _categorize(frame: pd.DataFrame, columns) -> pd.DataFrame:
    for column in columns:
        if column in frame and not isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("category")
    return frame


def load_events(store: str, since=None, until=None, only_nodes=None) -> pd.DataFrame:
    """Events of every node in the store (or ``only_nodes``), node by node in time order.

    The pandas engine's reader: the window must fit in memory. ``attrs``
    holds ``lines`` (rows read) and ``nodes``.
    """
    chosen = nodes(store, since, until) if only_nodes is None else sorted(only_nodes)
    frames = [read_node(store, node, since, until) for node in chosen]
    events = concat(frames, EVENT_COLUMNS)
    if events is None:
        events = empty_events()
    events = _categorize(events, EVENT_CATEGORIES)
    events.attrs.update({"lines": len(events), "unparsed": 0, "duplicates": 0, "nodes": len(chosen)})
    return events


def load_perfdata(store: str, since=None, until=None, only_nodes=None) -> pd.DataFrame | None:
    chosen = nodes(store, since, until) if only_nodes is None else sorted(only_nodes)
    frames = [read_node_perfdata(store, node, since, until) for node in chosen]
    return concat([f for f in frames if f is not None], PERFDATA_COLUMNS)


def load_objects_frame(store: str, only_nodes=None) -> pd.DataFrame | None:
    """The nodes' newest ``objects.cache``; ``attrs["contact_groups"]``: their contact groups."""
    chosen = nodes(store) if only_nodes is None else sorted(only_nodes)
    frames = [f for f in (read_node_objects(store, node) for node in chosen) if f is not None]
    if not frames:
        return None
    objects = pd.concat(frames, ignore_index=True)
    groups = [
        _read_file(path)
        for path in (_partition_file(store, partition_name("contactgroups", node)) for node in chosen)
        if os.path.exists(path)
    ]
    objects.attrs["contact_groups"] = (
        pd.concat(groups).drop_duplicates().sort_values(["contact", "contact_group"]).reset_index(drop=True)
        if groups
        else read_contact_groups([])
    )
    return objects
