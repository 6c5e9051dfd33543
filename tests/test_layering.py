"""The house's dependency rules, checked on the source (an import contract).

- ``efex_gui.core``, ``efex_gui.extract`` and the CLI never import Qt or matplotlib
  (matplotlib only through the lazily imported ``efex_gui.report``);
- efel is imported only by ``efex_gui.core.features``;
- h5py, neo, igor2 only under ``efex_gui.core.readers`` (and the demo NWB writer);
- nothing in efex_gui imports bluepyefe (tests and benchmarks may, as an oracle);
- the core never imports the app or the widgets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "efex_gui"


def _imports(path: Path) -> set[str]:
    """Top-level module names imported anywhere in ``path`` (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
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
    writer = PACKAGE / "core" / "synthetic_nwb.py"  # writes the demo's NWB files
    others = [
        p for p in PACKAGE.rglob("*.py") if readers not in p.parents and p != writer
    ]
    assert _offenders(others, ("h5py", "neo", "igor2")) == []


def test_nothing_imports_bluepyefe() -> None:
    assert _offenders(sorted(PACKAGE.rglob("*.py")), ("bluepyefe",)) == []


def test_rule_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert _imports(module) == {"PySide6.QtCore"}
