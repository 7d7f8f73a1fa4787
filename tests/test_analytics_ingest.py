"""load_events: agreement with the reference parser, overlaps, cache, paths, window."""

import gzip
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nagtune.analytics._frames import EVENT_COLUMNS
from nagtune.analytics.sources import ingest
from nagtune.analytics.sources.ingest import IngestError, load_events, load_perfdata, parse_buffer, values_from_output
from nagtune.parsers.events import UNPARSED
from nagtune.parsers.logfiles import read_log
from nagtune.parsers.nagios import parse_line
from tests.test_parser_properties import log_buffer

FIELDS = [
    "kind",
    "host",
    "service",
    "state",
    "state_type",
    "attempt",
    "contact",
    "command",
    "output",
    "author",
    "comment",
]


def reference(buffer: bytes):
    """What parse_line says line by line: the parsed events and the unparsed count."""
    lines = buffer.split(b"\n")
    if buffer.endswith(b"\n") or not buffer:
        lines.pop()
    events = [parse_line(line) for line in lines]
    good = [e for e in events if e.kind != UNPARSED and e.time <= ingest.MAX_EPOCH]
    return good, len(lines) - len(good)


def rows(frame: pd.DataFrame):
    out = []
    for row in frame.itertuples(index=False):
        attempt = None if pd.isna(row.attempt) else int(row.attempt)
        out.append((int(row.epoch),) + tuple(attempt if f == "attempt" else getattr(row, f) for f in FIELDS))
    return out


@pytest.fixture(params=[True, False], ids=["c-splitter", "regex"])
def splitter(request):
    """Each parse test with the C splitter and with the regular expression it replaces."""
    assert ingest.use_compiled(request.param) == request.param
    yield request.param
    ingest.use_compiled(True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(buffer=log_buffer, trailing_newline=st.booleans())
def test_vectorised_parse_agrees_with_parse_line_on_hostile_input(splitter, buffer, trailing_newline):
    if trailing_newline and buffer:
        buffer += b"\n"
    # Invalid UTF-8 goes to the regex path whichever is chosen: repaired, the bytes go to the chosen one.
    for candidate in {buffer, buffer.decode("utf-8", "replace").encode("utf-8")}:
        frame, lines, unparsed = parse_buffer(candidate)
        good, bad = reference(candidate)
        expected = [(e.time,) + tuple(getattr(e, f) for f in FIELDS) for e in good]
        assert rows(frame) == expected
        assert unparsed == bad
        assert lines == len(good) + bad


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(log_buffer, max_size=6))
def test_a_batch_of_files_splits_as_each_file_alone(buffers):
    """parse_buffers joins a batch's files: each row keeps its file, each file its line and
    unparsed counts, exactly as the regex path gives them file by file."""
    valid = [b.decode("utf-8", "replace").encode("utf-8") for b in buffers]  # the C path takes UTF-8
    assert ingest.use_compiled(True)
    frame, lines, unparsed = ingest.parse_buffers(valid)
    for index, buffer in enumerate(valid):
        alone, alone_lines, alone_unparsed = ingest.parse_texts([ingest._decode_file(buffer)] if buffer else [])
        assert rows(frame[frame["_file"] == index]) == rows(alone)
        assert (lines[index], unparsed[index]) == (int(alone_lines.sum()), int(alone_unparsed.sum()))


UTF8_EDGES = [
    b"\xc2\x80",
    b"\xc1\xbf",
    b"\xe0\xa0\x80",
    b"\xe0\x9f\xbf",
    b"\xed\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xef\xbf\xbf",
    b"\xf0\x90\x80\x80",
    b"\xf0\x8f\xbf\xbf",
    b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\x80",
    b"\xff",
    b"a" * 9,
    b"x" * 31,
    b"y" * 64,
]  # ASCII runs across the 32-byte fast step's edges


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(UTF8_EDGES) | st.binary(max_size=12) | st.text(max_size=6).map(str.encode), max_size=12
    ).map(b"".join)
)
@example(data=b"y" * 32 + b"\xff")  # the byte right after a 32-byte ASCII step
@example(data=b"y" * 32 + "é".encode() + b"z" * 40)
def test_the_c_utf8_check_takes_what_python_decodes(data):
    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert ingest._fastingest.valid_utf8(data) is decodes


