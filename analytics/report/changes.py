"""Changes for this week: the retune suggestions as a short list of edits, biggest saving first.

One line per *change* — the same directive set to the same value for the
same service description (from whatever value each host has now; all of
them are named) — wherever it applies: one
service on one host, a service on many hosts of one node, across a cell,
across a node class, or across the fleet. Ranked by pages saved (notification
lines the replay removes, see :mod:`.retune`).

Only changes that save pages are listed. A change whose replay sends as many
or more notifications is not a saving and stays in the full suggestion
table; the SOFT alert lines a larger ``max_check_attempts`` adds are shown
apart (``soft_lines_added``): they are log lines, not pages.

Night pages saved are an estimate: the replay counts notifications, not when
they would have been sent, so each service's saving is split between night
and day as its pages this week were (see :mod:`.burden`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANGES_SHOWN = 10
KEY = ["service", "directive", "suggested"]
COLUMNS = [
    "rank",
    "service",
    "change",
    "scope",
    "where",
    "hosts",
    "nodes",
    "pages_saved",
    "night_pages_saved",
    "pages_before",
    "soft_lines_added",
    "detection_delay_minutes",
    "detection_delay",
    "evidence",
    "paged",
    "directive",
    "suggested",
]


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)


def _contacts(lists: pd.Series, shown: int = 4) -> str:
    """The contacts paged by a change's hosts, at most ``shown`` named."""
    names = sorted({n.strip() for text in lists.dropna().astype(str) for n in text.split(",") if n.strip()})
    return ", ".join(names) if len(names) <= shown else ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _delay_text(minutes: float) -> str:
    """``+3 min`` later, ``-2 min`` (sooner), ``none``."""
    if not minutes:
        return "none"
    return f"{minutes:+g} min" if minutes == round(minutes) else f"{minutes:+.1f} min"


def change_text(directive, current, suggested) -> str:
    """``max_check_attempts 2 -> 4`` (``-> 4`` alone when the current value is unknown)."""
    current = _text(current)
    return f"{directive} {current} -> {suggested}" if current else f"{directive} -> {suggested}"


