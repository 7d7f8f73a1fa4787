"""Retune suggestions as a patch to a Nagios configuration repository.

For each suggested change it finds the definition the effective value comes
from and picks the narrowest correct scope:

* ``template``: the definition that sets the value (a template in
  ``common/<class>/`` or a shared service definition) is edited when every
  service of the whole repository taking the value from it was suggested the
  same new value;
* ``definition``: the service's own definition gets the directive when all
  the services it makes were suggested the same value;
* ``override``: otherwise a ``host_name`` service definition for the one host
  is added in the node's ``environments/<env>/<cell>/`` directory. It repeats
  the original definition's own directives (``use``, ``check_command`` ...),
  so it differs only by the suggested value; a ``host_name`` definition beats
  a ``hostgroup_name`` one, and a host named in another definition's
  ``host_name`` list is taken out of that list.

The patched tree is read again and every service of every node the repository
serves is compared with the original: the suggested values must be there and
nothing else may differ, or no patch is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .layout import node_dirs, read_node_map, served_views
from .objects import ConfigError, ConfigTree, Definition, ObjectView, ServiceInstance
from .suggestions import Refused, Wanted, wanted_changes

OVERRIDE_FILE = "nagtune-overrides.cfg"
FLAP_THRESHOLDS = ("low_flap_threshold", "high_flap_threshold")
_SKIPPED_IN_OVERRIDE = {"host_name", "hostgroup_name", "name", "register", "service_description", "use"}


class PatchError(ConfigError):
    """The patch would not do exactly what was suggested (nothing is written)."""


@dataclass
class Decision:
    node: str
    host: str
    service: str
    directive: str
    old: str | None
    new: str
    scope: str  # template / definition / override / unchanged
    where: str
    why: str


@dataclass
class Refusal:
    row: int
    node: str
    host: str
    service: str
    reason: str


@dataclass
class PatchResult:
    diff: str
    decisions: list[Decision] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    checked_services: int = 0
    checked_nodes: int = 0

    def summary(self) -> str:
        lines = []
        changed = [d for d in self.decisions if d.scope != "unchanged"]
        files = sorted(set(re.findall(r"^\+\+\+ b/(.*)$", self.diff, re.M)))
        lines.append(
            f"{len(changed)} changes in {len(files)} files"
            + (f" ({', '.join(files)})" if files else "")
            + f"; {len(self.refusals)} suggestions refused."
        )
        for d in self.decisions:
            where = f" {d.where}" if d.where else ""
            lines.append(
                f"- {d.node} {d.host}/{d.service}: {d.directive} {d.old} -> {d.new}: {d.scope}{where}: {d.why}"
            )
        for r in self.refusals:
            lines.append(f"- refused (row {r.row}) {r.node} {r.host}/{r.service}: {r.reason}")
        if self.diff:
            lines.append(
                f"Verified: re-read the patched tree; {self.checked_services} services on "
                f"{self.checked_nodes} nodes keep their values except the suggested ones."
            )
        elif not changed:
            lines.append(
                "No patch: "
                + (
                    "every suggestion was refused."
                    if self.refusals
                    else "the configuration already has every suggested value."
                    if self.decisions
                    else "no suggestions."
                )
            )
        return "\n".join(lines)


@dataclass
class _Target:
    view: str
    instance: ServiceInstance
    directive: str
    value: str
    wanted: Wanted
    decision: Decision | None = None
    dirs: tuple = ()  # the directories of the node: the same host name may live in two cells

    @property
    def ikey(self):
        return _service_key(self.dirs, self.instance)


def _service_key(dirs: tuple, instance: ServiceInstance) -> tuple:
    """One service of the repository: nodes loading the same directories share it."""
    return (dirs, instance.host, instance.description, instance.definition.key)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _check_current(instance: ServiceInstance, wanted: Wanted) -> None:
    """Refuse when the node ran with another value than the repository gives: the
    deployed configuration is not this repository's (or the suggestion is stale)."""
    configured = instance.value(wanted.directive)
    ran, have = _number(wanted.current), _number(configured)
    if ran is not None and have is not None and ran != have and not (wanted.directive in FLAP_THRESHOLDS and have == 0):
        raise Refused(
            f"the node ran with {wanted.directive} {wanted.current}, the repository gives "
            f"{configured} ({instance.values[wanted.directive].source.where()}): is the repository "
            "what the node runs?"
        )


