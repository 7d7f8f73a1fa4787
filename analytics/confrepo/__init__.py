"""Retune suggestions as a reviewable patch to a Nagios configuration repository.

``plan_patch(repo, rows)`` reads the repository's object configuration,
resolves each suggested service as Nagios would, picks where each change
belongs (template, definition or per-host override) and returns a unified
diff, the decisions with their reasons and the suggestions it refused. See
docs/config-patch.md.
"""

from .layout import read_node_map, served_views
from .objects import ConfigError, ConfigTree, ObjectView
from .patch import PatchError, PatchResult, plan_patch, suggestion_rows, write_patch
from .suggestions import Refused, wanted_changes

__all__ = [
    "ConfigError",
    "ConfigTree",
    "ObjectView",
    "PatchError",
    "PatchResult",
    "Refused",
    "plan_patch",
    "read_node_map",
    "served_views",
    "suggestion_rows",
    "wanted_changes",
    "write_patch",
]
