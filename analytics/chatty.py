"""Too chatty: a noise score per service. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import CHATTY_COLUMNS, CHATTY_HOST_SERVICE_COLUMNS, empty


def rank_chatty(events: pd.DataFrame, episodes: pd.DataFrame, by: str = "service", top=None) -> pd.DataFrame:
    return empty(CHATTY_COLUMNS if by == "service" else CHATTY_HOST_SERVICE_COLUMNS)
