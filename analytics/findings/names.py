"""Machine-readable names of hosts and services, and where two would collide.

Uses :class:`nagtune.parsers.names.NameRegistry` (the one sanitizer): the
first raw name to claim a metric name keeps it, a later one gets a hashed
name and is reported with the raw name it collided with.
"""
from __future__ import annotations

import pandas as pd

from ...parsers import events as ev
from ...parsers.names import NameRegistry
from .._frames import NAME_COLUMNS, empty


def audit_names(events: pd.DataFrame) -> pd.DataFrame:
    """Every distinct host and service description with its metric name.

    :returns: ``NAME_COLUMNS``: kind (``host``/``service``), raw,
        metric_name, collides_with (the raw name that owns the plain metric
        name, "" when there is no collision). Collisions first.
    """
    if events is None or len(events) == 0:
        return empty(NAME_COLUMNS)
    named = events[events["kind"].isin([ev.SERVICE_ALERT, ev.HOST_ALERT, ev.SERVICE_NOTIFICATION,
                                        ev.HOST_NOTIFICATION, ev.CURRENT_SERVICE_STATE,
                                        ev.CURRENT_HOST_STATE, ev.INITIAL_SERVICE_STATE,
                                        ev.INITIAL_HOST_STATE, ev.SERVICE_FLAPPING,
                                        ev.SERVICE_DOWNTIME]).to_numpy()]
    rows = []
    for kind, column in (("host", "host"), ("service", "service")):
        raws = sorted(set(named[column].astype(str)) - {""})
        registry = NameRegistry()
        names = {raw: registry.safe(raw) for raw in raws}
        owner_of = {newcomer: owner for _, owner, newcomer in registry.collisions}
        owned = {owner for owner in owner_of.values()}
        for raw in raws:
            rows.append((kind, raw, names[raw], owner_of.get(raw, "")))
        # The owner of a contested name is listed as colliding too, with the newcomers.
        for index, row in enumerate(rows):
            if row[0] == kind and row[1] in owned and not row[3]:
                newcomers = sorted(n for n, o in owner_of.items() if o == row[1])
                rows[index] = (kind, row[1], row[2], ", ".join(newcomers))
    frame = pd.DataFrame(rows, columns=NAME_COLUMNS)
    frame["_c"] = frame["collides_with"] == ""
    return frame.sort_values(["_c", "kind", "metric_name"], kind="stable").drop(columns="_c").reset_index(drop=True)
