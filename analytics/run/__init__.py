"""Running the work: every stage at once, in processes, on Dask, or from the cache.

- :mod:`.api` — :func:`.api.analyze` and the ``*_logs`` calls the CLI uses.
- :mod:`.parallel` — one stage over many nodes in worker processes.
- :mod:`.engine` — the same analytics on pandas or on Dask, over the store.
- :mod:`.results_cache` — tables already computed from the same logs by the same code.
"""