def _shown(directive: str, value: str | None) -> str | None:
    """A flap threshold of 0 is the node's global setting: say so."""
    if directive in FLAP_THRESHOLDS and _number(value) == 0:
        return f"{value} (global)"
    return value


def _threshold(view: ObjectView, instance: ServiceInstance, wanted: Wanted) -> tuple[str, str]:
    """The directive and value that set a warning/critical level: a check_command
    argument or a custom variable the command line passes after -w/-c."""
    command = instance.value("check_command")
    if not command:
        raise Refused("the service has no check_command")
    name, *args = command.split("!")
    line = view.command_line(name)
    if line is None:
        raise Refused(f"command {name!r} is not defined on this node")
    flag = r"(?:-w|--warning)" if wanted.level == "warning" else r"(?:-c|--critical)"
    macros = set(re.findall(flag + r"(?:=|\s*)\$(ARG\d+|_SERVICE[A-Za-z0-9_]+)\$", line))
    if len(macros) != 1:
        raise Refused(
            f"command {name!r} ({line.strip()!r}) does not pass the {wanted.level} level as one "
            f"$ARGn$ or $_SERVICE...$ macro after {'-w' if wanted.level == 'warning' else '-c'}: "
            "cannot tell which argument it is"
        )
    macro = macros.pop()
    if any(c in wanted.value for c in "!\n;$"):
        raise Refused(f"level {wanted.value!r} cannot stand in a check_command or custom variable")
    if macro.startswith("ARG"):
        number = int(macro[3:])
        if number > len(args):
            raise Refused(f"check_command {command!r} has no argument {number}")
        old = args[number - 1]
        if wanted.current and wanted.current != old:
            raise Refused(
                f"the suggestion was computed for {wanted.level} level {wanted.current!r}, "
                f"the configuration has {old!r} ($ARG{number}$ of {command!r})"
            )
        args[number - 1] = wanted.value
        return "check_command", "!".join([name, *args])
    variable = "_" + macro[len("_SERVICE") :]
    own = next((key for key in instance.values if key.upper() == variable.upper()), None)
    if own is None:
        raise Refused(f"the command reads ${macro}$ but the service has no {variable}")
    old = instance.value(own)
    if wanted.current and wanted.current != old:
        raise Refused(
            f"the suggestion was computed for {wanted.level} level {wanted.current!r}, "
            f"the configuration has {own} {old!r}"
        )
    return own, wanted.value


