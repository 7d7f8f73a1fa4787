"""How long a config-repo patch takes on a fleet-sized repository.

Generates a repository shaped like data/config-repo at scale (common/cell
templates, CELLS cells of HOSTS hosts with SERVICES host_name services each
plus a hostgroup service), then times plan_patch for SUGGESTIONS suggestions
spread over the cells (read, resolve every node, plan, verify every node).

    python bench/bench_confrepo.py --cells 3 --hosts 2000 --services 10 --suggestions 40
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from nagtune.analytics.confrepo import plan_patch

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "data" / "config-repo" / "common" / "cell"


def generate(root: Path, cells: int, hosts: int, services: int) -> None:
    shutil.copytree(EXAMPLE, root / "common" / "cell")
    nodes = []
    for c in range(1, cells + 1):
        cell = f"c{c:04d}"
        home = root / "environments" / "test" / cell
        home.mkdir(parents=True)
        nodes.append(f'[nodes."nagios-{cell}-01"]\ndirs = ["common/cell", "environments/test/{cell}"]\n')
        host_text, service_text = [], []
        for h in range(hosts):
            host_text.append(
                f"define host {{\n    use             hypervisor-host\n    host_name       "
                f"hv-{cell}-{h:05d}\n    address         127.0.0.1\n}}\n\n"
            )
            for s in range(services):
                template = ("hypervisor-disk-service", "cell-service", "database-service")[s % 3]
                service_text.append(
                    f"define service {{\n    use                     {template}\n    host_name               "
                    f"hv-{cell}-{h:05d}\n    service_description     Disk /data{s}\n    check_command           "
                    f"check_disk!20%!10%!/data{s}\n}}\n\n"
                )
        (home / "hosts.cfg").write_text("".join(host_text))
        (home / "services.cfg").write_text("".join(service_text))
    (root / "nagtune-nodes.toml").write_text("\n".join(nodes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--services", type=int, default=10)
    ap.add_argument("--suggestions", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nagtune-bench-confrepo-"))
    try:
        generate(work, args.cells, args.hosts, args.services)
        rng = random.Random(1)
        rows = []
        for _ in range(args.suggestions):
            cell = f"c{rng.randint(1, args.cells):04d}"
            host = f"hv-{cell}-{rng.randrange(args.hosts):05d}"
            s = rng.randrange(args.services)
            rows.append(
                dict(
                    node=f"nagios-{cell}-01",
                    host=host,
                    service=f"Disk /data{s}",
                    directive="warning threshold (-w)",
                    current="20%",
                    suggested="15%",
                )
            )
        start = time.perf_counter()
        result = plan_patch(work, rows)
        seconds = time.perf_counter() - start
        print(
            f"cells={args.cells} hosts/cell={args.hosts} services={result.checked_services} "
            f"suggestions={args.suggestions} changes={sum(d.scope != 'unchanged' for d in result.decisions)} "
            f"refused={len(result.refusals)} seconds={seconds:.2f}"
        )
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
