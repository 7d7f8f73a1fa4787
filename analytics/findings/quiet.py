"""Not chatty enough: problems that should have made noise and did not.

Findings (column ``finding``):

- ``silent_hard_problem``: a HARD problem that lasted at least ``long`` and
  notified nobody (not in downtime, not acknowledged), one finding per
  service with its count of such problems. Never for a problem that began
  before the log (its notifications may lie there too), nor for one during a
  HARD problem of its host that was notified (Nagios suppresses the services'
  notifications of a down host by design);
- ``notifications_off``: a service that had HARD problems while its
  notifications were off: ``objects.cache`` says ``notifications_enabled 0``,
  or a ``DISABLE_*NOTIFICATIONS`` command was never undone before the problem;
- ``slow_detection``: from the first SOFT to HARD took at least ``slow``;
  one finding per service name of a node (the pattern), with its count of
  occurrences and of hosts;
- ``ok_while_host_down``: the host was in a HARD DOWN/UNREACHABLE problem for
  at least ``host_down`` and services logged no problem at all meanwhile
  (their check does not look at the host it is attached to, or its result is
  stale): one finding per host problem, naming the services;
- ``ok_while_siblings_fail``: at least ``siblings`` other services of the
  same host (and three quarters of them) were HARD in a problem at the same
  time for at least ``host_down``, and this one stayed OK (one finding per
  service, with its count).

Every finding says in ``evidence`` what it rests on, and
:func:`cap_findings` keeps a table readable at fleet scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...parsers import events as ev
from .._frames import QUIET_COLUMNS, empty

LONG = pd.Timedelta(hours=1)
SLOW = pd.Timedelta(minutes=15)
HOST_DOWN = pd.Timedelta(minutes=10)
SIBLINGS = 3

_DISABLES = ("DISABLE_SVC_NOTIFICATIONS", "DISABLE_HOST_SVC_NOTIFICATIONS", "DISABLE_NOTIFICATIONS")
_ENABLES = ("ENABLE_SVC_NOTIFICATIONS", "ENABLE_HOST_SVC_NOTIFICATIONS", "ENABLE_NOTIFICATIONS")


# Findings are listed in this order, each kind longest first.
FINDING_ORDER = {
    "silent_hard_problem": 0,
    "notifications_off": 1,
    "ok_while_host_down": 2,
    "ok_while_siblings_fail": 3,
    "slow_detection": 4,
}


def human(delta) -> str:
    """A Timedelta in words an operator reads at a glance: ``2d 3h``, ``6h 0m``, ``12m``."""
    if delta is None or pd.isna(delta):
        return "unknown"
    minutes = int(pd.Timedelta(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _identity(events: pd.DataFrame) -> pd.DataFrame:
    first = events.groupby("node", observed=True, sort=False)[["node_class", "cell"]].first()
    return first.reset_index().astype(str)


def _services(events: pd.DataFrame) -> pd.DataFrame:
    """Every (node, host, service) seen in alerts or snapshots."""
    kinds = events["kind"]
    rows = events.loc[
        kinds.isin([ev.SERVICE_ALERT, ev.CURRENT_SERVICE_STATE, ev.INITIAL_SERVICE_STATE]).to_numpy(),
        ["node", "host", "service"],
    ]
    return (
        rows.groupby(["node", "host", "service"], observed=True)
        .size()
        .reset_index()[["node", "host", "service"]]
        .astype(str)
    )


def _notifications_off(events: pd.DataFrame, episodes: pd.DataFrame, objects) -> list[dict]:
    found = []
    hard = episodes[(episodes["kind"] == "service") & episodes["hard"]]
    if objects is not None and len(objects) and len(hard):
        off = objects[(objects["object_type"] == "service") & (objects["notifications_enabled"] == 0)]
        off = off[["node", "host", "service"]].astype(str)
        merged = hard.merge(off, on=["node", "host", "service"])
        for (node, host, service), group in merged.groupby(["node", "host", "service"]):
            found.append(
                dict(
                    node=node,
                    host=host,
                    service=service,
                    finding="notifications_off",
                    detail=f"notifications_enabled 0 in objects.cache during {len(group)} HARD problem(s), "
                    f"longest {human(group['duration'].max())}",
                    duration=group["duration"].max(),
                    occurrences=len(group),
                    evidence="log + objects.cache",
                )
            )
    commands = events.loc[
        (events["kind"] == ev.EXTERNAL_COMMAND).to_numpy(),
        [c for c in ("time", "host", "service", "command") if c in events],
    ]
    if len(commands) and len(hard) and "command" in commands:
        command = commands["command"].astype(str)
        toggles = commands[command.isin(_DISABLES + _ENABLES).to_numpy()]
        hosts = set(toggles["host"].astype(str)) if len(toggles) else set()
        candidates = hard[hard["host"].isin(hosts)] if "" not in hosts else hard
        for row in candidates.itertuples():
            relevant = toggles[
                ((toggles["host"].astype(str) == row.host) | (toggles["host"].astype(str) == ""))
                & (toggles["time"] <= row.start)
            ]
            if relevant.empty:
                continue
            service = relevant["service"].astype(str)
            relevant = relevant[(service == row.service) | (service == "")]
            if relevant.empty:
                continue
            last = relevant.iloc[-1]
            if str(last["command"]) in _DISABLES and not any(
                f["service"] == row.service and f["host"] == row.host and f["finding"] == "notifications_off"
                for f in found
            ):
                found.append(
                    dict(
                        node=row.node,
                        host=row.host,
                        service=row.service,
                        finding="notifications_off",
                        detail=f"{last['command']} at {last['time']:%Y-%m-%d %H:%M} was still in force "
                        f"when a {row.worst_state} problem of {human(row.duration)} began",
                        duration=row.duration,
                        evidence="log (external command)",
                    )
                )
    return found


def _by_host(episodes: pd.DataFrame, hosts: set, columns: list[str]) -> dict:
    """{(node, host): that host's ``columns`` of ``episodes`` as numpy arrays, rows in their
    order} for the (node, host) pairs in ``hosts``: a fleet has thousands of hosts, and a
    pandas frame per host cost a millisecond each."""
    if not hosts or not len(episodes):
        return {}
    node = episodes["node"].astype(str).to_numpy(dtype=object)
    host = episodes["host"].astype(str).to_numpy(dtype=object)
    keys = pd.MultiIndex.from_arrays([node, host])
    rows = np.flatnonzero(keys.isin(list(hosts)))
    if not len(rows):
        return {}  # down hosts with no service problem of their own
    codes, _ = pd.factorize(keys[rows])
    order = np.argsort(codes, kind="stable")
    rows = rows[order]
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    values = [
        episodes[c].astype(str).to_numpy(dtype=object) if c == "service" else episodes[c].to_numpy() for c in columns
    ]
    return {(node[group[0]], host[group[0]]): tuple(v[group] for v in values) for group in np.split(rows, bounds)}


def _names(names: list[str], shown: int = 3) -> str:
    """``a, b, c and 4 more``: a list that stays one line."""
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head} and {len(names) - shown} more"


def _ok_while(events: pd.DataFrame, episodes: pd.DataFrame, host_down, siblings) -> list[dict]:
    found = []
    services = _services(events)
    columns = ["node", "host", "service", "start", "end", "hard", "first_hard"]
    svc_eps = episodes.loc[(episodes["kind"] == "service").to_numpy(), columns]
    known: dict = {}
    for node, host, service in zip(services["node"], services["host"], services["service"]):
        known.setdefault((node, host), set()).add(service)
    # Only confirmed (HARD) host problems are "host down": a SOFT DOWN is one failed check.
    host_eps = episodes[
        (episodes["kind"] == "host")
        & (episodes["worst_state"] != "UP")
        & episodes["hard"]
        & (episodes["duration"] >= host_down)
    ]
    # Split only the hosts each check can flag: a fleet has thousands of hosts,
    # and cutting every one's episodes apart cost more than the checks.
    down_hosts = set(zip(host_eps["node"].astype(str), host_eps["host"].astype(str)))
    by_host = _by_host(svc_eps, down_hosts, ["service", "start", "end"])
    for row in host_eps.itertuples():
        names = known.get((row.node, row.host), set())
        busy = set()
        if (row.node, row.host) in by_host:
            services, starts, ends = by_host[(row.node, row.host)]
            busy = set(services[(starts <= row.end) & (ends >= row.start)])
        stayed = sorted(names - busy)
        if not stayed:
            continue
        # One finding per host problem, naming its services: not one per service.
        found.append(
            dict(
                node=row.node,
                host=row.host,
                service=_names(stayed),
                finding="ok_while_host_down",
                detail=f"{len(stayed)} of {len(names)} services stayed OK while {row.host} was HARD "
                f"{row.worst_state} for {human(row.duration)} from {row.start:%Y-%m-%d %H:%M}",
                duration=row.duration,
                occurrences=len(stayed),
            )
        )
    # Siblings: count the HARD problems of each host over time; act on runs where most fail together.
    all_hard = svc_eps[svc_eps["hard"].to_numpy(dtype=bool)]
    failing = all_hard.groupby(["node", "host"], observed=True)["service"].nunique()
    crowded = {
        (str(node), str(host))
        for (node, host), count in failing.items()
        if count >= siblings and len(known.get((str(node), str(host)), ())) > siblings
    }
    for (node, host), (services, first_hard, ends) in _by_host(
        all_hard, crowded, ["service", "first_hard", "end"]
    ).items():
        names = known.get((node, host), set())
        times = np.concatenate([first_hard, ends])
        delta = np.concatenate([np.ones(len(ends), dtype=np.int64), -np.ones(len(ends), dtype=np.int64)])
        order = np.lexsort((delta, times))
        times, counts = times[order], np.cumsum(delta[order])
        many = (counts >= siblings) & (counts >= 0.75 * (len(names) - 1))
        edges = np.diff(np.concatenate([[0], many.astype(np.int8), [0]]))
        for begin, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            since = times[begin]
            until = times[stop] if stop < len(times) else times[-1]
            if pd.Timedelta(until - since) < host_down:
                continue
            members = set(services[(first_hard <= since) & (ends > since)])
            for service in sorted(names - members):
                found.append(
                    dict(
                        node=node,
                        host=host,
                        service=service,
                        finding="ok_while_siblings_fail",
                        detail=f"stayed OK while {len(members)} other services of {host} were HARD "
                        f"({', '.join(sorted(members)[:4])}) for {human(until - since)}",
                        duration=pd.Timedelta(until - since),
                    )
                )
    return found


def find_quiet(
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    objects: pd.DataFrame | None = None,
    long=LONG,
    slow=SLOW,
    host_down=HOST_DOWN,
    siblings: int = SIBLINGS,
) -> pd.DataFrame:
    """Problems that made too little noise, one row per finding, longest first.

    :param objects: optional frame of :func:`nagtune.analytics.sources.objects.load_objects`,
        to see ``notifications_enabled 0``.
    :returns: ``QUIET_COLUMNS``; ``detail`` says what happened in words,
        ``duration`` how long it lasted.
    """
    if events is None or len(events) == 0 or episodes is None or len(episodes) == 0:
        return empty(QUIET_COLUMNS)
    long, slow, host_down = pd.Timedelta(long), pd.Timedelta(slow), pd.Timedelta(host_down)
    # Episodes made by hand may lack the later columns: none began before the log, none was cut.
    defaults = {"starts_before_window": False, "ended_by": "window_end"}
    missing = {column: value for column, value in defaults.items() if column not in episodes}
    if missing:
        episodes = episodes.assign(**missing)
    found: list[dict] = []
    eps = episodes[episodes["kind"] == "service"]
    silent = eps[
        eps["hard"]
        & (eps["duration"] >= long)
        & (eps["notifications"] == 0)
        & ~eps["in_downtime"]
        & ~eps["acknowledged"]
        & ~eps["starts_before_window"]
    ]
    silent = silent[~_during_notified_host_problem(silent, episodes)]
    for row in silent.itertuples():
        still = (
            "still open at the end of the window"
            if row.open
            else f"until {row.end:%Y-%m-%d %H:%M}"
            + (" (Nagios restarted; end unknown)" if row.ended_by == "restart" else "")
        )
        found.append(
            dict(
                node=row.node,
                host=row.host,
                service=row.service,
                finding="silent_hard_problem",
                detail=f"HARD {row.worst_state} for {human(row.duration)} from {row.start:%Y-%m-%d %H:%M} "
                f"({still}) and nobody was notified",
                duration=row.duration,
            )
        )
    slow_eps = eps[eps["hard"] & (eps["detection_delay"] >= slow)]
    for row in slow_eps.itertuples():
        found.append(
            dict(
                node=row.node,
                host=row.host,
                service=row.service,
                finding="slow_detection",
                detail=f"{human(row.detection_delay)} from the first SOFT {row.worst_state} to HARD "
                f"({row.max_attempt} attempts)",
                duration=row.detection_delay,
            )
        )
    found += _notifications_off(events, episodes, objects)
    found += _ok_while(events, episodes, host_down, siblings)
    if not found:
        return empty(QUIET_COLUMNS)
    frame = pd.DataFrame(found)
    if "occurrences" not in frame:
        frame["occurrences"] = 1
    if "evidence" not in frame:
        frame["evidence"] = "log"
    frame["occurrences"] = frame["occurrences"].fillna(1).astype("int64")
    frame["evidence"] = frame["evidence"].fillna("log")
    frame["duration"] = pd.to_timedelta(frame["duration"])
    frame = _one_per_pattern(frame)
    frame = frame.merge(_identity(events), on="node", how="left")
    return sort_findings(frame)[QUIET_COLUMNS]


# Findings of one kind that repeat are one finding with their count: per service for a silent
# problem or silent siblings, per service name of a node (the pattern) for slow detection.
_PATTERN_KEYS = {
    "silent_hard_problem": ["node", "host", "service"],
    "ok_while_siblings_fail": ["node", "host", "service"],
    "slow_detection": ["node", "service"],
}


def _one_per_pattern(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per repeated finding: the longest occurrence's detail, and the count."""
    kept = [frame[~frame["finding"].isin(list(_PATTERN_KEYS))]]
    for finding, keys in _PATTERN_KEYS.items():
        rows = frame[frame["finding"] == finding]
        if rows.empty:
            continue
        rows = rows.sort_values("duration", ascending=False, kind="stable")
        groups = rows.groupby(keys, sort=False, observed=True)
        longest = groups.head(1).set_index(keys)
        longest["occurrences"] = groups["occurrences"].sum()
        if "host" not in keys:
            hosts = groups["host"].agg(lambda h: sorted(set(h)))
            longest["host"] = [_names(h) for h in hosts.reindex(longest.index)]
            counts = hosts.reindex(longest.index).map(len)
        else:
            counts = pd.Series(1, index=longest.index)
        longest["detail"] = [
            detail if n == 1 else f"{n} times{'' if hc == 1 else f' on {hc} hosts'}; the longest: {detail}"
            for detail, n, hc in zip(longest["detail"], longest["occurrences"], counts)
        ]
        kept.append(longest.reset_index())
    return pd.concat(kept, ignore_index=True)


