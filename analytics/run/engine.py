"""One engine switch: the same analytics on pandas (one process) or on Dask (a cluster).

Both engines read the partitioned store of :mod:`.store` and run the same
functions of :mod:`.api`; only where the work runs differs.

- ``pandas``: the window of every node is loaded into one frame and
  :func:`.api.analyze` runs on it.
- ``dask``: one partition per node (:func:`dask.dataframe.from_map` over
  :func:`.store.read_node`). A first pass reads only the ``time`` column to
  find the window's end and length; then each node's partition goes through
  :func:`.api.analyze_part` with those two numbers, on whichever worker
  holds it, and :func:`.api.combine` puts the small per-node tables
  together. The retune replays are a second pass over the few nodes that
  hold the global top host/services (a node alone cannot know whether its
  candidates make the global top). Only one node's window is in a worker's memory at a time, so
  the store can be many times larger than the cluster's memory; a node's
  window has to fit in one worker (a year of one busy node is a few
  million lines, well under a GB).

Why per node and not per day: problems, flapping histories and retune
replays run along one host and service, which one node monitors, across
days. Splitting a node by day would need episodes stitched across
partitions; splitting by node needs nothing stitched.

Tasks only read the store, so a worker lost mid-run has its tasks run again
elsewhere with the same result.
"""

from __future__ import annotations

import contextlib
import logging
import os

import pandas as pd

from ..findings import episodes as episodes_mod
from ..findings import retune
from ..sources import ingest, store
from . import api

ENGINES = ("pandas", "dask")


class EngineError(ValueError):
    """An engine that cannot run as asked (unknown engine, unreachable scheduler, empty store)."""


def _resolve(since, until) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    # Resolved once on the driver: "7d" must mean the same instant on every worker.
    return ingest.window_bounds(since, until)