def _places(retunes: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The suggestions with the cell and node class of their node."""
    out = retunes.copy()
    for column in ("node", "host", "service", "directive"):
        out[column] = out[column].astype(str)
    if events is not None and len(events) and {"cell", "node_class"} <= set(events.columns):
        node = events["node"]
        # One row per node, found on the categorical codes (a fleet's week is millions of rows).
        codes = node.cat.codes.to_numpy() if isinstance(node.dtype, pd.CategoricalDtype) else pd.factorize(node)[0]
        _, first = np.unique(codes, return_index=True)
        where = events.iloc[first][["node", "cell", "node_class"]].astype(str)
        out = out.drop(columns=[c for c in ("cell", "node_class") if c in out.columns]).merge(
            where, on="node", how="left"
        )
    for column in ("cell", "node_class"):
        out[column] = out.get(column, pd.Series("", index=out.index)).fillna("").astype(str)
    return out


def scope_of(rows: pd.DataFrame) -> tuple[str, str]:
    """(scope, where) of a group of suggestion rows: host, node, cell, node class or fleet."""
    hosts = rows[["node", "host"]].drop_duplicates()
    nodes = sorted(rows["node"].unique())
    cells = sorted(set(rows["cell"]) - {""})
    classes = sorted(set(rows["node_class"]) - {""})
    if len(hosts) == 1:
        return "host", f"{rows['host'].iloc[0]} on {nodes[0]}"
    if len(nodes) == 1:
        return "node", f"{len(hosts)} hosts on {nodes[0]}"
    if len(cells) == 1 and len(set(rows["cell"])) == 1:
        return "cell", f"cell {cells[0]}: {len(hosts)} hosts on {len(nodes)} nodes"
    if len(classes) == 1 and len(set(rows["node_class"])) == 1:
        return "node class", (
            f'node class "{classes[0]}": {len(hosts)} hosts on {len(nodes)} nodes in {len(cells)} cells'
        )
    return "fleet", f"{len(hosts)} hosts on {len(nodes)} nodes in {len(cells)} cells"


def changes_for_week(
    retunes: pd.DataFrame,
    events: pd.DataFrame | None = None,
    night: pd.DataFrame | None = None,
    limit: int | None = CHANGES_SHOWN,
) -> pd.DataFrame:
    """The week's changes, one line per change, most pages saved first.

    :param retunes: :attr:`.api.Analysis.retunes` (node, host, service,
        directive, current, suggested, alerts/notifications before and
        after, extra_detection_minutes, reason; other columns are ignored).
    :param events: for each node's cell and node class.
    :param night: :func:`.burden.night_share` (node, host, service, pages,
        night_pages), for the night pages saved.
    :param limit: lines kept (None: all).
    :returns: ``COLUMNS``; ``pages_saved`` is always above 0.
    """
    if retunes is None or retunes.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = _places(retunes, events)
    rows["current"] = rows["current"].map(_text)
    rows["suggested"] = rows["suggested"].map(_text)
    before = pd.to_numeric(rows["notifications_before"], errors="coerce").fillna(0)
    after = pd.to_numeric(rows["notifications_after"], errors="coerce").fillna(0)
    rows["pages_before"] = before.astype("int64")
    rows["pages_saved"] = (before - after).astype("int64")
    rows = rows[rows["pages_saved"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    lines_added = (
        pd.to_numeric(rows["alerts_after"], errors="coerce") - pd.to_numeric(rows["alerts_before"], errors="coerce")
    ).fillna(0)
    rows["soft_lines_added"] = lines_added.clip(lower=0).astype("int64")
    rows["delay"] = pd.to_numeric(rows.get("extra_detection_minutes"), errors="coerce").fillna(0)
    if night is not None and len(night):
        share = night.astype({"node": str, "host": str, "service": str})
        share = share.assign(night_share=share["night_pages"] / share["pages"].where(share["pages"] > 0))
        if "contacts" not in share:
            share = share.assign(contacts="")
        rows = rows.merge(
            share[["node", "host", "service", "night_share", "contacts"]], on=["node", "host", "service"], how="left"
        )
        rows["night_saved"] = rows["pages_saved"] * rows["night_share"].fillna(0)
    else:
        rows["night_saved"] = 0.0
        rows["contacts"] = ""
    lines = []
    for key, group in rows.groupby(KEY, sort=False):
        group = group.sort_values("pages_saved", ascending=False, kind="stable")
        scope, where = scope_of(group)
        service, directive, suggested = key
        currents = sorted(set(group["current"]) - {""}, key=lambda v: (len(v), v))
        current = ", ".join(currents) if len(currents) <= 3 else f"{currents[0]} to {currents[-1]}"
        evidence = str(group["reason"].iloc[0]) if "reason" in group else ""
        if len(group) > 1:
            evidence = (
                f"{group['host'].iloc[0]} ({group['node'].iloc[0]}): {evidence}; "
                f"{len(group) - 1} more host{'s' if len(group) > 2 else ''} alike"
            )
        lines.append(
            {
                "service": service,
                "directive": directive,
                "suggested": suggested,
                "change": change_text(directive, current, suggested),
                "scope": scope,
                "where": where,
                "hosts": int(len(group[["node", "host"]].drop_duplicates())),
                "nodes": int(group["node"].nunique()),
                "pages_saved": int(group["pages_saved"].sum()),
                "night_pages_saved": int(round(group["night_saved"].sum())),
                "pages_before": int(group["pages_before"].sum()),
                "soft_lines_added": int(group["soft_lines_added"].sum()),
                "detection_delay_minutes": float(group["delay"].max()),
                "detection_delay": _delay_text(float(group["delay"].max())),
                "evidence": evidence,
                "paged": _contacts(group["contacts"]),
            }
        )
    out = (
        pd.DataFrame(lines)
        .sort_values(["pages_saved", "service", "change"], ascending=[False, True, True], kind="stable")
        .reset_index(drop=True)
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out[COLUMNS]
    return out if limit is None else out.head(limit)
