"""What the events mean, one module per finding; events frame in, findings frame out.

- :mod:`.episodes` — events to problem episodes.
- :mod:`.chatty` — too chatty: a score and the reasons.
- :mod:`.quiet` — not chatty enough.
- :mod:`.retune` — one concrete change per flagged service, replayed on history.
- :mod:`.retry` — faster detection: a shorter retry interval, replayed.
- :mod:`.flapping` — Nagios' flap detection recomputed and replayed.
- :mod:`.names` — machine-readable names and their collisions.
- :mod:`.automation` — recurring problems and problems that fix themselves.
- :mod:`._groups` — per-object sorts and interval joins (numpy, pandas).
"""
