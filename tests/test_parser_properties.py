"""Properties of the node-side parsing that must hold for any input at all."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nagtune.parsers import scan as scan_module
from nagtune.parsers.events import KINDS, UNPARSED, Event
from nagtune.parsers.identity import identify
from nagtune.parsers.metrics import MetricNamer, metric_key
from nagtune.parsers.nagios import parse_line
from nagtune.parsers.names import NameRegistry, metric_component, metric_prefix
from nagtune.parsers.scan import reference_scan, scan


def test_the_compiled_scanner_was_built():
    # The install builds it when a C compiler is there, and CI has one: a
    # missing build must fail here rather than quietly test the fallback twice.
    assert scan_module._fastscan is not None, "parsers/_fastscan.c was not built (pip install -e . with gcc)"


def test_nagtune_pure_python_chooses_the_python_scanner():
    import os
    import subprocess
    import sys

    probe = "from nagtune.parsers import scan; print(scan._tally.__name__, scan.plaintext.__name__)"
    chosen = {
        value: subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "NAGTUNE_PURE_PYTHON": value},
        ).stdout.split()
        for value in ("1", "")
    }
    assert chosen == {"1": ["_tally_in_python", "_plaintext_in_python"], "": ["_tally_compiled", "plaintext"]}


def both_scanners(buffer: bytes) -> list:
    """scan(buffer) by the C scanner and by the pure-Python one."""
    results = []
    try:
        for compiled in (True, False):
            assert scan_module.use_compiled(compiled) == compiled
            results.append(scan(buffer))
    finally:
        scan_module.use_compiled(True)
    return results


# Fields drawn from what hostile monitored machines can put in a log line.
hostile_text = (
    st.binary(max_size=12).filter(lambda b: b"\n" not in b)
    | st.sampled_from(
        [b"", b" ", b";", b"\r", b"\xff\xfe", b"na\xc3\xafve", b"<script>", b"a.b", b"]", b"[1] ", b"x=1;", b"\x00"]
    )
    | st.text(alphabet="ab; .:\r\t<>&=é", max_size=8).map(lambda s: s.encode())
)
state = st.sampled_from(
    [
        b"OK",
        b"WARNING",
        b"CRITICAL",
        b"UNKNOWN",
        b"UP",
        b"DOWN",
        b"UNREACHABLE",
        b"STARTED",
        b"STOPPED",
        b"CANCELLED",
        b"DISABLED",
        b"BOGUS",
        b"ok",
        b"",
    ]
)
notification_state = state | st.sampled_from(
    [
        b"ACKNOWLEDGEMENT (CRITICAL)",
        b"FLAPPINGSTART (OK)",
        b"DOWNTIMESTART (UP)",
        b"CUSTOM (WARNING)",
        b"ACKNOWLEDGEMENT",
        b"PROBLEM (OK)",
        b"CUSTOM (",
        b"RECOVERY",
    ]
)
state_type = st.sampled_from([b"SOFT", b"HARD", b"soft", b""])
attempt = st.sampled_from([b"1", b"3", b"10", b"x", b"", b"\xb2", b"1\r"])
stamp = st.sampled_from(
    [
        b"[1700000000] ",
        b"[1700000061] ",
        b"[5] ",
        b"[999999999999] ",
        b"[9999999999] ",
        b"[1234567890123] ",
        b"[x] ",
        b"",
        b"[1700000000]",
    ]
)
kind = st.sampled_from(
    [
        b"SERVICE ALERT",
        b"HOST ALERT",
        b"SERVICE NOTIFICATION",
        b"HOST NOTIFICATION",
        b"SERVICE FLAPPING ALERT",
        b"HOST FLAPPING ALERT",
        b"SERVICE DOWNTIME ALERT",
        b"HOST DOWNTIME ALERT",
        b"CURRENT SERVICE STATE",
        b"EXTERNAL COMMAND",
        b"LOG ROTATION",
        b"Warning",
        b"wproc",
        b"SERVICE EVENT HANDLER",
        b"GLOBAL HOST EVENT HANDLER",
        b"PASSIVE SERVICE CHECK",
        b"PASSIVE HOST CHECK",
        b"INITIAL HOST STATE",
        b"CURRENT HOST STATE",
        b"TIMEPERIOD TRANSITION",
    ]
)


@st.composite
def log_line(draw):
    head = draw(stamp) + draw(kind) + draw(st.sampled_from([b": ", b":", b" "]))
    command = draw(st.sampled_from([b"ACKNOWLEDGE_SVC_PROBLEM", b"ACKNOWLEDGE_HOST_PROBLEM", b"DEL_SVC_DOWNTIME"]))
    fields = draw(
        st.lists(
            st.one_of(hostile_text, state, notification_state, state_type, attempt, st.just(command)),
            min_size=0,
            max_size=8,
        )
    )
    line = head + b";".join(fields)
    return draw(st.sampled_from([line, line + b"\r", draw(st.binary(max_size=40)).replace(b"\n", b"")]))


@st.composite
def well_formed_line(draw, stamps=stamp):
    """Lines of the shipped kinds with the right shape but hostile names and edges."""
    name = hostile_text.filter(lambda b: b";" not in b)
    host, service, contact = draw(name), draw(name), draw(name)
    output = draw(hostile_text)
    ending = draw(st.sampled_from([b"", b"\r", b"\r\r", b";" + output, b";" + output + b"\r"]))
    shapes = [
        b"SERVICE ALERT: %s;%s;%s;%s;%s" % (host, service, draw(state), draw(state_type), draw(attempt)),
        b"HOST ALERT: %s;%s;%s;%s" % (host, draw(state), draw(state_type), draw(attempt)),
        b"SERVICE NOTIFICATION: %s;%s;%s;%s;cmd" % (contact, host, service, draw(notification_state)),
        b"HOST NOTIFICATION: %s;%s;%s;cmd" % (contact, host, draw(notification_state)),
        b"SERVICE FLAPPING ALERT: %s;%s;%s" % (host, service, draw(state)),
        b"HOST DOWNTIME ALERT: %s;%s" % (host, draw(state)),
        b"EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;%s;%s;2;1;1;alice;x" % (host, service),
        b"EXTERNAL COMMAND: ACKNOWLEDGE_HOST_PROBLEM;%s" % host,
        b"SERVICE EVENT HANDLER: %s;%s;%s;%s;%s;restart-it"
        % (host, service, draw(state), draw(state_type), draw(attempt)),
        b"HOST NOTIFICATION: %s;%s;CUSTOM (DOWN);cmd;out;%s;%s" % (contact, host, draw(name), draw(name)),
    ]
    return draw(stamps) + draw(st.sampled_from(shapes)) + ending


@st.composite
def time_ordered_buffer(draw):
    """A busy node's log: stamps in ascending order over a few minutes, each
    line shipped, hostile or other; bases near a minute boundary, with zero
    padding, and where the next minute needs one more digit."""
    base = draw(st.sampled_from([1_700_000_000, 1_699_999_990, 9_999_999_930, 1000]))
    offsets = sorted(draw(st.lists(st.integers(0, 70), min_size=24, max_size=40)))
    lines = [draw(well_formed_line(st.just(b"[%010d] " % (base + offset))) | log_line()) for offset in offsets]
    return b"\n".join(lines)


log_buffer = st.lists(log_line() | well_formed_line(), max_size=25).map(lambda lines: b"\n".join(lines)) | st.binary(
    max_size=300
)


@given(st.binary(max_size=400) | st.text(max_size=200))
def test_parse_line_never_raises_and_returns_an_event(raw):
    event = parse_line(raw)
    assert isinstance(event, Event)
    assert event.kind in KINDS
    if event.time is None:
        assert event.kind == UNPARSED


def _lines_of(buffer: bytes) -> list[bytes]:
    """The lines the reference parser sees: a final newline ends a line, it starts none."""
    lines = buffer.split(b"\n")
    if buffer.endswith(b"\n"):
        lines.pop()
    return lines if buffer else []


@settings(max_examples=400)
@given(log_buffer, st.booleans())
def test_fast_scan_agrees_with_the_reference_parser(buffer, trailing_newline):
    if trailing_newline and buffer:
        buffer += b"\n"
    slow = reference_scan(_lines_of(buffer))
    for fast in both_scanners(buffer):
        assert slow.lines == fast.lines
        assert slow.unparsed == fast.unparsed
        assert slow.counts() == fast.counts()
        assert slow.shipped == fast.shipped == sum(fast.counts().values())


def _without_contact(text: bytes) -> bytes:
    """The Python scanner's notification text as the C one keeps it (no contact)."""
    for kind in (b"SERVICE NOTIFICATION: ", b"HOST NOTIFICATION: "):
        if text.startswith(kind):
            return kind + text[text.index(b";", len(kind)) :]
    return text


