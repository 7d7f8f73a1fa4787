"""Run the real Nagios 4 daemon on scripted check results: the oracle of every replay.

One private ``nagios.cfg`` per run (everything under a temp dir), one host
that is always UP, and per service a plugin that returns the next element
of a finite scripted sequence of exit codes, then OK for ever. A run with
other attempts or intervals sees the same results in the same order, so
what it logs can be compared exactly with what a replay predicts.

The daemon runs in the foreground under libfaketime (``x SPEED`` from a
fixed start), as ``../shared/notes/real-servers.md`` describes, and is
stopped with ``SHUTDOWN_PROGRAM`` through its command file (SIGTERM's log
line is written where libfaketime is not safe).

Each result is ``value;warn;crit`` perfdata of a plugin with ``-w``/``-c``
levels: the exit code is what the scripted value means under those levels
(the tests choose values and levels that agree).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START = "2026-11-02 08:00:00"
START_EPOCH = 1793606400  # START as epoch seconds (UTC)
HOST = "oracle-host"

PLUGIN = r"""#!/bin/sh
# scripted result N of service $1, then OK for ever (shell built-ins only: one process per check)
IFS=
d=$(dirname "$0")/state
read -r n < "$d/$1.count"
echo $((n + 1)) > "$d/$1.count"
read -r total < "$d/$1.len"
if [ "$n" -ge "$total" ]; then
    read -r line < "$d/$1.rest"
else
    read -r line < "$d/$1.steps/$n"
fi
code=${line%%	*}
printf '%s\n' "${line#*	}"
exit "$code"
"""

STATE_WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}

SERVICE_DEFAULTS = {
    "check_interval": 5,
    "retry_interval": 1,
    "max_check_attempts": 3,
    "notification_interval": 0,
    "first_notification_delay": 0,
    "notification_options": "w,u,c,r,f,s",
    "notifications_enabled": 1,
    "flap_detection_enabled": 0,
    "low_flap_threshold": 0,
    "high_flap_threshold": 0,
}


@dataclass
class ScriptedService:
    """A service whose plugin returns ``codes`` in order (then OK), with ``value`` perfdata.

    ``values`` (same length as ``codes``) are printed as ``value=V;warn;crit``;
    default: the exit code itself with levels ``1;2`` (WARNING at 1, CRITICAL at 2).
    """

    name: str
    codes: list[int]
    values: list[float] | None = None
    warn: str = "~:0"
    crit: str = "~:1"
    ok_value: float = 0.0
    directives: dict = field(default_factory=dict)

    def steps(self) -> list[str]:
        values = self.values if self.values is not None else [float(code) for code in self.codes]
        return [
            f"{code}\t{STATE_WORDS[code]} - value {value:g} | value={value:g};{self.warn};{self.crit}"
            for code, value in zip(self.codes, values)
        ]

    def rest(self) -> str:
        return f"0\tOK - value {self.ok_value:g} | value={self.ok_value:g};{self.warn};{self.crit}"


@dataclass
class NagiosRun:
    root: Path
    log: Path
    perfdata: Path
    objects_cache: Path
    nagios_cfg: Path
    checks_run: dict  # service -> how many times its plugin ran


def _nagios_cfg(root: Path, overrides: dict) -> str:
    settings = {
        "log_file": root / "nagios.log",
        "cfg_file": root / "objects.cfg",
        "object_cache_file": root / "objects.cache",
        "precached_object_file": root / "objects.precache",
        "resource_file": root / "resource.cfg",
        "status_file": root / "status.dat",
        "status_update_interval": 60,
        "temp_file": root / "nagios.tmp",
        "temp_path": root / "tmp",
        "lock_file": root / "nagios.lock",
        "check_result_path": root / "checkresults",
        "state_retention_file": root / "retention.dat",
        "retain_state_information": 0,
        "debug_file": root / "nagios.debug",
        "debug_level": 0,
        "nagios_user": "root",
        "nagios_group": "root",
        "check_external_commands": 1,
        "command_file": root / "nagios.cmd",
        "query_socket": root / "nagios.qh",
        "use_syslog": 0,
        "log_rotation_method": "n",
        "log_archive_path": root / "archives",
        "log_notifications": 1,
        "log_service_retries": 1,
        "log_host_retries": 1,
        "log_initial_states": 0,
        "log_current_states": 0,
        "log_external_commands": 1,
        "log_passive_checks": 1,
        "interval_length": 60,
        "max_service_check_spread": 1,
        "max_host_check_spread": 1,
        "service_check_timeout": 3000,
        "host_check_timeout": 3000,
        "notification_timeout": 3000,
        "perfdata_timeout": 3000,
        "event_handler_timeout": 3000,
        "check_for_orphaned_services": 0,
        "check_for_orphaned_hosts": 0,
        "check_for_updates": 0,
        "bare_update_check": 0,
        "execute_service_checks": 1,
        "execute_host_checks": 1,
        "enable_notifications": 1,
        "enable_event_handlers": 0,
        "enable_flap_detection": 1,
        "low_service_flap_threshold": 5.0,
        "high_service_flap_threshold": 20.0,
        "process_performance_data": 1,
        "service_perfdata_file": root / "perfdata.tsv",
        "service_perfdata_file_mode": "a",
        "service_perfdata_file_processing_interval": 0,
        "service_perfdata_file_template": (
            r"DATATYPE::SERVICEPERFDATA\tTIMET::$TIMET$\tHOSTNAME::$HOSTNAME$\tSERVICEDESC::$SERVICEDESC$"
            r"\tSERVICESTATE::$SERVICESTATE$\tSERVICESTATETYPE::$SERVICESTATETYPE$"
            r"\tSERVICEATTEMPT::$SERVICEATTEMPT$\tSERVICEOUTPUT::$SERVICEOUTPUT$\tSERVICEPERFDATA::$SERVICEPERFDATA$"
        ),
        "date_format": "us",
        "illegal_macro_output_chars": "`~$&|'\"<>",
    }
    settings.update(overrides)
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _objects_cfg(root: Path, services: list[ScriptedService]) -> str:
    text = f"""
