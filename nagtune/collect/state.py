"""What one collector run hands to the next: where it stopped, and the open minutes.

Every file is written to a fresh temp file in the same directory (``O_EXCL``,
``O_NOFOLLOW``, a random name), fsynced, then renamed over the old one
(``os.replace``), and the directory is fsynced: after a crash it is either the
old file or the new one, never half, and a link planted in the directory is
never followed. Every file is read with ``O_NOFOLLOW|O_NONBLOCK`` and must be
a regular file: a symlink, FIFO or device is refused with one line.

Graphite keeps the LAST value written for a (name, timestamp), so the
collector sends each minute's TOTAL, never a partial count. The totals of the
minutes that may still grow (``open_window`` minutes back from the newest
event seen) live here, so a minute split across two cron runs is sent whole
the second time, and a run repeated after a crash sends identical values.

Three files per log, so a busy node does not rewrite everything each minute:

- ``KEY.state.json``: small (offset, generation, self-metric totals, ...),
  written by every run that changes something; it is the commit point;
- ``KEY.totals.GEN.json``: the open totals, written only by a run that
  changed them, under the generation of that commit; the state names the
  one in force, so a run killed before its commit leaves a file nobody reads;
- ``KEY.names.json``: the name registries (sanitized names and collision
  suffixes), written only when a name is added. Names are only ever added and
  the same lines always register the same way, so it needs no generation.
"""

from __future__ import annotations

import json
import os
import re
import stat as stat_mod
from collections.abc import Callable

try:  # hashlib would load OpenSSL (~3 ms) for a hash that lives in _blake2
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import blake2b

VERSION = 2  # version 1 (everything in one file) is still read
HEAD_BYTES = 1024  # how much of a file's start identifies it after a rename or gzip
MAX_STATE_BYTES = 1 << 30  # a state file larger than this is not one of ours

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_SAFE_NAME = re.compile(r"[\x21-\x7e]+")  # what a self-metric name may hold: printable ASCII, no space


class StateError(Exception):
    """The state file or its directory cannot be used; the message names the path."""


class NotRegular(StateError):
    """A path that should be a regular file is a link, FIFO, device or directory."""


