"""Central analytics over many Nagios nodes' event logs (pandas).

Stages, one small module each, DataFrames in and out:

- :mod:`.ingest` — log files to a typed events frame (vectorised, cached);
  perfdata file and values printed in plugin output.
- :mod:`.objects` — Nagios' ``objects.cache``: current check settings.
- :mod:`.episodes` — events to problem episodes.
- :mod:`.chatty` — too chatty: a score and the reasons.
- :mod:`.quiet` — not chatty enough.
- :mod:`.retune` — one concrete change per flagged service, replayed on history.
- :mod:`.names` — machine-readable names and their collisions.
- :mod:`.automation` — recurring problems and problems that fix themselves.
- :mod:`.api` — :func:`analyze`: all of the above at once.
"""
