"""What / when / where: events -> per-minute alert counts with Graphite names.

A metric path is ``PREFIX.ENV.CLASS.CELL.NODE.FAMILY.HOST.SERVICE.LEVELS``::

    nagios.test.cell.c0001.nagios-c0001-01.service_alerts.web01_c0001.disk_space_var.CRITICAL.HARD

- where: environment, node class (global/cell/mixed), cell, node;
- what: the family (below), the monitored host and service, then the state
  levels: ``STATE.SOFT|HARD`` for alerts, ``TYPE.STATE`` for notifications
  (``PROBLEM.CRITICAL``, ``ACKNOWLEDGEMENT.CRITICAL``, ``FLAPPINGSTART.OK``),
  ``STARTED|STOPPED|...`` for flapping and downtime;
- when: the value is the number of lines in the minute that starts at the
  timestamp (event time, not the time the collector ran).

Granularity bounds cardinality: ``host_service`` (default) keeps both levels,
``service`` drops the host (one series per service across hosts), ``host``
drops the service, ``node`` drops both. With ``tags=True`` the where and what
go into Graphite tags instead (``nagios.service_alerts;cell=c0001;host=...``).

State snapshots (CURRENT/INITIAL STATE) are never counted. Notifications are
counted per line, that is per contact told, because that is what people get.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from . import events as ev
from .identity import NodeIdentity
from .names import NameRegistry, metric_component, metric_prefix

GRANULARITIES = ("host_service", "service", "host", "node")

SERVICE_ALERTS = "service_alerts"
HOST_ALERTS = "host_alerts"
SERVICE_NOTIFICATIONS = "service_notifications"
HOST_NOTIFICATIONS = "host_notifications"
SERVICE_FLAPPING = "service_flapping"
HOST_FLAPPING = "host_flapping"
SERVICE_DOWNTIME = "service_downtime"
HOST_DOWNTIME = "host_downtime"
SERVICE_ACKNOWLEDGEMENTS = "service_acknowledgements"
HOST_ACKNOWLEDGEMENTS = "host_acknowledgements"

FAMILY_OF_KIND = {
    ev.SERVICE_ALERT: SERVICE_ALERTS,
    ev.HOST_ALERT: HOST_ALERTS,
    ev.SERVICE_NOTIFICATION: SERVICE_NOTIFICATIONS,
    ev.HOST_NOTIFICATION: HOST_NOTIFICATIONS,
    ev.SERVICE_FLAPPING: SERVICE_FLAPPING,
    ev.HOST_FLAPPING: HOST_FLAPPING,
    ev.SERVICE_DOWNTIME: SERVICE_DOWNTIME,
    ev.HOST_DOWNTIME: HOST_DOWNTIME,
}
ACKNOWLEDGE_COMMANDS = {
    "ACKNOWLEDGE_SVC_PROBLEM": SERVICE_ACKNOWLEDGEMENTS,
    "ACKNOWLEDGE_HOST_PROBLEM": HOST_ACKNOWLEDGEMENTS,
}
FAMILIES = (*FAMILY_OF_KIND.values(), *ACKNOWLEDGE_COMMANDS.values())
HOST_ONLY_FAMILIES = frozenset({HOST_ALERTS, HOST_NOTIFICATIONS, HOST_FLAPPING, HOST_DOWNTIME, HOST_ACKNOWLEDGEMENTS})


class MetricKey(NamedTuple):
    """What one countable line says, before naming: the unit the scanner counts."""

    family: str
    host: str
    service: str
    state: str  # alert state, notification state, STARTED/STOPPED...; "" for acks
    detail: str  # SOFT/HARD for alerts, notification type; "" otherwise


class MetricPoint(NamedTuple):
    name: str
    value: int
    timestamp: int


def metric_key(event: ev.Event) -> MetricKey | None:
    """The countable part of an event, or None for events that are not shipped."""
    family = FAMILY_OF_KIND.get(event.kind)
    if family is None:
        if event.kind == ev.EXTERNAL_COMMAND and event.host:
            family = ACKNOWLEDGE_COMMANDS.get(event.command)
        if family is None:
            return None
        return MetricKey(family, event.host, event.service, "", "")
    return MetricKey(family, event.host, event.service, event.state, event.state_type)


def minute_of(timestamp: int) -> int:
    return timestamp - timestamp % 60


class MetricNamer:
    """Turns :class:`MetricKey` s into Graphite names for one node.

    Host and service names go through a :class:`NameRegistry` each, so two raw
    names that would become one metric are recorded in :attr:`collisions`
    instead of being merged.
    """

    def __init__(
        self,
        identity: NodeIdentity,
        prefix: str = "nagios",
        granularity: str = "host_service",
        tags: bool = False,
        hosts: NameRegistry | None = None,
        services: NameRegistry | None = None,
    ) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
        self.identity = identity
        self.prefix = metric_prefix(prefix)
        self.granularity = granularity
        self.tags = tags
        self.hosts = hosts or NameRegistry()
        self.services = services or NameRegistry()
        self._keep_host = granularity in ("host_service", "host")
        self._keep_service = granularity in ("host_service", "service")
        where = {
            "environment": metric_component(identity.environment),
            "class": metric_component(identity.node_class),
            "cell": metric_component(identity.cell),
            "node": metric_component(identity.node),
        }
        self._where_tags = "".join(f";{key}={value}" for key, value in where.items())
        self._root = ".".join(p for p in (self.prefix, *where.values()) if p)
        self._cache: dict[MetricKey, str] = {}

    @property
    def collisions(self) -> list[tuple[str, str, str]]:
        return self.hosts.collisions + self.services.collisions

    def self_metric(self, what: str) -> str:
        """A name for nagtune's own health counters (lines read, unparsed, ...)."""
        what = metric_component(what)
        if self.tags:
            return f"{self.prefix}.nagtune.{what}{self._where_tags}"
        return f"{self._root}.nagtune.{what}"

    def name(self, key: MetricKey) -> str:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        levels: list[tuple[str, str]] = []
        if self._keep_host:
            levels.append(("host", self.hosts.safe(key.host)))
        if self._keep_service and key.family not in HOST_ONLY_FAMILIES:
            levels.append(("service", self.services.safe(key.service)))
        # States come from the parser's fixed vocabularies, already safe.
        if key.family in (SERVICE_NOTIFICATIONS, HOST_NOTIFICATIONS):
            levels += [("type", key.detail), ("state", key.state or "none")]
        elif key.state:
            levels.append(("state", key.state))
            if key.detail:
                levels.append(("state_type", key.detail))
        if self.tags:
            tags = "".join(f";{tag}={value}" for tag, value in levels)
            name = f"{self.prefix}.{key.family}{self._where_tags}{tags}".lstrip(".")
        else:
            name = ".".join((self._root, key.family, *(value for _, value in levels)))
        self._cache[key] = name
        return name

    def name_all(self, keys: list[MetricKey]) -> list[str]:
        """The names :meth:`name` gives ``keys``, in order, at a fraction of its cost per key.

        What grows with a fleet is the number of distinct host/service texts, not
        of hosts or services: each distinct host and service is made safe once
        (in order of first appearance, so collisions settle as :meth:`name`
        settles them), each (family, state, type) tail is built once, and a key's
        name is then one string join of ready parts.
        """
        hosts = self.hosts.safe
        services = self.services.safe
        host_of = {host: hosts(host) for host in dict.fromkeys(key.host for key in keys)} if self._keep_host else None
        # Empty when services are not kept: no name then has a service part to look up.
        service_of: dict[str, str] = (
            {
                service: services(service)
                for service in dict.fromkeys(key.service for key in keys if key.family not in HOST_ONLY_FAMILIES)
            }
            if self._keep_service
            else {}
        )
        host_sep, service_sep = (";host=", ";service=") if self.tags else (".", ".")
        shapes: dict[tuple[str, str, str], tuple[str, bool, str]] = {}
        names = []
        for key in keys:
            family, host, service, state, detail = key
            shape = shapes.get((family, state, detail))
            if shape is None:
                if family in (SERVICE_NOTIFICATIONS, HOST_NOTIFICATIONS):
                    levels = [("type", detail), ("state", state or "none")]
                elif state:
                    levels = [("state", state)] + ([("state_type", detail)] if detail else [])
                else:
                    levels = []
                if self.tags:
                    head = f"{self.prefix}.{family}{self._where_tags}".lstrip(".")
                    tail = "".join(f";{tag}={value}" for tag, value in levels)
                else:
                    head = f"{self._root}.{family}"
                    tail = "".join(f".{value}" for _, value in levels)
                shape = shapes[(family, state, detail)] = (
                    head,
                    self._keep_service and family not in HOST_ONLY_FAMILIES,
                    tail,
                )
            head, with_service, tail = shape
            if host_of is None:
                names.append(head + (service_sep + service_of[service] + tail if with_service else tail))
            elif with_service:
                names.append(head + host_sep + host_of[host] + service_sep + service_of[service] + tail)
            else:
                names.append(head + host_sep + host_of[host] + tail)
        return names


def count_events(events: Iterable[ev.Event]) -> Counter:
    """(minute, MetricKey) -> lines, for the events that are shipped."""
    counts: Counter = Counter()
    for event in events:
        key = metric_key(event)
        if key is not None and event.time is not None:
            counts[(minute_of(event.time), key)] += 1
    return counts


def name_counts(counts: Counter, namer: MetricNamer) -> list[MetricPoint]:
    """Name (minute, key) counts; keys that share a name after granularity add up."""
    named: Counter = Counter()
    for (minute, key), value in counts.items():
        named[(namer.name(key), minute)] += value
    return [MetricPoint(name, value, minute) for (name, minute), value in sorted(named.items())]


def plaintext(points: Iterable[MetricPoint]) -> str:
    """Graphite plaintext protocol lines (names are already safe by construction)."""
    return "".join(f"{p.name} {p.value} {p.timestamp}\n" for p in points)
