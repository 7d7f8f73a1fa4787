"""Machine-readable names of hosts and services, and where two would collide.

The names are the ones the collector ships: the same rule
(:class:`nagtune.parsers.names.NameRegistry`, one registry per node for
hosts and one for services, as :class:`nagtune.parsers.metrics.MetricNamer`
keeps them) fed with the same names in the same order, each node's shipped
lines (:func:`nagtune.parsers.metrics.metric_key`) in log order. The first
raw name to claim a metric name keeps it; a later one gets a hashed name and
is reported with the raw name it collided with. A collector that has run
longer than the window may have met a name earlier: its state file's
registry, seeded across runs, is then what it ships.
"""

from __future__ import annotations

import pandas as pd

from ...parsers import events as ev
from ...parsers.metrics import FAMILY_OF_KIND, HOST_ONLY_FAMILIES
from ...parsers.names import NameRegistry
from .._frames import NAME_COLUMNS, empty

_SHIPPED = list(FAMILY_OF_KIND)
_WITH_SERVICE = [kind for kind, family in FAMILY_OF_KIND.items() if family not in HOST_ONLY_FAMILIES]


def names_seen(events: pd.DataFrame) -> pd.DataFrame:
    """The few columns :func:`audit_names` reads, one row per first appearance, in log order.

    Workers reduce their events to this; the parts of whole nodes, concatenated, audit the
    same as the events they came from (each node's registry sees its names in its own order).
    """
    columns = [c for c in ("node", "kind", "host", "service", "command") if c in events]
    return events[columns].drop_duplicates().astype("object")


def audit_names(events: pd.DataFrame) -> pd.DataFrame:
    """Every distinct host and service description with the metric name the collector ships for it.

    :returns: ``NAME_COLUMNS``: kind (``host``/``service``), raw,
        metric_name, collides_with (the raw name that owns the plain metric
        name, "" when there is no collision). Collisions first. A raw name
        named differently on two nodes (it collided on one) has a row each.
    """
    if events is None or len(events) == 0:
        return empty(NAME_COLUMNS)
    if "node" not in events:
        events = events.assign(node="")
    kinds = events["kind"]
    acks = (
        (kinds == ev.EXTERNAL_COMMAND) & events["command"].isin(["ACKNOWLEDGE_SVC_PROBLEM", "ACKNOWLEDGE_HOST_PROBLEM"])
        if "command" in events
        else kinds != kinds
    )
    shipped = events.loc[(kinds.isin(_SHIPPED) | acks).to_numpy(), ["node", "kind", "host", "service"]]
    with_service = shipped["kind"].isin(_WITH_SERVICE) | (shipped["kind"] == ev.EXTERNAL_COMMAND)
    seen = set()
    rows = []
    for kind, frame in (("host", shipped), ("service", shipped[with_service.to_numpy()])):
        # First appearance of each name on each node, in log order (rows are in each node's order).
        firsts = frame[["node", kind]].astype(str).drop_duplicates()
        firsts = firsts[firsts[kind] != ""]
        for node, names in firsts.groupby("node", sort=True)[kind]:
            registry = NameRegistry()
            safe = {raw: registry.safe(raw) for raw in names}
            owner_of = {newcomer: owner for _, owner, newcomer in registry.collisions}
            newcomers_of: dict[str, list[str]] = {}
            for newcomer, owner in owner_of.items():
                newcomers_of.setdefault(owner, []).append(newcomer)
            for raw in names:
                collides = owner_of.get(raw) or ", ".join(sorted(newcomers_of.get(raw, [])))
                row = (kind, raw, safe[raw], collides)
                if row not in seen:
                    seen.add(row)
                    rows.append(row)
    frame = pd.DataFrame(rows, columns=NAME_COLUMNS)
    if frame.empty:
        return empty(NAME_COLUMNS)
    frame["_c"] = frame["collides_with"] == ""
    return frame.sort_values(["_c", "kind", "metric_name"], kind="stable").drop(columns="_c").reset_index(drop=True)
