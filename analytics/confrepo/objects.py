"""Nagios object configuration, read without losing a byte, resolved as Nagios does.

The reader keeps every file's lines as they are, so a change rewrites only
the value it must; the resolver follows Nagios 4's inheritance rules (see
docs/config-patch.md) and says, for each directive of each service, which
definition its effective value comes from.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_DEFINE = re.compile(r"^\s*define\s+([A-Za-z_]+)\s*\{\s*(?:[;#].*)?$")
_CLOSE = re.compile(r"^\s*\}\s*(?:;.*)?$")
_DIRECTIVE = re.compile(r"^(\s*)(\S+)([ \t]+)(.*)$")
_COMMENT = re.compile(r"(?<!\\);")
# Directives that hold comma lists: a leading `+` adds to the inherited list.
ADDITIVE = {
    "hostgroups",
    "servicegroups",
    "contact_groups",
    "contacts",
    "parents",
    "host_name",
    "hostgroup_name",
    "members",
    "hostgroup_members",
    "servicegroup_members",
    "contactgroup_members",
    "contactgroups",
}
_NOT_INHERITED = {"use", "name", "register"}


class ConfigError(ValueError):
    """Object configuration nagtune cannot read the way Nagios would."""


@dataclass
class Directive:
    name: str
    value: str
    line: int  # index into the file's lines
    value_start: int  # the value's span within the line, comment excluded
    value_end: int


@dataclass
class Definition:
    kind: str  # host, service, command, ...
    path: str  # repository-relative, with / separators
    start: int  # line index of `define`
    end: int  # line index of the closing brace
    directives: dict[str, Directive] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.start)

    def get(self, name: str, default: str | None = None) -> str | None:
        directive = self.directives.get(name)
        return directive.value if directive else default

    @property
    def registered(self) -> bool:
        return self.get("register", "1").strip() != "0"

    def where(self) -> str:
        label = self.get("name") or self.get("service_description") or self.get("host_name") or self.kind
        return f"{self.kind} '{label}' ({self.path}:{self.start + 1})"


def _strip_comment(text: str) -> str:
    """The value before an unescaped `;` (Nagios' inline comment), trailing space removed."""
    if ";" not in text:
        return text.rstrip()
    match = _COMMENT.search(text)
    return (text[: match.start()] if match else text).rstrip()


def parse_lines(path: str, lines: list[str]) -> list[Definition]:
    """Definitions of one file (``lines`` keep their line ends)."""
    definitions: list[Definition] = []
    current: Definition | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if current is None:
            match = _DEFINE.match(line)
            if match is None:
                if re.match(r"^\s*(include_file|include_dir)\s*=", line):
                    raise ConfigError(f"{path}:{index + 1}: include_file/include_dir are not supported")
                raise ConfigError(f"{path}:{index + 1}: expected 'define <type> {{', found {stripped[:60]!r}")
            current = Definition(kind=match.group(1).lower(), path=path, start=index, end=index)
            continue
        if _CLOSE.match(line):
            current.end = index
            definitions.append(current)
            current = None
            continue
        match = _DIRECTIVE.match(line.rstrip("\r\n"))
        if match is None:
            raise ConfigError(f"{path}:{index + 1}: a directive needs a value: {stripped[:60]!r}")
        indent, name, gap, rest = match.groups()
        if "}" in rest and _strip_comment(rest).endswith("}"):
            raise ConfigError(f"{path}:{index + 1}: the closing '}}' must stand on its own line")
        value = _strip_comment(rest)
        start = len(indent) + len(name) + len(gap)
        current.directives[name] = Directive(name, value, index, start, start + len(value))
    if current is not None:
        raise ConfigError(f"{path}:{current.start + 1}: definition never closed")
    return definitions


@dataclass
class ConfigTree:
    """The files of a configuration repository, by repository-relative path."""

    root: Path
    files: dict[str, list[str]]
    _parsed: dict[str, list[Definition]] = field(default_factory=dict, repr=False)

    def definitions(self, path: str) -> list[Definition]:
        """The file's definitions, parsed once per tree (a patched tree re-parses only what changed)."""
        if path not in self._parsed:
            self._parsed[path] = parse_lines(path, self.files[path])
        return self._parsed[path]

    @classmethod
    def read(cls, root) -> ConfigTree:
        root = Path(root)
        files = {}
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(".cfg"):
                    full = Path(directory) / name
                    rel = full.relative_to(root).as_posix()
                    try:
                        text = full.read_bytes().decode("utf-8")
                    except UnicodeDecodeError:
                        raise ConfigError(f"{rel}: not UTF-8") from None
                    files[rel] = text.splitlines(keepends=True)
        return cls(root, files)

    def with_files(self, changed: dict[str, list[str]]) -> ConfigTree:
        kept = {path: parsed for path, parsed in self._parsed.items() if path not in changed}
        return ConfigTree(self.root, {**self.files, **changed}, kept)

    def files_under(self, directory: str) -> list[str]:
        """The .cfg files a ``cfg_dir`` of this directory loads (recursively, in name order)."""
        prefix = directory.strip("/") + "/"
        return sorted(p for p in self.files if p.startswith(prefix))


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass
class Resolved:
    """A directive's effective value and the definition it comes from."""

    value: str
    source: Definition


@dataclass
class ServiceInstance:
    host: str
    description: str
    definition: Definition  # the registered service definition that made it
    via_hostgroup: bool  # reached through hostgroup_name
    values: dict[str, Resolved]
    first_host: bool = True  # the definition's first host (Nagios copies it for the others)

    def value(self, name: str) -> str | None:
        resolved = self.values.get(name)
        return resolved.value if resolved else None


class ObjectView:
    """The objects one Nagios node loads (its cfg_dir directories), resolved."""

    def __init__(self, tree: ConfigTree, dirs: list[str]):
        self.tree = tree
        self.dirs = list(dirs)
        self.definitions: list[Definition] = []
        seen = set()
        for directory in self.dirs:
            if not (tree.root / directory).is_dir() and not tree.files_under(directory):
                raise ConfigError(f"directory {directory} is not in the configuration repository")
            for path in tree.files_under(directory):
                if path not in seen:
                    seen.add(path)
                    self.definitions.extend(tree.definitions(path))
        self.templates: dict[tuple[str, str], Definition] = {}
        for definition in self.definitions:
            name = definition.get("name")
            if name:
                self.templates.setdefault((definition.kind, name), definition)
        self._resolved: dict[tuple[str, int], dict[str, Resolved]] = {}
        self.hosts = self._hosts()
        self.services = self._services()

    def resolve(self, definition: Definition, _stack: tuple = ()) -> dict[str, Resolved]:
        """Every directive of the definition after inheritance: own values first, then
        each template of ``use`` in order, each with its whole chain (``use a,b``:
        a's chain wins over b); ``+value`` adds to the first inherited value;
        ``null`` stops inheritance."""
        cached = self._resolved.get(definition.key)
        if cached is not None:
            return cached
        if definition.key in _stack:
            raise ConfigError(f"{definition.where()}: circular 'use'")
        result: dict[str, Resolved] = {
            name: Resolved(d.value, definition)
            for name, d in definition.directives.items()
            if name not in _NOT_INHERITED
        }
        pending_add = {name for name, r in result.items() if r.value.startswith("+") and name in ADDITIVE}
        for parent_name in _split_list(definition.get("use", "")):
            parent = self.templates.get((definition.kind, parent_name))
            if parent is None:
                raise ConfigError(
                    f"{definition.where()}: uses {definition.kind} template '{parent_name}', "
                    "which this node does not load"
                )
            for name, inherited in self.resolve(parent, _stack + (definition.key,)).items():
                if name not in result:
                    result[name] = inherited
                elif name in pending_add:
                    own = result[name]
                    result[name] = Resolved(f"{inherited.value},{own.value[1:]}", own.source)
                    pending_add.discard(name)
        for name in pending_add:
            result[name] = Resolved(result[name].value[1:], result[name].source)
        result = {name: r for name, r in result.items() if r.value != "null"}
        self._resolved[definition.key] = result
        return result

    def _hosts(self) -> dict[str, set[str]]:
        """Host name -> its host groups (from the hosts' ``hostgroups`` and the groups' members)."""
        hosts: dict[str, set[str]] = {}
        self.host_order: list[str] = []
        self.listed_members: dict[str, list[str]] = {}  # a group's `members`, as written
        for definition in self.definitions:
            if definition.kind == "host" and definition.registered:
                values = self.resolve(definition)
                name = values.get("host_name")
                if name is None:
                    raise ConfigError(f"{definition.where()}: a host without host_name")
                if name.value not in hosts:
                    self.host_order.append(name.value)
                groups = values.get("hostgroups")
                hosts.setdefault(name.value, set()).update(_split_list(groups.value) if groups else [])
        groups = {}
        for definition in self.definitions:
            if definition.kind == "hostgroup" and definition.registered:
                values = self.resolve(definition)
                name = values["hostgroup_name"].value
                groups[name] = values
                members = values.get("members")
                for host in _split_list(members.value) if members else []:
                    if host in hosts:
                        hosts[host].add(name)
                        self.listed_members.setdefault(name, []).append(host)
        # Nested groups: hostgroup_members pulls in the members of other groups.
        for _ in range(len(groups)):
            changed = False
            for name, values in groups.items():
                nested = values.get("hostgroup_members")
                for inner in _split_list(nested.value) if nested else []:
                    for host, member_of in hosts.items():
                        if inner in member_of and name not in member_of:
                            member_of.add(name)
                            changed = True
            if not changed:
                break
        return hosts

    def _expand(self, names: list[str], universe) -> set[str]:
        chosen: set[str] = set()
        excluded: set[str] = set()
        for name in names:
            target = excluded if name.startswith("!") else chosen
            pattern = name.lstrip("!")
            target.update(h for h in universe if fnmatch.fnmatchcase(h, pattern)) if "*" in pattern else target.add(
                pattern
            )
        return chosen - excluded

    def service_hosts(self, definition: Definition) -> tuple[set[str], set[str]]:
        """(hosts by host_name, hosts by hostgroup_name) of a service definition."""
        values = self.resolve(definition)
        by_name = by_group = set()
        if "host_name" in values:
            by_name = self._expand(_split_list(values["host_name"].value), self.hosts)
        if "hostgroup_name" in values:
            groups = self._expand(
                _split_list(values["hostgroup_name"].value), {g for gs in self.hosts.values() for g in gs}
            )
            by_group = {h for h, member_of in self.hosts.items() if member_of & groups}
        unknown = [h for h in by_name if h not in self.hosts]
        if unknown:
            raise ConfigError(f"{definition.where()}: host {min(unknown)!r} is not defined")
        return by_name, by_group - by_name

    def _ordered_hosts(self, definition: Definition, by_name: set[str], by_group: set[str]) -> list[str]:
        """The service's hosts in the order Nagios expands them: host_name as written, then
        the host groups' members, latest-defined host first."""
        values = self.resolve(definition)
        ordered = []
        if "host_name" in values:
            ordered = [h for h in _split_list(values["host_name"].value) if h in by_name]
            ordered += sorted(by_name - set(ordered))  # wildcards
        # Nagios prepends each member as it meets it: the groups' `members` as written, then
        # the hosts naming the group in their `hostgroups`, in definition order.
        if by_group:
            groups = _split_list(values["hostgroup_name"].value)
            met = [h for group in groups for h in self.listed_members.get(group.lstrip("!"), [])] + self.host_order
            ordered += [h for h in reversed(list(dict.fromkeys(met))) if h in by_group]
        return list(dict.fromkeys(ordered))

    def _services(self) -> dict[tuple[str, str], ServiceInstance]:
        """One instance per host and description. Which definition Nagios 4 keeps when several
        make the same service (checked against `nagios4 -v -p` by a property test): Nagios
        expands a definition to one copy per host beyond its first (host_name as written,
        then group members, latest host first). A copy for a host reached by hostgroup_name
        loses to everything else; then a copy beats a definition's first host; among copies
        the earlier definition wins, among first hosts the later one."""
        best: dict[tuple[str, str], tuple[tuple, ServiceInstance]] = {}
        registered = [d for d in self.definitions if d.kind == "service" and d.registered]
        for position, definition in enumerate(registered):
            values = self.resolve(definition)
            if "service_description" not in values:
                raise ConfigError(f"{definition.where()}: a service without service_description")
            description = values["service_description"].value
            by_name, by_group = self.service_hosts(definition)
            for index, host in enumerate(self._ordered_hosts(definition, by_name, by_group)):
                copy = index > 0
                via_group = host not in by_name
                # The definition itself keeps its first host as if named by host_name.
                rank = (not (via_group and copy), copy, -position if copy else position)
                key = (host, description)
                if key not in best or rank > best[key][0]:
                    best[key] = (
                        rank,
                        ServiceInstance(host, description, definition, via_group, values, first_host=not copy),
                    )
        return {key: instance for key, (_, instance) in best.items()}

    def command_line(self, command_name: str) -> str | None:
        for definition in self.definitions:
            if definition.kind == "command" and definition.registered:
                values = self.resolve(definition)
                name = values.get("command_name")
                if name and name.value == command_name:
                    line = values.get("command_line")
                    return line.value if line else None
        return None
