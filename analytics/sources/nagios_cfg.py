"""The node's ``nagios.cfg``: the main settings a replay needs, read, not assumed.

``interval_length`` (the seconds in one interval unit of every
``check_interval``, ``retry_interval``, ``notification_interval``),
the global switches and flap thresholds, and where Nagios writes its
performance data and object cache. A setting the file does not give is
Nagios' own default, and :attr:`NagiosConfig.assumed` names it so a
suggestion can say so in words.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

NAGIOS_DEFAULTS = {
    "interval_length": "60",
    "enable_notifications": "1",
    "enable_flap_detection": "1",
    "low_service_flap_threshold": "20.0",
    "high_service_flap_threshold": "30.0",
}
# Nagios 4.4.6 defaults (include/defaults.h) for what the file does not set. Debian's
# packaged nagios.cfg sets the flap thresholds to 5.0/20.0 explicitly.


class NagiosConfigError(ValueError):
    """A nagios.cfg that cannot be read."""


@dataclass
class NagiosConfig:
    path: str | None
    settings: dict = field(default_factory=dict)
    assumed: list = field(default_factory=list)  # directives taken at Nagios' defaults

    def get(self, name: str) -> str:
        return self.settings.get(name, NAGIOS_DEFAULTS.get(name, ""))

    @property
    def interval_length(self) -> int:
        return int(float(self.get("interval_length")))

    @property
    def enable_flap_detection(self) -> bool:
        return self.get("enable_flap_detection") == "1"

    @property
    def enable_notifications(self) -> bool:
        return self.get("enable_notifications") == "1"

    @property
    def low_flap_threshold(self) -> float:
        return float(self.get("low_service_flap_threshold"))

    @property
    def high_flap_threshold(self) -> float:
        return float(self.get("high_service_flap_threshold"))

    @property
    def perfdata_file(self) -> str | None:
        return self.settings.get("service_perfdata_file") or None

    @property
    def object_cache_file(self) -> str | None:
        return self.settings.get("object_cache_file") or None


def parse_nagios_cfg(text: str, path: str | None = None) -> NagiosConfig:
    """``key=value`` lines (``#`` and ``;`` comments); a repeated key keeps its last value,
    as Nagios does for single-valued settings."""
    settings = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;" or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        settings[key.strip()] = value.strip()
    assumed = [name for name in NAGIOS_DEFAULTS if name not in settings]
    return NagiosConfig(path=path, settings=settings, assumed=assumed)


def load_nagios_cfg(path) -> NagiosConfig:
    """Read ``path`` (a file, or a directory holding ``nagios.cfg``)."""
    path = str(path)
    if os.path.isdir(path):
        path = os.path.join(path, "nagios.cfg")
    try:
        with open(path, encoding="utf-8", errors="backslashreplace") as handle:
            return parse_nagios_cfg(handle.read(), path)
    except OSError as exc:
        raise NagiosConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def find_nagios_cfg(paths) -> str | None:
    """The ``nagios.cfg`` next to the first log file or in the first node directory that has one."""
    for item in [paths] if isinstance(paths, (str, os.PathLike)) else list(paths or []):
        item = str(item)
        folder = item if os.path.isdir(item) else os.path.dirname(os.path.abspath(item))
        candidate = os.path.join(folder, "nagios.cfg")
        if os.path.isfile(candidate):
            return candidate
    return None


def unknown_config() -> NagiosConfig:
    """No nagios.cfg found: every setting at Nagios' defaults, and said so."""
    return NagiosConfig(path=None, settings={}, assumed=list(NAGIOS_DEFAULTS))
