"""report.html in a real headless Chromium: it displays, offline, with its plots.

Chromium is a test dependency (scripts/install-test-deps.sh installs Debian's
``chromium``): a missing browser fails this test, it never skips.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nagtune.cli import cli

from .report_data import report_inputs

pytestmark = pytest.mark.slow
WIDTH, HEIGHT = 1280, 2000


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (Debian package chromium): run scripts/install-test-deps.sh",
                pytrace=False)


def test_report_displays_in_headless_chromium(tmp_path):
    browser = _chromium()
    inputs = report_inputs(str(tmp_path))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", *inputs, "--since", "7d", "--out", str(out)])
    assert result.exit_code == 0, result.output
    shot = tmp_path / "screenshot.png"
    # --disable-background-networking etc.: the page must display with no network at all.
    run = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.is_file(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image, dtype=float)
    assert pixels.std() > 15, "screenshot is blank"
    # Not only text: the first plots are in view and coloured (the trend's red line, the chatty bars).
    reds = (pixels[..., 0] > 180) & (pixels[..., 1] < 110) & (pixels[..., 2] < 110)
    assert reds.sum() > 500, "no plot colours in the screenshot: images did not display"
    shutil.copy(shot, out / "screenshot.png")  # kept with the report for a person to look at
