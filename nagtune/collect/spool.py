"""Metrics not yet delivered, on disk, sent first by the next run.

One directory per output. Each file is one batch, written atomically
(tmp + fsync + rename, see :func:`~nagtune.collect.state.atomic_write`) and
named by creation time so batches go out in the order they were made: for
Graphite that order matters, a newer total of a minute must land after an
older one. A file is removed only after its whole content was delivered.

Each batch starts with a header line ``nagtune-spool 1 LENGTH HASH`` (blake2b
of the payload): only what nagtune wrote is ever sent. Anything else in the
directory that looks like a batch (a link, a FIFO, a directory, a file with
no or a wrong header) is moved to ``quarantine/`` with a warning: never sent,
never blocking the batches behind it.

The directory has a size cap: past it, the oldest batches are dropped, with a
warning, so a long outage cannot fill the node's disk.
"""

from __future__ import annotations

import os
import re
import time

from .state import StateError, atomic_write, ensure_dir, head_hash, read_regular

SUFFIX = ".spool"
MAGIC = b"nagtune-spool 1 "
DEFAULT_MAX_BYTES = 256 << 20
QUARANTINE = "quarantine"
_NAME = re.compile(r"([0-9]{12})-[0-9]{20}-[0-9]+\.spool")


class BadEntry(Exception):
    """A spool entry nagtune did not write, or that was damaged; says why."""


def seal(payload: bytes) -> bytes:
    return MAGIC + b"%d %s\n" % (len(payload), head_hash(payload).encode("ascii")) + payload


def unseal(data: bytes) -> bytes:
    if not data.startswith(MAGIC):
        raise BadEntry("no nagtune spool header")
    header, sep, payload = data.partition(b"\n")
    fields = header[len(MAGIC) :].split(b" ")
    if not sep or len(fields) != 2 or not fields[0].isdigit():
        raise BadEntry("a damaged spool header")
    if int(fields[0]) != len(payload) or head_hash(payload).encode("ascii") != fields[1]:
        raise BadEntry("its checksum does not match (damaged or edited)")
    return payload


class Spool:
    def __init__(self, directory: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.strays: list[str] = []  # names ending in .spool that nagtune never makes

    def _files(self) -> list[tuple[int, str]]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StateError(f"cannot list spool directory {self.directory}: {exc.strerror or exc}") from None
        found = []
        self.strays = []
        for name in sorted(names):
            if not name.endswith(SUFFIX):
                continue
            match = _NAME.fullmatch(name)
            if match:
                found.append((int(match.group(1)), os.path.join(self.directory, name)))
            else:
                self.strays.append(os.path.join(self.directory, name))
        return found

    def pending(self, committed: int) -> list[str]:
        """Batches of committed runs, oldest first.

        A file of a later generation than the committed state was written by
        a run that died before its commit: the next run reads those lines
        again, so the file is removed here instead of being sent twice.
        """
        files = []
        for generation, path in self._files():
            if generation > committed:
                if not self.remove(path):
                    self.strays.append(path)  # a directory, or not ours to remove: quarantined
            else:
                files.append(path)
        return files

    def write(self, payload: bytes, generation: int) -> tuple[str, int]:
        """A batch belonging to the state commit number ``generation``.

        Returns its path and how many of the oldest batches the size cap dropped.
        """
        ensure_dir(self.directory, "spool directory")
        dropped = self._make_room(len(payload))
        path = os.path.join(self.directory, f"{generation:012d}-{time.time_ns():020d}-{os.getpid()}{SUFFIX}")
        atomic_write(path, seal(payload))
        return path, dropped

    def _make_room(self, incoming: int) -> int:
        sizes = []
        for _, path in self._files():
            try:
                sizes.append((path, os.lstat(path).st_size))
            except OSError:
                continue
        total = sum(size for _, size in sizes) + incoming
        dropped = 0
        for path, size in sizes:
            if total <= self.max_bytes:
                break
            self.remove(path)
            total -= size
            dropped += 1
        return dropped

    def read(self, path: str) -> bytes:
        """The payload of a batch; :class:`BadEntry` for anything nagtune did not write."""
        try:
            data = read_regular(path, limit=max(self.max_bytes, 1 << 20) + 4096)
        except StateError as exc:  # NotRegular: a link, FIFO, device or directory
            raise BadEntry(str(exc)) from None
        if data is None:
            raise BadEntry("it vanished")
        return unseal(data)

    def quarantine(self, path: str) -> str | None:
        """Move ``path`` out of the way, into ``quarantine/``; None if that failed (then it is skipped)."""
        target_dir = os.path.join(self.directory, QUARANTINE)
        try:
            ensure_dir(target_dir, "spool quarantine directory")
            target = os.path.join(target_dir, f"{os.path.basename(path)}.{time.time_ns()}")
            os.rename(path, target)
        except (OSError, StateError):
            return None
        return target

    @staticmethod
    def remove(path: str) -> bool:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True