def test_the_compiled_splitter_was_built():
    assert ingest._fastingest is not None, "analytics/sources/_fastingest.c was not built (pip install -e . with gcc)"


def test_nagtune_pure_python_chooses_the_regex_splitter():
    import subprocess
    import sys

    probe = "from nagtune.analytics.sources import ingest; print(ingest._compiled is not None)"
    for value, expected in (("1", "False"), ("", "True")):
        out = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "NAGTUNE_PURE_PYTHON": value},
        ).stdout.strip()
        assert out == expected, value


def test_known_hostile_lines_agree(splitter):
    buffer = (
        b"[1700000000] SERVICE ALERT: h;s;OK;SOFT;1\r;out\n"  # \r inside: unparsed
        b"[1700000000] SERVICE ALERT: h;s;CRITICAL;HARD;3;a;b;c\r\r\n"
        b"[1700000001] SERVICE NOTIFICATION: c;h;s;ACKNOWLEDGEMENT (CRITICAL);cmd;out;alice;looking;more\n"
        b"[1700000002] EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;h;s;2;1;1;bob;fix;it\n"
        b"[1700000003] SERVICE EVENT HANDLER: h;s;CRITICAL;SOFT;1;restart-it\n"
        b"[1700000004] Warning:no space\n[1700000004] Warning: ;x\n[1700000005] wproc: stdout line 01: x\n"
        b"[1700000006] na\xc3\xafve \xff\xfe no colon\n\n[99999999999] LOG VERSION: 2.0\nno stamp\n"
        b"[1700000007] SERVICE ALERT: h;s;OK;SOFT;99999;too many attempts"
    )
    for candidate in (buffer, buffer.replace(b"\xff\xfe", b"")):  # the second is UTF-8: the chosen splitter
        frame, lines, unparsed = parse_buffer(candidate)
        good, bad = reference(candidate)
        assert rows(frame) == [
            (e.time,)
            + tuple(
                getattr(e, f) if f != "attempt" or e.attempt is None or e.attempt <= 32767 else None for f in FIELDS
            )
            for e in good
        ]
        assert unparsed == bad == 5
        assert frame.loc[frame["command"] == "ACKNOWLEDGE_SVC_PROBLEM", "comment"].tolist() == ["fix;it"]


def _node(tmp_path, name="nagios-c0042-01"):
    node = tmp_path / name
    (node / "archives").mkdir(parents=True)
    return node


LINES = [
    f"[{1700000000 + 60 * i}] SERVICE ALERT: h;s;{'CRITICAL' if i % 2 else 'OK'};HARD;1;out {i}\n" for i in range(10)
]


def test_node_identity_columns_and_types(tmp_path):
    node = _node(tmp_path)
    (node / "nagios.log").write_text("".join(LINES))
    events = load_events([str(tmp_path)], environment="test")
    assert list(events.columns) == EVENT_COLUMNS
    assert str(events["time"].dtype) == "datetime64[ns, UTC]"
    assert str(events["attempt"].dtype) == "Int16"
    assert isinstance(events["host"].dtype, pd.CategoricalDtype)
    assert set(events["node"]) == {"nagios-c0042-01"}
    assert set(events["cell"]) == {"c0042"} and set(events["node_class"]) == {"cell"}
    assert set(events["environment"]) == {"test"}


def test_archive_and_live_log_overlap_counted_once_repeats_kept(tmp_path):
    node = _node(tmp_path)
    repeated = LINES[3]
    with gzip.open(node / "archives" / "nagios-11-14-2023-23.log.gz", "wt") as handle:
        handle.write("".join(LINES[:6]) + repeated)  # line 3 twice in the archive
    (node / "nagios.log").write_text("".join(LINES[4:]))  # 4 and 5 also in the archive
    events = load_events([str(node)])
    assert len(events) == 11  # 10 distinct + the legitimate repeat
    assert events.attrs["duplicates"] == 2
    assert (events["output"] == "out 3").sum() == 2


def test_archives_read_in_rotation_order_not_name_order(tmp_path):
    node = _node(tmp_path)
    (node / "archives" / "nagios-12-31-2026-23.log").write_text("[1798761599] LOG VERSION: 2.0\n")
    (node / "archives" / "nagios-01-01-2027-00.log").write_text("[1798761600] LOG VERSION: 2.1\n")
    files = [os.path.basename(f) for _, f in ingest.resolve_paths([str(node)])]
    assert files == ["nagios-12-31-2026-23.log", "nagios-01-01-2027-00.log"]


