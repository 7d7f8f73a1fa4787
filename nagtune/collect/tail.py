"""The bytes added to a log since the last committed run, across rotations.

What can happen to the live log between two cron runs, and what is read:

- it grew: the bytes after the saved offset;
- Nagios renamed it into ``archives/nagios-MM-DD-YYYY-HH.log`` (or logrotate
  renamed it to ``nagios.log.1`` / ``nagios.log-DATE``, perhaps gzipped) and
  started a new one: the old file is found by its inode, or, once gzipped, by
  the fingerprint of its first bytes; the rest of it is read from the saved
  offset, then any later Nagios archives, then the new log from its start;
- logrotate ``copytruncate``: same inode, shorter than the offset; the copy is
  found by fingerprint and finished, then the live log is read from 0;
- truncated or rewritten in place: the live log is read from 0 (a warning
  says lines may have been missed when no copy is found).

A partial last line of the live log is left for the next run (the offset
stops after the last ``\\n``); a finished (rotated) file's last line is whole.
"""

from __future__ import annotations

import errno
import os
import re
import stat as stat_mod
from collections.abc import Generator, Iterable, Iterator

from .state import HEAD_BYTES, FilePosition, head_hash

# gzip and nagtune.parsers.logfiles are imported only when a rotation or an
# archive needs them: a cron run with nothing new pays for neither.

CHUNK = 4 << 20  # bytes handed to the scanner at once (see nagtune.parsers.scan.CHUNK)
MAX_GZIP_CANDIDATES = 64  # gzipped archives checked by fingerprint, newest first


class LogError(Exception):
    """The log cannot be read (missing, not a file, permission); names the path."""


class Segment:
    __slots__ = ("path", "start", "live")

    def __init__(self, path: str, start: int, live: bool) -> None:
        self.path, self.start = path, start
        self.live = live  # the live log: keep a partial last line back

    def __repr__(self) -> str:
        return f"Segment(path={self.path!r}, start={self.start!r}, live={self.live!r})"


class Plan:
    def __init__(
        self, segments: list[Segment] | None = None, rotations: int = 0, warnings: list[str] | None = None
    ) -> None:
        self.segments = [] if segments is None else segments
        self.rotations = rotations  # rotations, copytruncates and truncations followed
        self.warnings = [] if warnings is None else warnings


def _archive_name():
    from ..parsers.logfiles import ARCHIVE_NAME

    return ARCHIVE_NAME


def _gzip_errors() -> tuple:
    """Errors of a broken gzip stream, without importing gzip when nothing used it."""
    import sys

    gzip = sys.modules.get("gzip")
    return (EOFError, gzip.BadGzipFile) if gzip else (EOFError,)


def _oserror(path: str, exc: OSError) -> LogError:
    return LogError(f"cannot read {path}: {exc.strerror or exc}")


def _is_gzip(path: str) -> bool:
    if path.endswith(".gz"):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _open(path: str):
    handle = open(path, "rb")
    if path.endswith(".gz") or handle.peek(2)[:2] == b"\x1f\x8b":
        import gzip

        return gzip.GzipFile(fileobj=handle, mode="rb")
    return handle


def _head_matches(path: str, position: FilePosition) -> bool:
    try:
        with _open(path) as handle:
            data = handle.read(position.head_len)
    except OSError:  # gzip.BadGzipFile is an OSError
        return False
    except EOFError:
        return False
    return len(data) == position.head_len and head_hash(data) == position.head_sha


def candidates(log_path: str, extra_dirs: tuple[str, ...] = ()) -> list[str]:
    """Files the live log may have become: Nagios archives, logrotate siblings."""
    directory = os.path.dirname(os.path.abspath(log_path))
    base = os.path.basename(log_path)
    ARCHIVE_NAME = _archive_name()
    found: list[str] = []
    sibling = re.compile(re.escape(base) + r"[.-].+")
    for folder in (os.path.join(directory, "archives"), *extra_dirs):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found += [os.path.join(folder, name) for name in names if ARCHIVE_NAME.match(name)]
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    found += [
        os.path.join(directory, name)
        for name in names
        if name != base and (sibling.fullmatch(name) or ARCHIVE_NAME.match(name))
    ]
    return [p for p in dict.fromkeys(found) if os.path.isfile(p)]


def _find_old(
    log_path: str, position: FilePosition, live_ino: tuple[int, int], extra_dirs: tuple[str, ...]
) -> str | None:
    files = candidates(log_path, extra_dirs)
    stats = {}
    for path in files:
        try:
            stats[path] = os.stat(path)
        except OSError:
            continue
    for path, st in stats.items():  # renamed: same inode
        if (st.st_dev, st.st_ino) == (position.dev, position.ino):
            return path
    # Copied (copytruncate) or compressed: same first bytes. Newest first.
    rest = sorted(
        (p for p, st in stats.items() if (st.st_dev, st.st_ino) != live_ino),
        key=lambda p: stats[p].st_mtime,
        reverse=True,
    )
    gz_checked = 0
    for path in rest:
        gz = _is_gzip(path)
        if gz:
            gz_checked += 1
            if gz_checked > MAX_GZIP_CANDIDATES:
                continue
        elif stats[path].st_size < position.offset:
            continue
        if _head_matches(path, position):
            return path
    return None


