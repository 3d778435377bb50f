"""The floors of docs/architecture.md hold: no import from a higher floor, no cycle, no big module.

The floors are read from the table in docs/architecture.md, so the document is the rule. Imports
are read from the source (module-level and inside functions; ``if TYPE_CHECKING:`` blocks aside),
not from what Python happens to have imported.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "spiders", "pipelines")
MAX_LINES = 500
_ROW = re.compile(r"^\|\s*(?P<floor>\d+)\s[^|]*\|(?P<packages>[^|]*)\|")


def read_floors(text: str) -> dict[str, int]:
    """Return {package or module name: floor} from the floor table of docs/architecture.md."""
    floors: dict[str, int] = {}
    for line in text.splitlines():
        row = _ROW.match(line)
        if row:
            for name in re.findall(r"`([\w.]+)`", row["packages"]):
                floors[name] = int(row["floor"])
    return floors


def module_files() -> dict[str, Path]:
    """Return {dotted module name: file} of every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Return the ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Yield (imported module of ours, line) for every import statement in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _type_checking_only(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            # "from crawler.process import forked" imports the module crawler.process.forked.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def floor_of(module: str, floors: dict[str, int]) -> int:
    """Return the floor of a module: that of the longest table name it is or lies under."""
    for candidate in sorted(floors, key=len, reverse=True):
        if module == candidate or module.startswith(candidate + "."):
            return floors[candidate]
    raise KeyError(module)


def package_of(module: str, floors: dict[str, int]) -> str:
    """Return the table name a module belongs to (its package, or itself)."""
    for candidate in sorted(floors, key=len, reverse=True):
        if module == candidate or module.startswith(candidate + "."):
            return candidate
    raise KeyError(module)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


FLOORS = read_floors((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
MODULES = module_files()
EDGES = {name: dict(imports_of(name, path, MODULES)) for name, path in MODULES.items()}


def test_the_floor_table_is_read() -> None:
    assert FLOORS["crawler.items"] == 0
    assert FLOORS["crawler.site"] < FLOORS["crawler.normalise"] < FLOORS["crawler.extract"]
    assert FLOORS["crawler.process"] < FLOORS["crawler.run"] < FLOORS["spiders"]
    assert FLOORS["crawler.cli"] == max(FLOORS.values())


def test_every_module_has_a_floor() -> None:
    homeless = []
    for module in MODULES:
        try:
            floor_of(module, FLOORS)
        except KeyError:
            homeless.append(module)
    assert not homeless, f"modules on no floor of docs/architecture.md: {homeless}"


def test_no_module_imports_from_a_higher_floor() -> None:
    upward = [f"{module} (floor {floor_of(module, FLOORS)}) imports {target} "
              f"(floor {floor_of(target, FLOORS)}) at line {line}"
              for module, targets in EDGES.items() for target, line in targets.items()
              if floor_of(target, FLOORS) > floor_of(module, FLOORS)]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_modules() -> None:
    assert cycles({module: set(targets) for module, targets in EDGES.items()}) == []


def test_no_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in EDGES.items():
        source = package_of(module, FLOORS)
        edges.setdefault(source, set()).update(
            package_of(t, FLOORS) for t in targets if package_of(t, FLOORS) != source)
    assert cycles(edges) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_the_line_limit(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]} has {lines} lines (limit {MAX_LINES})"


# The checks themselves, on made-up graphs and sources: each must be able to fail.

def test_cycles_finds_a_circle_and_only_it() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from crawler.cli import main\n"
                      "def f():\n    from crawler.run import outcome\n"
                      "    import crawler.items\n")
    modules = {"x.m": source, "crawler.cli": source, "crawler.run": source,
               "crawler.run.outcome": source, "crawler.items": source}
    assert dict(imports_of("x.m", source, modules)) == {"crawler.run.outcome": 5,
                                                        "crawler.items": 6}


def test_a_module_under_a_package_takes_the_package_floor() -> None:
    floors = read_floors("| 1 site | `crawler.site` | x | y |\n| 2 x | `crawler`, `a.b` | x | y |")
    assert floors == {"crawler.site": 1, "crawler": 2, "a.b": 2}
    assert floor_of("crawler.site.urls", floors) == 1
    assert floor_of("crawler.other", floors) == 2