class _Editor:
    """Line edits of the repository's files, applied together at the end."""

    def __init__(self, tree: ConfigTree):
        self.tree = tree
        self.replaced: dict[tuple[str, int], str] = {}
        self.inserted: dict[tuple[str, int], list[str]] = {}
        self.appended: dict[str, list[str]] = {}

    def line(self, path, index) -> str:
        return self.replaced.get((path, index), self.tree.files[path][index])

    def set_value(self, definition: Definition, name: str, value: str):
        directive = definition.directives.get(name)
        if directive is not None:
            line = self.line(definition.path, directive.line)
            original = self.tree.files[definition.path][directive.line]
            if line != original:
                raise PatchError(f"{definition.where()}: line {directive.line + 1} changed twice")
            self.replaced[(definition.path, directive.line)] = (
                line[: directive.value_start] + value + line[directive.value_end :]
            )
            return
        self.inserted.setdefault((definition.path, definition.end), []).append(
            _directive_line(definition, self.tree.files[definition.path], name, value)
        )

    def append(self, path: str, text: list[str]):
        """Definitions at the end of a file (created when missing), a blank line between."""
        if path in self.tree.files or path in self.appended:
            text = ["\n", *text]
        self.appended.setdefault(path, []).extend(text)

    def operations(self) -> dict[str, list[tuple[int, int, list[str]]]]:
        """Per file, sorted: (first line, lines replaced, new lines) in the original's numbering."""
        ops: dict[str, list[tuple[int, int, list[str]]]] = {}
        for (path, index), line in self.replaced.items():
            ops.setdefault(path, []).append((index, 1, [line]))
        for (path, index), lines in self.inserted.items():
            ops.setdefault(path, []).append((index, 0, list(lines)))
        for path, lines in self.appended.items():
            old = self.tree.files.get(path, [])
            if old and not old[-1].endswith("\n"):
                ending = "\r\n" if old[0].endswith("\r\n") else "\n"
                ops.setdefault(path, []).append((len(old) - 1, 1, [old[-1] + ending, *lines]))
            else:
                ops.setdefault(path, []).append((len(old), 0, list(lines)))
        merged = {}
        for path, found in sorted(ops.items()):
            runs: list[tuple[int, int, list[str]]] = []
            for start, count, new in sorted(found, key=lambda op: (op[0], op[1])):
                if runs and runs[-1][0] + runs[-1][1] == start:  # adjacent: one -/+ block, as diff shows it
                    first, counted, lines = runs.pop()
                    runs.append((first, counted + count, lines + new))
                else:
                    runs.append((start, count, new))
            merged[path] = runs
        return merged

    def files(self) -> dict[str, list[str]]:
        """The changed files' new lines."""
        out = {}
        for path, ops in self.operations().items():
            lines = list(self.tree.files.get(path, []))
            for start, count, new in reversed(ops):
                lines[start : start + count] = new
            out[path] = lines
        return out


def _directive_line(definition: Definition, lines: list[str], name: str, value: str) -> str:
    """A new directive line in the definition's own layout: its indent, its value column."""
    sample = max(definition.directives.values(), key=lambda d: d.line, default=None)
    ending = "\r\n" if lines[definition.start].endswith("\r\n") else "\n"
    if sample is None:
        return f"    {name}    {value}{ending}"
    text = lines[sample.line]
    indent = text[: len(text) - len(text.lstrip())]
    width = max(sample.value_start - len(indent), len(name) + 1)
    return f"{indent}{name.ljust(width)}{value}{ending}"


def _marked(prefix: str, line: str) -> str:
    return prefix + line if line.endswith("\n") else f"{prefix}{line}\n\\ No newline at end of file\n"


def _hunks(old: list[str], ops: list[tuple[int, int, list[str]]], context: int = 3) -> list[str]:
    """Unified-diff hunks of line replacements known in advance (no sequence matching)."""
    groups: list[list[tuple[int, int, list[str]]]] = []
    for op in ops:
        if groups and op[0] - (groups[-1][-1][0] + groups[-1][-1][1]) <= 2 * context:
            groups[-1].append(op)
        else:
            groups.append([op])
    out, shift = [], 0
    for group in groups:
        first, last = group[0][0], group[-1][0] + group[-1][1]
        a0, a1 = max(0, first - context), min(len(old), last + context)
        body, position = [], a0
        for start, count, new in group:
            body += [_marked(" ", line) for line in old[position:start]]
            body += [_marked("-", line) for line in old[start : start + count]]
            body += [_marked("+", line) for line in new]
            position = start + count
        body += [_marked(" ", line) for line in old[position:a1]]
        old_length = a1 - a0
        growth = sum(len(new) - count for _, count, new in group)
        new_length, b0 = old_length + growth, a0 + shift
        out.append(f"@@ -{a0 + 1 if old_length else a0},{old_length} +{b0 + 1 if new_length else b0},{new_length} @@\n")
        out += body
        shift += growth
    return out


