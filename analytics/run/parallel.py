"""One analysis stage over many nodes' logs, in worker processes, one group of whole nodes each.

Why processes: once the C splitter has cut the lines, most of what is left
(pandas over categoricals: groupbys, merges, sorts) holds the GIL, so parse
threads no longer help much; a node's problems never involve another node's
events, so whole nodes can go to separate processes and only their small
results come back.

Why two phases: open problems end where the *window* ends and rates are per
week of the *whole* window, which no group knows alone. Each worker reads
its nodes' events and reports their first and last time; the parent sends
back the :class:`Window`; each worker then runs the stage on its own events
and sends back its result. The results are those of one process over all
nodes (``tests/test_analytics_parallel.py`` compares them).

Workers are forked (Linux): nothing is pickled on the way in, the caller's
``__main__`` is not re-imported, and start-up costs milliseconds. Where fork
is not available, or the logs are small, everything runs in this process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..findings.chatty import weeks_between
from ..sources import coverage, ingest

MAX_PROCESSES = 4
PROCESS_BYTES = 256 << 20  # bytes to read (gzip counted GZIP_RATIO times) from which worker processes pay


@dataclass(frozen=True)
class Window:
    """What every group is told about the whole window."""

    end: pd.Timestamp | None  # where open problems end: --until, else the last event's time
    weeks: float  # the window's length in weeks (rates per week), as chatty.weeks_between gives it


def node_groups(targets: list[tuple[str, str]], groups: int) -> list[list[tuple[str, str]]]:
    """``targets`` split into at most ``groups`` groups of whole nodes, nodes dealt round-robin in
    name order: the same nodes give the same groups, so each group's ingest cache is found again."""
    nodes = sorted({node for node, _ in targets})
    group_of = {node: index % groups for index, node in enumerate(nodes)}
    split: list[list[tuple[str, str]]] = [[] for _ in range(min(groups, len(nodes)))]
    for node, path in targets:
        split[group_of[node]].append((node, path))
    return split


def _bytes_to_read(targets: list[tuple[str, str]]) -> int:
    total = 0
    for _, path in targets:
        try:
            size = os.path.getsize(path)
        except OSError:
            continue  # the ingest reports it
        total += size * (ingest.GZIP_RATIO if path.endswith(".gz") else 1)
    return total


def cores() -> int:
    """Processes worth forking for a big input: one per core, at most MAX_PROCESSES."""
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def default_processes(targets: list[tuple[str, str]]) -> int:
    """One per core, at most MAX_PROCESSES and one per node, when there is enough to read; else 1."""
    if not can_fork() or _bytes_to_read(targets) < PROCESS_BYTES:
        return 1
    return max(1, min(cores(), len({node for node, _ in targets})))


def _group_cache(cache_dir: str | None, group: list[tuple[str, str]]) -> str | None:
    """Each group its own ingest cache (one cache directory is one process's at a time)."""
    if cache_dir is None:
        return None
    nodes = "\n".join(sorted({node for node, _ in group}))
    return os.path.join(cache_dir, "groups", hashlib.sha256(nodes.encode()).hexdigest()[:16])


STALE_GROUP_CACHE_DAYS = 7