def test_cache_rerun_reads_only_new_bytes(tmp_path, monkeypatch):
    node = _node(tmp_path)
    live = node / "nagios.log"
    live.write_text("".join(LINES[:5]))
    cache = tmp_path / "cache"
    first = load_events([str(node)], cache_dir=str(cache))
    parsed = []
    real = ingest._parse_batch  # what the ingest parses each batch with
    monkeypatch.setattr(ingest, "_parse_batch", lambda buffers, *rest: parsed.append(buffers) or real(buffers, *rest))
    again = load_events([str(node)], cache_dir=str(cache))
    assert parsed == []  # nothing new: all from Parquet
    pd.testing.assert_frame_equal(first, again)
    with open(live, "a") as handle:
        handle.write("".join(LINES[5:]))
    grown = load_events([str(node)], cache_dir=str(cache))
    assert [len(t) for batch in parsed for t in batch] == [len("".join(LINES[5:]))]
    assert len(grown) == 10 and grown["output"].tolist() == [f"out {i}" for i in range(10)]
    live.write_text(LINES[0])  # truncated (rotated): parsed afresh
    assert len(load_events([str(node)], cache_dir=str(cache))) == 1


def test_a_rerun_over_grown_logs_keeps_every_files_rows_in_read_order_without_a_sort(tmp_path, monkeypatch):
    """Files split over several cache parts, several nodes whose live logs grew: the rows come
    back in node, file and read order as an uncached run gives them, and the sort in _finish
    (a copy of every column) is not needed."""
    monkeypatch.setattr(ingest, "BATCH_BYTES", 300)  # every file over several batches, so several parts
    nodes = [_node(tmp_path, f"nagios-c000{n}-01") for n in (1, 2, 3)]
    for index, node in enumerate(nodes):
        (node / "archives" / "nagios-01-01-2024-00.log").write_text("".join(LINES[:4]))
        (node / "nagios.log").write_text("".join(LINES[4 + index : 8]))
    cache = str(tmp_path / "cache")
    load_events([str(tmp_path)], cache_dir=cache)
    # Twice: the first re-run writes every node's new lines into one part, which the second
    # reads back, and in node 1's place unless parts are read in the order they were written.
    for lines in (LINES[8:9], LINES[9:]):
        for node in nodes:
            with open(node / "nagios.log", "a") as handle:
                handle.write("".join(lines))
        load_events([str(tmp_path)], cache_dir=cache)
    for node in nodes:
        with open(node / "nagios.log", "a") as handle:
            handle.write(LINES[9])
    sorts = []
    real = np.lexsort
    monkeypatch.setattr(np, "lexsort", lambda keys: sorts.append(1) or real(keys))
    grown = load_events([str(tmp_path)], cache_dir=cache)
    assert sorts == []
    monkeypatch.setattr(np, "lexsort", real)
    pd.testing.assert_frame_equal(grown, load_events([str(tmp_path)]), check_categorical=False)


def test_parse_threads_give_the_same_events_and_cache(tmp_path, monkeypatch):
    """Batches parsed in two threads, taken back in order: same frame, counts and cache as in one thread."""
    monkeypatch.setattr(ingest, "BATCH_BYTES", 700)  # many batches, several in flight
    fleet = tmp_path / "fleet"
    for n in range(3):
        node = _node(fleet, f"nagios-c000{n}-01")
        lines = [line.replace("h;s;", f"h{n};s{i % 3};") for i, line in enumerate(LINES * 4)]
        with gzip.open(node / "archives" / "nagios-11-14-2023-22.log.gz", "wt") as handle:
            handle.write("".join(lines[:15]))
        (node / "archives" / "nagios-11-14-2023-23.log").write_bytes(
            "".join(lines[15:30]).encode() + b"[1700000500] SERVICE ALERT: h;s;OK;HARD;1;na\xefve \xff\n"
        )
        (node / "nagios.log").write_text("".join(lines[28:]) + "[1700009999] SERVICE ALERT: h;s")  # partial line
    results = {}
    for workers in (1, 2):
        cache = str(tmp_path / f"cache-{workers}")
        first = load_events([str(fleet)], cache_dir=cache, workers=workers)
        again = load_events([str(fleet)], cache_dir=cache, workers=workers)
        results[workers] = (first, again)
    (one, one_again), (two, two_again) = results[1], results[2]
    assert len(one) > 80 and one.attrs["duplicates"] > 0 and one.attrs["unparsed"] > 0
    for frame in (one_again, two, two_again):
        pd.testing.assert_frame_equal(one, frame)
        assert frame.attrs == one.attrs