def _during_notified_host_problem(service_eps: pd.DataFrame, episodes: pd.DataFrame) -> np.ndarray:
    """Per service episode, True when it overlaps a HARD problem of its host that notified someone:
    Nagios then suppresses the service's notifications by design."""
    out = np.zeros(len(service_eps), dtype=bool)
    if not len(service_eps):
        return out
    hosts = episodes[(episodes["kind"] == "host") & episodes["hard"] & (episodes["notifications"] > 0)]
    if hosts.empty:
        return out
    wanted = set(zip(service_eps["node"].astype(str), service_eps["host"].astype(str)))
    by_host = _by_host(hosts, wanted, ["start", "end"])
    for i, (node, host, start, end) in enumerate(
        zip(service_eps["node"].astype(str), service_eps["host"].astype(str), service_eps["start"], service_eps["end"])
    ):
        if (node, host) in by_host:
            starts, ends = by_host[(node, host)]
            out[i] = bool(((starts <= end) & (ends >= start)).any())
    return out


# Rows per kind of finding a table shows; the rest is one summary row per kind.
CAP_PER_FINDING = 50


def cap_findings(frame: pd.DataFrame, cap: int | None = CAP_PER_FINDING) -> pd.DataFrame:
    """The first ``cap`` findings of each kind (in :func:`sort_findings` order), then one row
    per kind that had more, saying how many are not shown and how many occurrences they hold."""
    if cap is None or frame.empty:
        return frame
    position = frame.groupby("finding", sort=False).cumcount().to_numpy()
    shown = frame[position < cap]
    rest = frame[position >= cap]
    if rest.empty:
        return frame
    summaries = []
    for finding, rows in rest.groupby("finding", sort=False):
        summaries.append(
            dict(
                node_class="",
                cell="",
                node=f"{rows['node'].nunique()} node(s)",
                host="",
                service="",
                finding=finding,
                detail=f"{len(rows)} more {finding} findings not shown ({int(rows['occurrences'].sum())} "
                f"occurrences; the table shows the first {cap} of each kind)",
                duration=rows["duration"].max(),
                occurrences=int(rows["occurrences"].sum()),
                evidence="summary",
            )
        )
    out = pd.concat([shown, pd.DataFrame(summaries)], ignore_index=True)
    out["duration"] = pd.to_timedelta(out["duration"])
    order = out["finding"].map(FINDING_ORDER).to_numpy() * 2 + (out["evidence"] == "summary").to_numpy()
    return out.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def sort_findings(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings in FINDING_ORDER, each kind longest first, ties by node, host and service (each
    node's own order kept): the same order whether the nodes were analysed together or apart."""
    frame = frame.assign(_o=frame["finding"].map(FINDING_ORDER).to_numpy())
    keys = ["_o", "duration", "node", "host", "service"]
    frame = frame.sort_values(keys, ascending=[True, False, True, True, True], kind="stable")
    return frame.drop(columns="_o").reset_index(drop=True)