def unified_diff(old: dict[str, list[str]], operations: dict[str, list[tuple[int, int, list[str]]]]) -> str:
    """A diff ``git apply`` takes: a/ b/ prefixes, new files from /dev/null."""
    out = []
    for path, ops in operations.items():
        before = old.get(path)
        out.append(f"diff --git a/{path} b/{path}\n")
        if before is None:
            out += ["new file mode 100644\n", "--- /dev/null\n"]
        else:
            out.append(f"--- a/{path}\n")
        out.append(f"+++ b/{path}\n")
        out += _hunks(before or [], ops)
    return "".join(out)


def _raw(instance: ServiceInstance) -> dict[str, str]:
    """The service's values; which hosts a definition names is checked by the set of services."""
    return {
        name: resolved.value
        for name, resolved in instance.values.items()
        if name not in ("host_name", "hostgroup_name")
    }


def plan_patch(repo, rows, node_map=None) -> PatchResult:
    """The patch, decisions and refusals for suggestion rows (a table, or mappings with
    node, host, service, directive, current, suggested) on the repository at ``repo``."""
    repo = Path(repo)
    if not repo.is_dir():
        raise ConfigError(f"configuration repository {repo} is not a directory")
    tree = ConfigTree.read(repo)
    mapping = read_node_map(repo, node_map)
    view_dirs = served_views(repo, mapping)
    result = PatchResult(diff="")
    targets: list[_Target] = []
    views_by_dirs: dict[tuple, ObjectView] = {}

    def view_of(name: str) -> ObjectView:
        dirs = tuple(view_dirs[name])
        if dirs not in views_by_dirs:
            views_by_dirs[dirs] = ObjectView(tree, list(dirs))
        return views_by_dirs[dirs]

    for index, row in enumerate(suggestion_rows(rows)):
        node = str(row.get("node") or "")
        try:
            if not node:
                raise Refused("the row names no node")
            if node not in view_dirs:
                view_dirs[node] = node_dirs(repo, node, mapping)
            for wanted in wanted_changes(row, index):
                view = view_of(node)
                instance = view.services.get((wanted.host, wanted.service))
                if instance is None:
                    raise Refused(
                        f"node {node} (loads {', '.join(view.dirs)}) has no service "
                        f"{wanted.service!r} on host {wanted.host!r}"
                    )
                if wanted.level:
                    directive, value = _threshold(view, instance, wanted)
                else:
                    directive, value = wanted.directive, wanted.value
                    _check_current(instance, wanted)
                targets.append(_Target(node, instance, directive, value, wanted, dirs=tuple(view.dirs)))
        except (Refused, ConfigError) as exc:
            result.refusals.append(
                Refusal(index, node, str(row.get("host") or ""), str(row.get("service") or ""), str(exc))
            )
            targets = [t for t in targets if t.wanted.row != index]

    # Every view the repository serves: a template is judged against all of them.
    for name in view_dirs:
        view_of(name)
    instances: dict[tuple, ServiceInstance] = {}
    for dirs, view in views_by_dirs.items():
        for instance in view.services.values():
            instances[_service_key(dirs, instance)] = instance

    wanted_values: dict[tuple, dict[str, str]] = {}
    for target in targets:
        previous = wanted_values.setdefault(target.ikey, {}).get(target.directive)
        if previous is not None and previous != target.value:
            raise PatchError(
                f"{target.instance.host}/{target.instance.description}: {target.directive} "
                f"suggested as both {previous!r} and {target.value!r}"
            )
        wanted_values[target.ikey][target.directive] = target.value

    takers_by_directive: dict[str, dict[tuple, list[tuple]]] = {}

    def takers_of(directive: str, source: Definition) -> list[tuple]:
        """The services of every node that take ``directive`` from ``source``."""
        if directive not in takers_by_directive:
            index: dict[tuple, list[tuple]] = {}
            for key, i in instances.items():
                if directive in i.values:
                    index.setdefault(i.values[directive].source.key, []).append(key)
            takers_by_directive[directive] = index
        return takers_by_directive[directive].get(source.key, [])

    made_by: dict[tuple, list[tuple]] = {}
    for key in instances:
        made_by.setdefault(key[3], []).append(key)

    def all_want(keys, directive, value) -> bool:
        return all(wanted_values.get(k, {}).get(directive) == value for k in keys)

    editor = _Editor(tree)
    overrides: dict[tuple, list[_Target]] = {}
    definition_sets: dict[tuple, tuple[Definition, str, str]] = {}
    for target in targets:
        instance, directive, value = target.instance, target.directive, target.value
        current = instance.values.get(directive)
        decision = Decision(
            target.view,
            instance.host,
            instance.description,
            directive,
            _shown(directive, current.value if current else None),
            value,
            "",
            "",
            "",
        )
        result.decisions.append(decision)
        if current is not None and current.value == value:
            decision.scope, decision.where, decision.why = "unchanged", "", "already the effective value"
            continue
        if current is not None:
            source = current.source
            takers = takers_of(directive, source)
            if all_want(takers, directive, value):
                is_template = source.key != instance.definition.key
                decision.scope = "template" if is_template else "definition"
                decision.where = source.where()
                decision.why = (
                    f"all {len(takers)} services in the repository taking {directive} from it were suggested {value}"
                )
                definition_sets[(source.key, directive)] = (source, directive, value)
                continue
            others = len([k for k in takers if not all_want([k], directive, value)])
            reason = f"{source.where()} sets {directive} for {others} more services the suggestion does not cover"
        else:
            reason = f"{directive} is set nowhere in its chain"
        own = made_by[instance.definition.key]
        if all_want(own, directive, value):
            decision.scope, decision.where = "definition", instance.definition.where()
            decision.why = f"{reason}; all {len(own)} services of its own definition were suggested {value}"
            definition_sets[(instance.definition.key, directive)] = (instance.definition, directive, value)
            continue
        decision.scope = "override"
        decision.why = f"{reason}; a host_name definition for {instance.host} alone"
        overrides.setdefault(target.ikey, []).append(target)
        target.decision = decision

    for definition, directive, value in definition_sets.values():
        editor.set_value(definition, directive, value)
    taken_out: dict[tuple, set[str]] = {}
    for ikey, group in overrides.items():
        instance = group[0].instance
        definition = instance.definition
        view = view_of(group[0].view)
        cell_dirs = [d for d in view.dirs if d.startswith("environments/")] or view.dirs
        path = f"{cell_dirs[-1]}/{OVERRIDE_FILE}"
        if instance.via_hostgroup and not _loads_before(view, definition.path, path):
            # Nagios keeps a group definition's first host as if named by host_name, and of two
            # such the later: the override must load after the group definition.
            for target in group:
                wanted_values[ikey].pop(target.directive, None)
                target.decision.scope = "refused"
                target.decision.why = (
                    f"{definition.where()} defines it by host group in the node's last "
                    "directory: an override there might load before it and lose"
                )
            continue
        if not instance.via_hostgroup:
            if "host_name" not in definition.directives or re.search(r"[*!+]", definition.get("host_name")):
                for target in group:
                    wanted_values[ikey].pop(target.directive, None)
                    target.decision.scope = "refused"
                    target.decision.why = (
                        f"{definition.where()} names its hosts by template, wildcard or "
                        "exclusion: cannot take one host out"
                    )
                continue
            taken_out.setdefault(definition.key, set()).add(instance.host)
        for target in group:
            target.decision.where = path
        editor.append(
            path,
            _override(
                definition,
                instance,
                {t.directive: t.value for t in group},
                {d: v for (k, d), (_, _, v) in definition_sets.items() if k == definition.key},
            ),
        )
    for key, hosts in taken_out.items():
        definition = next(i.definition for i in instances.values() if i.definition.key == key)
        remaining = [h for h in re.split(r"\s*,\s*", definition.get("host_name")) if h and h not in hosts]
        separator = ", " if ", " in definition.get("host_name") else ","
        editor.set_value(definition, "host_name", separator.join(remaining))
    result.decisions = [d for d in result.decisions if d.scope != "refused"]
    for target in targets:
        decision = target.decision
        if decision is not None and decision.scope == "refused":
            result.refusals.append(
                Refusal(target.wanted.row, target.view, target.instance.host, target.instance.description, decision.why)
            )
    changed = editor.files()
    result.diff = unified_diff(tree.files, editor.operations())
    result.checked_services, result.checked_nodes = _verify(
        tree, tree.with_files(changed), view_dirs, views_by_dirs, wanted_values
    )
    return result


