"""Shared fixtures: ../shared/data (a clear skip when absent) and the simulated demo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


@pytest.fixture(autouse=True)
def _own_feature_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets an empty persistent feature cache (never the user's)."""
    folder = tmp_path_factory.mktemp("efex-cache")
    monkeypatch.setenv("EFEX_CACHE_DIR", str(folder))
    return folder
