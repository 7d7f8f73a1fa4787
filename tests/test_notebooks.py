"""The notebooks run top to bottom with no error, on the bundled samples."""

from __future__ import annotations

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from .report_data import ROOT, SAMPLES, sample_dirs

pytestmark = pytest.mark.slow
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> str:
    if sample_dirs():
        return SAMPLES
    # Until the real samples are in the checkout: a small seeded fleet.
    from nagtune.synth import generate_fleet

    directory = tmp_path_factory.mktemp("fleet")
    generate_fleet(str(directory), 3, 6000, days=7)
    return str(directory)


def test_there_is_a_notebook():
    assert any(path.endswith("explore.ipynb") for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_top_to_bottom(path, samples, tmp_path, monkeypatch):
    monkeypatch.setenv("NAGTUNE_SAMPLES", samples)
    monkeypatch.setenv("NAGTUNE_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(path)}}
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 4, "the plots should display"
    assert os.path.isfile(tmp_path / "out" / "report" / "report.html")
