"""MainWindow, autosave and the efex-gui command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from efex_gui.app.autosave import Autosaver, find_recovery
from efex_gui.app.controller import SessionController
from efex_gui.core.exclusions import ExclusionKey
from efex_gui.widgets.import_dialog import ImportDialog
from efex_gui.widgets.main_window import MainWindow
from tests.gui.helpers import load_everything

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot: Any, controller: SessionController, preferences: Any) -> MainWindow:
    window = MainWindow(controller, preferences)
    window.confirm_close = False
    qtbot.addWidget(window)
    return window


def test_open_json_and_save_updates_title_and_recent(
    window: MainWindow, demo_dir: Path, tmp_path: Path
) -> None:
    assert window.open_path(demo_dir / "config.json")
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]
    assert window.windowTitle().startswith("untitled session")
    window.controller.set_excluded([ExclusionKey("SimCell1")], True)
    assert "*" in window.windowTitle()
    path = tmp_path / "s.json"
    assert window._save_to(path)
    assert window.windowTitle() == "s.json — efex-gui"
    assert window.preferences.recent_files()[0] == str(path)


def test_drop_a_session_file(qtbot: Any, window: MainWindow, demo_dir: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo_dir / "config.json"))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.controller.session_changed):
        window.dropEvent(event)
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]


def test_open_folder_goes_through_the_import_dialog(
    window: MainWindow, demo_dir: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        ImportDialog, "exec", lambda self: ImportDialog.DialogCode.Accepted
    )
    assert window.open_path(demo_dir)
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]
    assert window.controller.session.data_root == demo_dir
    window.controller.cancel_task()


def test_a_bad_file_keeps_the_current_session(
    window: MainWindow, demo_dir: Path, tmp_path: Path
) -> None:
    window.open_path(demo_dir / "config.json")
    before = window.controller.session
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "efex-session", "format_version": 99}')
    assert not window.open_path(bad)
    assert window.controller.session is before


def test_autosave_and_recovery(
    qtbot: Any, controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    controller.open_json(demo_dir / "config.json")
    saved = controller.save_session(tmp_path / "s.json")
    saver = Autosaver(controller, folder=tmp_path / "recovery", period_s=0)
    assert not saver.save_now(), "nothing to save while the session is saved"
    controller.set_excluded([ExclusionKey("SimCell2", "IV")], True, "drift")
    assert saver.save_now()
    found = find_recovery(tmp_path / "recovery")
    assert found is not None
    session, original = found
    assert original == str(saved.absolute())
    assert session == controller.session
    controller.save_session()
    assert find_recovery(tmp_path / "recovery") is None, "saving drops the copy"


def test_screenshot_command_line(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "efex_gui.app.main",
            "--demo",
            "--screenshot",
            str(out),
            "--size",
            "1200x800",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)


def test_window_shows_a_read_sweep(
    qtbot: Any, window: MainWindow, demo_dir: Path
) -> None:
    window.open_path(demo_dir / "config.json")
    load_everything(qtbot, window.controller)
    sweep = window.controller.dataset.sweeps("SimCell1", "IDRest")[4]
    with qtbot.waitSignal(window.plot.drawn):
        window.controller.select_sweeps([sweep])
    assert window.metadata.entries == [sweep.entry_key]
    assert "SimCell1 / IDRest" in window.plot.title.text()


def test_start_offers_to_restore_a_crashed_session(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    import efex_gui.app.autosave as autosave
    from efex_gui.app.main import _offer_restore

    monkeypatch.setattr(autosave, "default_recovery_dir", lambda: tmp_path / "rec")
    controller.open_json(demo_dir / "config.json")
    controller.set_excluded([ExclusionKey("SimCell1", "IDRest")], True, "crash test")
    assert Autosaver(controller, period_s=0).save_now()
    expected = controller.session
    fresh = SessionController()
    try:
        monkeypatch.setattr(
            QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes
        )
        _offer_restore(None, fresh)
        assert fresh.session == expected
        assert fresh.is_dirty(), "a restored session still needs saving"
    finally:
        fresh.shutdown()