def test_partial_last_line_is_parsed_but_not_cached(tmp_path):
    node = _node(tmp_path)
    (node / "nagios.log").write_text("".join(LINES[:2]) + LINES[2].rstrip("\n"))
    cache = tmp_path / "cache"
    assert len(load_events([str(node)], cache_dir=str(cache))) == 3
    with open(node / "nagios.log", "a") as handle:
        handle.write("\n" + LINES[3])
    assert load_events([str(node)], cache_dir=str(cache))["output"].tolist() == [f"out {i}" for i in range(4)]


def test_window_since_until(tmp_path):
    node = _node(tmp_path)
    (node / "nagios.log").write_text("".join(LINES))
    events = load_events([str(node)], since="1700000120", until="2023-11-14T22:20:00Z")
    assert events["output"].tolist() == ["out 2", "out 3", "out 4", "out 5", "out 6"]  # 22:20:00 is epoch ...400


@pytest.mark.parametrize(
    "path, message",
    [
        ("/no/such/dir", "no such file or directory: '/no/such/dir'"),
        ("/no/such/*.log", "no file matches '/no/such/*.log'"),
    ],
)
def test_bad_paths_raise_ingest_error(path, message):
    with pytest.raises(IngestError) as error:
        load_events([path])
    assert str(error.value) == message


def _gz_node(tmp_path, archive: bytes):
    node = tmp_path / "nagios-c0001-01"
    (node / "archives").mkdir(parents=True)
    (node / "archives" / "nagios-11-14-2023-23.log.gz").write_bytes(archive)
    return node


ALERT_BYTES = b"".join(
    b"[%d] SERVICE ALERT: web01;HTTP;CRITICAL;SOFT;1;down\n" % (1_700_000_000 + i) for i in range(500)
)


def test_gzip_members_and_zero_padding_read_as_gzip_reads_them(tmp_path):
    # Two members and the zero padding between them, as `cat a.gz b.gz` or a padded tape leaves them.
    archive = gzip.compress(ALERT_BYTES[:9000]) + b"\0" * 7 + gzip.compress(ALERT_BYTES[9000:])
    node = _gz_node(tmp_path, archive)
    path = str(node / "archives" / "nagios-11-14-2023-23.log.gz")
    assert read_log(path) == gzip.GzipFile(path).read() == ALERT_BYTES
    assert read_log(path, 100) == ALERT_BYTES[100:]
    assert len(load_events([str(node)])) == 500


