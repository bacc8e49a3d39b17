"""The import rules of ``autograd/`` and ``nn/``, read from the checkout with ``ast`` (nothing is imported).

* Every import inside the packages is relative: none names the install name ``valuegrad``.
* Layers: ``core`` < ``compiler``, ``viz`` < the top of ``autograd`` (transforms, gradcheck,
  expressions, CLI, ``testing``) < ``nn``. An import from a lower layer into a higher one runs
  "back up" and fails, unless its line (or the line above) says why in a ``# back up:`` comment.
* No import circles but one: ``value`` <-> ``sweep`` (``Value.backward`` runs the sweep, the
  sweep walks Values; see the comment at the end of ``core/value.py``).
* No module imports a ``_private`` name from a module outside its own subpackage.
* No function is longer than 80 lines; ``autograd/`` has at most 12 modules at its top level.

Every import counts, those inside functions too; those under ``if TYPE_CHECKING:`` do not.
Run this file with Python to print the figures (modules, arrows, floors, circles).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn")
MAX_FUNCTION_LINES = 80
MAX_TOP_MODULES = 12
ALLOWED_CIRCLE = {"valuegrad.autograd.core.value", "valuegrad.autograd.core.sweep"}
BACK_UP_MARK = "# back up:"


@dataclass(frozen=True)
class Arrow:
    source: str  # module name
    target: str
    names: tuple[str, ...]  # what was imported (empty for a plain import)
    line: int
    explained: bool  # a "# back up:" comment on the line or the one above
    absolute: bool  # written with the install name (``from valuegrad...``), not relatively


def module_files() -> dict[str, Path]:
    """Every module of the packages by its installed name (``valuegrad.autograd.core.value``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(["valuegrad", *parts])] = path
    return found


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def arrows(files: dict[str, Path]) -> Iterator[Arrow]:
    """Every import of every module, resolved to the modules it names; absolute ``valuegrad`` imports too."""
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        source_lines = text.splitlines()
        tree = ast.parse(text)
        skipped = _type_checking_lines(tree)
        package = name if _is_package(name, files) else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in skipped:
                continue
            context = source_lines[max(node.lineno - 2, 0) : node.end_lineno or node.lineno]
            explained = any(BACK_UP_MARK in line for line in context)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Arrow(name, alias.name, (), node.lineno, explained, True)
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                absolute = node.level == 0
                if submodule in files:
                    yield Arrow(name, submodule, (), node.lineno, explained, absolute)
                else:
                    yield Arrow(name, module, (alias.name,), node.lineno, explained, absolute)


def layer(module: str) -> int:
    """0 core, 1 compiler and viz, 2 the top of autograd (and testing), 3 nn."""
    parts = module.split(".")
    if parts[1] == "nn":
        return 3
    if len(parts) > 2 and parts[2] == "core":
        return 0
    if len(parts) > 2 and parts[2] in ("compiler", "viz"):
        return 1
    return 2


def room(module: str) -> str:
    """The subpackage a module lives in (``valuegrad.autograd`` for the top of autograd)."""
    parts = module.split(".")
    if parts[1] == "autograd" and len(parts) > 3 and parts[2] in ("core", "compiler", "viz", "testing"):
        return ".".join(parts[:3])
    if parts[1] == "autograd" and len(parts) == 3 and parts[2] in ("core", "compiler", "viz", "testing"):
        return module
    return ".".join(parts[:2])


def internal_arrows() -> tuple[dict[str, Path], list[Arrow]]:
    files = module_files()
    return files, [a for a in arrows(files) if a.target in files and a.target != a.source]


