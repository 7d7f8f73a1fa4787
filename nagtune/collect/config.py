"""Collector settings: defaults, then a TOML file, then command-line flags.

Example ``/etc/nagtune/collect.toml``::

    log = "/var/log/nagios4/nagios.log"
    prefix = "nagios"
    environment = "prod"
    granularity = "host_service"
    outputs = ["graphite", "statsd"]
    state_dir = "/var/lib/nagtune"

    [graphite]
    host = "graphite.example.net"
    port = 2003

    [statsd]
    host = "statsd.example.net"
    port = 8125
    max_datagram = 1432
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

DEFAULT_STATE_DIR = "/var/lib/nagtune"
OUTPUT_KINDS = ("graphite", "statsd", "stdout")
GRANULARITIES = ("host_service", "service", "host", "node")


class ConfigError(Exception):
    """A setting that cannot work; the message names the file or flag to fix."""


_DEFAULTS = {
    "log": None,
    "outputs": ["graphite"],
    "prefix": "nagios",
    "environment": "default",
    "node": None,
    "node_class": None,
    "cell": None,
    "cell_pattern": None,
    "granularity": "host_service",
    "tags": False,
    "state_dir": DEFAULT_STATE_DIR,
    "spool_dir": None,  # default: STATE_DIR/spool
    "archive_dirs": [],  # where rotated logs go, besides LOGDIR/archives
    "from_end": False,  # first run: read the live log from its start (False) or its end
    "open_window": 120,  # minutes kept open (re-sent as totals) behind the newest event
    "max_age": 0,  # seconds; warn about points older than this (whisper's retention); 0: off
    "wait": 0.0,  # seconds to wait for a running collector of the same log
    "max_series": 50000,  # open series above which a run warns (state size, carbon load)
    "spool_max_mb": 256,  # per log and output; past it the oldest batches are dropped
    "flush_jitter": 30.0,  # seconds; a spool backlog is sent after a random delay up to this
    "graphite_host": "127.0.0.1",
    "graphite_port": 2003,
    "graphite_timeout": 5.0,
    "graphite_batch": 1000,
    "statsd_host": "127.0.0.1",
    "statsd_port": 8125,
    "statsd_max_datagram": 1432,
}


class Config:
    """The settings of one collector; attributes as in :data:`_DEFAULTS`.

    A plain class, not a dataclass: the cron path does not pay for importing
    :mod:`dataclasses` (and :mod:`inspect`).
    """

    if TYPE_CHECKING:  # the attributes are set from _DEFAULTS: any of its keys

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self, **settings) -> None:
        for key, default in _DEFAULTS.items():
            value = settings.pop(key, default)
            setattr(self, key, list(value) if isinstance(value, list) else value)
        if settings:
            raise TypeError(f"unknown settings: {', '.join(sorted(settings))}")

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{key}={getattr(self, key)!r}" for key in _DEFAULTS) + ")"

    def __eq__(self, other) -> bool:
        return isinstance(other, Config) and all(getattr(self, k) == getattr(other, k) for k in _DEFAULTS)


_TABLES = {"graphite": ("host", "port", "timeout", "batch"), "statsd": ("host", "port", "max_datagram")}
_TOP = set(_DEFAULTS) - {f"{t}_{k}" for t, keys in _TABLES.items() for k in keys}


def _expect(source: str, key: str, value, kind, what: str):
    ok = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{source}: {key} must be {what}, not {value!r}")
    return value


_TYPES = {
    "log": (str, "a path"),
    "prefix": (str, "a string"),
    "environment": (str, "a string"),
    "node": (str, "a hostname"),
    "node_class": (str, "global, cell, mixed or unknown"),
    "cell": (str, "a string"),
    "cell_pattern": (str, "a regular expression"),
    "granularity": (str, "one of " + ", ".join(GRANULARITIES)),
    "tags": (bool, "true or false"),
    "state_dir": (str, "a path"),
    "spool_dir": (str, "a path"),
    "from_end": (bool, "true or false"),
    "open_window": (int, "a number of minutes"),
    "max_age": (int, "a number of seconds"),
    "wait": ((int, float), "a number of seconds"),
    "max_series": (int, "a number of series"),
    "spool_max_mb": (int, "a number of MiB"),
    "flush_jitter": ((int, float), "a number of seconds"),
    "graphite_host": (str, "a hostname"),
    "graphite_port": (int, "a port number"),
    "graphite_timeout": ((int, float), "a number of seconds"),
    "graphite_batch": (int, "a number of lines"),
    "statsd_host": (str, "a hostname"),
    "statsd_port": (int, "a port number"),
    "statsd_max_datagram": (int, "a number of bytes"),
}


def load_file(path: str) -> dict:
    """The settings of a TOML file, flattened (``[graphite] host`` -> ``graphite_host``)."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python < 3.11 (nodes run what their distribution ships): same API
        import tomli as tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    flat: dict = {}
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"config file {path}: [{key}] must be a table")
            for sub, subvalue in value.items():
                if sub not in _TABLES[key]:
                    raise ConfigError(f"config file {path}: unknown key {key}.{sub} (known: {', '.join(_TABLES[key])})")
                flat[f"{key}_{sub}"] = subvalue
        elif key in _TOP:
            flat[key] = value
        else:
            raise ConfigError(
                f"config file {path}: unknown key {key!r} (known: {', '.join(sorted(_TOP | set(_TABLES)))})"
            )
    for key, value in flat.items():
        if key in _TYPES:
            kind, what = _TYPES[key]
            _expect(f"config file {path}", key, value, kind, what)
    if "outputs" in flat:
        if not (isinstance(flat["outputs"], list) and all(isinstance(o, str) for o in flat["outputs"])):
            raise ConfigError(f'config file {path}: outputs must be a list such as ["graphite"]')
    if "archive_dirs" in flat:
        if not (isinstance(flat["archive_dirs"], list) and all(isinstance(o, str) for o in flat["archive_dirs"])):
            raise ConfigError(f"config file {path}: archive_dirs must be a list of paths")
    return flat


def build(file_settings: dict, flags: dict, source: str = "config") -> Config:
    """Defaults < file < flags (a flag left at None does not override)."""
    config = Config()
    for settings in (file_settings, {k: v for k, v in flags.items() if v is not None}):
        for key, value in settings.items():
            setattr(config, key, value)
    for output in config.outputs:
        if output not in OUTPUT_KINDS:
            raise ConfigError(f"--output {output!r} is not one of {', '.join(OUTPUT_KINDS)}")
    if not config.outputs:
        raise ConfigError("no output: give --output graphite, statsd or stdout")
    if config.granularity not in GRANULARITIES:
        raise ConfigError(f"--granularity {config.granularity!r} is not one of {', '.join(GRANULARITIES)}")
    if config.tags and "statsd" in config.outputs:
        raise ConfigError("--tags works with Graphite only: StatsD names cannot carry ';tag=value'")
    if config.open_window < 1:
        raise ConfigError(f"open_window must be at least 1 minute, not {config.open_window}")
    if not 64 <= config.statsd_max_datagram <= 65507:
        raise ConfigError(f"--statsd-max-datagram must be between 64 and 65507 bytes, not {config.statsd_max_datagram}")
    if config.max_series < 1 or config.spool_max_mb < 1 or config.flush_jitter < 0:
        raise ConfigError("--max-series and --spool-max-mb must be at least 1, --flush-jitter at least 0")
    if config.spool_dir is None:
        import os

        config.spool_dir = os.path.join(config.state_dir, "spool")
    return config