@pytest.mark.parametrize("workers", [1, 2])  # 2: files are read ahead in a thread
@pytest.mark.parametrize("damage", ["truncated", "bad crc", "garbage after a member"])
def test_a_broken_gzip_archive_is_one_ingest_error(tmp_path, damage, workers):
    archive = gzip.compress(ALERT_BYTES)
    archive = {
        "truncated": archive[: len(archive) // 2],
        "bad crc": archive[:-8] + bytes([archive[-8] ^ 1]) + archive[-7:],
        "garbage after a member": archive + b"not gzip",
    }[damage]
    node = _gz_node(tmp_path, archive)
    for hour in range(10):  # good archives after the broken one
        (node / "archives" / f"nagios-11-15-2023-{hour:02d}.log.gz").write_bytes(gzip.compress(ALERT_BYTES))
    with pytest.raises(IngestError, match=r"^cannot read .*nagios-11-14-2023-23\.log\.gz: "):
        load_events([str(node)], workers=workers)
    (node / "service-perfdata.log.gz").write_bytes(archive)
    with pytest.raises(IngestError, match=r"^cannot read .*service-perfdata\.log\.gz: "):
        load_perfdata(str(node / "service-perfdata.log.gz"))


def test_bad_time_raises():
    with pytest.raises(IngestError, match="cannot read time 'soon'"):
        ingest.parse_when("soon")


def test_perfdata_both_templates(tmp_path):
    node = _node(tmp_path)
    (node / "service-perfdata.log").write_text(
        "[SERVICEPERFDATA]\t1700000000\tweb01\tLoad\t0.01\t0.1\tOK - load=0.4\tload1=0.400;5.000;10.000;0; load5=0.3;4;8;0;\n"
        "DATATYPE::SERVICEPERFDATA\tTIMET::1700000060\tHOSTNAME::db01\tSERVICEDESC::Disk Space /var\t"
        "SERVICEPERFDATA::'/var'=512MB;800:;900:;0;1000\tSERVICESTATE::WARNING\n"
    )
    perf = load_perfdata([str(node)])
    assert perf[["host", "label", "value", "warn", "crit"]].astype(str).values.tolist() == [
        ["web01", "load1", "0.4", "5.000", "10.000"],
        ["web01", "load5", "0.3", "4", "8"],
        ["db01", "/var", "512.0", "800:", "900:"],
    ]
    assert perf["state"].astype(str).tolist() == ["", "", "WARNING"]


def test_values_from_output():
    buffer = (
        b"[1700000000] SERVICE ALERT: h;Load;WARNING;SOFT;1;WARNING - load=7.20 users=3\n"
        b"[1700000060] SERVICE ALERT: h;Disk;WARNING;SOFT;1;DISK WARNING - free space: /var 512 MB (4%)\n"
    )
    frame, _, _ = parse_buffer(buffer)
    events = ingest._finish(
        frame.assign(_file=np.int32(0)), [ingest._FileState("x", "n", "x", {}, False)], "default", ingest.DEFAULT
    )
    values = values_from_output(events)
    got = set(zip(values["label"], values["value"], values["uom"]))
    assert {("load", 7.2, ""), ("users", 3.0, ""), ("/var", 512.0, "MB")} <= got


def test_only_short_heads_and_lines_are_remembered():
    """A hostile 1 MB field must not be kept: 65 k of them would be 65 GB. A host name is
    keyed apart from the head by the splitter (the head keeps a placeholder); a long state
    stays in the head, which is then parsed and not remembered."""
    ingest._parse_head.memo.cache_clear()
    ingest._parse_whole.memo.cache_clear()
    long_name = b"h" * (ingest.MEMO_BYTES + 1)
    buffer = (
        b"[1700000000] SERVICE ALERT: " + long_name + b";s;CRITICAL;HARD;1;out\n"
        b"[1700000001] SERVICE ALERT: h;s;OK;HARD;1;out\n"
        b"[1700000002] EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;h;s;2;1;1;alice;" + long_name + b"\n"
        b"[1700000003] EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;h;s;2;1;1;alice;short\n"
        b"[1700000004] SERVICE ALERT: h;s;" + long_name + b";HARD;1;out\n"
    )
    frame, _, unparsed = parse_buffer(buffer)
    assert unparsed == 1 and frame["host"].tolist()[:2] == [long_name.decode(), "h"]
    assert frame["comment"].tolist()[2:] == [long_name.decode(), "short"]
    # The two alerts' heads (host and service cut out) and the commands' one; not the long state's.
    assert ingest._parse_head.memo.cache_info().currsize == 3
    assert ingest._parse_whole.memo.cache_info().currsize == 1


def test_archives_inflate_with_isal_as_with_zlib(tmp_path):
    """The analytics extra brings python-isal; a multi-member archive (``cat a.gz b.gz``)
    gives the bytes zlib gives, and a cut one is still an error."""
    from nagtune.parsers import logfiles

    assert logfiles._gunzip() is not gzip.decompress
    data = gzip.compress(b"[1700000000] SERVICE ALERT: h;s;OK;HARD;1;x\n" * 1000) + gzip.compress(b"second member\n")
    archive = tmp_path / "nagios-01-01-2024-00.log.gz"
    archive.write_bytes(data)
    assert logfiles.read_log(str(archive)) == gzip.decompress(data)
    assert logfiles.read_log(str(archive), 45) == gzip.decompress(data)[45:]
    archive.write_bytes(data[:-9])
    with pytest.raises((EOFError, OSError)):
        logfiles.read_log(str(archive))


_LINE = st.tuples(st.integers(0, 12), st.sampled_from(["OK", "CRITICAL"]), st.sampled_from(["a", "b"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(st.tuples(st.sampled_from(["n1", "n2"]), st.lists(_LINE, max_size=8)), min_size=1, max_size=6),
    with_texts=st.booleans(),
    paths=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_overlapping_files_keep_each_line_as_often_as_the_file_that_has_it_most(files, with_texts, paths):
    """Against the rule by brute force: per node, a line (same second, same text) is kept
    as many times as the one file holding it most often holds it, however the files' spans
    overlap (a live log and its archive, archives that share the rotation second ...).
    Read without texts, lines that differ in their output alone are still told apart,
    whichever path (C splitter or regular expression) read each file."""
    texts = [
        "".join(
            f"[{1_700_000_000 + t}] SERVICE ALERT: h;s;{state};HARD;1;{out}\n" for t, state, out in sorted(lines)
        ).encode()
        for _, lines in files
    ]
    parts = []
    for index, text in enumerate(texts):
        ingest.use_compiled(paths[index])
        part, _, _ = ingest.parse_buffers([text], with_texts)
        parts.append(part.assign(_file=np.int32(index)))
    ingest.use_compiled(True)
    raw = pd.concat(parts, ignore_index=True)
    for column in ingest.RAW_CATEGORIES:
        raw[column] = raw[column].astype("category")
    assert (ingest.TEXT_HASH in raw) != with_texts
    kept, dropped = ingest._drop_overlaps(raw, np.array([node for node, _ in files], dtype=object))
    most: dict = {}
    for index, (node, lines) in enumerate(files):
        for line in set(lines):
            most[node, line] = max(most.get((node, line), 0), lines.count(line))
    assert len(kept) == sum(most.values()) and dropped == len(raw) - len(kept)


@settings(max_examples=300, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 12), st.integers(0, 6)), max_size=9))
def test_first_covered_second_of_each_span_against_brute_force(spans):
    """The overlap check compares only rows between the first and last second of their file's
    span that another file of the node covers: each span's earliest such second, by brute
    force over every second, ties, nesting and spans of one second included."""
    node = np.array([n for n, _, _ in spans], dtype=np.int64)
    low = np.array([start for _, start, _ in spans], dtype=np.int64)
    high = low + np.array([length for _, _, length in spans], dtype=np.int64)
    expected = []
    for i, (n, start, length) in enumerate(spans):
        covered = [
            t
            for t in range(start, start + length + 1)
            if any(j != i and node[j] == n and low[j] <= t <= high[j] for j in range(len(spans)))
        ]
        expected.append(covered[0] if covered else -1)
    assert ingest._first_covered(node, low, high).tolist() == expected


def test_real_path_is_realpath(tmp_path, monkeypatch):
    """Directories resolved once, yet the very string os.path.realpath gives: through a
    symlinked directory, a symlinked file, ``..`` after a symlink, relative paths."""
    from nagtune.parsers.logfiles import _real_directory, real_path

    (tmp_path / "real" / "archives").mkdir(parents=True)
    (tmp_path / "real" / "archives" / "a.log").write_text("x\n")
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "archives" / "b.log").symlink_to(tmp_path / "elsewhere" / "deep")
    (tmp_path / "real" / "deeplink").symlink_to(tmp_path / "elsewhere" / "deep")
    monkeypatch.chdir(tmp_path)
    _real_directory.cache_clear()
    for path in (
        "real/archives/a.log",
        "link/archives/a.log",
        str(tmp_path / "link" / "archives" / "a.log"),
        "link/archives/b.log",
        "real/deeplink/../x.log",
        "link/archives/../archives/a.log",
        "missing/file.log",
        "./real/archives/a.log",
    ):
        assert real_path(path) == os.path.realpath(path), path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(buffer=log_buffer)