def _later_archives(old_path: str, log_path: str, extra_dirs: tuple[str, ...]) -> list[str]:
    """Nagios archives rotated after ``old_path`` (runs missed for hours)."""
    from ..parsers.logfiles import ARCHIVE_NAME, archive_order

    if not ARCHIVE_NAME.match(os.path.basename(old_path)):
        return []
    key = archive_order(old_path)
    later = [
        p
        for p in candidates(log_path, extra_dirs)
        if ARCHIVE_NAME.match(os.path.basename(p)) and archive_order(p)[:5] > key[:5]
    ]
    return sorted(later, key=archive_order)


def stat_log(log_path: str) -> os.stat_result:
    try:
        st = os.stat(log_path)
    except OSError as exc:
        raise _oserror(log_path, exc) from None
    if stat_mod.S_ISDIR(st.st_mode):
        raise LogError(f"cannot read {log_path}: {os.strerror(errno.EISDIR)}")
    if not stat_mod.S_ISREG(st.st_mode):  # a FIFO would block the run holding the lock; /dev/zero never ends
        raise LogError(f"cannot read {log_path}: not a regular file (a FIFO, device or socket)")
    return st


def plan(log_path: str, position: FilePosition | None, from_end: bool, extra_dirs: tuple[str, ...] = ()) -> Plan:
    """Which byte ranges to read, oldest first."""
    st = stat_log(log_path)
    result = Plan()
    if position is None:
        start = 0
        if from_end:
            start = _end_of_last_line(log_path, st.st_size)
        result.segments.append(Segment(log_path, start, live=True))
        return result
    same_file = (st.st_dev, st.st_ino) == (position.dev, position.ino)
    if same_file and st.st_size >= position.offset and _head_matches(log_path, position):
        result.segments.append(Segment(log_path, position.offset, live=True))
        return result
    result.rotations += 1
    old = _find_old(log_path, position, (st.st_dev, st.st_ino), extra_dirs)
    if old is None:
        what = "truncated" if same_file else "rotated"
        result.warnings.append(
            f"warning: {log_path} was {what} and its old content was not found "
            f"(looked in archives/ and {os.path.basename(log_path)}.*); lines written after byte "
            f"{position.offset} of it and before the {what[:-2]}ion are not counted"
        )
    else:
        result.segments.append(Segment(old, position.offset, live=False))
        for later in _later_archives(old, log_path, extra_dirs):
            result.segments.append(Segment(later, 0, live=False))
            result.rotations += 1
    result.segments.append(Segment(log_path, 0, live=True))
    return result


def _end_of_last_line(path: str, size: int) -> int:
    try:
        with open(path, "rb") as handle:
            pos = size
            while pos > 0:
                step = min(pos, 1 << 16)
                handle.seek(pos - step)
                block = handle.read(step)
                cut = block.rfind(b"\n")
                if cut >= 0:
                    return pos - step + cut + 1
                pos -= step
    except OSError as exc:
        raise _oserror(path, exc) from None
    return 0


class Reader:
    """Reads a :class:`Plan` as chunks of whole lines; afterwards
    :attr:`position` is where the next run starts in the live log."""

    def __init__(self, the_plan: Plan) -> None:
        self.plan = the_plan
        self.position: FilePosition | None = None
        self.bytes_read = 0

    def chunks(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        for segment in self.plan.segments:
            try:
                if segment.live:
                    yield from self._live(segment, chunk_size)
                else:
                    yield from self._finished(segment, chunk_size)
            except OSError as exc:
                raise _oserror(segment.path, exc) from None
            except _gzip_errors() as exc:
                raise LogError(f"cannot read {segment.path}: broken gzip stream ({exc})") from None

    def _whole_lines(self, blocks: Iterable[bytes]) -> Generator[bytes, None, bytes]:
        """Chunks of whole lines out of ``blocks``; returns the bytes after the last newline."""
        tail = b""
        for block in blocks:
            block = tail + block
            cut = block.rfind(b"\n") + 1
            tail = block[cut:]
            if cut:
                self.bytes_read += cut
                yield block[:cut]
        return tail

    def _finished(self, segment: Segment, chunk_size: int) -> Iterator[bytes]:
        with _open(segment.path) as handle:
            if segment.start:
                handle.seek(segment.start)
            tail = yield from self._whole_lines(iter(lambda: handle.read(chunk_size), b""))
            if tail:  # a rotated file is finished: its last line is whole
                self.bytes_read += len(tail)
                yield tail + b"\n"

    def _live(self, segment: Segment, chunk_size: int) -> Iterator[bytes]:
        fd = os.open(segment.path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb", buffering=0) as handle:
            st = os.fstat(fd)
            if stat_mod.S_ISDIR(st.st_mode):
                raise LogError(f"cannot read {segment.path}: {os.strerror(errno.EISDIR)}")
            if not stat_mod.S_ISREG(st.st_mode):
                raise LogError(f"cannot read {segment.path}: not a regular file (a FIFO, device or socket)")
            end = st.st_size  # read what was there when we looked; more is for next run
            handle.seek(segment.start)
            counted = self.bytes_read
            yield from self._whole_lines(_blocks_until(handle, segment.start, end, chunk_size))
            consumed = segment.start + self.bytes_read - counted  # a partial last line waits
            head = os.pread(fd, HEAD_BYTES, 0)
            head = head[:consumed] if consumed < len(head) else head
            self.position = FilePosition(st.st_dev, st.st_ino, consumed, len(head), head_hash(head))


def _blocks_until(handle, offset: int, end: int, chunk_size: int) -> Iterator[bytes]:
    """Blocks of ``handle`` from ``offset`` up to ``end`` (the size seen at the start of the run)."""
    while offset < end:
        block = handle.read(min(chunk_size, end - offset))
        if not block:
            break
        offset += len(block)
        yield block
