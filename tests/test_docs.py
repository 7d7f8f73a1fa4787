"""Every command has help with an example and is documented; the README leads with its two commands."""

import pathlib
import re

import pytest
from click.testing import CliRunner

from nagtune.cli import COMMANDS, cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`nagtune {name} --help` shows no example"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_is_documented(name):
    assert re.search(rf"nagtune {name}\b", DOCS), f"`nagtune {name}` appears in no README/docs page"


def test_readme_starts_with_the_two_newcomer_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")[:8]
    block = "\n".join(head)
    assert "nagtune report data/samples" in block
    assert "bash scripts/test.sh" in block
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
