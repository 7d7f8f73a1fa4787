"""Finding and opening Nagios log files: live log, archives, gzip.

Nagios names an archive for the hour it was rotated,
``nagios-MM-DD-YYYY-HH.log``, so the lexical order of archive names is not
their time order (``nagios-01-01-2027`` sorts before ``nagios-12-31-2026``).
:func:`archive_order` gives the true order.
"""

from __future__ import annotations

import functools
import glob
import gzip
import os
import re
from collections.abc import Iterable
from typing import BinaryIO

from .nagios import iter_lines

ARCHIVE_NAME = re.compile(
    r"^(?P<base>[A-Za-z0-9_.-]*?)-(?P<month>\d\d)-(?P<day>\d\d)-(?P<year>\d{4})-(?P<hour>\d\d)\.log(?:\.gz)?$"
)


class LogPathError(ValueError):
    """A path or option that cannot be read (no such file, nothing to read, a broken archive)."""


def is_gzipped(path: str, head: bytes) -> bool:
    """A ``.gz`` name, or ``head`` (the file's first bytes) opens with gzip's magic."""
    return path.endswith(".gz") or head[:2] == b"\x1f\x8b"


def open_log(path: str) -> BinaryIO:
    """Open a log for reading bytes; ``.gz`` (by name or by magic bytes) is decompressed."""
    handle = open(path, "rb")
    if is_gzipped(path, handle.peek(2)):
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    return handle


@functools.lru_cache(maxsize=None)  # functools.cache is 3.9+; nodes may run 3.8
def _gunzip():
    """ISA-L's ``igzip.decompress`` where python-isal is installed (the analytics extra
    brings it: 2.2x zlib's speed on Nagios archives, 0.53 against 1.17 s per GB),
    else ``gzip.decompress``. Imported on first use: the collector reads live logs."""
    try:
        from isal import igzip
    except ImportError:
        return gzip.decompress
    return igzip.decompress


def read_log(path: str, start: int = 0) -> bytes:
    """A whole log's bytes from ``start`` (an offset into its text); ``.gz`` (by name
    or by magic bytes) decompressed in one call, which is about 2.5x faster than
    reading a :class:`gzip.GzipFile` whole (its reader goes through many small
    reads and a separate CRC pass). A broken stream raises ``EOFError`` or
    ``gzip.BadGzipFile`` (an OSError)."""
    with open(path, "rb") as handle:
        if is_gzipped(path, handle.peek(2)):
            text = _gunzip()(handle.read())
            return text[start:] if start else text
        handle.seek(start)
        return handle.read()


def archive_order(path: str) -> tuple:
    """Sort key: archives by their rotation hour, anything else by name after them."""
    match = ARCHIVE_NAME.match(os.path.basename(path))
    if match is None:
        return (1, os.path.basename(path))
    return (0, match["year"], match["month"], match["day"], match["hour"], path)


def node_log_files(directory: str) -> list[str]:
    """A node's logs oldest first: ``archives/*.log[.gz]`` in rotation order, then ``nagios.log``.

    Also accepts a flat directory of archives (``*.log``, ``*.log.gz``).
    """
    found: list[str] = []
    archives = os.path.join(directory, "archives")
    for folder in (archives, directory):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if ARCHIVE_NAME.match(name):
                found.append(os.path.join(folder, name))
    found.sort(key=archive_order)
    for live in ("nagios.log", "naemon.log", "icinga.log", "compat.log"):
        path = os.path.join(directory, live)
        if os.path.isfile(path):
            found.append(path)
    return found


def read_lines(paths: Iterable[str]):
    """Yield the raw lines of several logs in the order given."""
    for path in paths:
        with open_log(path) as stream:
            yield from iter_lines(stream)


# ---------------------------------------------------------------- many nodes' logs


@functools.lru_cache(maxsize=4096)
def _real_directory(directory: str) -> str:
    return os.path.realpath(directory)


def real_path(path: str) -> str:
    """``os.path.realpath(path)``, each directory resolved once per process.

    realpath lstat()s every component of every path: for 91 k hourly archives
    in 1,000 node directories that was a third of the ingest. A file that is
    not a symlink resolves to its resolved directory and its name. Paths with
    ``..`` go to realpath itself (``link/..`` is not lexical).
    """
    absolute = os.path.abspath(path)
    if ".." in path.split(os.sep) or os.path.islink(absolute):
        return os.path.realpath(path)
    directory, name = os.path.split(absolute)
    return os.path.join(_real_directory(directory), name)


def is_node_dir(path: str) -> bool:
    """A directory that holds one node's logs: nagios.log and/or archives/."""
    if not os.path.isdir(path):
        return False
    if any(os.path.isfile(os.path.join(path, live)) for live in ("nagios.log", "naemon.log", "icinga.log")):
        return True
    if os.path.isdir(os.path.join(path, "archives")):
        return True
    return any(ARCHIVE_NAME.match(name) for name in os.listdir(path))


def node_of_file(path: str) -> str:
    """The node a log file belongs to: its directory's name (``archives/``' parent's)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(folder) == "archives":
        folder = os.path.dirname(folder)
    return os.path.basename(folder)


def resolve_paths(paths) -> list[tuple[str, str]]:
    """``paths`` (node dirs, parents of node dirs, files, globs) -> [(node, file)], oldest first per node.

    Raises :class:`LogPathError` naming the first path that matches nothing.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(node: str, files: list[str]) -> None:
        for file in files:
            real = real_path(file)
            if real not in seen:
                seen.add(real)
                result.append((node, file))

    for path in paths:
        path = str(path)
        items = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
        if not items:
            raise LogPathError(f"no file matches {path!r}")
        for item in items:
            if os.path.isdir(item):
                if is_node_dir(item):
                    node = os.path.basename(os.path.normpath(os.path.abspath(item)))
                    add(node, node_log_files(item))
                    continue
                children = [os.path.join(item, n) for n in sorted(os.listdir(item))]
                nodes = [c for c in children if is_node_dir(c)]
                if not nodes:
                    raise LogPathError(f"{item!r} holds no Nagios log (nagios.log, archives/) nor node directories")
                for child in nodes:
                    add(os.path.basename(child), node_log_files(child))
            elif os.path.isfile(item):
                add(node_of_file(item), [item])
            else:
                raise LogPathError(f"no such file or directory: {item!r}")
    # Oldest first within a node: archives in rotation order, live logs last.
    order: dict[str, list[str]] = {}
    for node, file in result:
        order.setdefault(node, []).append(file)
    ordered: list[tuple[str, str]] = []
    for node, files in order.items():
        files.sort(key=lambda f: (archive_order(f)[0] == 1, archive_order(f)))
        ordered.extend((node, f) for f in files)
    return ordered


def node_dirs(paths) -> list[str]:
    """Directories among ``paths`` (globs expanded) that hold one node's files."""
    found = []
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else list(paths):
        for item in sorted(glob.glob(str(path))) or [str(path)]:
            if not os.path.isdir(item):
                continue
            if is_node_dir(item):
                found.append(item)
            else:
                found.extend(
                    os.path.join(item, name)
                    for name in sorted(os.listdir(item))
                    if is_node_dir(os.path.join(item, name))
                )
    return found


def find_side_files(paths, name: str) -> list[str]:
    """``objects.cache`` or ``service-perfdata.log`` files in the node directories of ``paths``."""
    return [os.path.join(d, name) for d in node_dirs(paths) if os.path.isfile(os.path.join(d, name))]
