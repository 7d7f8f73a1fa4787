#!/usr/bin/env python3
"""Real Nagios 4 logs of data/config-repo's cell nodes.

Each node loads the repository's directories (nagtune-nodes.toml) as they
are; every check command's plugin is ``scripted_plugin.sh``, which replays a
known sequence per service, so the retune suggestions these logs lead to are
known in advance (see SCENARIOS below). Runs ``nagios4`` under libfaketime at
x120 (four Nagios hours in two real minutes), stops it with SHUTDOWN_PROGRAM.

    python3 data/config-repo-logs/make_logs.py     # -> data/config-repo-logs/nagios-cNNNN-01/

The three nodes run at once (a few real minutes in all).

Standard library only; needs nagios4-core and libfaketime; runs as root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG_REPO = HERE.parent / "config-repo"
NODES = ("nagios-c0001-01", "nagios-c0002-01", "nagios-c0003-01")
START = "2026-11-02 08:00:00"
SPEED = 120
HOURS = 4
OK, WARNING, CRITICAL = 0, 1, 2

# host, service -> one cycle of exit codes (the sequence repeats); {cell} is the node's cell.
SCENARIOS = {
    # max_check_attempts 4 (template cell-service), retry 1 min: CRITICAL for 5 checks goes
    # HARD and clears one retry later: more attempts keep these problems SOFT.
    ("hv-{cell}-01", "Load"): [OK] * 8 + [CRITICAL] * 5,
    ("hv-{cell}-02", "Load"): [OK] * 8 + [CRITICAL] * 5,
    # max_check_attempts 2 (template hypervisor-disk-service): short CRITICAL blips on every
    # cell's /var disks alike: one change of the template serves them all.
    ("hv-{cell}-01", "Disk /var"): [OK] * 6 + [CRITICAL] * 3,
    ("hv-{cell}-02", "Disk /var"): [OK] * 7 + [CRITICAL] * 3,
    # A long real problem the suggestions must keep catching.
    ("db-{cell}-01", "Postgres connections"): [OK] * 40 + [CRITICAL] * 30,
}


# The value each check reports with its levels, by state (the plugin's perfdata).
PERFDATA = {
    "Load": {OK: "load1=0.8;5;10;0;", CRITICAL: "load1=12.5;5;10;0;"},
    "Disk /var": {OK: "/var=52%;80;90;0;100", CRITICAL: "/var=95%;80;90;0;100"},
    "Postgres connections": {OK: "connections=40;80;95;0;", CRITICAL: "connections=99;80;95;0;"},
}
PERFDATA_TEMPLATE = (
    "DATATYPE::SERVICEPERFDATA\\tTIMET::$TIMET$\\tHOSTNAME::$HOSTNAME$\\tSERVICEDESC::$SERVICEDESC$"
    "\\tSERVICESTATE::$SERVICESTATE$\\tSERVICESTATETYPE::$SERVICESTATETYPE$"
    "\\tSERVICEATTEMPT::$SERVICEATTEMPT$\\tSERVICEOUTPUT::$SERVICEOUTPUT$"
    "\\tSERVICEPERFDATA::$SERVICEPERFDATA$"
)


def _libfaketime() -> str:
    """The library's full path: a bare name is only found where ld.so.conf lists its directory."""
    for directory in ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime"):
        if Path(directory, "libfaketime.so.1").exists():
            return f"{directory}/libfaketime.so.1"
    sys.exit("libfaketime not found (apt: faketime)")


