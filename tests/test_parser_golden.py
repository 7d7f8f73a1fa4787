"""Each log next to its .golden: the parser's events and metrics must not drift.

Regenerate with `python tests/golden/regenerate.py` only for an intended change.
"""

import pytest

from tests.golden_cases import GOLDEN_CASES, render_events, render_metrics


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda case: case.id)
def test_events_match_golden(case):
    expected = case.events_golden.read_text(encoding="utf-8")
    observed = render_events(case.log)
    assert expected == observed


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda case: case.id)
def test_metrics_match_golden(case):
    expected = case.metrics_golden.read_text(encoding="utf-8")
    observed = render_metrics(case.log, case.node)
    assert expected == observed


def test_there_are_golden_cases_for_grammar_and_real_samples():
    ids = [case.id for case in GOLDEN_CASES]
    assert "grammar" in ids
    assert any("__" in case_id for case_id in ids), "no real Nagios sample has a golden file"
