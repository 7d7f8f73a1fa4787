"""The notebook's findings are the CLI's on the same inputs (objects.cache included)."""

from __future__ import annotations

import os

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from nagtune.cli import cli

from .report_data import ROOT, SAMPLES, sample_dirs

pytestmark = pytest.mark.slow
NOTEBOOK = os.path.join(ROOT, "notebooks", "explore.ipynb")


def test_the_notebook_finds_what_the_cli_finds(tmp_path, monkeypatch):
    assert sample_dirs(), "the bundled samples (data/samples) are needed: they hold objects.cache"
    monkeypatch.setenv("NAGTUNE_SAMPLES", SAMPLES)
    monkeypatch.setenv("NAGTUNE_NOTEBOOK_OUT", str(tmp_path / "nb"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}}
    ).execute()
    cli_out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["report", SAMPLES, "--since", "7d", "--no-history", "--out", str(cli_out)])
    assert result.exit_code == 0, result.output
    for name in ("changes", "retunes", "quiet", "chatty", "names", "pages_per_contact_group"):
        from_notebook = pd.read_csv(tmp_path / "nb" / "report" / "tables" / f"{name}.csv", keep_default_na=False)
        from_cli = pd.read_csv(cli_out / "tables" / f"{name}.csv", keep_default_na=False)
        pd.testing.assert_frame_equal(from_notebook, from_cli, obj=name)
    # objects.cache was read in both: suggestions name the current value from it.
    retunes = pd.read_csv(cli_out / "tables" / "retunes.csv", keep_default_na=False)
    assert len(retunes) and (retunes["current"].astype(str) != "").all()
    # The one-call look at one service printed its summary.
    printed = [o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(" problems, " in text and " pages " in text for text in printed)
