"""Automation candidates. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import AUTOMATION_COLUMNS, empty


def automation_candidates(events: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    return empty(AUTOMATION_COLUMNS)