def circles(modules: list[str], edges: list[Arrow]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for arrow in edges:
        graph[arrow.source].add(arrow.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def floors(modules: list[str], edges: list[Arrow]) -> dict[str, int]:
    """Floor 1 imports nothing inside; each module stands one above the highest it imports (circles share)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for arrow in edges:
        graph[arrow.source].add(arrow.target)
    representative = {m: m for m in modules}
    for component in circles(modules, edges):
        first = min(component)
        for member in component:
            representative[member] = first
    height: dict[str, int] = {}
    for module in modules:
        todo = [representative[module]]
        while todo:
            node = todo[-1]
            members = [m for m in modules if representative[m] == node]
            below = {representative[t] for m in members for t in graph[m]} - {node}
            pending = [b for b in below if b not in height]
            if pending:
                todo.extend(pending)
                continue
            todo.pop()
            height[node] = 1 + max((height[b] for b in below), default=0)
    return {m: height[representative[m]] for m in modules}


# ------------------------------------------------------------------ the rules


def test_no_module_imports_the_package_by_its_install_name() -> None:
    files = module_files()
    absolute = sorted(
        {
            f"{files[a.source].relative_to(ROOT)}:{a.line} imports {a.target}"
            for a in arrows(files)
            if a.absolute and a.target.split(".")[0] == "valuegrad"
        }
    )
    assert not absolute, "use a relative import:\n" + "\n".join(absolute)


def test_no_import_runs_back_up_a_layer_unexplained() -> None:
    files, edges = internal_arrows()
    back_up = [
        f"{files[a.source].relative_to(ROOT)}:{a.line} imports {a.target}"
        for a in edges
        if layer(a.source) < layer(a.target) and not a.explained
    ]
    assert not back_up, f"imports back up (explain with '{BACK_UP_MARK} ...' or move them):\n" + "\n".join(back_up)


def test_there_is_no_import_circle_but_value_and_sweep() -> None:
    files, edges = internal_arrows()
    found = circles(list(files), edges)
    unexpected = [sorted(c) for c in found if c != ALLOWED_CIRCLE]
    assert not unexpected, f"import circles: {unexpected}"
    assert len(found) <= 1


def test_no_private_name_crosses_a_subpackage() -> None:
    files, edges = internal_arrows()
    crossing = []
    for a in edges:
        private = [n for n in a.names if n.startswith("_") and not n.startswith("__")]
        if not a.names and a.target.rpartition(".")[2].startswith("_") and not a.target.endswith("__"):
            private.append(a.target.rpartition(".")[2])
        if private and room(a.source) != room(a.target):
            crossing.append(f"{files[a.source].relative_to(ROOT)}:{a.line} imports {private} from {a.target}")
    assert not crossing, "\n".join(crossing)


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in module_files().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "\n".join(long)


def test_autograd_keeps_its_top_level_small() -> None:
    top = sorted(p.name for p in (ROOT / "autograd").glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    assert {"core", "compiler", "viz", "testing"} <= {p.name for p in (ROOT / "autograd").iterdir() if p.is_dir()}


def test_value_is_imported_one_way() -> None:
    """``Value`` comes from ``core`` inside autograd, from ``autograd`` inside nn, from ``.value`` inside core."""
    files, _ = internal_arrows()
    ways = {}
    for a in arrows(files):
        if "Value" in a.names:
            expected = {"core": "valuegrad.autograd.core.value", "nn": "valuegrad.autograd"}.get(
                room(a.source).rpartition(".")[2], "valuegrad.autograd.core"
            )
            ways[f"{files[a.source].relative_to(ROOT)}:{a.line}"] = (a.target, expected)
    wrong = {where: got for where, (got, expected) in ways.items() if got != expected}
    assert ways and not wrong, wrong


def test_the_rules_see_a_planted_violation(tmp_path: Path) -> None:
    """The checks above would notice: a back-up import and a circle, planted in a copy of two modules."""
    files = {"valuegrad.autograd.core.ops": tmp_path / "ops.py", "valuegrad.autograd.viz.draw": tmp_path / "draw.py"}
    files["valuegrad.autograd.core.ops"].write_text("def f():\n    from ..viz.draw import g\n", encoding="utf-8")
    files["valuegrad.autograd.viz.draw"].write_text("from ..core.ops import f\n", encoding="utf-8")
    edges = [a for a in arrows(files) if a.target in files]
    assert [(a.source, a.target) for a in edges if layer(a.source) < layer(a.target)] == [
        ("valuegrad.autograd.core.ops", "valuegrad.autograd.viz.draw")
    ]
    assert circles(list(files), edges) == [set(files)]


if __name__ == "__main__":  # the figures for a note: python tests/test_architecture.py
    files, edges = internal_arrows()
    modules = list(files)
    pairs = {(a.source, a.target) for a in edges}
    level = floors(modules, edges)
    back = {(a.source, a.target) for a in edges if layer(a.source) < layer(a.target)}
    print(f"modules {len(modules)}, arrows {len(pairs)}, floors {max(level.values())}, back up {len(back)}")
    for component in circles(modules, edges):
        print("circle:", " ".join(sorted(m.removeprefix("valuegrad.") for m in component)))
    if "-v" in sys.argv:
        for source, target in sorted(pairs):
            print(f"  {source.removeprefix('valuegrad.')} -> {target.removeprefix('valuegrad.')}")
