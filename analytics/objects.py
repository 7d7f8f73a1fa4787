"""Nagios' objects.cache: the check settings in force. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import OBJECT_COLUMNS, empty


def load_objects(path) -> pd.DataFrame:
    return empty(OBJECT_COLUMNS)
