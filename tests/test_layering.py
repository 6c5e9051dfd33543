"""The house's dependency rules, checked on the source (an import contract).

- ``efex_gui.core``, ``efex_gui.extract`` and the CLI never import Qt or matplotlib
  (matplotlib only through the lazily imported ``efex_gui.report``);
- efel is imported only by ``efex_gui.core.features``;
- h5py, neo, igor2, pyabf, myokit only under ``efex_gui.core.readers`` (and the demo
  NWB writer);
- nothing in efex_gui imports bluepyefe (tests and benchmarks may, as an oracle);
- the core never imports the app or the widgets;
- the core is a few rooms (packages) with at most 12 modules at its top, each named in
  ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "efex_gui"


def _imports(path: Path) -> set[str]:
    """Module names imported anywhere in ``path`` (also inside functions).

    ``from pkg import name`` counts as ``pkg`` and ``pkg.name``: ``name`` may be a
    module (``from efex_gui import report``).
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(*parts: str) -> list[Path]:
    root = PACKAGE.joinpath(*parts)
    return sorted(root.rglob("*.py")) if root.is_dir() else [root]


def _offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in files:
        for name in _imports(path):
            if name.split(".")[0] in forbidden or name.startswith(forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


HEADLESS = _modules("core") + _modules("extract.py") + sorted(PACKAGE.glob("cli*.py"))


@pytest.mark.parametrize(
    "forbidden",
    [
        ("PySide6", "pyqtgraph", "superqt", "efex_gui.app", "efex_gui.widgets"),
        ("matplotlib",),
    ],
)
def test_headless_code_imports_no_gui(forbidden: tuple[str, ...]) -> None:
    assert _offenders(HEADLESS, forbidden) == []


def test_efel_only_in_core_features() -> None:
    others = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "core" / "features.py"]
    assert _offenders(others, ("efel",)) == []


def test_file_format_libraries_only_in_readers() -> None:
    readers = PACKAGE / "core" / "readers"
    writer = PACKAGE / "core" / "synthetic" / "nwb_writer.py"  # the demo's NWB files
    others = [
        p for p in PACKAGE.rglob("*.py") if readers not in p.parents and p != writer
    ]
    assert _offenders(others, ("h5py", "neo", "igor2", "pyabf", "myokit")) == []


def test_nothing_imports_bluepyefe() -> None:
    assert _offenders(sorted(PACKAGE.rglob("*.py")), ("bluepyefe",)) == []


def test_rule_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from PySide6.QtCore import QObject\n"
        "def g():\n    from efex_gui import report\n"
    )
    assert _imports(module) == {
        "PySide6.QtCore",
        "PySide6.QtCore.QObject",
        "efex_gui",
        "efex_gui.report",
    }


# --- one-way imports inside the core ------------------------------------------------


def _module_names(root: Path, package: str) -> dict[str, Path]:
    """``{dotted module name: path}`` of every module of ``package`` under ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join([package, *parts])] = path
    return names


def _import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports, anywhere in its source.

    ``from pkg import name`` points at ``pkg.name`` when that is a module, else at
    ``pkg``; an import inside a function or under ``TYPE_CHECKING`` counts as well.
    """
    modules = _module_names(root, package)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [
                    f"{node.module}.{a.name}"
                    if f"{node.module}.{a.name}" in modules
                    else node.module
                    for a in node.names
                ]
            else:
                continue
            for target in targets:
                if target == package or target.startswith(package + "."):
                    resolved = known(target)
                    if resolved is not None and resolved != name:
                        graph[name].add(resolved)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _room(module: str) -> str:
    """``efex_gui.core.extraction.pipeline`` → ``extraction``; top modules are rooms."""
    return module.split(".")[2] if module.count(".") >= 2 else "core"


CORE_GRAPH = _import_graph(PACKAGE / "core", "efex_gui.core")


def test_core_modules_import_one_way() -> None:
    assert _cycles(CORE_GRAPH) == []


def test_core_rooms_import_one_way() -> None:
    rooms: dict[str, set[str]] = {}
    for module, imported in CORE_GRAPH.items():
        room = rooms.setdefault(_room(module), set())
        room.update(
            _room(target) for target in imported if _room(target) != _room(module)
        )
    assert _cycles(rooms) == []


#: efex_gui modules outside the core the core may import: the resource locator (a
#: Qt-free path helper, the one place that knows the checkout and wheel layouts), for
#: data files such as resources/defaults/protocol_names.json; and the package's version
CORE_MAY_IMPORT = ("efex_gui.resources", "efex_gui.__version__")


def test_core_imports_nothing_above_it() -> None:
    """The core imports only itself from efex_gui (plus the version in efex_gui)."""
    found = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _modules("core")
        for name in _imports(path)
        if name.startswith("efex_gui.")
        and not name.startswith("efex_gui.core")
        and not name.startswith(CORE_MAY_IMPORT)
    ]
    assert found == []


def test_cycle_checker_counts_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from pkg.b import f\n")
    (tmp_path / "b.py").write_text("def f():\n    from pkg import a\n")
    (tmp_path / "c.py").write_text("import pkg.a\n")
    graph = _import_graph(tmp_path, "pkg")
    assert graph["pkg.b"] == {"pkg.a"}
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]


# --- the layout: a few rooms, few modules left at the top -----------------------------

CORE = PACKAGE / "core"
ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"
#: at most this many modules directly in efex_gui/core (issue 11)
MOST_TOP_MODULES = 12


def _core_rooms() -> list[str]:
    return sorted(p.name for p in CORE.iterdir() if (p / "__init__.py").is_file())


def _core_top_modules() -> list[str]:
    return sorted(p.name for p in CORE.glob("*.py") if p.name != "__init__.py")


def test_core_is_rooms_with_few_modules_at_the_top() -> None:
    assert len(_core_top_modules()) <= MOST_TOP_MODULES, _core_top_modules()
    assert len(_core_rooms()) >= 8, _core_rooms()


def test_architecture_page_names_every_room_and_top_module() -> None:
    """docs/architecture.md names each room (``name/``) and top module (``x.py``)."""
    page = ARCHITECTURE.read_text(encoding="utf-8")
    names = [f"{room}/" for room in _core_rooms()] + _core_top_modules()
    assert [name for name in names if name not in page] == []
