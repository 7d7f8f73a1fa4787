"""Alert counts per host and service agree with Nagios' own summary report.

Nagios 4's ``summary.cgi`` (Debian ``nagios4-cgi``), run directly as a CGI
program on each real sample node's log and archives, produces its "Top Alert
Producers" table (every producer, all states and state types). nagtune's
counts of SERVICE ALERT and HOST ALERT lines per host and service, from the
same events frame the ranking uses, must equal it.

The CGI reads archives by the names the hourly rotation gives them and cannot
read gzip, so each node is copied with its ``.gz`` archive decompressed.
"""

from __future__ import annotations

import gzip
import html
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from nagtune.analytics.run import api

pytestmark = pytest.mark.slow

SUMMARY_CGI = Path("/usr/lib/cgi-bin/nagios4/summary.cgi")
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
NODES = sorted(p.name for p in SAMPLES.glob("nagios-*") if (p / "nagios.log").exists())
REPORT_TOP_ALERTS = 3  # displaytype of summary.c


def test_samples_and_cgi_are_here():
    assert len(NODES) >= 3, "data/samples has the real Nagios 4 sample nodes"
    assert SUMMARY_CGI.exists(), "nagios4-cgi is installed by scripts/install-test-deps.sh"


def cgi_copy(node: str, where: Path) -> Path:
    """The node's log set as the CGI reads it: archives plain, not gzipped."""
    copy = where / node
    shutil.copytree(SAMPLES / node, copy)
    for packed in (copy / "archives").glob("*.gz"):
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    (where / "nagios.cfg").write_text(
        f"log_file={copy}/nagios.log\nlog_archive_path={copy}/archives\nlog_rotation_method=h\n"
        f"object_cache_file={copy}/objects.cache\nstatus_file={where}/status.dat\n"
    )
    (where / "cgi.cfg").write_text(
        f"main_config_file={where}/nagios.cfg\nphysical_html_path=/usr/share/nagios4/htdocs\n"
        "url_html_path=/nagios4\nuse_authentication=0\n"
    )
    return copy


