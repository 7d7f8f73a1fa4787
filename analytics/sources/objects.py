"""Nagios' ``objects.cache``: the check settings in force, per host and service.

Nagios writes every object it runs with, templates resolved, into
``object_cache_file`` (``/var/cache/nagios4/objects.cache``)::

    define service {
        host_name   web01
        service_description Disk Space /var
        check_command   check_disk!20%!10%!/var
        max_check_attempts  3
        ...
        }

so a retune can name the directive to change and its current value.
"""

from __future__ import annotations

import os

import pandas as pd

from .._frames import OBJECT_COLUMNS

_NUMBERS = (
    "max_check_attempts",
    "check_interval",
    "retry_interval",
    "notification_interval",
    "low_flap_threshold",
    "high_flap_threshold",
    "first_notification_delay",
)
_FLAGS = ("notifications_enabled", "flap_detection_enabled", "active_checks_enabled")


DEFAULT_RETRY_MINUTES = 1.0  # Nagios' default retry_interval


class ObjectsError(ValueError):
    """objects.cache that cannot be read."""


def _node_of(path: str) -> str:
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def parse_objects(text: str, node: str = "") -> pd.DataFrame:
    """Host and service definitions of one objects.cache text."""
    rows = []
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("define ") and stripped.endswith("{"):
            kind = stripped[len("define ") : -1].strip()
            current = {"object_type": kind} if kind in ("host", "service") else None
        elif stripped == "}":
            if current is not None:
                rows.append(current)
            current = None
        elif current is not None and stripped:
            key, _, value = stripped.partition("\t") if "\t" in stripped else stripped.partition(" ")
            current[key.strip()] = value.strip()
    frame = pd.DataFrame(rows)
    for column in OBJECT_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["node"] = node
    frame["host"] = frame["host_name"] if "host_name" in frame else ""
    frame["service"] = frame["service_description"].fillna("") if "service_description" in frame else ""
    for column in _NUMBERS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in _FLAGS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int8")
    frame["check_command"] = frame["check_command"].fillna("")
    frame["notification_options"] = frame["notification_options"].fillna("")
    # Custom variables (_SCENARIO, _OWNER ...) follow the fixed columns, as written.
    custom = sorted(c for c in frame.columns if c.startswith("_"))
    return frame[OBJECT_COLUMNS + custom].reset_index(drop=True)


def load_objects(path) -> pd.DataFrame:
    """One row per host and service of ``objects.cache`` file(s).

    :param path: a file, a node directory holding ``objects.cache``, or a
        list of either; the node is the name of the file's directory.
    :returns: ``OBJECT_COLUMNS``: node, object_type (host/service), host,
        service, max_check_attempts, check_interval, retry_interval (minutes),
        notification_interval, notifications_enabled, flap_detection_enabled,
        low/high_flap_threshold, active_checks_enabled, check_command,
        first_notification_delay, notification_options, then the
        objects' custom variables (``_NAME``) as columns.
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    frames = []
    for item in paths:
        item = str(item)
        if os.path.isdir(item):
            item = os.path.join(item, "objects.cache")
        try:
            with open(item, encoding="utf-8", errors="backslashreplace") as handle:
                text = handle.read()
        except OSError as exc:
            raise ObjectsError(f"cannot read {item}: {exc.strerror or exc}") from None
        frames.append(parse_objects(text, _node_of(item)))
    if not frames:
        return parse_objects("")
    return pd.concat(frames, ignore_index=True)


def check_arguments(check_command: str) -> list[str]:
    """``check_disk!20%!10%!/var`` -> ``['20%', '10%', '/var']`` (the $ARGn$ values)."""
    return check_command.split("!")[1:] if check_command else []


def object_row(objects, key):
    """The row of ``objects`` for ``key`` = (node, host, service), or None."""
    if objects is None or not len(objects):
        return None
    match = objects[
        (objects["node"].astype(str) == key[0])
        & (objects["host"].astype(str) == key[1])
        & (objects["service"].astype(str) == key[2])
    ]
    return match.iloc[0] if len(match) else None


def current_attempts(objects, node, host, service, episodes) -> tuple[int, float]:
    """(max_check_attempts, retry_interval in minutes) in force for a service: from
    ``objects`` when it has them, else the attempts its HARD ``episodes`` reached
    and Nagios' default retry."""
    attempts, retry = None, DEFAULT_RETRY_MINUTES
    row = object_row(objects, (node, host, service))
    if row is not None:
        if pd.notna(row["max_check_attempts"]):
            attempts = int(row["max_check_attempts"])
        if pd.notna(row["retry_interval"]):
            retry = float(row["retry_interval"])
    if attempts is None:
        hard = episodes[episodes["hard"]]
        attempts = int(hard["max_attempt"].max()) if len(hard) else int(episodes["max_attempt"].max())
    return max(attempts, 1), retry


def read_contact_groups(paths) -> pd.DataFrame:
    """``contact``, ``contact_group`` from the ``define contactgroup`` blocks of objects.cache files."""
    rows = set()
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else list(paths or []):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        block = None
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("define ") and stripped.endswith("{"):
                block = {} if stripped[len("define ") : -1].strip() == "contactgroup" else None
            elif stripped == "}":
                if block and block.get("contactgroup_name"):
                    for member in filter(None, (m.strip() for m in block.get("members", "").split(","))):
                        rows.add((member, block["contactgroup_name"]))
                block = None
            elif block is not None and stripped:
                key, _, value = stripped.partition("\t") if "\t" in stripped else stripped.partition(" ")
                block[key.strip()] = value.strip()
    return pd.DataFrame(sorted(rows), columns=["contact", "contact_group"])
