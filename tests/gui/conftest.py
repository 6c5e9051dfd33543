"""GUI test fixtures: offscreen Qt, isolated settings, a controller, the demo data."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from efex_gui.app import browsed_recordings
from efex_gui.app.controller import SessionController
from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.app.preferences import Preferences
from efex_gui.app.qt_workarounds import pin_singletons

if TYPE_CHECKING:
    from collections.abc import Iterator

pin_singletons()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/gui as a GUI test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_qt_paths(qapp: Any) -> None:
    """Keep QSettings/QStandardPaths of tests away from the user's."""
    QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def preferences(tmp_path: Path) -> Preferences:
    """Preferences in a throw-away ini file."""
    ini = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    return Preferences(ini)


@pytest.fixture
def controller(qtbot: Any) -> Iterator[SessionController]:
    """A controller whose worker thread is stopped after the test."""
    controller = SessionController()
    yield controller
    assert controller.shutdown(), "the worker thread did not stop"


@pytest.fixture
def extraction(controller: Any, qtbot: Any) -> Iterator[ExtractionController]:
    """An extraction controller whose worker thread is stopped after the test."""
    extraction = ExtractionController(controller)
    yield extraction
    assert extraction.shutdown(), "the extraction thread did not stop"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep one sweep live: every cell but the last used is frozen."""
    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", 1)


@pytest.fixture(autouse=True)
def _garbage_collected_in_the_gui_thread(gc_in_gui_thread: None) -> None:
    """As the app does: no cyclic collection in worker threads (tests/conftest.py)."""
