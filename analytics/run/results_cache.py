"""Tables already computed from exactly these logs, by exactly this code.

A re-run over unchanged logs (a notebook run again, a second report over
last week) gives back the table it computed before instead of reading the
logs again. A result cache that can go stale is the worst failure an
analytics tool can have, so the key holds everything the table depends on:

- every log file: node, path, device, inode, size and modification time
  in nanoseconds (a log that grew, was rotated, replaced or touched
  misses);
- the window as resolved timestamps (``--since 7d`` moves with the clock,
  so it misses on every run; an absolute window hits);
- the stage and its parameters, the environment and cell pattern, and any
  side file (objects.cache) by the same identity as the logs;
- the code: a digest of every source file of nagtune (an upgrade or an
  edit misses), and the versions of pandas, numpy and pyarrow (their
  upgrades can change a float's last digit or a column's type).

Tables are stored as Parquet (never pickle: the cache directory may be
shared, and unpickling runs code), one file per key, the newest ``KEEP``
kept. The CLI also keeps what it printed (:func:`read_text`): a re-run of
``nagtune rank`` on unchanged logs then prints it without importing pandas,
which is most of the time such a run takes. This module imports pandas only
to read or write a table.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import uuid

KEEP = 32
VERSION = 1
# A window bound relative to now (7d, 12h): see ingest.parse_when.
RELATIVE_WHEN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def moves_with_the_clock(when) -> bool:
    """Whether a --since/--until value is relative to now: a table over it is never found again."""
    return when is not None and not hasattr(when, "isoformat") and bool(RELATIVE_WHEN.fullmatch(str(when).strip()))


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 over nagtune's own source files (the installed package: parsers, analytics, the rest)."""
    import nagtune

    from ... import analytics, parsers

    digest = hashlib.sha256()
    roots = sorted({os.path.dirname(os.path.abspath(m.__file__)) for m in (nagtune, parsers, analytics)})
    for root in roots:
        for folder, directories, files in os.walk(root):
            directories[:] = sorted(d for d in directories if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".c", ".html", ".md", ".j2")):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, root).encode() + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def library_versions() -> dict:
    """Versions of the libraries a table's values go through, read without importing them."""
    from importlib import metadata

    versions = {}
    for name in ("pandas", "numpy", "pyarrow"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _identity(path: str) -> list:
    info = os.stat(path)
    return [path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]


def _when(value) -> str | None:
    """A window bound as the key holds it: a Timestamp's ISO form, or the option as given."""
    return None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def key(stage: str, parameters: dict, targets: list[tuple[str, str]], side_files=(), **window) -> str:
    """The key of ``stage`` with ``parameters`` over ``targets`` ((node, file) pairs)."""
    content = {
        "version": VERSION,
        "code": code_digest(),
        "libraries": library_versions(),
        "stage": stage,
        "parameters": parameters,
        "window": {name: _when(value) for name, value in window.items()},
        "logs": [[node] + _identity(path) for node, path in targets],
        "side_files": [_identity(path) for path in side_files],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _folder(cache_dir: str) -> str:
    return os.path.join(cache_dir, "results")


def read(cache_dir: str | None, digest: str):
    """The table stored under ``digest``, or None."""
    if cache_dir is None:
        return None
    import pandas as pd

    path = os.path.join(_folder(cache_dir), digest + ".parquet")
    if not os.path.exists(path):
        return None
    try:
        table = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - damaged (pyarrow raises several kinds): computed again, replaced
        try:
            os.remove(path)
        except OSError:
            pass
        return None
    os.utime(path)  # recently used: kept longest
    return table


def write(cache_dir: str | None, digest: str, table) -> None:
    """Store ``table`` (a DataFrame) under ``digest`` (atomically), and drop all but the KEEP newest."""
    if cache_dir is not None:
        _store(cache_dir, digest + ".parquet", lambda path: table.to_parquet(path, index=False))


def read_text(cache_dir: str | None, digest: str) -> str | None:
    """The text (a command's output) stored under ``digest``, or None."""
    if cache_dir is None:
        return None
    path = os.path.join(_folder(cache_dir), digest + ".txt")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, ValueError):
        return None
    os.utime(path)
    return text


def write_text(cache_dir: str | None, digest: str, text: str) -> None:
    """Store ``text`` under ``digest`` (atomically), and drop all but the KEEP newest."""
    if cache_dir is not None:
        _store(cache_dir, digest + ".txt", lambda path: _write_text_file(path, text))


def _write_text_file(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _store(cache_dir: str, name: str, write_to) -> None:
    folder = _folder(cache_dir)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    write_to(temporary)
    os.replace(temporary, os.path.join(folder, name))
    stored = sorted(
        (entry.stat().st_mtime_ns, entry.path)
        for entry in os.scandir(folder)
        if entry.name.endswith((".parquet", ".txt"))
    )
    for _, path in stored[:-KEEP]:
        try:
            os.remove(path)
        except OSError:
            pass
