"""One Nagios event-log line in, one :class:`Event` out; never an exception.

The grammar is ``[EPOCH] TYPE: f1;f2;...;output`` (Nagios 3/4, Naemon, and
Icinga 2's compat log). This module is the reference: :mod:`nagtune.parsers.scan`
counts alerts over whole buffers much faster and is tested to agree with it.

Rules that both follow, because hostile input reaches both:

- a line is the bytes up to ``\\n``; trailing ``\\r`` is dropped, nothing else
  (``str.splitlines`` would also split on ``\\x0b``, ``\\x1c``, ``\\u2028`` ...);
- bytes that are not UTF-8 are kept readable as ``\\xNN`` escapes;
- the epoch is 1 to 12 ASCII digits in brackets, followed by one space;
- a known ``TYPE:`` whose fields do not fit (a state Nagios does not have,
  a non-numeric attempt, missing fields) is ``unparsed``, not guessed at;
- the last field keeps any further ``;`` (Icinga 2 and older writers leave
  them in plugin output).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Callable

from .events import (
    EXTERNAL_COMMAND,
    HOST_STATES,
    NOTIFICATION_TYPES,
    SERVICE_STATES,
    STATE_TYPES,
    UNPARSED,
    Event,
)
from .grammar import LINE_TYPES, LineType, untyped_kind

MAX_EPOCH_DIGITS = 12

_SERVICE_STATES = frozenset(SERVICE_STATES)
_HOST_STATES = frozenset(HOST_STATES)
_STATE_TYPES = frozenset(STATE_TYPES)
_NOTIFICATION_TYPES = frozenset(NOTIFICATION_TYPES)
_PASSIVE_CODES = {"0": "OK", "1": "WARNING", "2": "CRITICAL", "3": "UNKNOWN"}
_PASSIVE_HOST_CODES = {"0": "UP", "1": "DOWN", "2": "UNREACHABLE"}


def decode(raw: bytes) -> str:
    """Bytes to text; invalid UTF-8 stays visible as ``\\xNN`` instead of failing."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


def _is_number(text: str) -> bool:
    # str.isdigit() alone accepts '²' and other Unicode digits.
    return text.isascii() and text.isdigit()


def _alert(kind: str, states: frozenset, with_service: bool) -> Callable[[int, str], Event | None]:
    """Alerts, state snapshots: host[;service];STATE;SOFT|HARD;attempt;output."""
    nfields = 5 if with_service else 4

    def parse(time: int, rest: str) -> Event | None:
        parts = rest.split(";", nfields)
        if len(parts) < nfields:
            return None
        if with_service:
            host, service, state, state_type, attempt = parts[:5]
        else:
            host, state, state_type, attempt = parts[:4]
            service = ""
        if (
            not host
            or (with_service and not service)
            or state not in states
            or state_type not in _STATE_TYPES
            or not _is_number(attempt)
        ):
            return None
        output = parts[nfields] if len(parts) > nfields else ""
        return Event(time, kind, host, service, state, state_type, int(attempt), output=output)

    return parse


def _notification_state(text: str, states: frozenset, recovered: str) -> tuple[str, str] | None:
    """'CRITICAL' -> (PROBLEM, CRITICAL); 'ACKNOWLEDGEMENT (CRITICAL)' -> (ACKNOWLEDGEMENT, CRITICAL)."""
    if text in states:
        return ("RECOVERY" if text == recovered else "PROBLEM", text)
    head, paren, tail = text.partition(" (")
    if paren:
        if head in _NOTIFICATION_TYPES and tail.endswith(")") and tail[:-1] in states:
            return head, tail[:-1]
        return None
    # Icinga 2 may write a bare ACKNOWLEDGEMENT / CUSTOM without the state.
    if text in _NOTIFICATION_TYPES and text not in ("PROBLEM", "RECOVERY"):
        return text, ""
    return None


def _notification(kind: str, states: frozenset, recovered: str, with_service: bool):
    """contact;host[;service];STATE;command;output[;author;comment]."""
    nfields = 5 if with_service else 4

    def parse(time: int, rest: str) -> Event | None:
        parts = rest.split(";", nfields)
        if len(parts) < nfields:
            return None
        if with_service:
            contact, host, service, state_text, command = parts[:5]
        else:
            contact, host, state_text, command = parts[:4]
            service = ""
        if not host or (with_service and not service):
            return None
        parsed = _notification_state(state_text, states, recovered)
        if parsed is None:
            return None
        notification_type, state = parsed
        output = parts[nfields] if len(parts) > nfields else ""
        author = comment = ""
        # Nagios writes a `;` in plugin output as `:` but keeps it in the
        # comment (seen in a real 4.4.6 log), so author and comment split
        # from the left and the comment keeps the rest.
        if notification_type in ("ACKNOWLEDGEMENT", "CUSTOM") and output.count(";") >= 2:
            output, author, comment = output.split(";", 2)
        return Event(
            time, kind, host, service, state, notification_type, None, contact, command, output, author, comment
        )

    return parse


def _toggle(kind: str, states: tuple, with_service: bool):
    """Flapping and downtime alerts: host[;service];STARTED|STOPPED|...;text."""
    nfields = 2 if with_service else 1
    allowed = frozenset(states)

    def parse(time: int, rest: str) -> Event | None:
        parts = rest.split(";", nfields + 1)
        if len(parts) < nfields + 1:
            return None
        host = parts[0]
        service = parts[1] if with_service else ""
        state = parts[nfields]
        if not host or (with_service and not service) or state not in allowed:
            return None
        output = parts[nfields + 1] if len(parts) > nfields + 1 else ""
        return Event(time, kind, host, service, state, output=output)

    return parse


