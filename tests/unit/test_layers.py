"""The packages of mailbot/ form layers: each imports only from its own layer or those
below, and no module imports itself back through others. A newcomer reads them bottom
up; the web app and the CLI sit on top and share everything beneath."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mailbot

ROOT = Path(mailbot.__file__).parent
# Bottom first. A top-level module or a package is one unit.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {"config", "sealing", "database", "accounts", "lease", "log_format", "service_manager"}
    ),
    frozenset({"mail"}),
    frozenset({"store"}),
    frozenset({"triage"}),
    frozenset({"cases", "staff"}),
    frozenset({"replies"}),
    frozenset({"handling"}),
    frozenset({"actions"}),
    frozenset(
        {
            "pipeline",
            "pending",
            "tries",
            "deadline",
            "schedule",
            "worker",
            "runtime",
            "metrics",
            "reports",
            "figures",
            "figure_tables",
            "classify",
            "letter_files",
            "model_files",
            "backup",
            "exposition",
            "rekey",
            "yardstick",
            "demo",
        }
    ),
    frozenset({"web"}),
    frozenset({"commands", "cli", "__main__", "migrations", "__init__"}),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> Iterator[tuple[str, str]]:
    """(importer, imported) for every import of a mailbot module inside mailbot/."""
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                names += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("mailbot.") and _is_module(name):
                    yield _module_name(path), name


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative).is_dir()


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    raise AssertionError(f"mailbot/{unit} belongs to no layer: add it to LAYERS")


def test_no_package_imports_one_above_it() -> None:
    upward = sorted(
        f"{importer} -> {imported}"
        for importer, imported in _imports()
        if _layer(_unit(imported)) > _layer(_unit(importer))
    )
    assert upward == []


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for importer, imported in _imports():
        if importer != imported:
            graph.setdefault(importer, set()).add(imported)
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_unit_is_placed() -> None:
    units = {_unit(_module_name(path)) for path in ROOT.rglob("*.py")}
    for unit in units:
        _layer(unit)