def top_alert_producers(where: Path, since: int) -> Counter:
    """summary.cgi's Top Alert Producers from ``since`` to now: (host, service or '') -> alerts."""
    # t2 after now: the CGI then reads the live log as well as the archives.
    query = (
        f"report=1&displaytype={REPORT_TOP_ALERTS}&timeperiod=custom&t1={since}&t2={int(time.time()) + 3600}&limit=0"
    )
    env = {"TZ": "UTC", "NAGIOS_CGI_CONFIG": str(where / "cgi.cfg"), "REQUEST_METHOD": "GET", "QUERY_STRING": query}
    page = subprocess.run([str(SUMMARY_CGI)], env=env, capture_output=True, check=True, timeout=60).stdout
    page = page.decode("utf-8", "replace")
    assert "Top Alert Producers" in page, page[-500:]
    counts = Counter()
    for row in re.findall(r"<tr CLASS='data\w*'>(.*?)</tr>", page, flags=re.S):
        cells = [html.unescape(re.sub(r"<[^>]*>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        _, producer, host, service, total = cells
        counts[(host, "" if producer == "Host" else service)] += int(total)
    return counts


@pytest.mark.parametrize("node", NODES)
def test_alert_counts_equal_nagios_summary_cgi(tmp_path, node):
    events = api.analyze([str(SAMPLES / node)]).events
    alerts = events[events["kind"].astype(str).isin(["service_alert", "host_alert"]).to_numpy()]
    ours = Counter()
    for (host, service), count in (
        alerts.groupby([alerts["host"].astype(str), alerts["service"].astype(str)]).size().items()
    ):
        if count:
            ours[(host, service)] = int(count)
    since = int(events["time"].min().timestamp()) - 1

    cgi_copy(node, tmp_path)
    nagios = top_alert_producers(tmp_path, since)

    assert sum(nagios.values()) > 100  # the CGI really read the log and the archives
    assert ours == nagios


def ranked_counts(table) -> Counter:
    """(host, service or '') -> alerts of a ``rank --by host_service`` table (hosts' rows included)."""
    return Counter({(row.host, row.service): int(row.alerts) for row in table.itertuples() if row.alerts})


HAND_LOGS = Path(__file__).resolve().parent / "hand_logs"
HAND_NODES = ["restarts", "host_outage", "snapshots"]  # see tests/test_findings_hand_logs.py


def objects_cache_for(log: Path, where: Path) -> Path:
    """An objects.cache naming the log's hosts and services (the CGI reads its objects first):
    the timeperiods, commands and contacts of a sample node, then one host and service
    definition per name in the log."""
    sample = (SAMPLES / "nagios-global01" / "objects.cache").read_text()
    text = log.read_text()
    hosts = set(
        re.findall(
            r"\] (?:HOST ALERT|CURRENT HOST STATE|HOST NOTIFICATION): (?:[^;]*;)?([^;]+);(?:UP|DOWN|UNREACHABLE)", text
        )
    )
    services = set(re.findall(r"\] (?:SERVICE ALERT|CURRENT SERVICE STATE): ([^;]+);([^;]+);", text))
    hosts |= {host for host, _ in services}
    common = "\tcheck_period\t24x7\n\tcontact_groups\tops\n\tnotification_period\t24x7\n\tmax_check_attempts\t3\n"
    parts = [sample[: sample.index("define host {")]]
    parts += [
        f"define host {{\n\thost_name\t{h}\n\talias\t{h}\n\taddress\t127.0.0.1\n\tcheck_command\tscripted!{h}\n"
        f"{common}\t}}\n\n"
        for h in sorted(hosts)
    ]
    parts += [
        f"define service {{\n\thost_name\t{h}\n\tservice_description\t{s}\n\tcheck_command\tscripted!{h}\n"
        f"{common}\t}}\n\n"
        for h, s in sorted(services)
    ]
    cache = where / "objects.cache"
    cache.write_text("".join(parts))
    return cache


def cgi_config(log_dir: Path, where: Path) -> None:
    """A nagios.cfg and cgi.cfg for the CGI to read ``log_dir``'s nagios.log (and archives, if any)."""
    archives = log_dir / "archives"
    archives.mkdir(exist_ok=True)
    cache = objects_cache_for(log_dir / "nagios.log", where)
    (where / "nagios.cfg").write_text(
        f"log_file={log_dir}/nagios.log\nlog_archive_path={archives}\nlog_rotation_method=d\n"
        f"object_cache_file={cache}\nstatus_file={where}/status.dat\n"
    )
    (where / "cgi.cfg").write_text(
        f"main_config_file={where}/nagios.cfg\nphysical_html_path=/usr/share/nagios4/htdocs\n"
        "url_html_path=/nagios4\nuse_authentication=0\n"
    )


@pytest.mark.parametrize("name", HAND_NODES)
def test_rank_counts_equal_summary_cgi_on_hand_written_logs(tmp_path, name):
    """Restarts, a host outage (alerts under a HARD DOWN host) and snapshots: every alert is
    counted where summary.cgi counts it, hosts and services."""
    copy = tmp_path / name
    shutil.copytree(HAND_LOGS / name, copy)
    cgi_config(copy, tmp_path)
    table = api.rank_logs([str(copy)], by="host_service", processes=1)
    nagios = top_alert_producers(tmp_path, 1)
    assert sum(nagios.values()) >= 4  # the CGI read the log
    assert ranked_counts(table) == nagios


@pytest.mark.parametrize("node", NODES)
def test_rank_counts_equal_nagios_summary_cgi_row_for_row(tmp_path, node):
    """The ranking's own ``alerts`` column, hosts and services, equals summary.cgi's Top Alert Producers."""
    table = api.rank_logs([str(SAMPLES / node)], by="host_service", processes=1)
    hosts = api.rank_logs([str(SAMPLES / node)], by="host", processes=1)
    ours = ranked_counts(table)
    cgi_copy(node, tmp_path)
    nagios = top_alert_producers(tmp_path, 0)
    assert sum(nagios.values()) > 100
    assert ours == nagios
    assert ranked_counts(hosts.assign(service="")) == Counter({k: v for k, v in nagios.items() if k[1] == ""})
