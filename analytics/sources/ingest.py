"""Nagios event logs of many nodes into one typed events DataFrame.

How it stays fast without a Python object per line:

1. Files are read whole (``.gz`` decompressed in C, read ahead in a thread)
   and batched into buffers of 8 MB, parsed in one thread per core and taken
   back in the order they were read.
2. A UTF-8 buffer goes to the C splitter (``analytics/sources/_fastingest.c``, built
   by ``pip install``, GIL released): it cuts every stamped line into epoch,
   *head* (the type and the fields before the plugin output: state, type,
   attempt, contact, command) and output span. The host and service fields
   (where :mod:`nagtune.parsers.grammar` says they are) are cut out of the
   head and keyed apart, so a head repeats whatever the fleet's size, and
   each distinct head gets one key. Each is parsed once by the reference
   parser :func:`nagtune.parsers.nagios.parse_line` (and remembered across
   batches); its fields become category codes taken per line with numpy,
   host and service codes come from their own keys, and the outputs (found
   by C, ``output_spans``, by a rule code per head) are copied by C straight
   into an Arrow string column, or only hashed when the texts are not
   wanted. A batch keeps its codes and its own few category values
   (:class:`_Batch`); the categoricals are made once, when the batches are
   joined.
3. Acknowledgement and custom notifications and ``ACKNOWLEDGE_*`` commands,
   whose author and comment sit in the output, are rare human actions: a
   notification's output is split there as the reference parser splits it,
   a command's whole line goes to the reference parser. Lines with an unusual
   stamp (``[5]``, 12 digits) too.
4. Bytes that are not UTF-8 (they become ``\\xNN`` as in the reference
   parser), a build without a C compiler, or ``NAGTUNE_PURE_PYTHON=1``: one
   regular expression walks the decoded text (``re.findall``) with the same
   head factorisation: the same rows, about 7x slower (72 s instead of
   9.5 s for 10 M lines; the numpy splitter this replaced took 22 s).

``tests/test_analytics_ingest.py`` checks with hypothesis that both give
exactly what :func:`parse_line` gives line by line, on hostile input.

Cache: one Parquet part per batch and a ``manifest.json`` that maps each
file (device, inode, size, first 4 KiB) to the parts holding its rows and
the byte offset read so far. A re-run reads unchanged files from Parquet and
parses only bytes appended since (a growing ``nagios.log``); a file that was
replaced or truncated is parsed again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import time as _time
import uuid
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ...parsers import events as ev
from ...parsers import grammar
from ...parsers.identity import DEFAULT_CELL_PATTERN, identify
from ...parsers.logfiles import (
    LogPathError,
    is_gzipped,
    node_of_file,
    read_log,
    real_path,  # noqa: F401 - is_node_dir: API
    resolve_paths,
)
from ...parsers.nagios import decode, parse_line
from .._frames import EVENT_COLUMNS, PERFDATA_COLUMNS, VALUE_COLUMNS, empty, release_freed_memory
from ..run.results_cache import RELATIVE_WHEN
from . import coverage

try:  # built by `pip install` where a C compiler is found; the same rows, several times faster
    from . import _fastingest
except ImportError:
    _fastingest = None
    if not os.environ.get("NAGTUNE_PURE_PYTHON"):
        warnings.warn(
            "nagtune.analytics.sources._fastingest is not built: logs are parsed by a regular expression"
            " (over 10x the CPU); reinstall with a C compiler and Python headers",
            RuntimeWarning,
            stacklevel=2,
        )
else:
    _fastingest.set_types(grammar.splitter_types(), grammar.splitter_prefixes())

DEFAULT = DEFAULT_CELL_PATTERN
BATCH_BYTES = 8 << 20  # bytes per parse batch: bounds the memory of the batches in flight
CACHE_VERSION = 2
MAX_WORKERS = 4  # parse threads; past this the GIL-held parts of a parse dominate
THREADS_FILE_BYTES = 64 << 10  # average bytes per file to read from which parse threads pay
GZIP_RATIO = 10  # a gzipped Nagios log is 10-20x smaller: count its size 10 times
PROGRESS_BYTES = 64 << 20  # show a progress bar only when there is this much to read
# datetime64[ns] ends in 2262: a later epoch cannot be a time, so the line is unparsed.
MAX_EPOCH = (2**63 - 1) // 10**9

# Raw columns of one parsed batch, before the node identity is added.
RAW_CATEGORIES = ["kind", "host", "service", "state", "state_type", "contact", "command"]
TEXT_COLUMNS = ["output", "author", "comment"]
RAW_COLUMNS = ["epoch"] + RAW_CATEGORIES + ["attempt"] + TEXT_COLUMNS
# Read without texts (texts=False), a raw frame has this instead of TEXT_COLUMNS: 64 bits of
# them per line, which the overlap check compares as it would compare the texts.
TEXT_HASH = "_text_hash"

_FIELDS = r"[^;\n]*(?:;[^;\n]*){0,%d}"
# A known type's fields before its output (the grammar table's count, most first), then
# a line without a type that still has a kind (its prefix: "Error in configuration file"),
# any other type (message kinds, Nagios' own chatter), or no type at all.
_LINE = re.compile(
    r"^\[([0-9]{1,12})\] ("
    + "|".join(
        f"(?:{'|'.join(map(re.escape, tags))}): " + _FIELDS % (fields - 1)
        for fields, tags in sorted(grammar.tags_by_fields().items(), reverse=True)
    )
    + "|"
    + "|".join(map(re.escape, grammar.splitter_prefixes()))
    + r"|[^:\n]*: ?|"
    r")(;?)([^\n]*)$",
    re.MULTILINE,
)
_CR_AT_EOL = re.compile(r"\r+$", re.MULTILINE)  # parse_line drops trailing \r, nothing else
# Lines whose author/comment live in the output: handed whole to parse_line.
_WHOLE_LINE_TYPES = ("ACKNOWLEDGEMENT", "CUSTOM")
_WHOLE_LINE_COMMANDS = ("ACKNOWLEDGE_SVC_PROBLEM", "ACKNOWLEDGE_HOST_PROBLEM")
_HANDLER_KINDS = (ev.SERVICE_EVENT_HANDLER, ev.HOST_EVENT_HANDLER)


# A path or option that cannot be read (no such file, nothing to read, a broken archive):
# the error of finding the logs (parsers.logfiles.resolve_paths) and of reading them.
IngestError = LogPathError


def _cannot_read(path: str, exc: Exception) -> IngestError:
    """One line for a file that cannot be read (an OSError, or a broken gzip stream's EOFError)."""
    return IngestError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")


# ---------------------------------------------------------------- parsing


def _decode_file(data: bytes) -> str:
    text = decode(data)
    if text and not text.endswith("\n"):
        text += "\n"  # the last, unterminated line is still a line
    if "\r" in text:
        text = _CR_AT_EOL.sub("", text)
    return text


def _empty_raw(with_texts: bool = True) -> pd.DataFrame:
    texts = (
        {c: pd.array([], dtype="string") for c in TEXT_COLUMNS}
        if with_texts
        else {TEXT_HASH: np.array([], dtype=np.uint64)}
    )
    return pd.DataFrame(
        {
            "epoch": np.array([], dtype=np.int64),
            **{c: pd.Categorical([]) for c in RAW_CATEGORIES},
            "attempt": pd.array([], dtype="Int16"),
            **texts,
        }
    )


def text_hashes(outputs, authors=None, comments=None) -> np.ndarray:
    """64 bits per line of its texts, as the overlap check compares them without the texts:
    of the output's UTF-8 bytes, or of output, author and comment joined by NULs when
    either of the last two is set. The very numbers ``_fastingest.hash_spans`` gives
    the output's bytes in a buffer, so lines read by the C splitter and by the
    regular expression match; without the C module, pandas' hash of the same bytes."""
    outputs = list(outputs)
    authors = [""] * len(outputs) if authors is None else list(authors)
    comments = [""] * len(outputs) if comments is None else list(comments)
    keyed = [o if not (a or c) else f"{o}\0{a}\0{c}" for o, a, c in zip(outputs, authors, comments)]
    if _fastingest is None:
        encoded = [text.encode("utf-8", "surrogateescape") for text in keyed]
        return pd.util.hash_array(np.array(encoded, dtype=object), categorize=False).astype(np.uint64)
    starts, ends, joined = _spans_of(keyed, np.arange(len(keyed)), len(keyed))
    return np.frombuffer(_fastingest.hash_spans(joined, starts, ends), dtype=np.uint64).copy()


def _classify(heads: np.ndarray, with_sep: np.ndarray):
    """Parse each distinct (head, separator) once with the reference parser."""
    events = [parse_line("[0] " + head + (";" if sep else "")) for head, sep in zip(heads, with_sep)]
    return events


def parse_texts(texts: list[str], with_texts: bool = True) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Parse decoded file texts (each ending in ``\\n``) as one batch.

    Returns the raw frame with a ``_file`` column (index into ``texts``), and
    per text the number of lines and of unparsed lines. Without ``with_texts``
    the frame has ``TEXT_HASH`` instead of the output, author and comment.
    """
    lines = np.array([text.count("\n") for text in texts], dtype=np.int64)
    joined = "".join(texts)
    matches: list = []
    per_file = np.zeros(len(texts), dtype=np.int64)
    position = 0
    for index, text in enumerate(texts):
        end = position + len(text)
        found = _LINE.findall(joined, position, end)
        per_file[index] = len(found)
        matches.extend(found)
        position = end
    del joined
    if not matches:
        return _empty_raw(with_texts).assign(_file=np.array([], dtype=np.int32)), lines, lines.copy()
    file_ids = np.repeat(np.arange(len(texts), dtype=np.int32), per_file)
    epochs, heads, seps, rests = zip(*matches)
    del matches
    # Every distinct (head, has-separator) is one key, parsed once.
    head_codes, head_values = pd.factorize(np.array(heads, dtype=object))
    del heads
    has_sep = np.array(seps, dtype=object) == ";"
    del seps
    key_codes, key_pairs = pd.factorize(head_codes.astype(np.int64) * 2 + has_sep)
    key_heads = head_values[key_pairs // 2]
    key_seps = (key_pairs % 2).astype(bool)
    parsed = _classify(key_heads, key_seps)
    bad = np.array([e.kind == ev.UNPARSED for e in parsed], dtype=bool)

    epoch_codes, epoch_values = pd.factorize(np.array(epochs, dtype=object))
    del epochs
    epoch_ints = np.array([int(v) for v in epoch_values], dtype=object)
    too_late = np.array([v > MAX_EPOCH for v in epoch_ints], dtype=bool)
    epoch_ints = np.where(too_late, 0, epoch_ints).astype(np.int64)

    keep = ~bad[key_codes] & ~too_late[epoch_codes]
    rows = np.flatnonzero(keep)
    key_codes = key_codes[rows]
    file_ids = file_ids[rows]
    frame = {"epoch": epoch_ints[epoch_codes[rows]]}
    for column in RAW_CATEGORIES:
        values = [getattr(e, column) for e in parsed]
        codes, categories = pd.factorize(np.array(values, dtype=object))
        frame[column] = pd.Categorical.from_codes(codes[key_codes], categories=categories)
    attempts = np.array([-1 if e.attempt is None or e.attempt > 32767 else e.attempt for e in parsed], dtype=np.int32)
    attempt_rows = attempts[key_codes]
    frame["attempt"] = pd.arrays.IntegerArray(attempt_rows.astype(np.int16), attempt_rows < 0)

    # Output: what the head left over (mostly "") plus the rest of the line.
    rest_rows = np.array(rests, dtype=object)[rows]
    del rests
    prefixes = np.array([e.output for e in parsed], dtype=object)
    kinds = np.array([e.kind for e in parsed], dtype=object)
    handler = np.isin(kinds, _HANDLER_KINDS)
    row_prefix = prefixes[key_codes]
    nonempty = np.flatnonzero(row_prefix != "")
    output = rest_rows.copy()
    if len(nonempty):
        output[nonempty] = row_prefix[nonempty] + rest_rows[nonempty]
    author = np.full(len(rows), "", dtype=object)
    comment = np.full(len(rows), "", dtype=object)
    # Event handlers: the reference parser moves the text into `command`.
    handler_rows = np.flatnonzero(handler[key_codes])
    if len(handler_rows):
        command = np.asarray(frame["command"]).astype(object)
        command[handler_rows] = output[handler_rows]
        output[handler_rows] = ""
        frame["command"] = pd.Categorical(command)
    # Rare human actions with author and comment in the output: whole line to parse_line.
    whole_key = np.array(
        [
            (e.kind in (ev.SERVICE_NOTIFICATION, ev.HOST_NOTIFICATION) and e.state_type in _WHOLE_LINE_TYPES)
            or (e.kind == ev.EXTERNAL_COMMAND and e.command in _WHOLE_LINE_COMMANDS)
            for e in parsed
        ],
        dtype=bool,
    )
    whole_rows = np.flatnonzero(whole_key[key_codes])
    for row in whole_rows:
        key = key_codes[row]
        line = f"[0] {key_heads[key]}{';' if key_seps[key] else ''}{rest_rows[row]}"
        event = parse_line(line)
        output[row], author[row], comment[row] = event.output, event.author, event.comment
    if with_texts:
        frame["output"] = _strings(output)
        frame["author"] = _strings(author)
        frame["comment"] = _strings(comment)
    else:
        frame[TEXT_HASH] = text_hashes(output, author, comment)
    frame["_file"] = file_ids
    result = pd.DataFrame(frame)
    kept = np.bincount(file_ids, minlength=len(texts))
    return result, lines, lines - kept


def _strings(values: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Object array of str -> pyarrow-backed strings (compact; outputs repeat, so factorise first)."""
    import pyarrow as pa

    codes, uniques = pd.factorize(values)
    dictionary = pa.array(uniques.astype(object), type=pa.string())
    return (
        pd.array(dictionary.take(pa.array(codes)), dtype="string[pyarrow]")
        if len(values)
        else pd.array([], dtype="string[pyarrow]")
    )


def parse_buffer(data: bytes) -> tuple[pd.DataFrame, int, int]:
    """Parse one buffer of log bytes: (raw frame, lines, unparsed lines)."""
    frame, lines, unparsed = parse_buffers([data] if data else [])
    return frame.drop(columns="_file"), int(lines.sum()), int(unparsed.sum())


# ---------------------------------------------------------------- the compiled path

_MESSAGE_KINDS = (ev.LOG_ROTATION, ev.LOG_VERSION, ev.TIMEPERIOD_TRANSITION, ev.WARNING, ev.ERROR)


def use_compiled(wanted: bool) -> bool:
    """Parse UTF-8 buffers with the C splitter (when it was built) or the regular
    expression. Returns whether the C one is in use. Same rows either way (the
    tests run both); NAGTUNE_PURE_PYTHON=1 chooses the expression for a process."""
    global _compiled
    _compiled = _fastingest if wanted else None
    return _compiled is not None


use_compiled(not os.environ.get("NAGTUNE_PURE_PYTHON"))


MEMO_BYTES = 512  # longer heads and lines are parsed every time: a hostile 1 MB host name is not kept


def _memo_when_short(maxsize: int):
    """lru_cache for the calls whose first argument (bytes) is at most MEMO_BYTES long; longer
    ones are computed every time (``.memo`` is the cache)."""

    def decorate(function):
        memo = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def call(text: bytes, *args):
            return memo(text, *args) if len(text) <= MEMO_BYTES else function(text, *args)

        call.memo = memo
        return call

    return decorate


@_memo_when_short(1 << 16)
def _parse_head(head: bytes, sep: bool) -> tuple:
    """What a batch takes from the reference parser's event for one distinct head, as one
    tuple: its RAW_CATEGORIES values, its attempt (-1: none, or past int16) and whether its
    line goes whole to the parser (author and comment in the output). One tuple, so a
    batch's thousand-odd heads become columns by one ``zip`` instead of a pass per field.
    Heads repeat across batches and threads, so short ones are remembered (lru_cache is
    thread-safe; a tuple cannot be changed)."""
    event = parse_line("[0] " + head.decode("utf-8") + (";" if sep else ""))
    whole = (
        event.kind in (ev.SERVICE_NOTIFICATION, ev.HOST_NOTIFICATION) and event.state_type in _WHOLE_LINE_TYPES
    ) or (event.kind == ev.EXTERNAL_COMMAND and event.command in _WHOLE_LINE_COMMANDS)
    attempt = -1 if event.attempt is None or event.attempt > 32767 else event.attempt
    return (*(getattr(event, column) for column in RAW_CATEGORIES), attempt, whole)


@_memo_when_short(1 << 14)
def _parse_whole(line: bytes):
    """The reference parser's event for a whole line after its stamp (acknowledgements and
    custom notifications: author and comment are in the output; people repeat them)."""
    return parse_line(b"[0] " + line)


_NOTIFICATION_KINDS = (ev.SERVICE_NOTIFICATION, ev.HOST_NOTIFICATION)


class _Human(NamedTuple):
    output: str
    author: str
    comment: str


def _split_human(output: bytes) -> _Human:
    """An acknowledgement's or custom notification's output, author and comment, as
    :func:`parse_line` splits them (only when both follow the output)."""
    text = output.decode("utf-8")
    if text.count(";") >= 2:
        return _Human(*text.split(";", 2))
    return _Human(text, "", "")


def _arrow_strings(offsets: bytes, values: bytes, n: int):
    """Arrow strings over the buffers of :func:`_fastingest.gather` (no copy), as pandas keeps them."""
    import pyarrow as pa

    return pd.array(
        pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(values)), dtype="string[pyarrow]"
    )


