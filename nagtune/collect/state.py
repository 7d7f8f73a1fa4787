"""What one collector run hands to the next: where it stopped, and the open minutes.

The state file is JSON, written to a temp file in the same directory,
fsynced, then renamed over the old one (``os.replace``), and the directory is
fsynced: after a crash it is either the old state or the new one, never half.

Graphite keeps the LAST value written for a (name, timestamp), so the
collector sends each minute's TOTAL, never a partial count. The totals of the
minutes that may still grow (``open_window`` minutes back from the newest
event seen) live here, so a minute split across two cron runs is sent whole
the second time, and a run repeated after a crash sends identical values.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field

VERSION = 1
HEAD_BYTES = 1024  # how much of a file's start identifies it after a rename or gzip


class StateError(Exception):
    """The state file or its directory cannot be used; the message names the path."""


def head_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class FilePosition:
    """Where the last committed run stopped in the live log."""

    dev: int
    ino: int
    offset: int  # bytes consumed: always just after a '\n'
    head_len: int  # bytes of the file start that head_sha covers (<= HEAD_BYTES)
    head_sha: str

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class CollectState:
    log: str = ""
    position: FilePosition | None = None
    # metric name -> {minute epoch: total lines} for the minutes still open
    totals: dict[str, dict[int, int]] = field(default_factory=dict)
    newest_minute: int = 0  # newest event minute seen (before clamping)
    floor: int = 0  # oldest open minute; lines before it are counted into it
    hosts: dict[str, str] = field(default_factory=dict)  # NameRegistry of host names
    services: dict[str, str] = field(default_factory=dict)  # NameRegistry of services
    generation: int = 0  # commits so far; spool files of a later generation were never committed

    def to_json(self) -> str:
        return json.dumps({
            "version": VERSION,
            "log": self.log,
            "position": self.position.to_dict() if self.position else None,
            "newest_minute": self.newest_minute,
            "floor": self.floor,
            "totals": {name: {str(m): v for m, v in minutes.items()} for name, minutes in self.totals.items()},
            "hosts": self.hosts,
            "services": self.services,
            "generation": self.generation,
        }, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> "CollectState":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"not a version {VERSION} nagtune state")
        position = data.get("position")
        return cls(
            log=data.get("log", ""),
            position=FilePosition(**position) if position else None,
            totals={name: {int(m): int(v) for m, v in minutes.items()} for name, minutes in data["totals"].items()},
            newest_minute=int(data.get("newest_minute", 0)),
            floor=int(data.get("floor", 0)),
            hosts=dict(data.get("hosts", {})),
            services=dict(data.get("services", {})),
            generation=int(data.get("generation", 0)),
        )


def state_key(log_path: str) -> str:
    """A file-name-safe key per log: basename plus a hash of the absolute path."""
    absolute = os.path.abspath(log_path)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(absolute))[:60]
    return f"{base}-{hashlib.blake2b(absolute.encode('utf-8', 'surrogateescape'), digest_size=6).hexdigest()}"


def ensure_dir(path: str, what: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateError(f"{what} {path} is not writable (set --state-dir / --spool-dir)")


def atomic_write(path: str, data: bytes) -> None:
    """tmp + fsync + os.replace + fsync(dir): readers see old or new, never half."""
    directory = os.path.dirname(path) or "."
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None


class StateStore:
    """The state file of one log in ``state_dir``."""

    def __init__(self, state_dir: str, log_path: str) -> None:
        self.state_dir = state_dir
        self.log_path = log_path
        self.path = os.path.join(state_dir, state_key(log_path) + ".state.json")

    def load(self) -> CollectState | None:
        """The committed state, or None on a first run."""
        try:
            with open(self.path, "rb") as handle:
                text = handle.read().decode("utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {exc.strerror or exc}") from None
        try:
            return CollectState.from_json(text)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(
                f"state file {self.path} is corrupt ({exc}); move it away to start again "
                f"(the next run then reads the log as a first run)") from None

    def commit(self, state: CollectState) -> None:
        atomic_write(self.path, state.to_json().encode("ascii"))