def python_tally_as_c_keeps_it(buffer: bytes) -> tuple[dict, list, int, int]:
    """The pure-Python tally of ``buffer`` with texts as the C one keeps them:
    ({minute: {text: lines}}, distinct texts in order, lines, matched)."""
    by_minute, texts, lines, matched = scan_module._tally_in_python(buffer)
    merged: dict = {}
    for minute_index, block in by_minute.items():
        into = merged.setdefault(minute_index, {})
        for text, count in block.items():
            into[_without_contact(text)] = into.get(_without_contact(text), 0) + count
    return merged, list(dict.fromkeys(map(_without_contact, texts))), lines, matched


@settings(max_examples=400)
@given(log_buffer | time_ordered_buffer(), st.booleans())
def test_the_c_tally_reads_each_line_as_the_python_pattern_does(buffer, trailing_newline):
    # Stricter than the agreement with the reference parser: every line the
    # pattern takes, shipped or not (unparsed shipped types, other stamped
    # lines), under the same text, in the same minute, in the same order.
    if trailing_newline and buffer:
        buffer += b"\n"
    if not buffer:
        return
    by_minute, texts, lines, matched = scan_module._tally_compiled(buffer)
    expected, expected_texts, expected_lines, expected_matched = python_tally_as_c_keeps_it(buffer)
    assert (lines, matched) == (expected_lines, expected_matched)
    assert texts == expected_texts
    assert list(by_minute) == list(expected)
    assert {m: list(b.items()) for m, b in by_minute.items()} == {m: list(b.items()) for m, b in expected.items()}


