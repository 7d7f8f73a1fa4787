"""Real Nagios 4 on a configuration repository: `nagios4 -v` and its resolved objects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NAGIOS = "/usr/sbin/nagios4"


def main_config(repo: Path, dirs: list[str], work: Path) -> Path:
    """A private nagios.cfg loading ``dirs`` of ``repo`` (its cfg_dir lines), state under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"cfg_dir={repo / d}" for d in dirs] + [
        f"log_file={work}/nagios.log",
        f"object_cache_file={work}/objects.cache",
        f"precached_object_file={work}/objects.precache",
        f"status_file={work}/status.dat",
        f"lock_file={work}/nagios.lock",
        f"temp_file={work}/nagios.tmp",
        f"command_file={work}/nagios.cmd",
        f"query_socket={work}/nagios.qh",
        f"check_result_path={work}",
        f"state_retention_file={work}/retention.dat",
        "nagios_user=root",
        "nagios_group=root",
        "use_syslog=0",
        "illegal_macro_output_chars=`~$&|'\"<>",
    ]
    path = work / "nagios.cfg"
    path.write_text("\n".join(lines) + "\n")
    return path


def verify(config: Path) -> str:
    """`nagios4 -v`: its output; AssertionError when Nagios finds an error."""
    done = subprocess.run([NAGIOS, "-v", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Total Errors:   0" in done.stdout, done.stdout[-2000:]
    return done.stdout


def resolved_services(config: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Nagios' own resolved services (`nagios4 -v -p` writes objects.precache)."""
    precache = config.parent / "objects.precache"
    precache.unlink(missing_ok=True)
    done = subprocess.run([NAGIOS, "-v", "-p", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]
    services, current = {}, None
    for line in precache.read_text().splitlines():
        if line.startswith("define service {"):
            current = {}
        elif line.strip() == "}" and current is not None:
            services[(current["host_name"], current["service_description"])] = current
            current = None
        elif current is not None:
            name, _, value = line.strip().partition("\t")
            current[name] = value.strip()
    return services


def same_value(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


def apply_patch(repo: Path, diff: str, into: Path) -> Path:
    """A copy of ``repo`` with the diff applied by `git apply` (the way a reviewer would)."""
    shutil.copytree(repo, into)
    if diff:
        done = subprocess.run(
            ["git", "apply", "--whitespace=nowarn", "-"],
            input=diff,
            text=True,
            cwd=into,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    return into