def _loads_before(view: ObjectView, first: str, second: str) -> bool:
    """Whether the node reads file ``first`` in an earlier cfg_dir than file ``second`` (within
    one directory Nagios reads files in the file system's order)."""

    def position(path):
        return next((i for i, d in enumerate(view.dirs) if path.startswith(d.rstrip("/") + "/")), len(view.dirs))

    return position(first) < position(second)


def _override(
    definition: Definition, instance: ServiceInstance, values: dict[str, str], edited: dict[str, str]
) -> list[str]:
    """A host_name service definition for one host that differs from the original
    only by ``values``: the original's own directives repeated, in its order."""
    lines = [
        f"# {instance.host}/{instance.description}: a retune suggestion for this host alone "
        f"(its definition at {definition.path}:{definition.start + 1} serves more)\n",
        "define service {\n",
    ]
    own = {name: edited.get(name, d.value) for name, d in definition.directives.items()}
    own.update(values)
    body = [("use", own["use"])] if "use" in own else []
    body += [("host_name", instance.host), ("service_description", instance.description)]
    body += [(name, value) for name, value in own.items() if name not in _SKIPPED_IN_OVERRIDE]
    width = max(len(name) for name, _ in body) + 4
    lines += [f"    {name.ljust(width)}{value}\n" for name, value in body]
    lines.append("}\n")
    return lines


