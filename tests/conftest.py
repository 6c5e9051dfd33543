"""Shared fixtures: ../shared/data (a clear skip when absent) and the simulated demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EFEX_SHARED_DATA", ROOT.parent / "shared" / "data"))


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


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder (skips when absent)."""
    return shared_path()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated demo dataset (2 cells, seed 0), simulated once per test session.

    ``SimCell1.nwb``, ``SimCell2.nwb``, ``files_metadata.json`` (absolute paths),
    ``targets.json`` and ``config.json``. Shared by every test: never write into it
    (copy what you change).
    """
    from efex_gui.core.synthetic.demo import write_demo_dataset

    folder = tmp_path_factory.mktemp("demo")
    write_demo_dataset(folder, n_cells=2, seed=0)
    return folder


@pytest.fixture(scope="session")
def demo_cell() -> dict[str, Any]:
    """The demo's ``SimCell1`` in memory (``simulate_cell(seed=0)``), simulated once.

    Shared by every test: its arrays are read-only (a test that changes a trace puts
    a changed copy into a copy of the sweep dict).
    """
    import numpy as np

    from efex_gui.core.synthetic.demo import simulate_cell

    cell = simulate_cell(seed=0)
    for sweep in cell["sweeps"]:
        for value in sweep.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
    return cell


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
    timer = collect_garbage_in_gui_thread(qapp)
    yield
    timer.stop()
    timer.deleteLater()
    gc.collect()
    gc.enable()