def test_without_texts_the_same_rows_and_one_hash_per_text_on_both_paths(buffer):
    """texts=False: the rows of texts=True without output, author and comment, and in their
    place one 64-bit hash per distinct (output, author, comment), the same from the C
    splitter (over the buffer's bytes) and from the regular expression (over the strings)."""
    valid = buffer.decode("utf-8", "replace").encode("utf-8")
    with_texts, _, _ = ingest.parse_buffers([valid])
    by_path = {}
    for compiled in (True, False):
        ingest.use_compiled(compiled)
        by_path[compiled], _, _ = ingest.parse_buffers([valid], with_texts=False)
    ingest.use_compiled(True)
    hashed = by_path[True]
    assert [c for c in hashed.columns if c != ingest.TEXT_HASH] == [
        c for c in with_texts.columns if c not in ingest.TEXT_COLUMNS
    ]
    assert hashed[ingest.TEXT_HASH].tolist() == by_path[False][ingest.TEXT_HASH].tolist()
    pd.testing.assert_frame_equal(
        hashed.drop(columns=ingest.TEXT_HASH), with_texts.drop(columns=ingest.TEXT_COLUMNS), check_categorical=False
    )
    triples = list(zip(*(with_texts[c].tolist() for c in ingest.TEXT_COLUMNS)))
    pairs = set(zip(triples, hashed[ingest.TEXT_HASH].tolist()))
    assert len(pairs) == len(set(triples)) == len({h for _, h in pairs})