def _verify(before_tree, after_tree, view_dirs, before_views, wanted_values) -> tuple[int, int]:
    """Re-read the patched tree: every node's services keep every value except the
    suggested ones, which are now effective."""
    checked = 0
    seen = set()
    for name, dirs in view_dirs.items():
        if tuple(dirs) in seen:
            continue
        seen.add(tuple(dirs))
        before = before_views[tuple(dirs)]
        try:
            after = ObjectView(after_tree, list(dirs))
        except ConfigError as exc:
            raise PatchError(f"the patched configuration of {name} does not read: {exc}") from None
        if set(before.services) != set(after.services):
            gone = sorted(set(before.services) ^ set(after.services))
            raise PatchError(f"the patch changes which services {name} has: {gone[:3]}")
        if before.hosts != after.hosts:
            raise PatchError(f"the patch changes the hosts or host groups of {name}")
        for key, old in before.services.items():
            expected = _raw(old)
            expected.update(wanted_values.get(_service_key(tuple(dirs), old), {}))
            got = _raw(after.services[key])
            if got != expected:
                diff = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
                raise PatchError(
                    f"after the patch {name} {key[0]}/{key[1]} differs in {diff}: "
                    f"{[(expected.get(k), got.get(k)) for k in diff]}"
                )
            checked += 1
    return checked, len(seen)


def suggestion_rows(table) -> list[dict]:
    """Rows of a suggestion table (a DataFrame or mappings) as plain dicts."""
    if hasattr(table, "to_dict"):
        return table.to_dict("records")
    return [dict(row) for row in table]


def write_patch(table, repo, patch_path, node_map=None) -> PatchResult:
    """Plan the patch of a suggestion table and write it to ``patch_path`` (empty when
    nothing changes); the summary is the result's ``summary()``."""
    result = plan_patch(repo, suggestion_rows(table), node_map=node_map)
    Path(patch_path).write_text(result.diff, encoding="utf-8")
    return result
