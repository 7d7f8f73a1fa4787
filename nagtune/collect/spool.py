"""Metrics not yet delivered, on disk, sent first by the next run.

One directory per output. Each file is one batch, written atomically
(tmp + fsync + rename) and named by creation time so batches go out in the
order they were made: for Graphite that order matters, a newer total of a
minute must land after an older one. A file is removed only after its whole
content was sent.
"""
from __future__ import annotations

import os
import time

from .state import atomic_write, ensure_dir

SUFFIX = ".spool"


class Spool:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def _files(self) -> list[tuple[int, str]]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        found = []
        for name in sorted(names):
            if name.endswith(SUFFIX):
                try:
                    found.append((int(name.split("-", 1)[0]), os.path.join(self.directory, name)))
                except ValueError:
                    continue
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
                self.remove(path)
            else:
                files.append(path)
        return files

    def write(self, payload: bytes, generation: int) -> str:
        """A batch belonging to the state commit number ``generation``."""
        ensure_dir(self.directory, "spool directory")
        path = os.path.join(self.directory, f"{generation:012d}-{time.time_ns():020d}-{os.getpid()}{SUFFIX}")
        atomic_write(path, payload)
        return path

    @staticmethod
    def read(path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    @staticmethod
    def remove(path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