def test_text_hashes_are_the_c_hash_of_the_bytes():
    texts = ["", "a", "12345678", "123456789", "héllo wörld ✓" * 9, "x\udcff"]
    encoded = [t.encode("utf-8", "surrogateescape") for t in texts]
    ends = np.cumsum([len(e) for e in encoded]).astype(np.int64)
    starts = ends - np.array([len(e) for e in encoded], dtype=np.int64)
    c = np.frombuffer(ingest._fastingest.hash_spans(b"".join(encoded), starts, ends), dtype=np.uint64)
    assert ingest.text_hashes(texts).tolist() == c.tolist()
    assert len(set(c.tolist())) == len(texts)
    # author and comment count, and an output with them differs from the output alone
    assert len({*ingest.text_hashes(["o", "o", "o"], ["", "a", ""], ["", "", "a"]).tolist()}) == 3


def test_load_without_texts_gives_the_rows_with_texts(tmp_path):
    """The same events (the overlap of a live log and its archive included) without the three
    text columns; a cache directory keeps the texts whatever texts says."""
    node = _node(tmp_path)
    lines = [
        f"[{1700000000 + 60 * i}] SERVICE ALERT: h;s;{'CRITICAL' if i % 2 else 'OK'};HARD;1;out {i}\n"
        for i in range(40)
    ]
    with open(os.path.join(node, "archives", "nagios-11-14-2023-00.log"), "w") as handle:
        handle.writelines(lines[:30])
    with open(os.path.join(node, "nagios.log"), "w") as handle:  # overlaps by 10 lines, one with another output
        handle.writelines(lines[20:29] + [lines[29].replace("out 29", "out twenty-nine")] + lines[30:])
    full = load_events([node])
    lean = load_events([node], texts=False)
    assert full.attrs["duplicates"] == lean.attrs["duplicates"] == 9
    assert list(lean.columns) == [c for c in EVENT_COLUMNS if c not in ingest.TEXT_COLUMNS]
    pd.testing.assert_frame_equal(lean, full.drop(columns=ingest.TEXT_COLUMNS))
    cached = load_events([node], texts=False, cache_dir=str(tmp_path / "cache"))
    pd.testing.assert_frame_equal(cached, full)


def test_output_spans_refuses_rows_and_keys_outside_its_columns():
    """The C output-span pass reads columns by row and tables by key: an index outside them is
    an error, never a read past a buffer."""
    spans = ingest._fastingest.output_spans
    one_line = [np.zeros(1, np.int32), np.zeros(1, np.int64), np.ones(1, np.int64) * 9, np.ones(1, np.int64) * 9]
    tables = [np.ones(1, np.int64), np.zeros(1, np.uint8), np.zeros(1, np.uint8)]
    starts, ends = spans(np.zeros(1, np.int64), *one_line, *tables)
    assert np.frombuffer(starts, np.int64).tolist() == [9] and np.frombuffer(ends, np.int64).tolist() == [9]
    with pytest.raises(IndexError):
        spans(np.array([1], np.int64), *one_line, *tables)
    with pytest.raises(IndexError):
        spans(np.zeros(1, np.int64), np.array([1], np.int32), *one_line[1:], *tables)
    with pytest.raises(ValueError):
        spans(np.zeros(1, np.int64), *one_line, np.ones(2, np.int64), *tables[1:])
