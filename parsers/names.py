"""The one place where names from monitored machines become metric-safe.

Host names, service descriptions and plugin output are hostile input: a
newline, space, dot, ``;`` or ``=`` in them must never forge a metric, add a
path level, add a Graphite tag, or break a batch. Every metric path component
and tag value goes through :func:`metric_component`; the prefix goes through
:func:`metric_prefix`. Nothing else in nagtune builds metric names from raw text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_COMPONENT = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _short_hash(raw: str) -> str:
    return hashlib.blake2s(raw.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def metric_component(raw: str) -> str:
    """One Graphite path level: ``Disk Space /var`` -> ``disk_space_var``.

    Lower case, ASCII letters, digits, ``_`` and ``-`` only; accents are folded
    (``naïve`` -> ``naive``); anything else becomes one ``_``. A name with
    nothing left, or too long, gets a short hash of the raw text so it stays
    distinct and stable.
    """
    folded = unicodedata.normalize("NFKD", raw)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    safe = _UNSAFE.sub("_", folded).strip("_").lower()
    if not safe:
        return "_" + _short_hash(raw)
    if len(safe) > MAX_COMPONENT:
        return safe[: MAX_COMPONENT - 9] + "_" + _short_hash(raw)
    return safe


def metric_prefix(raw: str) -> str:
    """A dotted prefix (``nagios.prod``): each level made safe, empty levels dropped."""
    levels = [metric_component(level) for level in raw.split(".") if level.strip()]
    return ".".join(levels)


class NameRegistry:
    """Remembers which raw name owns each safe name, so collisions are seen.

    The first raw name to claim a safe name keeps it; a later, different raw
    name that would collide gets the safe name plus a short hash of itself and
    is recorded in :attr:`collisions`. Seeding the registry from earlier runs
    (:meth:`from_dict`) keeps names stable across cron runs.
    """

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # safe name -> raw name that owns it
        self._cache: dict[str, str] = {}  # raw name -> final safe name
        self.collisions: list[tuple[str, str, str]] = []  # (safe, owner raw, newcomer raw)

    def safe(self, raw: str) -> str:
        cached = self._cache.get(raw)
        if cached is not None:
            return cached
        name = metric_component(raw)
        owner = self._owner.setdefault(name, raw)
        if owner != raw:
            self.collisions.append((name, owner, raw))
            name = f"{name[: MAX_COMPONENT - 9]}_{_short_hash(raw)}"
            self._owner.setdefault(name, raw)
        self._cache[raw] = name
        return name

    def to_dict(self) -> dict[str, str]:
        return dict(self._cache)

    @classmethod
    def from_dict(cls, mapping: dict[str, str]) -> NameRegistry:
        registry = cls()
        for raw, name in mapping.items():
            registry._cache[raw] = name
            registry._owner.setdefault(name, raw)
        return registry
