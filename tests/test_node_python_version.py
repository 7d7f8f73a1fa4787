"""The node side stays runnable on Python 3.8 (what Ubuntu 20.04 ships; Debian 11
has 3.9), while the test command runs a newer Python.

Two static checks over the node-side modules, so a 3.9+ feature fails here
whatever interpreter runs the tests:

- vermin (a PyPI tool that knows in which version each syntax, module,
  function and keyword argument appeared) with target 3.8;
- what vermin does not see: annotations are only safe on 3.8 as strings
  (``from __future__ import annotations``), and a ``list[int]`` or
  ``int | None`` outside an annotation is evaluated at import time.

tests/test_node_zipapp.py runs the collector itself under a real Python 3.8.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The modules a Nagios node runs: the parsers, the collector, its outputs, the
# logster class and the CLI entry of `nagtune collect` / `nagtune parse`.
NODE_MODULES = sorted(
    [
        *(REPO / "parsers").glob("*.py"),
        *(REPO / "nagtune" / "collect").glob("*.py"),
        *(REPO / "nagtune" / "outputs").glob("*.py"),
        *(
            REPO / "nagtune" / name
            for name in ("__init__.py", "cli.py", "cli_collect.py", "cli_parse.py", "options.py")
        ),
    ]
)

TARGET = "3.8"
# vermin has no __main__ module; this is what its console script runs.
VERMIN = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())"]
BUILTIN_GENERICS = {"tuple", "list", "dict", "set", "frozenset", "type"}
ABC_GENERICS = {"Iterable", "Iterator", "Callable", "Mapping", "Sequence", "Generator", "MutableMapping", "Set"}


def test_the_node_module_list_is_real():
    assert len(NODE_MODULES) >= 20, NODE_MODULES
    assert all(path.is_file() for path in NODE_MODULES)


def test_vermin_finds_nothing_newer_than_3_8():
    try:
        import vermin  # noqa: F401
    except ImportError:
        pytest.fail("vermin is not installed (test extra): run scripts/install-test-deps.sh", pytrace=False)
    # No --eval-annotations: every node module has `from __future__ import annotations`
    # (checked below), so Python 3.8 never evaluates them.
    result = subprocess.run(
        [
            *VERMIN,
            f"--target={TARGET}-",
            "--violations",
            "--no-tips",
            # tomllib is 3.11+; the one import of it falls back to tomli (a dependency below
            # 3.11), a guard vermin does not understand.
            "--no-parse-comments",
            "--exclude",
            "tomllib",
            *map(str, NODE_MODULES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"vermin: node-side code needs a Python newer than {TARGET}:\n{result.stdout}{result.stderr}"
    )


def test_vermin_catches_a_3_9_feature(tmp_path):
    """The check above can fail: the same command over a module using functools.cache (3.9)."""
    sample = tmp_path / "uses_cache.py"
    sample.write_text("import functools\n\n@functools.cache\ndef f():\n    return 1\n")
    result = subprocess.run(
        [*VERMIN, f"--target={TARGET}-", "--violations", "--no-tips", str(sample)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "functools.cache" in result.stdout, result.stdout


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an annotation (a string under the __future__ import)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations += [a.annotation for a in every if a is not None and a.annotation is not None]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                inside.update(id(sub) for sub in ast.walk(annotation))
    return inside


def runtime_newer_typing(source: str) -> list[str]:
    """Problems on Python 3.8 that vermin does not report: annotations evaluated
    (no __future__ import), ``list[...]``/``Iterable[...]`` or ``X | None`` evaluated."""
    tree = ast.parse(source)
    problems = []
    has_annotations = any(
        isinstance(node, ast.AnnAssign)
        or (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (node.returns is not None or any(a.annotation is not None for a in node.args.args))
        )
        for node in ast.walk(tree)
    )
    future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if has_annotations and not future:
        problems.append("annotations without `from __future__ import annotations` are evaluated on 3.8")
    in_annotation = _annotation_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in in_annotation:
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
            name = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if name in BUILTIN_GENERICS or name in ABC_GENERICS:
                problems.append(f"line {node.lineno}: {name}[...] evaluated at run time needs 3.9")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = (node.left, node.right)
            if any(
                (isinstance(side, ast.Constant) and side.value is None)
                or (isinstance(side, ast.Name) and side.id in BUILTIN_GENERICS | {"int", "str", "bytes", "float"})
                for side in sides
            ):
                problems.append(f"line {node.lineno}: X | Y of types evaluated at run time needs 3.10")
    return problems


@pytest.mark.parametrize("path", NODE_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_typing_evaluated_at_run_time(path):
    assert runtime_newer_typing(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(x: list[int]) -> None: ...\n",  # no __future__ import
        "from __future__ import annotations\nPoint = tuple[int, float]\n",  # alias evaluated
        "from __future__ import annotations\nisinstance(1, int | None)\n",  # union evaluated
        "from __future__ import annotations\nfrom collections.abc import Iterable\nX = Iterable[str]\n",
    ],
)
def test_the_typing_check_catches(source):
    assert runtime_newer_typing(source)


def test_the_typing_check_passes_annotations_under_the_future_import():
    source = (
        "from __future__ import annotations\n"
        "def f(x: list[int] | None, *a: dict[str, int], **k: tuple[int, ...]) -> set[str] | None: ...\n"
        "y: list[int] = [1]\nz = 3 | 4\n"
    )
    assert runtime_newer_typing(source) == []


# --- the pure-Python scanner's pattern on Python < 3.11 ----------------------------------
# re has possessive quantifiers from 3.11 on; below, the scanner compiles the same
# pattern with greedy ones (scan._greedy). Here, on the test command's Python, both
# must find the same matches on any log (a real 3.8 runs the collector in test_node_zipapp).

from hypothesis import given, settings  # noqa: E402

from nagtune.parsers import scan as scan_module  # noqa: E402
from tests.test_parser_properties import log_buffer  # noqa: E402

SAMPLES = sorted((REPO / "data" / "samples").glob("*/nagios.log"))


def _matches(pattern: bytes, buffer: bytes) -> list:
    return [(m.span(), m.groups()) for m in re.finditer(pattern, buffer, re.MULTILINE)]


def test_the_greedy_pattern_has_no_possessive_quantifier_left():
    greedy = scan_module._greedy(scan_module._STAMPED)
    assert greedy != scan_module._STAMPED
    assert not re.search(rb"[+*}?]\+", greedy.replace(rb"\+", b"")), greedy


def test_greedy_and_possessive_patterns_match_alike_on_the_samples():
    assert SAMPLES
    for path in SAMPLES:
        buffer = path.read_bytes()
        assert _matches(scan_module._greedy(scan_module._STAMPED), buffer) == _matches(scan_module._STAMPED, buffer)


@settings(max_examples=300, deadline=None)
@given(log_buffer)
def test_greedy_and_possessive_patterns_match_alike(buffer):
    assert _matches(scan_module._greedy(scan_module._STAMPED), buffer) == _matches(scan_module._STAMPED, buffer)
