"""MainWindow, autosave and the efex-gui command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import QToolBar, QWidget

from efex_gui.app.autosave import Autosaver, find_recovery
from efex_gui.app.controller import SessionController
from efex_gui.core.session.document import Session
from efex_gui.core.session.exclusions import ExclusionKey
from efex_gui.widgets.import_dialog import ImportDialog
from tests.gui.helpers import load_everything, main_window

if TYPE_CHECKING:
    from efex_gui.widgets.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
#: object names of the buttons Qt puts in tables and tab bars
QT_INTERNAL = ("qt_", "ScrollLeftButton", "ScrollRightButton")


@pytest.fixture
def window(qtbot: Any, controller: SessionController, preferences: Any) -> MainWindow:
    window = main_window(qtbot, controller, preferences)
    return window


def test_closing_the_window_stops_the_extraction_worker(
    qtbot: Any, window: MainWindow
) -> None:
    # its side jobs (the cell summary reads the NWB files) must not outlive the window
    with qtbot.waitSignal(window.extraction.stopping, timeout=1000):
        window.close()


def test_open_json_and_save_updates_title_and_recent(
    window: MainWindow, demo_dir: Path, tmp_path: Path
) -> None:
    assert window.open_path(demo_dir / "config.json")
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]
    assert window.windowTitle().startswith("untitled session")
    window.controller.set_excluded([ExclusionKey("SimCell1")], True)
    assert window.isWindowModified()
    path = tmp_path / "s.json"
    assert window._save_to(path)
    assert window.windowTitle() == "s.json[*] — efex-gui"
    assert not window.isWindowModified()
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
    assert find_recovery(tmp_path / "recovery") is None, (
        "a live instance's autosave is never offered to another"
    )
    saver._lock.unlock()  # what a crash leaves: the copy, and nobody holding it
    found = find_recovery(tmp_path / "recovery")
    assert found is not None
    session, original = found
    assert original == str(saved.absolute())
    assert session == controller.session
    controller.save_session()
    assert find_recovery(tmp_path / "recovery") is None, "saving drops the copy"


def test_screenshot_command_line(tmp_path: Path, demo_dir: Path) -> None:
    out = tmp_path / "shot.png"
    # --demo opens the demo in the user's data folder (AppLocalDataLocation); the
    # session's demo is put there first, so the app does not simulate it again
    # (test_packaging's installed-GUI test runs --demo from an empty home)
    shutil.copytree(demo_dir, tmp_path / "data" / "efex_gui" / "efex-gui" / "demo")
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
    crashed = Autosaver(controller, period_s=0)
    assert crashed.save_now()
    expected = controller.session
    fresh = SessionController()
    asked: list[str] = []

    def yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    try:
        _offer_restore(None, fresh, Autosaver(fresh, period_s=0))
        assert not asked, "the first instance is alive: its autosave is not offered"
        crashed._lock.unlock()  # the first instance dies
        mine = Autosaver(fresh, period_s=0)
        _offer_restore(None, fresh, mine)
        assert len(asked) == 1
        assert fresh.session == expected
        assert fresh.is_dirty(), "a restored session still needs saving"
        assert fresh.is_busy(), "its files are read in the background (no Ctrl+L)"
        qtbot.waitUntil(lambda: not fresh.is_busy(), timeout=120_000)
        assert mine.session_file.exists(), "the restored session is autosaved anew"
        assert not crashed.folder.exists(), "the crashed copy was adopted"
        third = SessionController()
        try:
            _offer_restore(None, third, Autosaver(third, period_s=0))
        finally:
            third.shutdown()
        assert len(asked) == 1, "a crashed instance's recovery is offered once"
    finally:
        fresh.shutdown()


def _drop(window: MainWindow, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    enter = QDragEnterEvent(QPoint(10, 10), *args)
    window.dragEnterEvent(enter)
    assert enter.isAccepted(), "the window takes file URLs"
    window.dropEvent(QDropEvent(QPointF(10, 10), *args))


def test_drop_a_folder_goes_through_the_import_dialog(
    qtbot: Any, window: MainWindow, demo_dir: Path, monkeypatch: Any
) -> None:
    shown = []

    def accept(dialog: ImportDialog) -> Any:
        shown.append(dialog.root)
        return ImportDialog.DialogCode.Accepted

    monkeypatch.setattr(ImportDialog, "exec", accept)
    with qtbot.waitSignal(window.controller.session_changed):
        _drop(window, demo_dir)
    assert shown == [demo_dir]
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]
    assert window.controller.session.data_root == demo_dir
    assert window.controller.is_busy(), "the import starts reading in the background"
    window.controller.cancel_task()


def test_drop_recording_files_imports_only_those(
    qtbot: Any, window: MainWindow, demo_dir: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        ImportDialog, "exec", lambda self: ImportDialog.DialogCode.Accepted
    )
    _drop(window, demo_dir / "SimCell2.nwb")
    assert window.controller.dataset.cells() == ["SimCell2"]
    window.controller.cancel_task()


def test_recent_files_menu_reopens_sessions_and_folders(
    qtbot: Any, window: MainWindow, demo_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        ImportDialog, "exec", lambda self: ImportDialog.DialogCode.Accepted
    )
    assert window.open_path(demo_dir)
    window.controller.cancel_task()
    session = tmp_path / "saved.json"
    assert window._save_to(session)
    window.controller.set_session(Session())
    window.recent_menu.aboutToShow.emit()
    actions = {a.text(): a for a in window.recent_menu.actions() if a.text()}
    assert list(actions)[:2] == [str(session), str(demo_dir)]
    with qtbot.waitSignal(window.controller.session_changed):
        actions[str(session)].trigger()
    assert window.controller.session.path == session
    assert window.controller.dataset.cells() == ["SimCell1", "SimCell2"]
    actions["Clear the list"].trigger()
    window.recent_menu.aboutToShow.emit()
    assert [a.text() for a in window.recent_menu.actions()] == ["(none)"]


def test_empty_window_says_how_to_open_recordings(
    window: MainWindow, demo_dir: Path
) -> None:
    browser = window.browser
    assert not browser.empty_hint.isHidden()
    assert browser.tree.isHidden()
    assert "drop" in browser.empty_hint.text()
    window.open_path(demo_dir / "config.json")
    assert browser.empty_hint.isHidden()
    assert not browser.tree.isHidden()


def test_help_lists_every_shortcut_and_the_versions(window: MainWindow) -> None:
    import efel
    import numpy
    import pyqtgraph

    from efex_gui.widgets.help import about_html, shortcut_html

    sheet = shortcut_html(window)
    native = QKeySequence.SequenceFormat.NativeText
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(native)
        if keys:
            assert keys in sheet, f"{action.text()} ({keys}) is not on the sheet"
    about = about_html()
    for version in (efel.__version__, numpy.__version__, pyqtgraph.__version__):
        assert version in about
    assert "PySide6" in about
    help_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text() == "&Help"
    )
    assert [a.text() for a in help_menu.actions()] == [
        "Keyboard shortcuts",
        "About efex-gui",
    ]


def test_every_control_of_the_browser_plot_and_panel_has_a_tooltip(
    qtbot: Any, window: MainWindow, demo_dir: Path, preferences: Any
) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QHeaderView,
        QLineEdit,
    )

    window.open_path(demo_dir / "config.json")
    dialog = ImportDialog(demo_dir, None, preferences)
    qtbot.addWidget(dialog)
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView)
    # header sections have their own tooltips (the model's headerData); combo
    # boxes' inner line edits and lists show the combo's
    parts = [window.browser, window.plot, window.metadata, window.task_status, dialog]
    missing = []
    for part in parts:
        for widget in part.findChildren(QWidget):
            inner = (
                _has_ancestor(widget, QComboBox)
                or isinstance(widget, QHeaderView)
                or widget.objectName().startswith(QT_INTERNAL)
            )
            if isinstance(widget, kinds) and not inner and not widget.toolTip():
                missing.append(f"{type(part).__name__}: {widget!r}")
    assert not missing, "\n".join(missing)
    toolbar = window.findChild(QToolBar, "main_toolbar")
    assert all(a.toolTip() for a in toolbar.actions() if not a.isSeparator())
    assert all(a.toolTip() for a in window.browser.build_context_menu().actions()
               if not a.isSeparator())  # fmt: skip


def _has_ancestor(widget: Any, kind: type) -> bool:
    parent = widget.parent()
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parent()
    return False


def _tree_rows(window: MainWindow) -> list[tuple[Any, ...]]:
    """Every row of the browser: its path, the shown columns and its check state."""
    model = window.browser.model
    rows = []

    def walk(parent: Any, path: tuple[str, ...]) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            values = tuple(
                model.index(row, c, parent).data() for c in range(model.columnCount())
            )
            check = index.data(Qt.ItemDataRole.CheckStateRole)
            rows.append((path, values, check))
            walk(index, (*path, values[0]))

    walk(model.index(-1, -1), ())
    return rows


def test_session_saved_from_the_window_reopens_identical(
    qtbot: Any, window: MainWindow, demo_dir: Path, tmp_path: Path, preferences: Any
) -> None:
    window.open_path(demo_dir / "config.json")
    load_everything(qtbot, window.controller)
    model = window.browser.model
    cell = model.index(1, 0)
    iv = next(
        model.index(r, 0, cell)
        for r in range(model.rowCount(cell))
        if model.index(r, 0, cell).data() == "IV"
    )
    with qtbot.waitSignal(window.controller.exclusions_changed):
        model.setData(
            model.index(2, 0, iv),
            Qt.CheckState.Unchecked.value,
            Qt.ItemDataRole.CheckStateRole,
        )
    sweep = model.sweep(model.index(0, 0, iv))
    window.controller.select_sweeps([sweep])
    window.metadata.set_field("ljp", "7")
    with qtbot.waitSignal(window.controller.entries_loaded, timeout=60_000):
        window.metadata.apply()
    qtbot.waitUntil(lambda: not window.controller.is_busy(), timeout=60_000)
    path = tmp_path / "study" / "session.json"
    assert window._save_to(path)
    before = _tree_rows(window)

    other = main_window(qtbot, SessionController(), preferences)
    try:
        assert other.open_path(path)
        load_everything(qtbot, other.controller)
        assert other.controller.session == window.controller.session
        assert _tree_rows(other) == before
        assert other.controller.dataset.config(sweep.entry_key)["ljp"] == 7.0
    finally:
        other.controller.shutdown()
        other.controller.blockSignals(True)  # its window goes first at teardown


def test_unreadable_file_shows_its_reason_in_the_tree_and_the_plot(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    from efex_gui.widgets.recording_tree_model import STATUS

    (tmp_path / "B6").mkdir()
    for name in ("B6_Ch0_IDRest_190.ibw", "B6_Ch3_IDRest_190.ibw"):
        (tmp_path / "B6" / name).write_bytes(b"\x00" * 100)  # truncated wave
    fm = {"B6": {"IDRest": [{
        "i_file": "B6/B6_Ch0_IDRest_190.ibw", "v_file": "B6/B6_Ch3_IDRest_190.ibw",
        "i_unit": "pA", "v_unit": "mV", "t_unit": "s",
    }]}}  # fmt: skip
    window.controller.new_session(fm, tmp_path)
    load_everything(qtbot, window.controller)
    (sweep,) = window.controller.dataset.sweeps("B6", "IDRest")
    index = window.browser.model.index_of_sweep(sweep, STATUS)
    status = index.data()
    assert status.startswith("unreadable: B6_Ch3_IDRest_190.ibw:"), status
    assert str(tmp_path) not in status, "the file column has the path"
    assert str(tmp_path) in index.data(Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(window.plot.drawn) as drawn:
        window.controller.select_sweeps([sweep])
    assert drawn.args == [0]
    assert "nothing to draw (unreadable: B6_Ch3" in window.plot.title.text()


def test_implausible_units_are_flagged_in_the_tree_and_fixed_from_the_panel(
    qtbot: Any, window: MainWindow
) -> None:
    from efex_gui.widgets.recording_tree_model import STATUS
    from tests.conftest import shared_path
    from tests.gui.helpers import b6b8_files_metadata

    fm = b6b8_files_metadata(1)
    fm["MouseNeuron1"]["IDRest"][0]["v_unit"] = "V"  # the numbers are mV
    window.controller.new_session(fm, shared_path("bluepyefe-exp-data"))
    load_everything(qtbot, window.controller)
    (sweep,) = window.controller.dataset.sweeps("MouseNeuron1", "IDRest")
    index = window.browser.model.index_of_sweep(sweep, STATUS)
    assert "⚠" in index.data()
    assert 'looks like "mV"' in index.data(Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(window.plot.drawn):
        window.controller.select_sweeps([sweep])
    assert "⚠ 2 warnings" in window.plot.title.text()
    assert "looks like" in window.plot.title.toolTip()
    qtbot.waitUntil(lambda: bool(window.metadata.fix_buttons))
    (fix,) = window.metadata.fix_buttons
    fix.click()
    signals = [window.controller.entries_loaded, window.plot.drawn]
    with qtbot.waitSignals(signals, timeout=60_000):
        window.metadata.apply_button.click()
    index = window.browser.model.index_of_sweep(sweep, STATUS)
    assert index.data() == "ok"
    assert window.plot.voltage_items[0].yData.max() < 80  # mV again