def analyze_store(
    store_dir: str,
    since=None,
    until=None,
    engine: str = "pandas",
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | None = None,
    retune_top: int = api.RETUNE_TOP,
) -> api.Analysis:
    """Every analytics table for the events of ``store_dir`` in ``[since, until)``.

    :param engine: ``pandas`` (in this process) or ``dask``.
    :param scheduler: address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``); without it the Dask engine starts a
        ``LocalCluster`` of ``workers`` processes for this call.
    :param memory_limit: per worker of that local cluster (``2GB``).
    :returns: an :class:`.api.Analysis`; with the Dask engine its ``events``
        is None (they never come back to this process).
    """
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if not os.path.exists(os.path.join(store_dir, store.MANIFEST)):
        raise EngineError(
            f"{store_dir!r} is not a nagtune store (no {store.MANIFEST}); "
            f"make one with: nagtune ingest ARCHIVES... --store {store_dir}"
        )
    start, end = _resolve(since, until)
    if engine == "pandas":
        events = store.load_events(store_dir, start, end)
        return api.analyze(
            events,
            until=end,
            objects=store.load_objects_frame(store_dir),
            perfdata=store.load_perfdata(store_dir, start, end),
            retune_top=retune_top,
        )
    with dask_client(scheduler, workers, memory_limit) as client:
        return _analyze_dask(client, store_dir, start, end, retune_top)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, memory_limit: str | None = None):
    """A ``distributed.Client`` to ``scheduler``, or to a local cluster closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise EngineError("the dask engine needs: pip install 'nagtune[dask]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers or min(4, os.cpu_count() or 1),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit or "auto",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _times_of(node: str, store_dir: str, start, end) -> pd.DataFrame:
    return store.read_node_times(store_dir, node, start, end)


def _events_of(node: str, store_dir: str, start, end) -> pd.DataFrame:
    return store.read_node(store_dir, node, start, end)


def _node_part(
    events: pd.DataFrame, store_dir: str, node: str, start, end, window_end, weeks, retune_top: int
) -> api.Part:
    return api.analyze_part(
        events,
        objects=store.read_node_objects(store_dir, node),
        perfdata=store.read_node_perfdata(store_dir, node, start, end),
        window_end=window_end,
        weeks=weeks,
        retune_top=retune_top,
    )


def _analyze_dask(client, store_dir: str, start, end, retune_top: int) -> api.Analysis:
    import dask
    import dask.dataframe as dd

    nodes = store.nodes(store_dir, start, end)
    if not nodes:
        return api.analyze(store.empty_events(), until=end)
    times = dd.from_map(
        _times_of,
        nodes,
        args=(store_dir, start, end),
        meta=pd.DataFrame({"time": pd.Series(dtype="datetime64[ns, UTC]")}),
        label="nagtune-times",
        enforce_metadata=False,
    )
    first, last = dask.compute(times["time"].min(), times["time"].max())
    if pd.isna(first):
        return api.analyze(store.empty_events(), until=end)
    # What api.analyze computes from the whole frame, given to every node.
    window_end = end if end is not None else last
    weeks = (last - first) / pd.Timedelta(days=7)
    frames = dd.from_map(
        _events_of,
        nodes,
        args=(store_dir, start, end),
        meta=store.empty_events(),
        label="nagtune-events",
        enforce_metadata=False,
    )
    # Pass 1: everything but the retune replays (retune_top=0), which only the
    # global top host/services need and a node cannot know whether it holds them.
    # The ranking's rates are per each node's own span of data (chatty.hours_per_node): no weeks.
    parts = [
        dask.delayed(_node_part, pure=True)(partition, store_dir, node, start, end, window_end, None, 0)
        for partition, node in zip(frames.to_delayed(), nodes)
    ]
    gathered = _gather(client, parts)
    # Pass 1's only retunes are every node's faster-detection rows: the global choice needs them all.
    faster = api.concat_frames([part.retunes for part in gathered])
    combined = api.combine(gathered, events=None, retune_top=retune_top)
    del gathered
    # Pass 2: the replays, on the nodes of the global top only, each for its own
    # first k rows (a node's ranking is the global one restricted to it).
    top_per_node = combined.chatty_host_service.head(retune_top)["node"].astype(str).value_counts()
    if not len(top_per_node) or retune_top == 0:
        return combined
    holders = [node for node in nodes if node in top_per_node]
    frames = dd.from_map(
        _events_of,
        holders,
        args=(store_dir, start, end),
        meta=store.empty_events(),
        label="nagtune-events-top",
        enforce_metadata=False,
    )
    suggestions = [
        dask.delayed(_node_retunes, pure=True)(
            partition, store_dir, node, start, end, window_end, weeks, int(top_per_node[node])
        )
        for partition, node in zip(frames.to_delayed(), holders)
    ]
    retunes = api.concat_frames(_gather(client, suggestions))
    everything = api.concat_frames([frame for frame in (retunes, faster) if frame is not None])
    combined.retunes = api.order_retunes(
        everything if everything is not None else combined.retunes, combined.chatty_host_service, retune_top
    )
    return combined


def _node_retunes(
    events: pd.DataFrame, store_dir: str, node: str, start, end, window_end, weeks, top: int
) -> pd.DataFrame:
    episodes = episodes_mod.build_episodes(events, window_end=window_end)
    return retune.suggest_chatty_retunes(
        events,
        episodes,
        objects=store.read_node_objects(store_dir, node),
        perfdata=store.read_node_perfdata(store_dir, node, start, end),
        top=top,
        weeks=weeks,
        window_end=window_end,
    )


def _gather(client, tasks: list) -> list:
    """Results of ``tasks`` in their order, each released as soon as it is here: a
    worker keeps no finished results, so its memory holds one node's window,
    never the whole fleet's tables."""
    from distributed import as_completed

    futures = client.compute(tasks)
    position = {future.key: index for index, future in enumerate(futures)}
    results: list = [None] * len(futures)
    for future in as_completed(futures):
        results[position[future.key]] = future.result()
        future.release()
    return results
