"""Where an alert comes from: the Nagios node, its class, cell and environment.

Operators name nodes after their cell (``nagios-c0001-01``); the class says
what the node watches: ``global`` (fleet-wide checks), ``cell`` (one cell) or
``mixed``. Both are read from the hostname with patterns a site can change.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

DEFAULT_CELL_PATTERN = r"(?<![a-z0-9])(c\d{4})(?![0-9])"
# Checked in order; the first pattern found in the hostname names the class.
DEFAULT_CLASS_PATTERNS = (("global", r"global"), ("mixed", r"mixed"))
NO_CELL = "nocell"


class IdentityError(ValueError):
    """A node-identity pattern that cannot work (bad regex, no group)."""


@dataclass(frozen=True)
class NodeIdentity:
    node: str  # the Nagios node's hostname, as given
    node_class: str  # global / cell / mixed / unknown
    cell: str  # e.g. c0001, or "nocell"
    environment: str  # e.g. "test"; the full environment is environment/cell

    @property
    def environment_path(self) -> str:
        """``test/c0001`` for a cell node, ``test`` for a node without a cell."""
        if self.cell == NO_CELL:
            return self.environment
        return f"{self.environment}/{self.cell}"


def compile_cell_pattern(pattern: str) -> re.Pattern:
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise IdentityError(f"cell pattern {pattern!r} is not a regular expression: {exc}") from None
    if compiled.groups > 1:
        raise IdentityError(f"cell pattern {pattern!r} must have at most one group (the cell)")
    return compiled


def identify(
    hostname: str | None = None,
    environment: str = "default",
    cell_pattern: str = DEFAULT_CELL_PATTERN,
    class_patterns: tuple[tuple[str, str], ...] = DEFAULT_CLASS_PATTERNS,
    node_class: str | None = None,
    cell: str | None = None,
) -> NodeIdentity:
    """The identity of a node from its hostname (this machine's when None).

    ``node_class`` and ``cell`` override what the patterns find.
    """
    node = hostname or socket.gethostname()
    if cell is None:
        match = compile_cell_pattern(cell_pattern).search(node)
        cell = (match.group(match.re.groups and 1 or 0).lower()) if match else NO_CELL
    if node_class is None:
        node_class = next(
            (name for name, pattern in class_patterns if re.search(pattern, node, re.IGNORECASE)),
            "cell" if cell != NO_CELL else "unknown",
        )
    return NodeIdentity(node=node, node_class=node_class, cell=cell, environment=environment)