def code_dtype(count: int) -> np.dtype:
    """The width pandas keeps the codes of ``count`` categories at (int8 below 128)."""
    return np.dtype(np.int8 if count < 128 else np.int16 if count < 32768 else np.int32)


def narrow_codes(codes: np.ndarray, categories) -> np.ndarray:
    """Category codes at the width pandas keeps them: codes of a few distinct values narrowed
    before they are taken per row, not taken as int64 and copied narrower per row."""
    return codes.astype(code_dtype(len(categories)))


def _spans_of(texts: list[str], rows: np.ndarray, n: int, base: int = 0):
    """Texts placed at ``rows`` of n (empty elsewhere) as gather spans into ``base`` + their join."""
    encoded = [text.encode("utf-8", "surrogateescape") for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(n, np.int64)
    ends = np.zeros(n, np.int64)
    ends[rows] = base + np.cumsum(lengths)
    starts[rows] = ends[rows] - lengths
    return starts, ends, b"".join(encoded)


_HOST_MARK, _SERVICE_MARK = "\x01", "\x02"  # what the splitter puts in a head for its host and service


def _object_codes(
    per_head: np.ndarray, rk: np.ndarray, kept: np.ndarray, mark: str, line_keys: bytes, names: list[bytes]
) -> list:
    """[codes per kept line, categories] of the host or service column: a head's own value,
    or, where the splitter cut the object out (its key for the line is not -1; the head
    holds ``mark`` there), the line's name."""
    values = np.concatenate([per_head.astype(object), np.array([n.decode("utf-8") for n in names], dtype=object)])
    both, uniques = pd.factorize(values)
    head_codes = both[: len(per_head)]
    codes = head_codes[rk]
    line_key = np.frombuffer(line_keys, dtype=np.int32)[kept]
    cut = line_key >= 0
    if cut.any():
        codes[cut] = both[len(per_head) :][line_key[cut]]
        used = np.bincount(codes, minlength=len(uniques)) > 0
        if not used.all():  # the mark itself, and names of dropped lines: not categories
            remap = np.cumsum(used) - 1
            codes = remap[codes]
            uniques = uniques[used]
    return [narrow_codes(codes, uniques), uniques]


def _parse_compiled(data: bytes, bounds: np.ndarray, with_texts: bool = True):
    """A UTF-8 buffer of files' complete lines -> (raw :class:`_Batch`, each row's line number
    in the buffer, lines per file). The C splitter cuts lines and finds distinct heads;
    Python parses each head once, and per line only lines with an unusual stamp and the
    rare human actions (author/comment)."""
    (
        part_lines,
        *columns,
        heads,
        head_seps,
        slow_rows,
        slow_starts,
        slow_ends,
        head_ends,
        host_keys,
        service_keys,
        host_names,
        service_names,
    ) = _compiled.split(data, bounds)
    rows, epoch, key_codes, b0, ends, first_semi = (
        np.frombuffer(c, dtype=np.int32 if i == 2 else np.int64) for i, c in enumerate(columns)
    )
    seps = np.frombuffer(head_seps, dtype=np.uint8).astype(bool)
    # Every batch looks up its heads: straight from the cache, not through the wrapper's
    # Python call. The splitter cut the host and service out of the heads (placeholders
    # stand in), so their number does not grow with the fleet.
    memo = _parse_head.memo
    records = [
        memo(head, sep) if len(head) <= MEMO_BYTES else _parse_head(head, sep)
        for head, sep in zip(heads, seps.tolist())
    ]
    fields = list(zip(*records)) if records else [()] * (len(RAW_CATEGORIES) + 2)
    by_column = {column: np.array(values, dtype=object) for column, values in zip(RAW_CATEGORIES, fields)}
    kinds = by_column["kind"]
    # datetime64[ns] ends in 2262, before the largest 10-digit epoch: a later line is unparsed.
    kept = np.flatnonzero((kinds != ev.UNPARSED)[key_codes] & (epoch <= MAX_EPOCH))
    rk = key_codes[kept]
    # Where the output lies, by the reference parser's rule for the line's kind (a code per
    # head: 0 fields, 1 message, 2 program, 3 command), in C. Heads differ in length per line
    # once the object is cut out: the span pass gets each line's head start as its end less
    # its key's length.
    head_length = np.fromiter(map(len, heads), dtype=np.int64, count=len(heads))
    span_b0 = np.frombuffer(head_ends, dtype=np.int64) - head_length[key_codes]
    # An error without the "Error:" type (its head is a grammar.UNTYPED_PREFIXES prefix) keeps its
    # whole text, as a program message does.
    untyped_error = (kinds == ev.ERROR) & ~np.array([head.startswith(b"Error:") for head in heads], dtype=bool)
    rules = np.select(
        [
            np.isin(kinds, _MESSAGE_KINDS) & ~untyped_error,
            (kinds == ev.PROGRAM) | untyped_error,
            kinds == ev.EXTERNAL_COMMAND,
        ],
        [1, 2, 3],
        0,
    ).astype(np.uint8)
    out_start, ee = (
        np.frombuffer(span, dtype=np.int64)
        for span in _compiled.output_spans(
            kept, key_codes, span_b0, ends, first_semi, head_length, np.frombuffer(head_seps, dtype=np.uint8), rules
        )
    )
    frame = {"epoch": epoch[kept]}
    categories = {}
    objects = {"host": (_HOST_MARK, host_keys, host_names), "service": (_SERVICE_MARK, service_keys, service_names)}
    for column in RAW_CATEGORIES:
        if column in objects:
            categories[column] = _object_codes(by_column[column], rk, kept, *objects[column])
            continue
        codes, values = pd.factorize(by_column[column])
        # Narrowed per head, then taken per line: no int64 codes of every line to narrow after.
        categories[column] = [narrow_codes(codes, values)[rk], values]
    attempt_rows = np.array(fields[-2], dtype=np.int16)[rk]

    # Event handlers: the reference parser moves the text into `command`. Acknowledgements
    # and custom notifications (author and comment in the output): whole line to it.
    handler = np.isin(kinds, _HANDLER_KINDS)
    whole = np.array(fields[-1], dtype=bool)
    extra = b""
    texts = {"author": [], "comment": []}
    human = np.flatnonzero(whole[rk])
    handled = np.flatnonzero(handler[rk])
    if len(human) or len(handled):
        out_start, ee = out_start.copy(), ee.copy()  # C's bytes are read-only
    if len(human):
        line_starts = b0[kept[human]]
        notified = np.isin(kinds, _NOTIFICATION_KINDS)[rk[human]].tolist()
        # A notification's author and comment follow its output: split there, as parse_line
        # does; a command's sit among its arguments: the whole line to parse_line.
        events = [
            _split_human(data[out_start[row] : ee[row]]) if notice else _parse_whole(data[start : ee[row]])
            for start, row, notice in zip(line_starts.tolist(), human.tolist(), notified)
        ]
        starts, stops, extra = _spans_of([e.output for e in events], human, len(rk), len(data))
        out_start[human] = starts[human]
        ee[human] = stops[human]
        texts = {"author": [e.author for e in events], "comment": [e.comment for e in events]}
    if len(handled):
        commands = [data[out_start[row] : ee[row]].decode("utf-8") for row in handled.tolist()]
        codes, values = categories["command"]
        both, uniques = pd.factorize(np.concatenate([values.astype(object), np.array(commands, dtype=object)]))
        codes = both[: len(values)][codes]
        codes[handled] = both[len(values) :]
        categories["command"] = [narrow_codes(codes, uniques), uniques]
        ee[handled] = out_start[handled]  # no output left
    for column, (codes, _) in categories.items():
        frame[column] = codes
    frame["attempt"] = pd.arrays.IntegerArray(attempt_rows, attempt_rows < 0)
    if with_texts:
        frame["output"] = _arrow_strings(*_compiled.gather(data, out_start, ee, extra), len(rk))
        for name in ("author", "comment"):
            starts, stops, joined = _spans_of(texts[name], human, len(rk))
            frame[name] = _arrow_strings(*_compiled.gather(joined, starts, stops), len(rk))
    else:
        hashes = np.frombuffer(_compiled.hash_spans(data, out_start, ee, extra), dtype=np.uint64).copy()
        if len(human):
            hashes[human] = text_hashes([e.output for e in events], texts["author"], texts["comment"])
        frame[TEXT_HASH] = hashes
    line_numbers = rows[kept]
    # copy=False: the columns are this batch's own fresh arrays; pandas would copy (and stack
    # the int64 ones into one block) for nothing: 0.9 s per 10 M lines.
    result = _Batch(pd.DataFrame(frame, copy=False), {column: values for column, (_, values) in categories.items()})
    slow_rows, slow_starts, slow_ends = (np.frombuffer(c, dtype=np.int64) for c in (slow_rows, slow_starts, slow_ends))
    if len(slow_rows):
        # Unusual stamps ([5], 12-digit epochs): few, so the reference parser per line.
        slow, _, _ = parse_texts([decode(data[s:e]) + "\n" for s, e in zip(slow_starts, slow_ends)], with_texts)
        if len(slow):
            line_numbers = np.concatenate([line_numbers, slow_rows[slow.pop("_file").to_numpy()]])
            order = np.argsort(line_numbers, kind="stable")
            result = _Batch(_concat_raw([result, _Batch(slow)]).take(order).reset_index(drop=True))
            line_numbers = line_numbers[order]
    return result, line_numbers, np.frombuffer(part_lines, dtype=np.int64)


def parse_buffers(
    buffers: list[bytes], with_texts: bool = True, file_ids: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Parse byte buffers (one per file, complete lines) as one batch: the C splitter when
    it was built and the bytes are UTF-8, the regex path otherwise. Same result as
    :func:`parse_texts`: the raw frame with ``_file`` (index into ``buffers``, or the
    buffer's entry of ``file_ids``), and per buffer the number of lines and of unparsed
    lines."""
    batch, lines, unparsed = _parse_batch(buffers, with_texts, file_ids)
    return batch.categorical(), lines, unparsed


def _parse_batch(
    buffers: list[bytes], with_texts: bool = True, file_ids: np.ndarray | None = None
) -> tuple[_Batch, np.ndarray, np.ndarray]:
    """:func:`parse_buffers` as the ingest takes it: a :class:`_Batch`."""
    file_ids = np.arange(len(buffers), dtype=np.int32) if file_ids is None else np.asarray(file_ids, dtype=np.int32)
    buffers = [b if b.endswith(b"\n") or not b else b + b"\n" for b in buffers]
    joined = b"".join(buffers)
    if _compiled is None or not _compiled.valid_utf8(joined):
        frame, lines, unparsed = parse_texts([_decode_file(b) for b in buffers], with_texts)
        frame["_file"] = file_ids[frame["_file"].to_numpy()]
        return _Batch(frame), lines, unparsed
    bounds = np.cumsum(np.fromiter(map(len, buffers), dtype=np.int64, count=len(buffers)))
    batch, line_numbers, lines = _parse_compiled(joined, bounds, with_texts)
    # Rows are in line order: each buffer's are one run, counted at the buffers' line bounds.
    kept = np.diff(np.searchsorted(line_numbers, np.cumsum(lines)), prepend=0)
    batch.frame["_file"] = np.repeat(file_ids, kept)
    return batch, lines, lines - kept


# ---------------------------------------------------------------- files and nodes

# ---------------------------------------------------------------- cache


@dataclass
class _FileState:
    path: str
    node: str
    real: str
    identity: dict
    gz: bool
    cached: dict | None = None  # manifest entry still valid for this file
    read_from: int = 0  # byte offset to parse from (0 = whole file)
    texts: list = field(default_factory=list)


def _head_hash(path: str, length: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read(length)).hexdigest()


def _identity(path: str) -> tuple[dict, bool]:
    """What says a file is still the one we read: device, inode, and its first bytes
    (at most 4 KiB, and the length is kept so an appended small file still matches);
    and whether it is gzipped, from the same first bytes (one open per file: with 91 k
    hourly archives the ingest's time is per file)."""
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        head_len = min(stat.st_size, 4096)
        head = handle.read(head_len)
    identity = {
        "dev": stat.st_dev,
        "ino": stat.st_ino,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "head_len": head_len,
        "head": hashlib.sha1(head).hexdigest(),
    }
    return identity, is_gzipped(path, head)


class _Cache:
    """``manifest.json`` + Parquet parts in ``directory``."""

    def __init__(self, directory: str | None):
        self.directory = directory
        self.manifest: dict = {"version": CACHE_VERSION, "files": {}}
        if directory is None:
            return
        os.makedirs(directory, exist_ok=True)
        try:
            with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as handle:
                loaded = json.load(handle)
            if loaded.get("version") == CACHE_VERSION:
                self.manifest = loaded
        except (OSError, ValueError):
            pass  # no cache yet, or a broken one: start afresh

    def lookup(self, state: _FileState) -> None:
        entry = self.manifest["files"].get(state.real)
        if entry is None:
            return
        old, new = entry["identity"], state.identity
        same_file = (
            old["dev"] == new["dev"]
            and old["ino"] == new["ino"]
            and new["size"] >= old["head_len"]
            and (old["head"] == new["head"] or old["head"] == _head_hash(state.path, old["head_len"]))
        )
        if not same_file:
            return
        if state.gz:
            if old["size"] == new["size"] and old["mtime_ns"] == new["mtime_ns"]:
                state.cached, state.read_from = entry, -1  # nothing to read
            return
        if new["size"] >= entry["offset"]:
            state.cached = entry
            state.read_from = entry["offset"] if new["size"] > entry["offset"] else -1

    def read(self, states: list[_FileState]) -> list[pd.DataFrame]:
        """Cached rows of the files, with ``_file`` set to their index in ``states``."""
        by_part: dict[str, list[tuple[int, int]]] = {}
        for index, state in enumerate(states):
            if state.cached:
                for part, key in state.cached["parts"]:
                    by_part.setdefault(part, []).append((key, index))
        frames = []
        damaged: set[int] = set()
        # In the order they were written (names start with the time): a file's rows in read order.
        for part, pairs in sorted(by_part.items()):
            try:
                table = pd.read_parquet(os.path.join(self.directory, part))
            except Exception:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
                damaged.update(index for _, index in pairs)
                continue
            mapping = dict(pairs)
            mask = table["_key"].isin(list(mapping))
            table = table[mask]
            table["_file"] = table["_key"].map(mapping).astype(np.int32)
            frames.append(table.drop(columns="_key"))
        if damaged:
            # A part that cannot be read (disk error, truncated copy) is rebuilt: the files
            # it held rows of are parsed again from their start, none of their rows is kept
            # from other parts, and the next write removes the part nobody names any more.
            for index in damaged:
                state = states[index]
                state.cached, state.read_from = None, 0
                self.manifest["files"].pop(state.real, None)
            frames = [frame[~frame["_file"].isin(list(damaged))] for frame in frames]
        return frames

    def write(self, states: list[_FileState], frame: pd.DataFrame, consumed: dict[int, tuple[int, int, int]]) -> None:
        """Store the new rows of ``states`` (frame's ``_file`` indexes states) as one part.

        Each state's ``cached`` becomes its new entry, so a later batch of the
        same file appends to it."""
        if self.directory is None:
            return
        part = f"part-{_time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
        if len(frame):
            frame.rename(columns={"_file": "_key"}).to_parquet(os.path.join(self.directory, part), index=False)
        for index, (offset, lines, unparsed) in consumed.items():
            state = states[index]
            entry = state.cached or {"parts": [], "lines": 0, "unparsed": 0}
            parts = list(entry["parts"]) + ([[part, index]] if len(frame) else [])
            state.cached = self.manifest["files"][state.real] = {
                "identity": state.identity,
                "offset": offset,
                "parts": parts,
                "lines": entry["lines"] + lines,
                "unparsed": entry["unparsed"] + unparsed,
            }
        used = {p for entry in self.manifest["files"].values() for p, _ in entry["parts"]}
        for name in os.listdir(self.directory):
            if name.startswith("part-") and name not in used:
                os.remove(os.path.join(self.directory, name))
        tmp = os.path.join(self.directory, f".manifest.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            # dumps, not dump: json.dump to a file runs the pure-Python encoder (27 s over a 10 M-line ingest).
            handle.write(json.dumps(self.manifest))
        os.replace(tmp, os.path.join(self.directory, "manifest.json"))


# ---------------------------------------------------------------- time window


def parse_when(value, now: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """``7d``, ``12h``, ``30m``, ``2w`` (before ``now``), an ISO date/time, an epoch, or a Timestamp -> UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    text = str(value).strip()
    match = RELATIVE_WHEN.fullmatch(text)
    if match:
        now = pd.Timestamp.now(tz="UTC") if now is None else parse_when(now)
        unit = {"s": "s", "m": "min", "h": "h", "d": "D", "w": "W"}[match[2]]
        return now - pd.Timedelta(float(match[1]), unit=unit)
    if re.fullmatch(r"\d{9,12}", text):
        return pd.Timestamp(int(text), unit="s", tz="UTC")
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise IngestError(f"cannot read time {text!r}: use 7d, 12h, 30m, 2w, an ISO date or an epoch") from None
    if stamp is pd.NaT:
        raise IngestError(f"cannot read time {text!r}: use 7d, 12h, 30m, 2w, an ISO date or an epoch")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def window_bounds(since=None, until=None, now: pd.Timestamp | None = None):
    """(start, end) in UTC of the window ``since <= time < until``, either None. ``until`` is
    read first; a duration ``since`` (``7d``) counts back from ``until`` when it is given (the
    week before it, as an operator reading ``--since 7d --until 2026-11-01`` expects), else
    from now."""
    end = parse_when(until, now)
    return parse_when(since, now=end if end is not None else now), end


def window(events: pd.DataFrame, since=None, until=None) -> pd.DataFrame:
    """Rows with ``since <= time < until`` (either may be None; see :func:`window_bounds`)."""
    start, end = window_bounds(since, until)
    if start is None and end is None:
        return events
    mask = np.ones(len(events), dtype=bool)
    if start is not None:
        mask &= (events["time"] >= start).to_numpy()
    if end is not None:
        mask &= (events["time"] < end).to_numpy()
    if mask.all():  # no copy: a week's frame is most of the memory of a report
        return events
    out = events[mask].reset_index(drop=True)
    out.attrs = dict(events.attrs)
    return out


def window_end(events: pd.DataFrame, until=None) -> pd.Timestamp | None:
    """Where open problems end: ``until`` if given, else the last event's time."""
    end = parse_when(until)
    if end is not None:
        return end
    if len(events) == 0:
        return None
    return events["time"].max()


# ---------------------------------------------------------------- assembling


def _values(column: pd.Series):
    """A column's values without a copy: numpy's own array, or pandas' extension array."""
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


class _Batch(NamedTuple):
    """Rows of one parse or cache part. With ``categories`` the RAW_CATEGORIES columns are
    only codes into them: a batch's categoricals are made once for the whole ingest, by
    :func:`_concat_raw` (per batch, pandas' checks of each batch's categories cost 0.4 s
    per 10 M lines and the union of them as much again). Without, they are categoricals."""

    frame: pd.DataFrame
    categories: dict | None = None

    def categorical(self) -> pd.DataFrame:
        """The frame with categorical columns, as :func:`parse_texts` gives it."""
        if self.categories is None:
            return self.frame
        return self.frame.assign(
            **{
                column: pd.Categorical.from_codes(self.frame[column].to_numpy(), categories=values, validate=False)
                for column, values in self.categories.items()
            }
        )

    def codes(self, column: str) -> tuple[np.ndarray, object]:
        if self.categories is None:
            return self.frame[column].cat.codes.to_numpy(), self.frame[column].cat.categories
        return self.frame[column].to_numpy(), self.categories[column]


def _concat_raw(batches: list[_Batch]) -> pd.DataFrame:
    """The batches' rows end to end, as one frame with categorical columns. ``batches`` is
    emptied: its columns' chunks are taken out and each column's are let go once joined,
    so a caller that hands over the only references holds the rows about once, not twice.
    (Deleting the column from every frame instead, as this did, re-laid out each frame's
    blocks: 2 s per 10 M lines.)"""
    given = [b for b in batches if len(b.frame)]
    none_like = batches[0].categorical().iloc[:0].reset_index(drop=True) if batches and not given else None
    batches.clear()
    if not given:
        return none_like if none_like is not None else _empty_raw().assign(_file=np.array([], dtype=np.int32))
    if len(given) == 1:
        return given[0].categorical().reset_index(drop=True)
    names = list(given[0].frame.columns)
    chunks = {
        column: [batch.codes(column) if column in RAW_CATEGORIES else _values(batch.frame[column]) for batch in given]
        for column in names
    }
    given.clear()
    columns = {}
    for column in names:
        parts = chunks.pop(column)
        if column in RAW_CATEGORIES:
            # One set of categories: each batch's codes renumbered through a table of its few values.
            known: dict = {}
            tables = [[known.setdefault(value, len(known)) for value in values] + [-1] for _, values in parts]
            width = code_dtype(len(known))
            codes = np.concatenate([np.array(table, dtype=width)[part] for table, (part, _) in zip(tables, parts)])
            columns[column] = pd.Categorical.from_codes(codes, categories=list(known), validate=False)
        else:
            columns[column] = (
                np.concatenate(parts)
                if isinstance(parts[0], np.ndarray)
                else pd.concat([pd.Series(part, copy=False) for part in parts], ignore_index=True)
            )
        del parts
    return pd.DataFrame(columns, copy=False)  # joined just now: a copy would cost 1.1 s per 10 M lines


def _in_file_order(batches: list[_Batch]) -> list[_Batch]:
    """The batches' rows as slices in file order (files are in node, then rotation order), rows
    of one file in the order they were read (cached ones first). A re-run reads the cache's
    parts first and the bytes appended since last: concatenated as they come, the rows
    would need a sort by node and time, which copies every column while the unsorted frame
    is alive (1.2 instead of 0.8 GB at peak for 5 M cached lines and 10 grown live logs).
    Slices are views; runs of one frame that stay together are one slice."""
    pieces = []
    for position, batch in enumerate(batches):
        files = batch.frame["_file"].to_numpy()
        if not len(files):
            continue
        if np.any(files[1:] < files[:-1]):
            return batches  # not the shape the ingest writes: _finish sorts
        cuts = np.flatnonzero(np.diff(files)) + 1
        for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(files)]):
            pieces.append((int(files[start]), position, int(start), int(stop)))
    pieces.sort()
    merged: list[list[int]] = []
    for _, position, start, stop in pieces:
        if merged and merged[-1][0] == position and merged[-1][2] == start:
            merged[-1][2] = stop
        else:
            merged.append([position, start, stop])
    if merged == [[position, 0, len(batch.frame)] for position, batch in enumerate(batches) if len(batch.frame)]:
        return batches  # already in order (a first run): no slicing
    return [
        batches[position]._replace(frame=batches[position].frame.iloc[start:stop]) for position, start, stop in merged
    ]


def _first_covered(node: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per span ``[low, high]`` (seconds, below 2**35), the earliest second of it that another
    span of the same ``node`` also covers; -1 where none does.

    Sorted by (node, start), a span's earliest covered second is its own start when an
    earlier span reaches it, else the next span's start if that lies inside it. Arithmetic
    on the few spans, never on rows."""
    n = len(low)
    found = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return found
    node = node.astype(np.int64)
    order = np.argsort((node << 35) | low, kind="stable")
    node, low, high = node[order], low[order], high[order]
    # Node and end in one number: a running maximum of it never crosses into the next node.
    reach = np.maximum.accumulate((node << 35) | high)
    reached = np.r_[False, (reach[:-1] >> 35 == node[1:]) & ((reach[:-1] & ((1 << 35) - 1)) >= low[1:])]
    same_next = np.r_[node[1:] == node[:-1], False]
    next_low = np.r_[low[1:], 0]
    next_inside = same_next & (next_low <= high)  # a next span starting with this one included
    found[order] = np.where(reached, low, np.where(next_inside, next_low, -1))
    return found


def _drop_overlaps(raw: pd.DataFrame, file_nodes: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Drop lines that two files of one node both hold (a log and its archive overlapping).

    Only rows inside the time span shared by two files of the same node are
    compared. A line repeated within one file is kept: the n-th copy in one
    file matches only the n-th copy in another.
    """
    if raw.empty:
        return raw, 0
    epoch = raw["epoch"].to_numpy()
    files = raw["_file"].to_numpy()
    # Each file's span, from its runs of rows (a file's rows are one run, unless a re-run read
    # its cached rows and its new ones apart): no groupby over the rows.
    run_starts = np.r_[0, np.flatnonzero(files[1:] != files[:-1]) + 1]
    run_files = files[run_starts]
    span_low = np.full(len(file_nodes), np.iinfo(np.int64).max)
    span_high = np.full(len(file_nodes), -1, dtype=np.int64)
    np.minimum.at(span_low, run_files, np.minimum.reduceat(epoch, run_starts))
    np.maximum.at(span_high, run_files, np.maximum.reduceat(epoch, run_starts))
    present = np.flatnonzero(span_high >= 0)
    file_node = pd.factorize(file_nodes)[0].astype(np.int64)
    # Per file, the first and last second another file of its node also covers: a line can
    # only have a copy elsewhere between the two. (Rows there that no other file covers are
    # compared for nothing and kept: a copy has the same second, so it lies in a shared span.)
    bound = (1 << 35) - 1  # seconds are below it (MAX_EPOCH, in 2262, is)
    node, low, high = file_node[present], span_low[present], span_high[present]
    first = _first_covered(node, low, high)
    last = bound - _first_covered(node, bound - high, bound - low)
    if not (first >= 0).any():
        return raw, 0
    compare_from = np.full(len(file_nodes), bound, dtype=np.int64)
    compare_to = np.full(len(file_nodes), -1, dtype=np.int64)
    compare_from[present] = np.where(first >= 0, first, bound)
    compare_to[present] = np.where(first >= 0, last, -1)
    candidate = epoch >= compare_from[files]
    candidate &= epoch <= compare_to[files]
    if not candidate.any():
        return raw, 0
    subset = raw[candidate]
    content = subset.drop(columns="_file").astype({c: "object" for c in RAW_CATEGORIES})
    hashed = pd.util.hash_pandas_object(content, index=False).to_numpy()
    node_of = file_nodes[subset["_file"].to_numpy()]
    keys = pd.DataFrame({"node": node_of, "h": hashed, "file": subset["_file"].to_numpy()})
    keys["n"] = keys.groupby(["node", "h", "file"]).cumcount()
    duplicate = keys.duplicated(["node", "h", "n"]).to_numpy()
    drop = np.flatnonzero(candidate)[duplicate]
    if not len(drop):
        return raw, 0
    keep = np.ones(len(raw), dtype=bool)
    keep[drop] = False
    return raw[keep].reset_index(drop=True), int(len(drop))


class _Parsers:
    """Where batches are parsed: in this thread, or in a pool of ``workers`` threads.

    Threads, not processes: the C splitter and the numpy passes release the GIL
    (1.1x on 2 cores, measured: most of what is left of a parse holds it), and a process pool would re-import the
    caller's ``__main__`` in every worker (a script without a main guard
    would run again) and pickle every frame back. ``depth`` batches may
    wait in the pool, which bounds the bytes in flight.
    """

    def __init__(self, workers: int, with_texts: bool = True):
        self.pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self.depth = 2 * workers if workers > 1 else 0
        self.with_texts = with_texts

    def submit(self, texts: list[bytes], file_ids: np.ndarray):
        return (
            self.pool.submit(_parse_batch, texts, self.with_texts, file_ids)
            if self.pool
            else _parse_batch(texts, self.with_texts, file_ids)
        )

    def result(self, parsed):
        return parsed.result() if self.pool else parsed

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


READ_AHEAD = 8  # files read ahead of the parsing, when parse threads run


def _reads(states: list, todo: list[int], reader: ThreadPoolExecutor | None):
    """(index, a function that returns the file's bytes) in ``todo`` order. With
    a ``reader`` thread each file is read up to READ_AHEAD files before it is
    wanted: reading and gzip decompression release the GIL, so they overlap
    the parsing (about 9% off the ingest of 3.6 k files of 300 KB). Without
    one, files are read when wanted (many tiny files: a hand-off per file
    would cost more than it overlaps)."""
    if reader is None:
        for index in todo:
            yield index, functools.partial(read_log, states[index].path, states[index].read_from)
        return
    pending: deque = deque()
    for index in todo:
        pending.append((index, reader.submit(read_log, states[index].path, states[index].read_from).result))
        if len(pending) > READ_AHEAD:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


def load_events(
    paths,
    since=None,
    until=None,
    cache_dir=None,
    progress=False,
    environment="default",
    cell_pattern=DEFAULT,
    workers: int | None = None,
    texts: bool = True,
) -> pd.DataFrame:
    """Events of every Nagios log under ``paths``, one row per parsed line.

    :param paths: node directories (``nagios.log`` and/or ``archives/``),
        parents of node directories, log files (plain or ``.gz``) or globs. The
        node is the node directory's name (its hostname); class and cell come
        from it via :func:`nagtune.parsers.identity.identify`.
    :param since: keep events at or after this time (``7d``, ISO, epoch).
    :param until: keep events before this time.
    :param cache_dir: directory for the Parquet cache; None for no cache.
    :param progress: show a tqdm progress bar over the bytes read.
    :param environment: environment of every node (e.g. ``prod``).
    :param cell_pattern: regular expression finding the cell in the hostname.
    :param workers: threads parsing batches (1: this thread only). Default:
        one per core, at most ``MAX_WORKERS``, when the files to read average
        ``THREADS_FILE_BYTES`` (gzip counted ``GZIP_RATIO`` times its size),
        else 1. The result is the same whatever the number: batches are taken
        back in the order they were read.
    :param texts: False: no ``output``, ``author`` and ``comment`` columns
        (what episodes and the rankings never read: a third of the memory, and
        the copies of them); lines seen twice are still told apart by them. A
        ``cache_dir`` keeps them whatever this says (its parts serve every
        command) and the frame then has them.
    :returns: columns as in ``EVENT_COLUMNS``; ``attrs`` holds ``unparsed``
        (lines dropped), ``lines`` (lines read), ``duplicates`` (lines seen in
        two files of one node, counted once) and ``files``.
    :raises IngestError: a path matches nothing.
    """
    return load_files(
        resolve_paths(paths),
        since=since,
        until=until,
        cache_dir=cache_dir,
        progress=progress,
        environment=environment,
        cell_pattern=cell_pattern,
        workers=workers,
        texts=texts,
    )


def load_files(
    targets: list[tuple[str, str]],
    since=None,
    until=None,
    cache_dir=None,
    progress=False,
    environment="default",
    cell_pattern=DEFAULT,
    workers: int | None = None,
    texts: bool = True,
) -> pd.DataFrame:
    """:func:`load_events` of ``targets`` as :func:`resolve_paths` gives them: ``(node, file)``, oldest first per node."""
    with _locked(cache_dir):
        return _load_files(
            targets,
            since,
            until,
            cache_dir,
            progress,
            environment,
            cell_pattern,
            workers,
            texts or cache_dir is not None,
        )


CACHE_LOCK = ".lock"  # in an ingest cache directory: held (flock) by the run using it


@contextlib.contextmanager
def _locked(cache_dir):
    """The cache directory to this process alone while it reads and writes it: two runs
    sharing one would delete each other's parts (a part no manifest entry names is removed)."""
    if cache_dir is None:
        yield
        return
    import fcntl

    while True:
        os.makedirs(cache_dir, exist_ok=True)
        with open(os.path.join(cache_dir, CACHE_LOCK), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.fstat(lock.fileno()).st_nlink == 0:
                continue  # removed while we waited (a stale group cache, parallel.drop_stale_group_caches)
            yield
            return


def _load_files(
    targets, since, until, cache_dir, progress, environment, cell_pattern, workers, with_texts
) -> pd.DataFrame:
    cache = _Cache(cache_dir)
    states = []
    for node, path in targets:
        try:
            # The real path is the cache manifest's key: without a cache, not resolved (35 us a file).
            state = _FileState(path, node, real_path(path) if cache_dir else path, *_identity(path))
        except OSError as exc:
            raise _cannot_read(path, exc) from None
        cache.lookup(state)
        states.append(state)

    batches = [_Batch(frame) for frame in cache.read(states)] if cache_dir else []
    lines_total = sum(s.cached["lines"] for s in states if s.cached)
    unparsed_total = sum(s.cached["unparsed"] for s in states if s.cached)
    todo = [i for i, s in enumerate(states) if s.read_from >= 0]
    to_read = [max(0, states[i].identity["size"] - states[i].read_from) for i in todo]  # bytes on disk
    bar = None
    if progress and sum(to_read) >= PROGRESS_BYTES:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(to_read), unit="B", unit_scale=True, desc="nagtune ingest")
    batch: list[int] = []
    batch_texts: list[str] = []
    batch_size = 0
    offsets: dict[int, int] = {}
    tails: list[tuple[int, str]] = []  # partial last lines: parsed, never cached

    writer = ThreadPoolExecutor(max_workers=1) if cache_dir else None
    pending_write = None
    if workers is None:
        # Threads pay when parsing dominates. With many small files the reading thread's
        # per-file work does, and parse threads only contend with it for the GIL: they
        # slow down many small hourly archives and speed up fewer large files.
        sizes = [(GZIP_RATIO if states[i].gz else 1) * size for i, size in zip(todo, to_read)]
        big_files = bool(sizes) and sum(sizes) / len(sizes) >= THREADS_FILE_BYTES
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if big_files else 1
    parsers = _Parsers(workers, with_texts)
    in_flight: deque = deque()

    def flush():
        nonlocal batch, batch_texts, batch_size
        if not batch:
            return
        in_flight.append((batch, parsers.submit(batch_texts, np.asarray(batch, dtype=np.int32))))
        batch, batch_texts, batch_size = [], [], 0
        while len(in_flight) > parsers.depth:
            collect(*in_flight.popleft())

    def collect(files: list[int], parsed) -> None:
        """Take one batch's parse, in submission order (batches and cache parts keep file order)."""
        nonlocal lines_total, unparsed_total, pending_write
        batch, lines, unparsed = parsers.result(parsed)  # _file: the batch's file indexes already
        # One text per file; a file bigger than a batch comes in several texts.
        lines_total += int(lines.sum())
        unparsed_total += int(unparsed.sum())
        consumed: dict[int, list[int]] = {}
        for file_index, n_lines, n_bad in zip(files, lines, unparsed):
            entry = consumed.setdefault(file_index, [0, 0, 0])
            entry[1] += int(n_lines)
            entry[2] += int(n_bad)
        for file_index in consumed:
            consumed[file_index][0] = offsets[file_index]
        if cache_dir:
            # Parquet encoding releases the GIL: the part is written while the next batch
            # parses. One writer, one part in flight: parts and manifest stay in order.
            if pending_write is not None:
                pending_write.result()
            frame = batch.categorical()
            pending_write = writer.submit(
                cache.write,
                states,
                frame[frame["_file"].isin(list(consumed))],
                {i: tuple(v) for i, v in consumed.items()},
            )
        batches.append(batch)

    reader = ThreadPoolExecutor(max_workers=1) if workers > 1 else None
    try:
        for index, read in _reads(states, todo, reader):
            state = states[index]
            try:
                data = read()
            except (OSError, EOFError) as exc:
                raise _cannot_read(state.path, exc) from None
            if bar is not None:
                bar.update(max(0, state.identity["size"] - state.read_from))
            # Only complete lines are cached; a partial last line is parsed, not remembered.
            cut = data.rfind(b"\n") + 1
            if state.gz or cut == len(data):
                offset = state.identity["size"] if state.gz else state.read_from + len(data)
            else:
                offset = state.read_from + cut
                tails.append((index, data[cut:]))
                data = data[:cut]
            offsets[index] = offset
            # Big files go in pieces cut at line ends, so each parse stays small.
            position = 0
            while position < len(data) or (position == 0 and not data):
                piece_end = (
                    len(data)
                    if len(data) - position <= BATCH_BYTES
                    else data.rfind(b"\n", position, position + BATCH_BYTES) + 1
                )
                if piece_end <= position:
                    piece_end = len(data)
                piece = data[position:piece_end]
                batch.append(index)
                batch_texts.append(piece)
                batch_size += len(piece)
                position = piece_end
                if batch_size >= BATCH_BYTES:
                    flush()
                if not data:
                    break
        flush()
        while in_flight:
            collect(*in_flight.popleft())
    finally:
        if reader is not None:
            reader.shutdown(wait=True, cancel_futures=True)
        parsers.close()
        if writer is not None:
            writer.shutdown(wait=True)  # a failed read still leaves the parts before it committed
    if pending_write is not None:
        pending_write.result()  # a failed write raises here
    if tails:
        tail_batch, tail_lines, tail_bad = _parse_batch(
            [text for _, text in tails], with_texts, np.asarray([i for i, _ in tails], dtype=np.int32)
        )
        batches.append(tail_batch)
        lines_total += int(tail_lines.sum())
        unparsed_total += int(tail_bad.sum())
    if bar is not None:
        bar.close()

    pieces = list(_in_file_order(batches))
    batches.clear()  # the pieces hold the only references now: _concat_raw frees what it has joined
    raw = _concat_raw(pieces)
    del pieces
    file_nodes = np.array([s.node for s in states], dtype=object)
    raw, duplicates = _drop_overlaps(raw, file_nodes)
    events = _finish(raw, states, environment, cell_pattern)
    found = coverage.data_range(events)  # before the window: where the data is, for what is said of it
    in_all = len(events)
    events = window(events, since, until)
    events.attrs.update(
        {
            "unparsed": unparsed_total,
            "lines": lines_total,
            "duplicates": duplicates,
            "files": len(states),
            "outside_window": in_all - len(events),
            **found,
        }
    )
    del raw
    release_freed_memory()
    return events


_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


def _finish(raw: pd.DataFrame, states: list[_FileState], environment: str, cell_pattern: str) -> pd.DataFrame:
    """Raw rows -> the public events frame: identity columns, UTC time, time order."""
    nodes = sorted({s.node for s in states})
    identities = {n: identify(n, environment=environment, cell_pattern=cell_pattern) for n in nodes}
    node_index = {n: i for i, n in enumerate(nodes)}
    file_node_code = narrow_codes(np.array([node_index[s.node] for s in states] or [0], dtype=np.int32), nodes)
    node_codes = file_node_code[raw["_file"].to_numpy()] if len(raw) else np.array([], dtype=np.int32)

    def per_node(attribute: str) -> pd.Categorical:
        values = [getattr(identities[n], attribute) for n in nodes]
        codes, categories = pd.factorize(np.array(values, dtype=object))
        if not len(categories):
            return pd.Categorical([])
        # Codes made here, in range: pandas' check of every row is skipped.
        return pd.Categorical.from_codes(
            narrow_codes(codes, categories)[node_codes], categories=categories, validate=False
        )

    # Epoch seconds are at most MAX_EPOCH: in nanoseconds they fit int64, read as UTC times
    # without pandas' per-unit conversion, which walks every row.
    nanoseconds = np.multiply(raw["epoch"].to_numpy(), 1_000_000_000, dtype=np.int64)
    out = pd.DataFrame(
        {
            # Typed as UTC at once: localising a naive index to UTC would copy it twice more.
            "time": pd.arrays.DatetimeArray._from_sequence(nanoseconds.view("datetime64[ns]"), dtype=_UTC_NS),
            "node": pd.Categorical.from_codes(node_codes, categories=nodes, validate=False)
            if nodes
            else pd.Categorical([]),
            "node_class": per_node("node_class"),
            "cell": per_node("cell"),
            "environment": per_node("environment"),
            # .array, never .to_numpy(): strings would become 10 M Python objects and back. Given
            # here, not set one by one: each column set afterwards would be a copy.
            **{column: raw[column].array for column in RAW_CATEGORIES + ["attempt"] + TEXT_COLUMNS if column in raw},
        },
        copy=False,
    )
    # Node by node, in time order; lines of one second stay in file order (files oldest first).
    # Files are read node by node and oldest first, so this is usually already true: no sort then.
    # Compared slice to slice: no int64 differences of every row.
    epoch = raw["epoch"].to_numpy()
    backwards = np.flatnonzero(epoch[1:] < epoch[:-1])
    in_order = bool(np.all(node_codes[1:] >= node_codes[:-1])) and bool(
        np.all(node_codes[backwards + 1] > node_codes[backwards])
    )
    if not in_order:
        order = np.lexsort((np.arange(len(raw)), raw["_file"].to_numpy(), epoch, node_codes))
        out = out.take(order).reset_index(drop=True)
    return out[[c for c in EVENT_COLUMNS if c in out]]


# ---------------------------------------------------------------- perfdata and values

_PERF_ITEM = re.compile(r"""('[^']*'|[^\s=']+)=(-?[0-9.]+(?:[eE][-+]?\d+)?)([^;\s]*)((?:;[^;\s]*){0,4})""")


def parse_perfdata(text: str) -> list[tuple]:
    """``'/var'=512MB;800;900;0;1000 load1=7.2`` -> [(label, value, uom, warn, crit, min, max)]."""
    items = []
    for label, value, uom, rest in _PERF_ITEM.findall(text or ""):
        fields = (rest[1:].split(";") if rest else []) + ["", "", "", ""]
        try:
            number = float(value)
        except ValueError:
            continue
        items.append((label.strip("'"), number, uom, *fields[:4]))
    return items


def _perf_lines(text: str, node: str):
    """Rows of one service_perfdata_file: Nagios' default template or pnp4nagios' KEY::value."""
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if "::" in line:
            fields = dict(part.split("::", 1) for part in parts if "::" in part)
            if fields.get("DATATYPE", "SERVICEPERFDATA") != "SERVICEPERFDATA":
                continue
            stamp, host, service = fields.get("TIMET"), fields.get("HOSTNAME"), fields.get("SERVICEDESC")
            state, perf = fields.get("SERVICESTATE", ""), fields.get("SERVICEPERFDATA", "")
        else:
            # [SERVICEPERFDATA]\t$TIMET$\t$HOSTNAME$\t$SERVICEDESC$\t...\t$SERVICEOUTPUT$\t$SERVICEPERFDATA$
            if parts and parts[0].startswith("[") and parts[0].endswith("]"):
                parts = parts[1:]
            if len(parts) < 4:
                continue
            stamp, host, service, perf = parts[0], parts[1], parts[2], parts[-1]
            state = next((p for p in parts[3:-1] if p in ("OK", "WARNING", "CRITICAL", "UNKNOWN")), "")
        if not stamp or not stamp.isdigit():
            continue
        for item in parse_perfdata(perf):
            yield (int(stamp), node, host, service, state) + item


def load_perfdata(paths) -> pd.DataFrame:
    """Rows of Nagios' ``service_perfdata_file`` (one per perfdata label).

    :param paths: perfdata files, or node directories holding ``service-perfdata.log``
        (the node is the directory name).
    :returns: ``PERFDATA_COLUMNS``; ``warn``/``crit`` are the Nagios range
        strings as written (``10``, ``10:``, ``~:10``, ``@10:20``).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = []
    for path in paths:
        path = str(path)
        if os.path.isdir(path):
            path = os.path.join(path, "service-perfdata.log")
        node = node_of_file(path)
        try:
            text = decode(read_log(path))
        except (OSError, EOFError) as exc:
            raise _cannot_read(path, exc) from None
        rows.extend(_perf_lines(text, node))
    frame = pd.DataFrame(rows, columns=PERFDATA_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="s", utc=True).dt.as_unit("ns")
    frame["value"] = frame["value"].astype(float)
    for column in ("node", "host", "service", "state", "label", "uom"):
        frame[column] = frame[column].astype("category")
    return frame


# label=value (load=7.20, time=0.1s) and "LABEL 512 MB (4%)" (check_disk's "/var 512 MB (4%)").
_VALUE_PATTERNS = (
    re.compile(r"(?<![\w/.-])([A-Za-z_][\w./-]*)\s*=\s*(-?\d+(?:\.\d+)?)([A-Za-z%]*)"),
    re.compile(r"(/[\w./-]*)\s+(-?\d+(?:\.\d+)?)\s*([KMGT]?B)\b"),
    # "load average: 7.20, 5.10, 4.00", "Packet loss = 100%": words, a colon, a number.
    re.compile(r"([A-Za-z][A-Za-z ]{1,30}?)\s*:\s*(-?\d+(?:\.\d+)?)([A-Za-z%]*)"),
)


def values_from_output(events: pd.DataFrame) -> pd.DataFrame:
    """Numbers that plugins print in their output text, one row per (line, label).

    The event log keeps no perfdata, but many plugins print their value:
    ``OK - load=0.42``, ``DISK WARNING - free space: /var 512 MB (4%)``.
    Each distinct output is read once (outputs repeat a lot).
    :returns: ``VALUE_COLUMNS`` for service alerts and snapshots.
    """
    if events is None or len(events) == 0:
        return empty(VALUE_COLUMNS)
    kinds = events["kind"]
    rows = events[kinds.isin([ev.SERVICE_ALERT, ev.CURRENT_SERVICE_STATE, ev.INITIAL_SERVICE_STATE]).to_numpy()]
    if rows.empty:
        return empty(VALUE_COLUMNS)
    codes, outputs = pd.factorize(rows["output"].astype(object).to_numpy())
    found_code, labels, values, uoms = [], [], [], []
    for code, text in enumerate(outputs):
        seen = set()
        for pattern in _VALUE_PATTERNS:
            for label, value, uom in pattern.findall(text or ""):
                if label in seen:
                    continue
                seen.add(label)
                found_code.append(code)
                labels.append(label)
                values.append(float(value))
                uoms.append(uom)
    if not found_code:
        return empty(VALUE_COLUMNS)
    per_output = pd.DataFrame({"_code": found_code, "label": labels, "value": values, "uom": uoms})
    lines = pd.DataFrame({"_code": codes, "_row": np.arange(len(rows))})
    merged = lines.merge(per_output, on="_code").sort_values(["_row"], kind="stable")
    picked = rows.iloc[merged["_row"].to_numpy()]
    out = pd.DataFrame(
        {
            "time": picked["time"].to_numpy(),
            "node": picked["node"].to_numpy(),
            "host": picked["host"].to_numpy(),
            "service": picked["service"].to_numpy(),
            "state": picked["state"].to_numpy(),
            "label": merged["label"].to_numpy(),
            "value": merged["value"].to_numpy(),
            "uom": merged["uom"].to_numpy(),
        }
    )
    out["time"] = pd.to_datetime(out["time"], utc=True)
    return out.reset_index(drop=True)