# Thirty-odd lines per example (the bisecting path needs several lines per minute).
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(time_ordered_buffer())
def test_fast_scan_of_a_log_in_time_order_agrees_with_the_reference_parser(buffer):
    # Stamps in order take the bisecting path; it must equal the any-order one.
    matches = scan_module._line_patterns()[0].findall(b"\n" + buffer)
    epochs, texts = [m[0] for m in matches], [m[1] for m in matches]
    if scan_module._in_time_order(epochs):
        assert scan_module._count_sorted(epochs, texts) == scan_module._count_runs(epochs, texts)
    slow = reference_scan(_lines_of(buffer))
    for fast in both_scanners(buffer):
        assert (slow.lines, slow.unparsed, slow.shipped) == (fast.lines, fast.unparsed, fast.shipped)
        assert slow.counts() == fast.counts()


def test_most_time_ordered_buffers_take_the_bisecting_path():
    # Guards the test above against testing only the any-order path.
    from hypothesis import find

    found = find(
        time_ordered_buffer(),
        lambda buffer: scan_module._in_time_order(
            [m[0] for m in scan_module._line_patterns()[0].findall(b"\n" + buffer)]
        ),
    )
    assert found


@given(st.text(max_size=60))
def test_metric_components_are_always_graphite_safe(raw):
    name = metric_component(raw)
    assert re.fullmatch(r"[a-z0-9_-]+", name)
    assert len(name) <= 120


@given(st.text(max_size=40))
def test_prefix_cannot_add_lines_spaces_or_tags(raw):
    prefix = metric_prefix(raw)
    assert re.fullmatch(r"([a-z0-9_-]+(\.[a-z0-9_-]+)*)?", prefix)


@given(st.lists(st.text(max_size=20), max_size=30))
def test_registry_never_merges_two_raw_names(raws):
    registry = NameRegistry()
    names = {raw: registry.safe(raw) for raw in raws}
    by_name = {}
    for raw, name in names.items():
        by_name.setdefault(name, set()).add(raw)
    assert all(len(owners) == 1 for owners in by_name.values())


@settings(max_examples=200)
@given(log_line(), st.sampled_from([False, True]))
def test_every_metric_line_is_one_safe_graphite_line(line, tags):
    event = parse_line(line)
    key = metric_key(event)
    if key is None:
        return
    namer = MetricNamer(
        identify("nagios-c0001-01\n evil.host", environment="te st;x=y"), prefix="na gios\nforged 1 1", tags=tags
    )
    name = namer.name(key)
    assert re.fullmatch(r"[A-Za-z0-9_.;=-]+", name), name
    assert " " not in name and "\n" not in name
