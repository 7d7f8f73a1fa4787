"""Retune suggestions, each replayed on history. (skeleton)"""
from __future__ import annotations

import pandas as pd

from ._frames import RETUNE_COLUMNS, empty


def suggest_retunes(events, episodes, objects=None, perfdata=None) -> pd.DataFrame:
    return empty(RETUNE_COLUMNS)


def replay_max_check_attempts(episodes_or_events, attempts: int) -> pd.DataFrame:
    raise NotImplementedError


def replay_threshold(values, warn, crit) -> pd.DataFrame:
    raise NotImplementedError


def what_if_curve(values, kind="warn", thresholds=None) -> pd.DataFrame:
    raise NotImplementedError