def _used(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    os.utime(directory)  # its age is the time since a run last used it


def drop_stale_group_caches(cache_dir: str, keep: set[str], days: float = STALE_GROUP_CACHE_DAYS) -> list[str]:
    """Remove the group caches under ``cache_dir`` that no run used for ``days`` days.

    Another ``--workers`` or another set of nodes makes other groups, and their
    caches would stay forever. One that a run holds (its lock taken) is left.
    :returns: the directories removed.
    """
    import fcntl
    import shutil
    import time

    root = os.path.join(cache_dir, "groups")
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    removed = []
    for entry in entries:
        if entry.path in keep or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < days * 86_400:
                continue
            with open(os.path.join(entry.path, ingest.CACHE_LOCK), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use: BlockingIOError, kept
                shutil.rmtree(entry.path)
            removed.append(entry.path)
        except OSError:
            continue
    return removed


Stage = Callable[[pd.DataFrame, Window], object]


def _times(events: pd.DataFrame):
    if len(events) == 0:
        return None, None
    return events["time"].min(), events["time"].max()


def _window(times: list, until: pd.Timestamp | None) -> Window:
    """The whole window from each group's (first, last) event time and the resolved ``until``."""
    firsts = [t[0] for t in times if t[0] is not None]
    lasts = [t[1] for t in times if t[1] is not None]
    first, last = (min(firsts), max(lasts)) if firsts else (None, None)
    return Window(end=until if until is not None else last, weeks=weeks_between(first, last))


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its parent dies (a cron timeout's SIGKILL
    leaves no orphan reading logs). Elsewhere a worker ends at its next send."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _worker(conn, group, stage, since, until, cache_dir, environment, cell_pattern, texts, threads) -> None:
    def read_then_stage():
        events = ingest.load_files(
            group,
            since=since,
            until=until,
            cache_dir=cache_dir,
            environment=environment,
            cell_pattern=cell_pattern,
            texts=texts,
            workers=threads,
        )
        conn.send(("times", _times(events), dict(events.attrs)))
        window = conn.recv()
        held = [events]
        del events
        return stage(held.pop(), window)

    _run_forked(conn, read_then_stage)


def _send_error(conn, exc: BaseException) -> None:
    for payload in (exc, RuntimeError("".join(traceback.format_exception(exc)))):  # the text if it does not pickle
        try:
            conn.send(("error", payload))
            return
        except (OSError, EOFError):
            return  # the parent stopped listening (another worker failed first)
        except Exception:  # noqa: BLE001 - pickling
            continue


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed, out of memory)."""


def _describe(group) -> str:
    nodes = sorted({node for node, _ in group})
    return f"the worker for nodes {', '.join(nodes[:3])}{'...' if len(nodes) > 3 else ''}"


def _receive(conn, process, who: str) -> tuple:
    try:
        message = conn.recv()
    except EOFError:
        process.join()
        raise WorkerDied(f"{who} ended without an answer (exit code {process.exitcode})") from None
    if message[0] == "error":
        raise message[1]
    return message


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _run_forked(conn, function) -> None:
    _die_with_parent()
    try:
        conn.send(("result", function()))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent, which raises it
        _send_error(conn, exc)
    finally:
        conn.close()


class Forked:
    """``function()`` run in a forked child process while this one goes on; :meth:`result`
    waits for its value (pickled back) or raises its exception (or :class:`WorkerDied`).

    The child sees this process's memory as it was at the fork (copy-on-write: a
    frame read there is not copied), so ``function`` may close over large frames;
    only its result travels. With ``fork=False``, or without fork (not Linux),
    ``function`` runs here, at once.
    """

    def __init__(self, function: Callable[[], object], name: str, fork: bool = True):
        self._name = name
        self._process = None
        if not (fork and can_fork()):
            self._value = function()
            return
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_run_forked, args=(child_end, function), daemon=True)
        self._process.start()
        child_end.close()

    def result(self):
        if self._process is not None:
            try:
                self._value = _receive(self._conn, self._process, self._name)[1]
            finally:
                self.close()
        return self._value

    def close(self) -> None:
        """Done with the child: ended at once if it has not answered (the caller failed)."""
        process, self._process = self._process, None
        if process is None:
            return
        self._conn.close()
        _end(process, wait=1)  # one that answered is exiting


def _end(process, wait: float) -> None:
    """Join ``process``, killed if it has not ended within ``wait`` seconds."""
    process.join(timeout=wait)
    if process.is_alive():
        process.kill()
        process.join()


def forked_map(functions: list[Callable[[], object]], names: list[str]) -> list:
    """Each of ``functions`` in its own forked process at once; their results in order."""
    running: list[Forked] = []
    try:
        for function, name in zip(functions, names):
            running.append(Forked(function, name))
        return [child.result() for child in running]
    finally:
        for child in running:
            child.close()


def map_node_groups(
    targets: list[tuple[str, str]],
    stage: Stage,
    since=None,
    until=None,
    cache_dir=None,
    environment: str = "default",
    cell_pattern: str = ingest.DEFAULT,
    processes: int | None = None,
    progress: bool = False,
    texts: bool = True,
) -> tuple[list, dict]:
    """``stage(events, window)`` for groups of whole nodes, each group in its own process.

    The stage is given the only reference to its events: dropping columns it
    does not need frees their memory before its own peak.

    :param targets: ``(node, file)`` as :func:`.ingest.resolve_paths` gives them.
    :param since, until: the window (relative forms are resolved once, here).
    :param processes: worker processes; default :func:`default_processes`. 1 runs here.
    :param progress: a progress bar over the bytes read, when everything runs here.
    :param texts: False when the stage reads no output, author or comment
        (:func:`.ingest.load_events`' ``texts``).
    :returns: the stage's results in group order, and the ingest's counts
        (``lines``, ``unparsed``, ``duplicates``, ``files``, ``outside_window``) summed, and
        the span of data found (:func:`.coverage.merge_counts`).
    """
    since, until = ingest.window_bounds(since, until)
    processes = default_processes(targets) if processes is None else processes
    groups = node_groups(targets, processes) if processes > 1 else [targets]
    if len(groups) <= 1:
        events = ingest.load_files(
            targets,
            since=since,
            until=until,
            cache_dir=cache_dir,
            progress=progress,
            environment=environment,
            cell_pattern=cell_pattern,
            texts=texts,
        )
        window, counts = _window([_times(events)], until), dict(events.attrs)
        held = [events]
        del events
        return [stage(held.pop(), window)], counts
    caches = {_group_cache(cache_dir, group) for group in groups} - {None}
    for directory in caches:
        _used(directory)
    context = multiprocessing.get_context("fork")
    # The processes share the cores: parse threads of their own would only contend for them,
    # so each process parses in one thread.
    threads = max(1, (os.cpu_count() or 1) // len(groups))
    workers = []
    try:
        for group in groups:
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker,
                daemon=True,
                args=(
                    child_end,
                    group,
                    stage,
                    since,
                    until,
                    _group_cache(cache_dir, group),
                    environment,
                    cell_pattern,
                    texts,
                    threads,
                ),
            )
            process.start()
            child_end.close()
            workers.append((parent_end, process, group))
        answers = [_receive(conn, process, _describe(group)) for conn, process, group in workers]
        window = _window([answer[1] for answer in answers], until)
        for conn, _, _ in workers:
            conn.send(window)
        results = [_receive(conn, process, _describe(group))[1] for conn, process, group in workers]
    finally:
        for conn, process, _ in workers:
            conn.close()
            _end(process, wait=5)
    if cache_dir is not None:
        drop_stale_group_caches(cache_dir, caches)
    counts: dict = {}
    for answer in answers:
        coverage.merge_counts(counts, answer[2])
    return results, counts
