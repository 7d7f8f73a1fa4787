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

import json
import os
import re

try:  # hashlib would load OpenSSL (~3 ms) for a hash that lives in _blake2
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import blake2b

VERSION = 1
HEAD_BYTES = 1024  # how much of a file's start identifies it after a rename or gzip


class StateError(Exception):
    """The state file or its directory cannot be used; the message names the path."""


def head_hash(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


class FilePosition:
    """Where the last committed run stopped in the live log.

    (Plain classes here, not dataclasses: the cron path skips importing
    :mod:`dataclasses` and :mod:`inspect`.)
    """

    __slots__ = ("dev", "ino", "offset", "head_len", "head_sha")

    def __init__(self, dev: int, ino: int, offset: int, head_len: int, head_sha: str) -> None:
        self.dev, self.ino = dev, ino
        self.offset = offset  # bytes consumed: always just after a '\n'
        self.head_len = head_len  # bytes of the file start that head_sha covers (<= HEAD_BYTES)
        self.head_sha = head_sha

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other) -> bool:
        return isinstance(other, FilePosition) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return "FilePosition(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"


class CollectState:
    def __init__(self, log: str = "", position: FilePosition | None = None,
                 totals: dict[str, dict[int, int]] | None = None, newest_minute: int = 0, floor: int = 0,
                 hosts: dict[str, str] | None = None, services: dict[str, str] | None = None,
                 generation: int = 0, self_names: dict | None = None) -> None:
        self.log = log
        self.position = position
        # metric name -> {minute epoch: total lines} for the minutes still open
        self.totals = {} if totals is None else totals
        self.newest_minute = newest_minute  # newest event minute seen (before clamping)
        self.floor = floor  # oldest open minute; lines before it are counted into it
        self.hosts = {} if hosts is None else hosts  # NameRegistry of host names
        self.services = {} if services is None else services  # NameRegistry of services
        self.generation = generation  # commits so far; spool files of a later generation were never committed
        # {"key": naming settings, "names": {what: name}}: the self-metric names of the
        # last run, so a run with nothing new names them without the parsers
        self.self_names = self_names or {}

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
            "self_names": self.self_names,
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
            self_names=_self_names(data.get("self_names")),
        )


def _self_names(value) -> dict:
    if not (isinstance(value, dict) and isinstance(value.get("key"), str) and isinstance(value.get("names"), dict)):
        return {}
    return {"key": value["key"], "names": {str(k): str(v) for k, v in value["names"].items()}}


def state_key(log_path: str) -> str:
    """A file-name-safe key per log: basename plus a hash of the absolute path."""
    absolute = os.path.abspath(log_path)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(absolute))[:60]
    return f"{base}-{blake2b(absolute.encode('utf-8', 'surrogateescape'), digest_size=6).hexdigest()}"


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
