"""The package import graph follows the layers written in docs/architecture.md: every import
points down (or is one of the few same-layer imports the table names), every package is in
a layer, and there is no cycle. Imports inside functions count: a lazy import is still a
dependency."""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
ROOTS = ("lightbox", "ml", "dags", "plugins")

# Imports that break the layering today and that another issue's merge removes. The
# integrator deletes an entry once that branch is merged; an entry that no longer matches
# any import fails the test, so none outlives its move.
KNOWN: dict[tuple[str, str], str] = {
    # (importer, imported): "the issue that removes it" — an import against the layers that is
    # tolerated until that issue lands (empty: every known exception has been removed)
}


def layers() -> tuple[dict[str, int], dict[int, str]]:
    """{package: layer} and {layer: same-layer rule} from the table in docs/architecture.md."""
    table, same = {}, {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\s[^|]*\|([^|]*)\|([^|]*)\|", line)
        if m:
            level = int(m.group(1))
            for name in re.findall(r"`([^`]+)`", m.group(2)):
                table[name] = level
            same[level] = m.group(3).strip()
    assert table, f"no layer table found in {DOC}"
    return table, same


def unit_of(module: str, table: dict[str, int]) -> str | None:
    """The package of the table a module belongs to (longest dotted prefix)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in table:
            return name
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every project module a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ROOTS[:2]}


def graph(table) -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    """{(from package, to package): [file:line…]} and the modules in no layer."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    orphans = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            name = module_name(path)
            if name == "lightbox":
                continue  # the root package only names the project
            source = unit_of(name, table)
            if source is None:
                orphans.append(str(path.relative_to(REPO)))
                continue
            for name in imports(path):
                target = unit_of(name, table)
                if target is not None and target != source:
                    edges[(source, target)].append(str(path.relative_to(REPO)))
    return edges, orphans


def allowed_sideways(source: str, target: str, rule: str) -> bool:
    if rule.startswith("any"):
        return True
    return f"`{source}` → `{target}`" in rule


def test_every_package_is_in_a_layer():
    table, _ = layers()
    _, orphans = graph(table)
    assert not orphans, f"modules in no layer of docs/architecture.md (add their package to the table): {orphans}"


def test_imports_point_down_the_layers():
    table, same = layers()
    edges, _ = graph(table)
    bad = []
    for (source, target), files in sorted(edges.items()):
        if (source, target) in KNOWN:
            continue
        up, level = table[target] > table[source], table[source]
        if up or (table[target] == level and not allowed_sideways(source, target, same[level])):
            where = "up" if up else "sideways"
            bad.append(f"{source} (layer {level}) imports {target} (layer {table[target]}, {where}) in {sorted(set(files))}")
    assert not bad, "imports against docs/architecture.md:\n  " + "\n  ".join(bad)


def test_known_exceptions_are_still_needed():
    table, _ = layers()
    edges, _ = graph(table)
    stale = [f"{s} -> {t} ({issue})" for (s, t), issue in KNOWN.items() if (s, t) not in edges]
    assert not stale, f"delete these entries of KNOWN in {__file__}: the import is gone: {stale}"


def test_no_import_cycle():
    table, _ = layers()
    edges, _ = graph(table)
    succ = defaultdict(set)
    for source, target in edges:
        if (source, target) not in KNOWN:
            succ[source].add(target)
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(succ[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(succ):
        if node not in state:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"
