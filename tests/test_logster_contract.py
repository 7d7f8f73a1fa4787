"""NagiosLogster driven exactly the way Etsy logster drives a parser.

logster (bin/logster, logster_cli.main) makes ONE instance with
``option_string=--parser-options``, calls ``parse_line`` for every new line
(text lines with their newline, as its tailers yield them), swallows
``LogsterParsingException``, then calls ``get_state(duration)`` once and
hands the MetricObjects to its outputs (graphite: "name value timestamp").
"""

import importlib
import subprocess
import sys
import textwrap

import pytest

from nagtune.parsers import nagios_logster
from nagtune.parsers.identity import identify
from nagtune.parsers.metrics import MetricNamer
from nagtune.parsers.nagios_logster import LogsterParsingException, NagiosLogster
from nagtune.parsers.scan import scan
from tests.golden_cases import GOLDEN

OPTIONS = "--environment test --node nagios-c0001-01 --prefix nagios"


def drive_like_logster(parser_class, option_string, text_lines, duration):
    parser = parser_class(option_string=option_string)
    skipped = 0
    for line in text_lines:
        try:
            parser.parse_line(line)
        except LogsterParsingException:
            skipped += 1
    return parser.get_state(duration), skipped


@pytest.mark.parametrize("duration", [0, 60.0])
def test_logster_run_gives_the_same_metrics_as_the_scanner(duration):
    raw = (GOLDEN / "grammar.log").read_bytes()
    # logster's tailers hand over str lines; Etsy logster itself dies on bytes
    # that are not UTF-8 (its tailer decodes strictly), so give them escaped.
    text_lines = raw.decode("utf-8", "backslashreplace").split("\n")
    text_lines = [line + "\n" for line in text_lines[:-1]] + [text_lines[-1]]
    metrics, skipped = drive_like_logster(NagiosLogster, OPTIONS, text_lines, duration)

    expected = scan(raw).points(MetricNamer(identify("nagios-c0001-01", "test"), "nagios"))
    alert_metrics = [m for m in metrics if ".nagtune." not in m.name]
    assert [(p.name, p.value, p.timestamp) for p in expected] == [(m.name, m.value, m.timestamp) for m in alert_metrics]
    assert all(m.metric_type == "c" for m in alert_metrics)
    # Snapshots, program messages and unparsed lines are skipped, not counted.
    assert skipped == len(text_lines) - sum(p.value for p in expected)
    health = {m.name.rsplit(".", 1)[1]: m.value for m in metrics if ".nagtune." in m.name}
    assert health == {"lines": len(text_lines), "unparsed": 8}


def test_graphite_output_lines_are_what_logster_would_send():
    metrics, _ = drive_like_logster(
        NagiosLogster,
        OPTIONS,
        [
            "[1700000070] SERVICE ALERT: web01.c0001;Disk Space /var;CRITICAL;HARD;3;DISK CRITICAL\n",
            "[1700000071] SERVICE ALERT: web01.c0001;Disk Space /var;CRITICAL;HARD;3;DISK CRITICAL\n",
        ],
        0,
    )
    # logster's GraphiteOutput formats "%s %s %s" % (name, value, timestamp)
    line = "%s %s %s" % (metrics[0].name, metrics[0].value, metrics[0].timestamp)
    assert (
        line
        == "nagios.test.cell.c0001.nagios-c0001-01.service_alerts.web01_c0001.disk_space_var.CRITICAL.HARD 2 1700000040"
    )


def test_bad_parser_option_exits_like_an_optparse_parser():
    with pytest.raises(SystemExit) as exit_info:
        NagiosLogster(option_string="--granularity nonsense")
    assert exit_info.value.code == 2


def test_unrelated_pypi_logster_package_does_not_break_the_import():
    """PyPI's `logster` (a colour-logging library) is installed by the test extra."""
    pypi_logster = importlib.import_module("logster")
    with pytest.raises(ImportError):
        importlib.import_module("logster.logster_helper")
    assert nagios_logster.LogsterParser.__module__ == "nagtune.parsers._logster_helper"
    assert pypi_logster.__file__  # it is really there


def test_etsy_logster_helper_is_used_when_installed(tmp_path):
    """Where Etsy logster is installed, the class must subclass ITS LogsterParser
    and raise ITS exception, or logster would not catch skipped lines."""
    package = tmp_path / "logster"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # The contract surface of logster/logster_helper.py (Etsy logster master).
    (package / "logster_helper.py").write_text(
        textwrap.dedent("""
        class MetricObject(object):
            def __init__(self, name, value, units='', type='float', timestamp=0, metric_type='g'):
                self.name, self.value, self.units, self.type = name, value, units, type
                self.timestamp, self.metric_type = timestamp, metric_type
        class LogsterParser(object):
            pass
        class LogsterParsingException(Exception):
            pass
    """)
    )
    probe = textwrap.dedent("""
        import logster.logster_helper as helper
        from nagtune.parsers.nagios_logster import NagiosLogster
        parser = NagiosLogster(option_string='--node nagios-c0001-01')
        assert isinstance(parser, helper.LogsterParser)
        try:
            parser.parse_line('not a nagios line')
        except helper.LogsterParsingException:
            print('logster exception')
        print(type(parser.get_state(0)[0]).__module__)
    """)
    env_path = f"{tmp_path}"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["logster", "exception", "logster.logster_helper"]
