"""Machine-readable names of hosts and services, and collisions. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import NAME_COLUMNS, empty


def audit_names(events: pd.DataFrame) -> pd.DataFrame:
    return empty(NAME_COLUMNS)
