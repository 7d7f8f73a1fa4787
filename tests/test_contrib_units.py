"""contrib/: the systemd units and the cron file an operator installs on each node."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SYSTEMD = REPO / "contrib" / "systemd"
UNITS = [SYSTEMD / "nagtune-collect.service", SYSTEMD / "nagtune-collect.timer"]
CRON = REPO / "contrib" / "cron" / "nagtune-collect"


def settings(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def verify(*paths: Path) -> subprocess.CompletedProcess:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail(
            "systemd-analyze is missing (Debian package systemd): run scripts/install-test-deps.sh", pytrace=False
        )
    return subprocess.run([analyze, "verify", *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_systemd_analyze_verify_passes_without_a_word():
    # An unknown key is only a warning (exit 0): any output counts as a failure.
    result = verify(*UNITS)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: the same units with one misspelt key and one bad calendar."""
    for unit in UNITS:
        (tmp_path / unit.name).write_text(
            unit.read_text()
            .replace("NoNewPrivileges=", "NoNewPrivilege=")
            .replace("OnCalendar=minutely", "OnCalendar=every-minute")
        )
    result = verify(*(tmp_path / unit.name for unit in UNITS))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "NoNewPrivilege" in output and "every-minute" in output


def test_the_service_runs_as_nagios_with_its_state_dir_and_hardening():
    service = settings(UNITS[0])
    assert service["User"] == ["nagios"]
    assert service["StateDirectory"] == ["nagtune"]
    assert service["ReadWritePaths"] == ["/var/lib/nagtune"]
    for key, value in (
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
    ):
        assert service[key] == [value], key
    assert service["SuccessExitStatus"] == ["75"]  # spooled: the next run sends it
    assert " collect " in service["ExecStart"][0]


def test_the_timer_fires_every_minute_spread_over_the_minute():
    timer = settings(UNITS[1])
    assert timer["OnCalendar"] == ["minutely"]
    assert 0 < int(timer["RandomizedDelaySec"][0]) < 60
    assert timer["FixedRandomDelay"] == ["yes"]


def cron_entries() -> list[str]:
    lines = [line for line in CRON.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [line for line in lines if not re.match(r"^[A-Z_]+=", line)]


def test_the_cron_file_runs_as_nagios_with_stderr_to_a_log_file():
    (entry,) = cron_entries()
    fields = entry.split(None, 6)
    assert fields[:5] == ["*"] * 5 and fields[5] == "nagios"
    command = fields[6]
    assert " collect " in command
    assert command.rstrip().endswith("2>>/var/log/nagtune/collect.log")
    # cron turns an unescaped % into a newline: every % must be written \%.
    assert "%" not in command.replace("\\%", "")


def test_the_cron_delay_is_the_same_each_minute_and_under_45_seconds(tmp_path):
    """The command's delay, run by /bin/sh as cron would (\\% -> %), with sleep replaced by echo."""
    (entry,) = cron_entries()
    command = entry.split(None, 6)[6].replace("\\%", "%")
    delay_part = command.split(";", 1)[0].replace("sleep ", "echo ", 1)
    delays = {
        subprocess.run(["/bin/sh", "-c", delay_part], capture_output=True, text=True, check=True).stdout.strip()
        for _ in range(3)
    }
    assert len(delays) == 1
    assert 0 <= int(delays.pop()) < 45
