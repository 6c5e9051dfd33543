"""Shared fixtures: ../shared/data (a clear skip when absent) and the simulated demo."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EFEX_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: an SSCx Igor entry's values besides its ordinal and files (units, dt, LJP, window)
SSCX_ENTRY_VALUES = {
    "i_unit": "A",
    "v_unit": "V",
    "t_unit": "s",
    "dt": 5e-05,
    "ljp": 14,
    "ton": 10,
    "toff": 13.5,
}


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared/data, skipping the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"needs the shared recordings at {path} "
            "(../shared/data beside the project); "
            "set EFEX_SHARED_DATA to point elsewhere"
        )
    return path


def held_bytes(obj: Any, *beside: Any) -> int:
    """Bytes of what ``obj`` holds that none of ``beside`` holds (each object once).

    Follows containers, ``__dict__`` and slots; what ``beside`` reaches is not
    counted (objects shared with it cost ``obj`` nothing). The memory tests' measure.
    """
    seen: set[int] = set()

    def walk(root: Any, count: bool) -> int:
        total, stack = 0, [root]
        while stack:
            item = stack.pop()
            if id(item) in seen or isinstance(item, type):
                continue
            seen.add(id(item))
            total += sys.getsizeof(item) if count else 0
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list | tuple | set | frozenset):
                stack.extend(item)
            elif hasattr(item, "__dict__") or hasattr(type(item), "__slots__"):
                stack.extend(vars(item).values() if hasattr(item, "__dict__") else ())
                for name in getattr(type(item), "__slots__", ()):
                    stack.append(getattr(item, name, None))
        return total

    for other in beside:
        walk(other, count=False)
    return walk(obj, count=True)


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder (skips when absent)."""
    return shared_path()


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """Return a folder that ``build`` filled once per test run, for every worker.

    Under pytest-xdist each worker's temporary folder is a child of one folder of the
    run: the first worker to lock ``<name>.lock`` there builds ``<name>``, the others
    wait for it and reuse it. Run alone (or without ``fcntl``) the folder is built
    in this process's temporary folder.
    """
    try:
        import fcntl
    except ImportError:  # Windows: each worker builds its own
        fcntl = None  # type: ignore[assignment]
    if os.environ.get("PYTEST_XDIST_WORKER") is None or fcntl is None:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed midway
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def _demo_sims_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``simulate_demo_cells(2, seed=0)`` pickled in ``cells.pickle``, once per run."""
    from efex_gui.core.synthetic.demo import simulate_demo_cells

    def simulate(folder: Path) -> None:
        with (folder / "cells.pickle").open("wb") as handle:
            pickle.dump(simulate_demo_cells(2, seed=0), handle)

    return built_once(tmp_path_factory, "demo_sims", simulate)


@pytest.fixture(scope="session")
def demo_sims(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The demo's two cells (seed 0) as simulated, once per test run.

    What :func:`demo_dir` holds, with the cells' parameters and nominal stimuli.
    Shared by every test: its arrays are read-only.
    """
    return _read_only(_unpickled(_demo_sims_folder(tmp_path_factory)))


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated demo dataset (2 cells, seed 0), written once per test run.

    ``SimCell1.nwb``, ``SimCell2.nwb``, ``files_metadata.json`` (absolute paths),
    ``targets.json`` and ``config.json``: ``write_demo_dataset(folder, 2, seed=0)``,
    from the cells of :func:`demo_sims`. Shared by every test and every xdist worker:
    never write into it (copy what you change).
    """
    from efex_gui.core.synthetic.demo import write_demo_files

    def write(folder: Path) -> None:
        write_demo_files(folder, _unpickled(_demo_sims_folder(tmp_path_factory)))

    return built_once(tmp_path_factory, "demo", write)


@pytest.fixture(scope="session")
def demo_cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """``efex demo -o FOLDER`` (3 cells, seed 0, extracted), run once per test run.

    Returns the folder (dataset + ``efeatures/``), what the command printed and its
    exit code. Shared by every test and every xdist worker: never write into it.
    """
    import contextlib
    import io

    from efex_gui.cli import main

    def run(folder: Path) -> None:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["demo", "-o", str(folder)])
        (folder / "stdout.txt").write_text(printed.getvalue(), encoding="utf-8")
        (folder / "exit_code.txt").write_text(str(code), encoding="utf-8")

    folder = built_once(tmp_path_factory, "demo_cli", run)
    printed = (folder / "stdout.txt").read_text(encoding="utf-8")
    return folder, printed, int((folder / "exit_code.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_cell(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's ``SimCell1`` in memory (``simulate_cell(seed=0)``), simulated once.

    Simulated once per test run (pickled for the other xdist workers). Shared by
    every test: its arrays are read-only (a test that changes a trace puts a changed
    copy into a copy of the sweep dict).
    """
    from efex_gui.core.synthetic.demo import simulate_cell

    def simulate(folder: Path) -> None:
        with (folder / "cells.pickle").open("wb") as handle:
            pickle.dump([simulate_cell(seed=0)], handle)

    folder = built_once(tmp_path_factory, "demo_cell", simulate)
    return _read_only(_unpickled(folder))[0]


def _unpickled(folder: Path) -> Any:
    with (folder / "cells.pickle").open("rb") as handle:
        return pickle.load(handle)


def _read_only(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make the sweeps' arrays read-only (a test must copy what it changes)."""
    import numpy as np

    for cell in cells:
        for sweep in cell["sweeps"]:
            for value in sweep.values():
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
    return cells


@pytest.fixture(autouse=True)
def feature_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets an empty persistent feature cache (never the user's)."""
    folder = tmp_path_factory.mktemp("efex-cache")
    monkeypatch.setenv("EFEX_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _own_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test (and every app it starts) gets its own XDG data/config/state folders.

    The app keeps its autosave/recovery folders, preferences and ``--demo`` data there:
    tests running at the same time (pytest-xdist) must never see each other's.
    """
    folder = tmp_path_factory.mktemp("xdg")
    for name in ("DATA", "CONFIG", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(folder / name.lower()))


@pytest.fixture
def gc_in_gui_thread(qapp: Any) -> Iterator[None]:
    """As the app does: no cyclic collection in worker threads (Qt deadlock).

    Every test creating Qt objects in-process uses it (tests/gui does, autouse):
    a collection started in a worker thread can free a Qt wrapper there and
    deadlock with shiboken (``collect_garbage_in_gui_thread``).
    """
    import gc

    from efex_gui.app.qt_workarounds import collect_garbage_in_gui_thread

    gc.collect()
    # what survived is no garbage: later collections skip it (a full collection of
    # the whole heap, Qt's and the test session's, took ~0.3 s, twice per test)
    gc.freeze()
    timer = collect_garbage_in_gui_thread(qapp)
    yield
    timer.stop()
    timer.deleteLater()
    gc.collect()
    gc.enable()


@pytest.fixture
def efel_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[number of efel.get_feature_values calls]`` since the test started."""
    import efel

    calls = [0]
    original = efel.get_feature_values

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(efel, "get_feature_values", counted)
    return calls