def run(node: str, out: Path) -> None:
    dirs = tomllib.loads((CONFIG_REPO / "nagtune-nodes.toml").read_text())["nodes"][node]["dirs"]
    cell = node.split("-")[1]
    work = Path(tempfile.mkdtemp(prefix="nagtune-confrepo-"))
    plugins, state = work / "plugins", work / "state"
    plugins.mkdir()
    state.mkdir()
    for name in ("check_ping", "check_disk", "check_load", "check_procs", "check_nrpe", "check_ssh"):
        os.symlink(HERE / "scripted_plugin.sh", plugins / name)
    for (host, service), codes in SCENARIOS.items():
        host = host.format(cell=cell)
        key = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{host}__{service}")
        (state / f"{key}.steps").mkdir()
        for index, code in enumerate(codes):
            word = ["OK", "WARNING", "CRITICAL"][code]
            (state / f"{key}.steps" / str(index)).write_text(
                f"{code}\t{service.upper()} {word} - step {index} | {PERFDATA[service][code]}\n"
            )
        (state / f"{key}.len").write_text(f"{len(codes)}\n")
        (state / f"{key}.count").write_text("0\n")
    (work / "resource.cfg").write_text(f"$USER1$={plugins}\n")
    (work / "archives").mkdir()
    (work / "rw").mkdir()
    (work / "checkresults").mkdir()
    settings = [f"cfg_dir={CONFIG_REPO / d}" for d in dirs] + [
        f"resource_file={work}/resource.cfg",
        f"log_file={work}/nagios.log",
        f"log_archive_path={work}/archives",
        f"object_cache_file={work}/objects.cache",
        f"precached_object_file={work}/objects.precache",
        f"status_file={work}/status.dat",
        f"lock_file={work}/nagios.lock",
        f"temp_file={work}/nagios.tmp",
        f"temp_path={work}",
        f"command_file={work}/rw/nagios.cmd",
        f"query_socket={work}/rw/nagios.qh",
        f"check_result_path={work}/checkresults",
        f"state_retention_file={work}/retention.dat",
        "retain_state_information=0",
        "nagios_user=root",
        "nagios_group=root",
        "use_syslog=0",
        "check_external_commands=1",
        "log_rotation_method=n",
        "interval_length=60",
        "enable_environment_macros=1",
        "enable_flap_detection=1",
        "service_check_timeout=3000",
        "host_check_timeout=3000",
        "max_service_check_spread=2",
        "max_host_check_spread=2",
        "log_initial_states=0",
        "log_service_retries=1",
        "log_host_retries=1",
        "process_performance_data=1",
        f"service_perfdata_file={work}/service-perfdata.log",
        "service_perfdata_file_mode=a",
        "service_perfdata_file_processing_interval=0",
        f"service_perfdata_file_template={PERFDATA_TEMPLATE}",
        "illegal_macro_output_chars=`~$&|'\"<>",
        "date_format=us",
    ]
    config = work / "nagios.cfg"
    config.write_text("\n".join(settings) + "\n")
    checked = subprocess.run(["nagios4", "-v", str(config)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"{node}: nagios4 -v failed:\n{checked.stdout[-2000:]}")
    env = dict(
        os.environ,
        TZ="UTC",
        LD_PRELOAD=_libfaketime(),
        FAKETIME=f"@{START} x{SPEED}",
        FAKETIME_DONT_RESET="1",
        NAGTUNE_PLUGIN_STATE=str(state),
    )
    nagios = subprocess.Popen(["nagios4", str(config)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(HOURS * 3600 / SPEED)
        stamp = int(time.time())  # the command's time is not checked by Nagios
        with open(work / "rw" / "nagios.cmd", "w") as pipe:
            pipe.write(f"[{stamp}] SHUTDOWN_PROGRAM\n")
        nagios.wait(timeout=60)
    finally:
        if nagios.poll() is None:
            nagios.terminate()
            nagios.wait(timeout=30)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("nagios.log", "objects.cache", "service-perfdata.log"):
        shutil.copy(work / name, out / name)
    # The node's nagios.cfg as it would be deployed: the repository under /etc/nagios4, state
    # under /var/lib/nagios4 (retune reads its intervals, flap thresholds and perfdata file name).
    text = config.read_text().replace(f"{CONFIG_REPO}/", "/etc/nagios4/").replace(f"{work}/", "/var/lib/nagios4/")
    (out / "nagios.cfg").write_text(text.replace(str(work), "/var/lib/nagios4"))
    shutil.rmtree(work)
    print(f"{out}: {sum(1 for _ in open(out / 'nagios.log'))} log lines")


if __name__ == "__main__":
    import threading

    threads = [threading.Thread(target=run, args=(node, HERE / node)) for node in NODES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
