"""graphite-render (the Graphite render API) under gunicorn over a whisper dir."""

from __future__ import annotations

import ctypes.util
import importlib.metadata
import importlib.util
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from .ports import HOST, accepts, free_port
from .process import MissingComponent, ServerProcess

INSTALL_HINT = "run scripts/install-test-deps.sh"


class GraphiteRender(ServerProcess):
    name = "graphite-render"

    def __init__(self, workdir: Path, whisper_dir: Path) -> None:
        super().__init__(workdir)
        for module, package in (
            ("graphite_render", "pip package graphite-render==1.1.8"),
            ("gunicorn", "pip package gunicorn"),
        ):
            if importlib.util.find_spec(module) is None:
                raise MissingComponent(f"{module} is not installed ({package}): {INSTALL_HINT}")
        if ctypes.util.find_library("cairo") is None:
            raise MissingComponent(f"libcairo is not installed (Debian package libcairo2): {INSTALL_HINT}")
        self.whisper_dir = Path(whisper_dir)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.config_path = self.workdir / "graphite-render.yaml"

    def prepare(self) -> None:
        # JSON is YAML. UTC so that from/until given as dates mean the same
        # on every machine.
        self.config_path.write_text(
            json.dumps(
                {
                    "search_index": str(self.workdir / "index"),
                    "whisper": {"directories": [str(self.whisper_dir)]},
                    "time_zone": "UTC",
                }
            )
        )

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            "1",
            "--preload",
            "graphite_render.app:app",
        ]
        # gunicorn 25+ opens a control socket in the working dir unless told not to.
        if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 25:
            cmd.insert(3, "--no-control-socket")
        return cmd

    def env(self) -> dict[str, str]:
        env = super().env()
        env["GRAPHITE_API_CONFIG"] = str(self.config_path)
        return env

    def ready(self) -> bool:
        if not accepts(self.port):
            return False
        try:
            with urllib.request.urlopen(f"{self.url}/metrics/find?query=*", timeout=5) as reply:
                return reply.status == 200
        except OSError:
            return False

    def render(self, target: str, from_ts: int | str, until_ts: int | str) -> list[dict]:
        """``/render?format=json``: ``[{"target": ..., "datapoints": [[value, ts], ...]}]``."""
        query = urllib.parse.urlencode({"target": target, "format": "json", "from": from_ts, "until": until_ts})
        with urllib.request.urlopen(f"{self.url}/render?{query}", timeout=30) as reply:
            return json.load(reply)
