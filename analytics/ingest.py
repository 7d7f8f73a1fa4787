"""Nagios event logs of many nodes into one typed events DataFrame."""
from __future__ import annotations

import pandas as pd

from ..parsers.identity import DEFAULT_CELL_PATTERN
from ._frames import EVENT_COLUMNS, PERFDATA_COLUMNS, VALUE_COLUMNS, empty

DEFAULT = DEFAULT_CELL_PATTERN


def load_events(paths, since=None, until=None, cache_dir=None, progress=False,
                environment="default", cell_pattern=DEFAULT) -> pd.DataFrame:
    """Events of every log under ``paths``; see docs/analytics.md. (skeleton)"""
    frame = empty(EVENT_COLUMNS)
    frame.attrs["unparsed"] = 0
    return frame


def load_perfdata(paths) -> pd.DataFrame:
    """Rows of Nagios' service_perfdata_file, one per perfdata label. (skeleton)"""
    return empty(PERFDATA_COLUMNS)


def values_from_output(events: pd.DataFrame) -> pd.DataFrame:
    """Numbers that plugins print in their output text. (skeleton)"""
    return empty(VALUE_COLUMNS)


def is_node_dir(path: str) -> bool:
    """A directory that holds one node's logs: nagios.log and/or archives/."""
    import os
    return os.path.isfile(os.path.join(path, "nagios.log")) or os.path.isdir(os.path.join(path, "archives"))


def window(events: pd.DataFrame, since=None, until=None) -> pd.DataFrame:
    return events


def window_end(events: pd.DataFrame, until=None):
    return None
