"""The one place a retune suggestion row becomes configuration changes.

A row names node, host, service, directive, current and suggested (the
``retune`` table); its other columns are ignored and a missing column is a
refusal, not an error, so a reshaped table still goes as far as it can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FLAP = ("flap_detection_enabled", "low_flap_threshold", "high_flap_threshold")


@dataclass(frozen=True)
class Wanted:
    """A change to one service: set ``directive`` to ``value``; for a threshold
    (``level`` warning/critical), ``value`` is the new level and the directive
    (a check_command argument or a custom variable) is found in the configuration."""

    node: str
    host: str
    service: str
    directive: str | None
    value: str
    level: str | None = None  # "warning" / "critical" for thresholds
    current: str = ""  # the level the suggestion was computed against
    row: int = 0


class Refused(Exception):
    """A suggestion nagtune does not turn into a change, with the reason why."""


def _field(row, name) -> str:
    value = row.get(name) if hasattr(row, "get") else None
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def wanted_changes(row, index: int = 0) -> list[Wanted]:
    """The configuration changes of one suggestion row (a mapping); Refused when none."""
    node, host, service = _field(row, "node"), _field(row, "host"), _field(row, "service")
    directive, suggested, current = _field(row, "directive"), _field(row, "suggested"), _field(row, "current")
    if not (host and service and directive and suggested):
        raise Refused("the row lacks host, service, directive or suggested value")
    base = dict(node=node, host=host, service=service, row=index)
    text = directive.lower()
    if "flap" in text:
        match = re.fullmatch(r"(?:(on|off),?\s*)?(?:([0-9.]+)\s*/\s*([0-9.]+))?", suggested.lower())
        if not match or not (match.group(1) or match.group(2)):
            raise Refused(f"flap suggestion {suggested!r} is not 'on, LOW/HIGH'")
        changes = []
        if match.group(1):
            changes.append(Wanted(directive=FLAP[0], value="1" if match.group(1) == "on" else "0", **base))
        if match.group(2):
            low, high = float(match.group(2)), float(match.group(3))
            if not 0 < low < high <= 100:
                raise Refused(f"flap thresholds {suggested!r}: need 0 < low < high <= 100")
            changes += [
                Wanted(directive=FLAP[1], value=match.group(2), **base),
                Wanted(directive=FLAP[2], value=match.group(3), **base),
            ]
        return changes
    if "threshold" in text or re.search(r"\(-[wc]\)", text):
        level = (
            "warning" if ("warn" in text or "-w" in text) else "critical" if ("crit" in text or "-c" in text) else None
        )
        if level is None:
            raise Refused(f"directive {directive!r}: neither a warning nor a critical level")
        return [Wanted(directive=None, value=suggested, level=level, current=current, **base)]
    if re.fullmatch(r"[a-z_]+|_[A-Za-z0-9_]+", directive):
        if "\n" in suggested or ";" in suggested:
            raise Refused(f"value {suggested!r} cannot stand in a configuration file")
        return [Wanted(directive=directive, value=suggested, current=current, **base)]
    raise Refused(f"directive {directive!r} is not a configuration directive nagtune can set")