def head_hash(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def _kind(mode: int) -> str:
    if stat_mod.S_ISLNK(mode):
        return "a symbolic link"
    if stat_mod.S_ISDIR(mode):
        return "a directory"
    if stat_mod.S_ISFIFO(mode):
        return "a FIFO"
    if stat_mod.S_ISCHR(mode) or stat_mod.S_ISBLK(mode):
        return "a device"
    if stat_mod.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular(path: str, limit: int = MAX_STATE_BYTES) -> bytes | None:
    """The bytes of the regular file ``path``, None when it does not exist.

    Opened with ``O_NOFOLLOW|O_NONBLOCK`` and checked with ``fstat``: a
    symlink, FIFO (which would block the run while it holds the lock), device
    (``/dev/zero`` never ends) or directory raises :class:`NotRegular`.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        if st is not None and not stat_mod.S_ISREG(st.st_mode):
            raise NotRegular(f"{path} is {_kind(st.st_mode)}, not a regular file; refusing to read it") from None
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode):
            raise NotRegular(f"{path} is {_kind(st.st_mode)}, not a regular file; refusing to read it")
        if st.st_size > limit:
            raise StateError(f"{path} is {st.st_size} bytes, larger than any file nagtune writes there")
        chunks = []
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            chunks.append(block)
        return b"".join(chunks)
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


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

    @classmethod
    def from_dict(cls, data) -> FilePosition:
        if not isinstance(data, dict) or set(data) != set(cls.__slots__):
            raise ValueError("position is not {dev, ino, offset, head_len, head_sha}")
        numbers = [data[k] for k in ("dev", "ino", "offset", "head_len")]
        if not all(type(n) is int and n >= 0 for n in numbers):
            raise ValueError("a negative or non-integer offset")
        if data["head_len"] > HEAD_BYTES or not isinstance(data["head_sha"], str):
            raise ValueError("a bad head fingerprint")
        return cls(**data)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other) -> bool:
        return isinstance(other, FilePosition) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return "FilePosition(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"


class CollectState:
    def __init__(
        self,
        log: str = "",
        position: FilePosition | None = None,
        totals: dict[str, dict[int, int]] | None = None,
        newest_minute: int = 0,
        floor: int = 0,
        hosts: dict[str, str] | None = None,
        services: dict[str, str] | None = None,
        generation: int = 0,
        self_names: dict | None = None,
        self_totals: dict | None = None,
        resend_minutes: list[int] | None = None,
        outages: dict[str, int] | None = None,
        totals_generation: int | None = None,
    ) -> None:
        self.log = log
        self.position = position
        # metric name -> {minute epoch: total lines} for the minutes still open; read from
        # its file on first use (a run with nothing new never parses it)
        self._totals = {} if totals is None else totals
        self._load_totals: Callable[[], dict[str, dict[int, int]]] | None = None
        self.newest_minute = newest_minute  # newest event minute seen (before clamping)
        self.floor = floor  # oldest open minute; lines before it are counted into it
        # NameRegistry dicts of host and service names; read from their file on first use
        self._hosts = {} if hosts is None else hosts
        self._services = {} if services is None else services
        self._load_names: Callable[[], tuple[dict, dict]] | None = None
        self.generation = generation  # commits so far; spool files of a later generation were never committed
        # {"key": naming settings, "names": {what: name}}: the self-metric names of the
        # last run, so a run with nothing new names them without the parsers
        self.self_names = self_names or {}
        # {"minute": run minute, "values": {what: total}}: the self metrics are per-minute totals
        self.self_totals = self_totals or {}
        # the minutes the last run sent: the next run sends their totals again, in case
        # carbon confirmed a connection whose points it then lost (Graphite stores them once)
        self.resend_minutes = [] if resend_minutes is None else resend_minutes
        self.outages = {} if outages is None else outages  # output -> epoch its failures began
        self.totals_generation = totals_generation  # which KEY.totals.GEN.json holds the totals

    @property
    def totals(self) -> dict[str, dict[int, int]]:
        if self._load_totals is not None:
            load, self._load_totals = self._load_totals, None
            self._totals = load()
        return self._totals

    @totals.setter
    def totals(self, value: dict[str, dict[int, int]]) -> None:
        self._totals, self._load_totals = value, None

    @property
    def totals_loaded(self) -> bool:
        return self._load_totals is None

    def _names(self) -> None:
        if self._load_names is not None:
            load, self._load_names = self._load_names, None
            self._hosts, self._services = load()

    @property
    def hosts(self) -> dict:
        self._names()
        return self._hosts

    @hosts.setter
    def hosts(self, value: dict) -> None:
        self._names()
        self._hosts = value

    @property
    def services(self) -> dict:
        self._names()
        return self._services

    @services.setter
    def services(self, value: dict) -> None:
        self._names()
        self._services = value

    @property
    def names_loaded(self) -> bool:
        return self._load_names is None

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "log": self.log,
                "position": self.position.to_dict() if self.position else None,
                "newest_minute": self.newest_minute,
                "floor": self.floor,
                "generation": self.generation,
                "totals_generation": self.totals_generation,
                "self_names": self.self_names,
                "self_totals": self.self_totals,
                "resend_minutes": self.resend_minutes,
                "outages": self.outages,
            },
            separators=(",", ":"),
            ensure_ascii=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CollectState:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") not in (1, VERSION):
            raise ValueError(f"not a version 1 or {VERSION} nagtune state")
        position = data.get("position")
        state = cls(
            log=str(data.get("log", "")),
            position=FilePosition.from_dict(position) if position else None,
            newest_minute=_count(data.get("newest_minute", 0), "newest_minute"),
            floor=_count(data.get("floor", 0), "floor"),
            generation=_count(data.get("generation", 0), "generation"),
            self_names=_self_names(data.get("self_names")),
            self_totals=_self_totals(data.get("self_totals")),
            resend_minutes=[_count(m, "resend_minutes") for m in data.get("resend_minutes") or []],
            outages={str(k): _count(v, "outages") for k, v in (data.get("outages") or {}).items()},
        )
        if data["version"] == 1:  # one file: totals and registries inline; the next commit splits it
            state.totals = parse_totals(data["totals"])
            state.hosts, state.services = _registry(data.get("hosts")), _registry(data.get("services"))
        else:
            generation = data.get("totals_generation")
            state.totals_generation = None if generation is None else _count(generation, "totals_generation")
        return state


def _count(value, what: str) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{what} is {value!r}, not a count")
    return value


def parse_totals(data) -> dict[str, dict[int, int]]:
    if not isinstance(data, dict):
        raise ValueError("totals are not a table")
    totals = {}
    for name, minutes in data.items():
        if not _SAFE_NAME.fullmatch(name):
            raise ValueError(f"unsafe metric name {name!r} in the totals")
        totals[name] = {_count(int(m), "a minute"): _count(v, "a total") for m, v in minutes.items()}
    return totals


def _registry(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("a name registry is not a table")
    return dict(value)


def _self_names(value) -> dict:
    if not (isinstance(value, dict) and isinstance(value.get("key"), str) and isinstance(value.get("names"), dict)):
        return {}
    names = {str(k): v for k, v in value["names"].items()}
    if not all(isinstance(v, str) and _SAFE_NAME.fullmatch(v) for v in names.values()):
        raise ValueError("a self-metric name that is not one printable word")
    return {"key": value["key"], "names": names}


def _self_totals(value) -> dict:
    if not (isinstance(value, dict) and isinstance(value.get("values"), dict)):
        return {}
    return {
        "minute": _count(value.get("minute"), "self_totals.minute"),
        "values": {str(k): _count(v, "a self metric") for k, v in value["values"].items()},
    }


def state_key(log_path: str) -> str:
    """A file-name-safe key per log: basename plus a hash of the absolute path."""
    absolute = os.path.abspath(log_path)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(absolute))[:60]
    return f"{base}-{blake2b(absolute.encode('utf-8', 'surrogateescape'), digest_size=6).hexdigest()}"


def ensure_dir(path: str, what: str) -> None:
    """Create ``path`` (mode 0700) if needed, and refuse it unless it is safe.

    As OpenSSH refuses a key file others can write, a state or spool
    directory writable by group or others, or owned by another user (root
    excepted), is refused: whoever can write there could plant links or
    spool entries for a collector that often runs as root or nagios.
    """
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as exc:
        raise StateError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    if not stat_mod.S_ISDIR(st.st_mode):
        raise StateError(f"{what} {path} is not a directory")
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        raise StateError(
            f"{what} {path} is owned by uid {st.st_uid}, not by this user (uid {uid}) or root; "
            f"refusing it (chown it, or run as its owner)"
        )
    if st.st_mode & 0o022:
        raise StateError(
            f"{what} {path} is writable by group or others (mode {stat_mod.S_IMODE(st.st_mode):04o}); "
            f"refusing it (chmod go-w {path})"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateError(f"{what} {path} is not writable (set --state-dir / --spool-dir)")


def create_exclusive(path: str, mode: int = 0o600) -> int:
    """A new file at ``path``, never an existing one nor through a link."""
    return os.open(path, _CREATE_FLAGS, mode)


def atomic_write(path: str, data: bytes) -> None:
    """tmp + fsync + os.replace + fsync(dir): readers see old or new, never half.

    The temp file gets a random name, created with ``O_EXCL|O_NOFOLLOW``: a
    link planted at a guessable name is never followed.
    """
    directory = os.path.dirname(path) or "."
    tmp = None
    try:
        for _ in range(8):
            candidate = f"{path}.tmp.{os.getpid()}.{os.urandom(6).hex()}"
            try:
                fd = create_exclusive(candidate)
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:
            raise StateError(f"cannot write {path}: eight random temp names were taken")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
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
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None


class StateStore:
    """The state, totals and name files of one log in ``state_dir``."""

    def __init__(self, state_dir: str, log_path: str) -> None:
        self.state_dir = state_dir
        self.log_path = log_path
        self.key = state_key(log_path)
        self.path = os.path.join(state_dir, self.key + ".state.json")
        self.names_path = os.path.join(state_dir, self.key + ".names.json")
        self._loaded_names: tuple[dict, dict] = ({}, {})

    def totals_path(self, generation: int) -> str:
        return os.path.join(self.state_dir, f"{self.key}.totals.{generation}.json")

    def _corrupt(self, path: str, exc: Exception) -> StateError:
        return StateError(
            f"state file {path} is corrupt ({exc}); move it away to start again "
            f"(the next run then reads the log as a first run)"
        )

    def _json(self, path: str):
        raw = read_regular(path)
        if raw is None:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._corrupt(path, exc) from None

    def load(self) -> CollectState | None:
        """The committed state, or None on a first run."""
        raw = read_regular(self.path)
        if raw is None:
            return None
        try:
            state = CollectState.from_json(raw.decode("utf-8"))
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise self._corrupt(self.path, exc) from None
        generation = state.totals_generation
        if generation is not None:
            state._load_totals = lambda: self._load_totals(generation)
        if state.hosts or state.services:  # version 1
            self._loaded_names = ({}, {})
        else:
            state._load_names = self._read_names
        return state

    def _read_names(self) -> tuple[dict, dict]:
        names = self._json(self.names_path) or {}
        try:
            loaded = _registry(names.get("hosts")), _registry(names.get("services"))
        except (ValueError, AttributeError) as exc:
            raise self._corrupt(self.names_path, exc) from None
        self._loaded_names = (dict(loaded[0]), dict(loaded[1]))
        return loaded

    def _load_totals(self, generation: int) -> dict[str, dict[int, int]]:
        path = self.totals_path(generation)
        data = self._json(path)
        if data is None:
            raise self._corrupt(self.path, FileNotFoundError(f"{path} is missing"))
        try:
            return parse_totals(data)
        except (ValueError, TypeError, AttributeError) as exc:
            raise self._corrupt(path, exc) from None

    def commit(self, state: CollectState, totals_changed: bool = True) -> None:
        """Write what changed; the state file last (it is the commit)."""
        if state.names_loaded and (state.hosts, state.services) != self._loaded_names:
            atomic_write(
                self.names_path,
                json.dumps(
                    {"hosts": state.hosts, "services": state.services}, separators=(",", ":"), ensure_ascii=True
                ).encode("ascii"),
            )
            self._loaded_names = (state.hosts, state.services)
        previous = state.totals_generation
        if (totals_changed and state.totals_loaded) or previous is None:
            totals = {name: {str(m): v for m, v in minutes.items()} for name, minutes in state.totals.items()}
            atomic_write(
                self.totals_path(state.generation),
                json.dumps(totals, separators=(",", ":"), ensure_ascii=True).encode("ascii"),
            )
            state.totals_generation = state.generation
        atomic_write(self.path, state.to_json().encode("ascii"))
        generation = state.totals_generation
        if generation is not None and previous != generation:  # older totals, and any of a run killed before its commit
            keep = os.path.basename(self.totals_path(generation))
            pattern = re.compile(re.escape(self.key) + r"\.totals\.[0-9]+\.json")
            for name in os.listdir(self.state_dir):
                if name != keep and pattern.fullmatch(name):
                    try:
                        os.unlink(os.path.join(self.state_dir, name))
                    except OSError:
                        pass
