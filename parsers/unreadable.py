"""Lines the parser cannot read: the first one, why, and the one line that says so.

Every command over logs says on stderr how many lines it read and how many it
could not, naming the first such line (file and line number) and why it cannot
be read when the reason is known. The node side (``nagtune parse``,
``nagtune collect``) and the analytics side (``analytics/sources/coverage.py``)
both say it with these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .events import UNPARSED
from .logfiles import open_log
from .nagios import iter_lines, parse_line

# ``[Tue Jan 12 00:00:00 2016] SERVICE ALERT: ...``: a log converted for reading by people.
HUMAN_STAMP = re.compile(r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}\]")
SHOWN_CHARS = 160  # of the first unreadable line


@dataclass
class Unreadable:
    path: str
    line_number: int
    text: str

    def why(self) -> str:
        if HUMAN_STAMP.match(self.text):
            return (
                "its time stamps are human-readable dates; nagtune reads the epoch seconds Nagios writes "
                "([1452556800] ...), not a log converted for people"
            )
        if not self.text.startswith("["):
            return "it has no [epoch] time stamp"
        return "it is not a line of the Nagios event log grammar"

    def describe(self) -> str:
        """``path:7: '...' (why)``; without a path (a run's new lines), ``new line 7: ...``."""
        where = f"{self.path}:{self.line_number}" if self.path else f"new line {self.line_number}"
        return f"{where}: {self.text!r} ({self.why()})"


def unreadable_at(path: str, line_number: int, line: bytes | str) -> Unreadable:
    text = line.decode("utf-8", "replace") if isinstance(line, (bytes, bytearray)) else line
    return Unreadable(path, line_number, text.rstrip("\r\n")[:SHOWN_CHARS])


def first_unreadable(files: list[str], limit_bytes: int = 256 << 20) -> Unreadable | None:
    """The first line of ``files`` (in order) the parser cannot read, reading at most
    ``limit_bytes``: only called when lines were counted unparsed."""
    seen = 0
    for path in files:
        try:
            with open_log(path) as stream:
                for number, line in enumerate(iter_lines(stream), 1):
                    seen += len(line)
                    if seen > limit_bytes:
                        return None
                    if parse_line(line).kind == UNPARSED:
                        return unreadable_at(path, number, line)
        except (OSError, EOFError):
            continue
    return None


def unparsed_text(lines: int, unparsed: int, first: Unreadable | None) -> str:
    """``3 line(s) unparsed (100.0%); first: log:1: '...' (why)``."""
    text = f"{unparsed:,} line(s) unparsed ({unparsed / max(lines, 1):.1%})"
    if first is not None:
        text += f"; first: {first.describe()}"
    return text


def read_text(files: int, lines: int, unparsed: int, first: Unreadable | None) -> str:
    """What was read and what could not be, in one line (no prefix). All lines unreadable
    reads ``none parsed``: the caller makes it an error."""
    read = f"read {files} file(s), {lines:,} line(s)"
    if lines == 0:
        return read + ": nothing to parse"
    if not unparsed:
        return read
    if unparsed >= lines:
        said = f"{read}, none parsed ({unparsed / lines:.1%})"
        return said + (f"; first: {first.describe()}" if first is not None else "")
    return f"{read}; {unparsed_text(lines, unparsed, first)}"
