"""The Nagios event-log grammar: one table of line types.

A line is ``[EPOCH] TAG: f1;f2;...;output``. Each known TAG is one row here:
its event kind, its form (how its fields read), and where its object (host,
then service) sits among the fields. Everything that reads lines is built
from this table:

- :mod:`nagtune.parsers.nagios` (the reference parser) takes each row's form
  and states;
- the central ingest's regular expression (``analytics/sources/ingest.py``) takes
  the number of fields before the output;
- the ingest's C splitter (``analytics/sources/_fastingest.c``) receives the rows at
  import (``set_types``): how many fields make a line's head and which of
  them are the host and service, which it keys apart from the rest so that
  the distinct heads it hands to Python do not grow with the fleet.

Some messages have no ``TAG: ``: Nagios writes ``Error in configuration file
'...' - Line 12 (...)`` with no colon at all. :data:`UNTYPED_PREFIXES` lists
the starts of such lines that still have a kind (an error, not a program
message); all three readers above take it from here too.

A new line type is one row here (and, if its form is new, one function in
``parsers/nagios.py``).
"""

from __future__ import annotations

from typing import NamedTuple

from . import events as ev


class LineType(NamedTuple):
    tag: str  # the TYPE before ": "
    kind: str  # Event.kind
    form: str  # alert, notification, toggle, handler, passive, command, message
    states: tuple = ()  # states the form accepts (passive: the return codes' states)
    with_service: bool = False
    # Fields before the output (the line's head); 0: the whole rest is the output.
    fields: int = 0
    # Index of the host among the fields (-1: none or not fixed); the service follows it.
    host_field: int = -1


_PASSIVE_SERVICE = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
_PASSIVE_HOST = ("UP", "DOWN", "UNREACHABLE")


def _alert(tag, kind, with_service):
    states = ev.SERVICE_STATES if with_service else ev.HOST_STATES
    return LineType(tag, kind, "alert", states, with_service, 5 if with_service else 4, 0)


def _handler(tag, kind, with_service):
    states = ev.SERVICE_STATES if with_service else ev.HOST_STATES
    return LineType(tag, kind, "handler", states, with_service, 5 if with_service else 4, 0)


LINE_TYPES: tuple[LineType, ...] = (
    _alert("SERVICE ALERT", ev.SERVICE_ALERT, True),
    _alert("HOST ALERT", ev.HOST_ALERT, False),
    _alert("CURRENT SERVICE STATE", ev.CURRENT_SERVICE_STATE, True),
    _alert("CURRENT HOST STATE", ev.CURRENT_HOST_STATE, False),
    _alert("INITIAL SERVICE STATE", ev.INITIAL_SERVICE_STATE, True),
    _alert("INITIAL HOST STATE", ev.INITIAL_HOST_STATE, False),
    LineType("SERVICE NOTIFICATION", ev.SERVICE_NOTIFICATION, "notification", ev.SERVICE_STATES, True, 5, 1),
    LineType("HOST NOTIFICATION", ev.HOST_NOTIFICATION, "notification", ev.HOST_STATES, False, 4, 1),
    LineType("SERVICE FLAPPING ALERT", ev.SERVICE_FLAPPING, "toggle", ev.FLAPPING_STATES, True, 3, 0),
    LineType("HOST FLAPPING ALERT", ev.HOST_FLAPPING, "toggle", ev.FLAPPING_STATES, False, 2, 0),
    LineType("SERVICE DOWNTIME ALERT", ev.SERVICE_DOWNTIME, "toggle", ev.DOWNTIME_STATES, True, 3, 0),
    LineType("HOST DOWNTIME ALERT", ev.HOST_DOWNTIME, "toggle", ev.DOWNTIME_STATES, False, 2, 0),
    _handler("SERVICE EVENT HANDLER", ev.SERVICE_EVENT_HANDLER, True),
    _handler("HOST EVENT HANDLER", ev.HOST_EVENT_HANDLER, False),
    _handler("GLOBAL SERVICE EVENT HANDLER", ev.SERVICE_EVENT_HANDLER, True),
    _handler("GLOBAL HOST EVENT HANDLER", ev.HOST_EVENT_HANDLER, False),
    LineType("PASSIVE SERVICE CHECK", ev.PASSIVE_SERVICE_CHECK, "passive", _PASSIVE_SERVICE, True, 3, 0),
    LineType("PASSIVE HOST CHECK", ev.PASSIVE_HOST_CHECK, "passive", _PASSIVE_HOST, False, 2, 0),
    # NAME;args: whether args name a host depends on NAME, so no fixed host field.
    LineType("EXTERNAL COMMAND", ev.EXTERNAL_COMMAND, "command", (), False, 3, -1),
    LineType("LOG ROTATION", ev.LOG_ROTATION, "message"),
    LineType("LOG VERSION", ev.LOG_VERSION, "message"),
    LineType("TIMEPERIOD TRANSITION", ev.TIMEPERIOD_TRANSITION, "message"),
    LineType("Warning", ev.WARNING, "message"),
    LineType("Error", ev.ERROR, "message"),
)

# Lines without a "TAG: " whose text starts so are of this kind, not program messages;
# their output is their whole text.
UNTYPED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("Error in configuration file", ev.ERROR),
    ("Error processing", ev.ERROR),
    ("Error while", ev.ERROR),
)

BY_TAG = {line_type.tag: line_type for line_type in LINE_TYPES}


def tags_by_fields() -> dict[int, list[str]]:
    """Tags of the types with fields before their output, grouped by that number."""
    grouped: dict[int, list[str]] = {}
    for line_type in LINE_TYPES:
        if line_type.fields:
            grouped.setdefault(line_type.fields, []).append(line_type.tag)
    return grouped


def splitter_types() -> list[tuple[str, int, int, int]]:
    """What the C splitter takes at import: (tag, fields, host field, object fields)."""
    return [(t.tag, t.fields, t.host_field, 2 if t.with_service else 1) for t in LINE_TYPES if t.fields]


def untyped_kind(text: str) -> str:
    """The kind of a line's text (after its stamp) that has no known ``TAG: ``."""
    for prefix, kind in UNTYPED_PREFIXES:
        if text.startswith(prefix):
            return kind
    return ev.PROGRAM


def splitter_prefixes() -> list[str]:
    """What the C splitter takes at import beside the types: the untyped prefixes."""
    return [prefix for prefix, _ in UNTYPED_PREFIXES]
