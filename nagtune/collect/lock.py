"""One run per log at a time, with a lock the kernel drops when the holder dies.

``fcntl.flock`` on ``STATE_DIR/KEY.lock``: the lock belongs to the open file,
so kill -9, OOM or a reboot release it; there is never a stale lock to clean
up, and the lock file itself is never removed (removing it would let two
runs lock two different files).
"""

from __future__ import annotations

import fcntl
import os
import stat
import time

from .state import StateError


class Busy(Exception):
    """Another run holds the lock."""


class RunLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock; wait up to ``wait`` seconds for it, else raise :class:`Busy`."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise StateError(
                f"cannot open lock file {self.path}: {exc.strerror or exc} (a symbolic link is refused)"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StateError(f"lock file {self.path} is not a regular file; refusing it")
        deadline = time.monotonic() + wait
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise Busy(self.path) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.5)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
