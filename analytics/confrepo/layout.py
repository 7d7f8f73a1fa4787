"""Which directories of the configuration repository each Nagios node loads.

``nagtune-nodes.toml`` at the repository's root (or a file given by the
user) names them::

    [nodes."nagios-c0001-01"]
    dirs = ["common/cell", "environments/test/c0001"]

Without an entry, a node's directories come from the identity nagtune derives
from its name (``nagtune.parsers.identity``): ``common/<class>/`` and
``environments/<env>/<cell>/``, the environment being the one directory of
``environments/`` that holds the cell. Every node named in the file, plus one
per ``environments/<env>/<dir>/`` the file does not cover, is a node the
repository serves: a template edit is judged against all of them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ...parsers.identity import NO_CELL, identify
from .objects import ConfigError

NODE_MAP_NAME = "nagtune-nodes.toml"


def read_node_map(repo, node_map=None) -> dict[str, list[str]]:
    """Node -> the directories it loads, from the TOML mapping (empty when none)."""
    path = Path(node_map) if node_map else Path(repo) / NODE_MAP_NAME
    if not path.exists():
        if node_map:
            raise ConfigError(f"node map {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"node map {path}: {exc}") from None
    nodes = data.get("nodes", {})
    if not isinstance(nodes, dict):
        raise ConfigError(f"node map {path}: [nodes] must be a table of node tables")
    mapping = {}
    for node, entry in nodes.items():
        dirs = entry.get("dirs") if isinstance(entry, dict) else None
        if not isinstance(dirs, list) or not dirs or not all(isinstance(d, str) for d in dirs):
            raise ConfigError(f'node map {path}: node {node!r} needs dirs = ["...", ...]')
        mapping[node] = [d.strip("/") for d in dirs]
    return mapping


def node_dirs(repo, node: str, node_map: dict[str, list[str]]) -> list[str]:
    """The directories a node loads: from the map, else from its identity."""
    if node in node_map:
        return node_map[node]
    repo = Path(repo)
    identity = identify(node)
    if identity.cell == NO_CELL:
        raise ConfigError(f"node {node} has no cell in its name: name its directories in {NODE_MAP_NAME}")
    homes = sorted(p for p in (repo / "environments").glob(f"*/{identity.cell}") if p.is_dir())
    if len(homes) != 1:
        raise ConfigError(
            f"node {node}: {len(homes)} directories environments/*/{identity.cell} "
            f"(need one): name its directories in {NODE_MAP_NAME}"
        )
    common = repo / "common" / identity.node_class
    if not common.is_dir():
        raise ConfigError(f"node {node}: no directory common/{identity.node_class}")
    return [f"common/{identity.node_class}", homes[0].relative_to(repo).as_posix()]


def served_views(repo, node_map: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every set of directories a node of the repository loads, by a node (or directory) name."""
    repo = Path(repo)
    views = dict(node_map)
    covered = {d for dirs in node_map.values() for d in dirs}
    for home in sorted(p for p in (repo / "environments").glob("*/*") if p.is_dir()):
        rel = home.relative_to(repo).as_posix()
        if rel in covered:
            continue
        cell_class = "cell" if identify(f"node-{home.name}").cell != NO_CELL else home.name
        if (repo / "common" / cell_class).is_dir():
            views[rel] = [f"common/{cell_class}", rel]
    return views