def _event_handler(kind: str, states: frozenset, with_service: bool):
    """host[;service];STATE;SOFT|HARD;attempt;handler."""
    as_alert = _alert(kind, states, with_service)

    def parse(time: int, rest: str) -> Event | None:
        event = as_alert(time, rest)
        return None if event is None else event._replace(command=event.output, output="")

    return parse


def _passive(kind: str, codes: dict, with_service: bool):
    """host[;service];return code;output."""
    nfields = 2 if with_service else 1

    def parse(time: int, rest: str) -> Event | None:
        parts = rest.split(";", nfields + 1)
        if len(parts) < nfields + 1:
            return None
        host = parts[0]
        service = parts[1] if with_service else ""
        state = codes.get(parts[nfields])
        if not host or (with_service and not service) or state is None:
            return None
        output = parts[nfields + 1] if len(parts) > nfields + 1 else ""
        return Event(time, kind, host, service, state, output=output)

    return parse


# Commands whose arguments are ids or group names, not host[;service].
_COMMANDS_WITHOUT_OBJECT = ("HOSTGROUP", "SERVICEGROUP", "CONTACT", "DEL_", "_COMMENT")


def _external_command(time: int, rest: str) -> Event | None:
    """NAME;args. host/service are filled for commands that name one."""
    name, _, args_text = rest.partition(";")
    if not name or not name.replace("_", "").isalnum() or not name.isascii():
        return None
    args = args_text.split(";") if args_text else []
    host = service = author = comment = ""
    names_object = not any(marker in name for marker in _COMMANDS_WITHOUT_OBJECT)
    if names_object and args and ("HOST" in name or "SVC" in name or "SERVICE" in name):
        host = args[0]
        # ENABLE_HOST_SVC_NOTIFICATIONS;host names all services of one host.
        if ("_SVC" in name or "SERVICE" in name) and "_HOST_SVC_" not in name and len(args) > 1:
            service = args[1]
    if name == "ACKNOWLEDGE_SVC_PROBLEM" and len(args) >= 7:
        author, comment = args[5], ";".join(args[6:])
    elif name == "ACKNOWLEDGE_HOST_PROBLEM" and len(args) >= 6:
        author, comment = args[4], ";".join(args[5:])
    return Event(time, EXTERNAL_COMMAND, host, service, command=name, output=args_text, author=author, comment=comment)


def _message(kind: str):
    def parse(time: int, rest: str) -> Event:
        return Event(time, kind, output=rest)

    return parse


_PASSIVE_CODES_OF = {"OK": _PASSIVE_CODES, "UP": _PASSIVE_HOST_CODES}


def _parser_of(line_type: LineType) -> Callable[[int, str], Event | None]:
    """The parse function of one row of the grammar table."""
    states = frozenset(line_type.states)
    form = line_type.form
    if form == "alert":
        return _alert(line_type.kind, states, line_type.with_service)
    if form == "notification":
        return _notification(line_type.kind, states, "OK" if line_type.with_service else "UP", line_type.with_service)
    if form == "toggle":
        return _toggle(line_type.kind, line_type.states, line_type.with_service)
    if form == "handler":
        return _event_handler(line_type.kind, states, line_type.with_service)
    if form == "passive":
        return _passive(line_type.kind, _PASSIVE_CODES_OF[line_type.states[0]], line_type.with_service)
    if form == "command":
        return _external_command
    return _message(line_type.kind)


_PARSERS: dict[str, Callable[[int, str], Event | None]] = {t.tag: _parser_of(t) for t in LINE_TYPES}


def split_epoch(text: str) -> tuple[int, str] | None:
    """'[1700000000] rest' -> (1700000000, 'rest'), or None."""
    if not text.startswith("["):
        return None
    close = text.find("] ", 1, MAX_EPOCH_DIGITS + 3)
    if close < 2:
        return None
    stamp = text[1:close]
    if not _is_number(stamp):
        return None
    return int(stamp), text[close + 2 :]


def parse_line(line: bytes | str) -> Event:
    """Parse one log line (with or without its newline) into an :class:`Event`.

    Never raises: what cannot be read is an event of kind ``unparsed`` whose
    ``output`` holds the text, so callers can count and show it.
    """
    text = decode(line) if isinstance(line, (bytes, bytearray)) else line
    if text.endswith("\n"):
        text = text[:-1]
    text = text.rstrip("\r")
    stamped = split_epoch(text)
    if stamped is None:
        return Event(None, UNPARSED, output=text)
    time, body = stamped
    type_name, colon, rest = body.partition(":")
    parser = _PARSERS.get(type_name) if colon else None
    if parser is None:
        # "Error in configuration file '...' - Line 12 (...)": an error without the "Error:" type.
        return Event(time, untyped_kind(body), output=body)
    event = parser(time, rest[1:]) if rest.startswith(" ") else None
    return Event(time, UNPARSED, output=text) if event is None else event


def iter_lines(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Complete ``\\n``-terminated lines of a binary stream, plus a last unterminated one."""
    tail = b""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        yield from lines
    if tail:
        yield tail


def parse_lines(lines: Iterable[bytes | str]) -> Iterator[Event]:
    """Events of many lines, in order."""
    return map(parse_line, lines)
