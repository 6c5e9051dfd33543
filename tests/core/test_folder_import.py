"""The headless default folder import (what the GUI's import dialog does unchanged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.session.folder_import import DEFAULT_PROFILE, import_folder
from efex_gui.resources import load_default
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path


def test_the_core_profile_is_the_dialogs() -> None:
    assert load_default("import") == DEFAULT_PROFILE


def test_a_folder_of_cells_and_one_cell_folder_alone() -> None:
    folder = shared_path("sscx", "input-traces")
    everything = import_folder(folder)
    assert set(everything.files_metadata) == {
        "C060109A1-SR-C1", "C060109A2-SR-C1", "C061128A1-SR-C1", "C080501B2-SR-C1",
    }  # fmt: skip
    assert len(everything.files_metadata["C060109A1-SR-C1"]["IDrest"]) == 32
    alone = import_folder(folder / "C060109A1-SR-C1")
    assert list(alone.files_metadata) == ["C060109A1-SR-C1"]
    assert alone.root == folder.absolute()
    assert (
        alone.files_metadata["C060109A1-SR-C1"]
        == everything.files_metadata["C060109A1-SR-C1"]
    )


def test_nothing_to_import_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="No recording file found"):
        import_folder(tmp_path)
    with pytest.raises(MetadataError, match="is not a folder"):
        import_folder(tmp_path / "missing")