define command {{
    command_name scripted
    command_line {root}/plugin.sh $ARG1$
}}
define command {{
    command_name always-up
    command_line /bin/true
}}
define command {{
    command_name notify
    command_line /bin/true
}}
define timeperiod {{
    timeperiod_name 24x7
    alias 24x7
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}}
define contact {{
    contact_name oncall
    host_notification_period 24x7
    service_notification_period 24x7
    host_notification_options d,u,r,f,s
    service_notification_options w,u,c,r,f,s
    host_notification_commands notify
    service_notification_commands notify
}}
define host {{
    host_name {HOST}
    address 127.0.0.1
    check_command always-up
    check_interval 60
    retry_interval 1
    max_check_attempts 1
    check_period 24x7
    notification_period 24x7
    notification_interval 0
    contacts oncall
    flap_detection_enabled 0
}}
"""
    for service in services:
        directives = {**SERVICE_DEFAULTS, **service.directives}
        body = "".join(f"    {key} {value}\n" for key, value in directives.items())
        text += (
            f"define service {{\n    host_name {HOST}\n    service_description {service.name}\n"
            f"    check_command scripted!{service.name}\n    check_period 24x7\n"
            f"    notification_period 24x7\n    contacts oncall\n    process_perf_data 1\n{body}}}\n"
        )
    return text


def run_nagios(
    root: Path, services: list[ScriptedService], minutes: float, speed: int = 120, cfg: dict | None = None
) -> NagiosRun:
    """Run nagios4 on ``services`` for ``minutes`` simulated minutes and stop it cleanly.

    Every failure to start or stop is an AssertionError (a missing nagios4 or
    libfaketime fails, never skips).
    """
    nagios = shutil.which("nagios4") or "/usr/sbin/nagios4"
    assert os.path.exists(nagios), "nagios4 not found: apt-get install nagios4-core"
    faketime_lib = next(
        (
            path
            for path in (
                "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
            )
            if os.path.exists(path)
        ),
        None,
    )
    assert faketime_lib, "libfaketime not found: apt-get install faketime"
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "checkresults", "archives", "state"):
        (root / sub).mkdir(exist_ok=True)
    plugin = root / "plugin.sh"
    plugin.write_text(PLUGIN)
    plugin.chmod(0o755)
    for service in services:
        steps = root / "state" / f"{service.name}.steps"
        steps.mkdir(exist_ok=True)
        for index, line in enumerate(service.steps()):
            (steps / str(index)).write_text(line + "\n")
        (root / "state" / f"{service.name}.len").write_text(f"{len(service.codes)}\n")
        (root / "state" / f"{service.name}.count").write_text("0\n")
        (root / "state" / f"{service.name}.rest").write_text(service.rest() + "\n")
    (root / "resource.cfg").write_text("$USER1$=/bin\n")
    (root / "objects.cfg").write_text(_objects_cfg(root, services))
    cfg_path = root / "nagios.cfg"
    cfg_path.write_text(_nagios_cfg(root, cfg or {}))
    verify = subprocess.run([nagios, "-v", str(cfg_path)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, f"nagios4 -v rejected the config:\n{verify.stdout[-3000:]}"
    env = {
        **os.environ,
        "TZ": "UTC",
        "LD_PRELOAD": faketime_lib,
        "FAKETIME": f"@{START} x{speed}",
        "FAKETIME_DONT_RESET": "1",
        "FAKETIME_NO_CACHE": "1",
    }
    daemon = subprocess.Popen(
        [nagios, str(cfg_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
        start_new_session=True,
    )
    try:
        time.sleep(minutes * 60.0 / speed)
        assert daemon.poll() is None, f"nagios4 exited early ({daemon.returncode}); see {root}/nagios.log"
        command = root / "nagios.cmd"
        deadline = time.monotonic() + 30
        while not command.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(command, "w") as pipe:
            pipe.write(f"[{int(time.time())}] SHUTDOWN_PROGRAM\n")
        daemon.wait(timeout=60)
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    checks_run = {service.name: int((root / "state" / f"{service.name}.count").read_text()) for service in services}
    return NagiosRun(
        root=root,
        log=root / "nagios.log",
        perfdata=root / "perfdata.tsv",
        objects_cache=root / "objects.cache",
        nagios_cfg=cfg_path,
        checks_run=checks_run,
    )


def logged(run: NagiosRun, service: str) -> dict:
    """What Nagios logged for ``service``: alert, notification and flapping lines (the text after the kind)."""
    out = {"alerts": [], "notifications": [], "flapping": []}
    for line in run.log.read_text().splitlines():
        _, _, text = line.partition("] ")
        kind, _, rest = text.partition(": ")
        fields = rest.split(";")
        if kind == "SERVICE ALERT" and fields[1] == service:
            out["alerts"].append(rest)
        elif kind == "SERVICE NOTIFICATION" and fields[2] == service:
            out["notifications"].append(rest)
        elif kind == "SERVICE FLAPPING ALERT" and fields[1] == service:
            out["flapping"].append(rest)
    return out
