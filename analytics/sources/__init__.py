"""Where events come from, each into the frames of :mod:`.._frames`.

- :mod:`.ingest` — Nagios log archives to a typed events frame (vectorised,
  cached); perfdata files and values printed in plugin output.
- :mod:`.store` — the partitioned Parquet store, ingested once, read by day and node.
- :mod:`.graphite_source` — the collector's metrics in Graphite back into events.
- :mod:`.objects` — Nagios' ``objects.cache``: the check settings in force.
"""
