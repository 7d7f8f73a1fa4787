"""Events to problem episodes. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import EPISODE_COLUMNS, empty


def build_episodes(events: pd.DataFrame, window_end=None) -> pd.DataFrame:
    return empty(EPISODE_COLUMNS)
