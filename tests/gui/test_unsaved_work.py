"""Unsaved work is never replaced without asking: every path through the real window.

Open folder, Open files, Open session (Ctrl+O), drag and drop, a recent-files entry,
New session, Close session and Quit all go through one guard that asks Save /
Discard / Cancel; Cancel keeps everything, Save saves then goes on, and the
autosave of the old session survives until the person chose.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from efex_gui.app.autosave import Autosaver
from efex_gui.core.session.dataset import EntryKey
from efex_gui.core.session.exclusions import ExclusionKey
from efex_gui.widgets.import_dialog import ImportDialog
from efex_gui.widgets.main_window import MainWindow
from tests.gui.extraction_helpers import run_and_wait

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from efex_gui.app.controller import SessionController

Button = QMessageBox.StandardButton


class Asker:
    """Stands in for the Save / Discard / Cancel question; records each ask."""

    def __init__(self, answer: QMessageBox.StandardButton) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, action: str) -> QMessageBox.StandardButton:
        self.asked.append(action)
        return self.answer


@pytest.fixture
def window(
    qtbot: Any, controller: SessionController, preferences: Any, monkeypatch: Any
) -> MainWindow:
    window = MainWindow(controller, preferences)
    # the teardown closes the window: without asking
    qtbot.addWidget(
        window, before_close_func=lambda w: setattr(w, "confirm_close", False)
    )
    monkeypatch.setattr(
        ImportDialog, "exec", lambda self: ImportDialog.DialogCode.Accepted
    )
    return window


@pytest.fixture
def saved_demo(window: MainWindow, demo_dir: Path, tmp_path: Path) -> Path:
    """The demo opened in the window and saved: nothing unsaved yet."""
    window.confirm_close = False
    assert window.open_path(demo_dir / "config.json")
    window.controller.cancel_task()
    path = tmp_path / "curated.json"
    assert window._save_to(path)
    window.confirm_close = True
    assert not window.has_unsaved_work()
    return path


def _exclude_with_reason(window: MainWindow, qtbot: Any) -> None:
    key = ExclusionKey("SimCell1", "IDRest")
    window.controller.set_excluded([key], True, "noisy baseline")


def _override_rheobase(window: MainWindow, qtbot: Any) -> None:
    window.extraction.set_rheobase_override("SimCell2", 0.123)


def _edit_metadata(window: MainWindow, qtbot: Any) -> None:
    key = EntryKey("SimCell1", "IDRest", 0)
    window.controller.set_metadata([key], {"ljp": 14.0})


def _extract(window: MainWindow, qtbot: Any) -> None:
    run_and_wait(qtbot, window.extraction)


CHANGES: dict[str, Callable[[MainWindow, Any], None]] = {
    "exclusion with a reason": _exclude_with_reason,
    "rheobase override": _override_rheobase,
    "metadata edit": _edit_metadata,
    "finished extraction": _extract,
}


def _drop(window: MainWindow, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))  # fmt: skip


def _open_folder(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(demo))
    window.open_folder_action.trigger()


def _open_files(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    files = [str(demo / "SimCell2.nwb")]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a: (files, ""))
    window.open_files_action.trigger()


def _open_session(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    config = str(demo / "config.json")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: (config, ""))
    window.open_json_action.trigger()  # Ctrl+O


def _drop_folder(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    _drop(window, demo)


def _recent_entry(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    window.preferences.add_recent_file(demo / "config.json")
    window.recent_menu.aboutToShow.emit()
    action = next(a for a in window.recent_menu.actions() if "config.json" in a.text())
    action.trigger()


def _new_session(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    window.new_session_action.trigger()


def _close_session(window: MainWindow, demo: Path, monkeypatch: Any) -> None:
    window.close_session_action.trigger()


PATHS: dict[str, Callable[[MainWindow, Path, Any], None]] = {
    "open folder": _open_folder,
    "open files": _open_files,
    "open session (Ctrl+O)": _open_session,
    "drag and drop": _drop_folder,
    "recent-files entry": _recent_entry,
    "new session": _new_session,
    "close session": _close_session,
}


@pytest.mark.parametrize("path_name", list(PATHS))
def test_cancel_keeps_the_curated_session_on_every_path(
    qtbot: Any,
    window: MainWindow,
    saved_demo: Path,
    demo_dir: Path,
    monkeypatch: Any,
    path_name: str,
) -> None:
    _exclude_with_reason(window, qtbot)
    session = window.controller.session
    asker = Asker(Button.Cancel)
    window.ask_unsaved = asker  # type: ignore[method-assign]
    PATHS[path_name](window, demo_dir, monkeypatch)
    assert len(asker.asked) == 1, f"{path_name} replaced the session without asking"
    assert window.controller.session is session
    assert session.exclusions.reasons[ExclusionKey("SimCell1", "IDRest")] == (
        "noisy baseline"
    )
    assert window.has_unsaved_work()
    assert window.isWindowModified()
    assert window.controller.undo_stack.canUndo(), "the undo history is kept"


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_kind_of_unsaved_work_asks_before_open_session(
    qtbot: Any,
    window: MainWindow,
    saved_demo: Path,
    demo_dir: Path,
    monkeypatch: Any,
    change: str,
) -> None:
    CHANGES[change](window, qtbot)
    assert window.has_unsaved_work(), change
    assert window.isWindowModified(), change
    session = window.controller.session
    asker = Asker(Button.Cancel)
    window.ask_unsaved = asker  # type: ignore[method-assign]
    _open_session(window, demo_dir, monkeypatch)
    assert asker.asked, f"a {change} was replaced without asking"
    assert window.controller.session is session


def test_save_saves_then_opens(
    qtbot: Any, window: MainWindow, saved_demo: Path, demo_dir: Path, monkeypatch: Any
) -> None:
    _exclude_with_reason(window, qtbot)
    window.ask_unsaved = Asker(Button.Save)  # type: ignore[method-assign]
    _drop_folder(window, demo_dir, monkeypatch)
    window.controller.cancel_task()
    reopened = window.controller.read_json(saved_demo)
    assert reopened.exclusions.reasons == {
        ExclusionKey("SimCell1", "IDRest"): "noisy baseline"
    }, "the curation was saved to its file first"
    assert window.controller.session.path is None, "then the folder was imported"


def test_save_cancelled_in_the_file_dialog_keeps_the_session(
    qtbot: Any, window: MainWindow, demo_dir: Path, monkeypatch: Any
) -> None:
    window.confirm_close = False
    window.open_path(demo_dir / "config.json")  # untitled: Save asks for a name
    window.controller.cancel_task()
    window.confirm_close = True
    session = window.controller.session
    window.ask_unsaved = Asker(Button.Save)  # type: ignore[method-assign]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: ("", ""))
    assert not window.new_session()
    assert window.controller.session is session


def test_discard_replaces_and_the_autosave_waits_for_the_choice(
    qtbot: Any,
    window: MainWindow,
    saved_demo: Path,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    saver = Autosaver(window.controller, folder=tmp_path / "recovery", period_s=0)
    _exclude_with_reason(window, qtbot)
    assert saver.save_now()
    copy = saver.session_file.read_text(encoding="utf-8")

    def check_then_discard(action: str) -> QMessageBox.StandardButton:
        assert saver.session_file.read_text(encoding="utf-8") == copy, (
            "the old session's autosave is intact while the person chooses"
        )
        return Button.Discard

    window.ask_unsaved = check_then_discard  # type: ignore[method-assign]
    _open_session(window, demo_dir, monkeypatch)
    window.controller.cancel_task()
    assert window.controller.session.path is None
    assert not window.controller.session.exclusions
    assert not saver.session_file.exists(), "discarded: its copy goes too"
    saver.close()


def test_title_names_the_session_and_marks_it_modified(
    window: MainWindow, saved_demo: Path, qtbot: Any
) -> None:
    assert window.windowTitle() == "curated.json[*] — efex-gui"
    assert not window.isWindowModified()
    _exclude_with_reason(window, qtbot)
    assert window.isWindowModified()
    window.controller.undo_stack.undo()
    assert not window.isWindowModified()
    window.confirm_close = False
    window.new_session()
    assert window.windowTitle() == "untitled session[*] — efex-gui"
    assert "New session" in window.statusBar().currentMessage()
    window.close_session()
    assert window.windowTitle() == "efex-gui", "closed: no document, not a new one"
    assert "Session closed" in window.statusBar().currentMessage()


def test_saving_over_a_file_another_window_saved_asks_first(
    window: MainWindow, saved_demo: Path, qtbot: Any, monkeypatch: Any
) -> None:
    """Two windows (or instances) on one session file: the second save asks."""
    from efex_gui.core.session.document import Session
    from tests.gui.helpers import Answer

    _exclude_with_reason(window, qtbot)
    other = Session.load(saved_demo)  # another instance excludes, then saves
    other.rheobase_overrides = {"SimCell1": 0.5}
    other.save(saved_demo)
    stat = saved_demo.stat()
    os.utime(saved_demo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    theirs = saved_demo.read_bytes()

    answer = Answer("Cancel")
    assert not window.save()
    assert answer.texts == [
        "curated.json was changed on disk (by another efex-gui window or another "
        "program) since this window opened or saved it."
    ]
    assert saved_demo.read_bytes() == theirs, "Cancel: their file is untouched"
    assert window.isWindowModified()

    Answer("Overwrite")
    assert window.save()
    assert saved_demo.read_bytes() != theirs
    assert "noisy baseline" in saved_demo.read_text()
    assert not window.isWindowModified()
    # saved here since: no question any more
    monkeypatch.setattr(window, "ask_overwrite", lambda name: pytest.fail(name))
    window.extraction.set_rheobase_override("SimCell2", 0.2)
    assert window.save()
