"""The application side of "nothing lost, nothing crashes" (offscreen Qt).

* A corrupt file is a red error row naming the file and the problem, and a file with a
  mislabelled unit shows the guard's warning in its tooltip; no dialog pops up.
* The application killed with SIGKILL leaves its autosave behind, and the next start
  offers it and restores the user's unsaved change.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt", reason="needs pytest-qt")
pytest.importorskip("PySide6", reason="needs PySide6")

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QDialog, QMessageBox

from efex_gui.app.autosave import NOTE_NAME, SESSION_NAME
from efex_gui.app.controller import SessionController
from efex_gui.app.preferences import Preferences
from efex_gui.app.qt_workarounds import pin_singletons
from efex_gui.widgets.main_window import MainWindow
from efex_gui.widgets.recording_tree_model import NAME, RED, STATUS
from tests.reliability.corpus import truncated

if TYPE_CHECKING:
    from collections.abc import Iterator

pin_singletons()
pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, gc_in_gui_thread: None) -> Iterator[MainWindow]:
    """A main window with throw-away preferences; its worker stopped afterwards.

    Cyclic garbage is collected in the GUI thread only, as in tests/gui (deadlock).
    """
    QStandardPaths.setTestModeEnabled(True)
    ini = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    controller = SessionController()
    window = MainWindow(controller, Preferences(ini))
    window.confirm_close = False
    qtbot.addWidget(window)
    yield window
    assert controller.shutdown(), "the worker thread did not stop"


@pytest.fixture
def no_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and answer) every message box or modal dialog the app opens."""
    shown: list[str] = []

    def record(name: str) -> Any:
        def show(*args: Any, **kwargs: Any) -> Any:
            shown.append(f"{name}: {args[1:3]}")
            return QMessageBox.StandardButton.Ok

        return show

    for name in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(record(name)))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append("exec") or 0)
    monkeypatch.setattr(QDialog, "exec", lambda self: shown.append("dialog") or 0)
    return shown


def _rows(model: Any, cell: str, protocol: str) -> list[Any]:
    for r in range(model.rowCount()):
        cell_index = model.index(r, 0)
        if cell_index.data() != cell:
            continue
        for p in range(model.rowCount(cell_index)):
            protocol_index = model.index(p, 0, cell_index)
            if protocol_index.data() == protocol:
                return [
                    model.index(row, NAME, protocol_index)
                    for row in range(model.rowCount(protocol_index))
                ]
    raise AssertionError(f"no row {cell}/{protocol}")


def test_corrupt_file_is_an_error_row_without_a_dialog(
    qtbot: Any,
    window: MainWindow,
    no_dialogs: list[str],
    files_metadata: dict,
    tmp_path: Path,
) -> None:
    bad = truncated(Path(files_metadata["SimCell2"]["IV"][0]["filepath"]), tmp_path)
    files_metadata["SimCell2"]["IV"][0]["filepath"] = str(bad)
    for entry in files_metadata["SimCell1"]["IV"]:
        entry["v_unit"] = "mV"  # the file holds volts: read, flagged
    config = tmp_path / "files_metadata.json"
    config.write_text(json.dumps(files_metadata), encoding="utf-8")
    assert window.open_path(config)
    controller = window.controller
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.load_all()
    qtbot.waitUntil(lambda: not controller._pending_loaded, timeout=10_000)
    model = window.browser.model
    (error,) = _rows(model, "SimCell2", "IV")
    status = error.siblingAtColumn(STATUS)
    assert status.data().startswith("unreadable")
    assert bad.name in status.data()
    assert "truncated" in status.data()
    assert status.data(0x0009).color() == RED  # ForegroundRole
    flagged = _rows(model, "SimCell1", "IV")
    assert flagged
    tooltip = flagged[0].siblingAtColumn(STATUS).data(0x0003)  # ToolTipRole
    assert "fix v_unit" in tooltip
    healthy = _rows(model, "SimCell1", "IDRest")
    assert all(i.siblingAtColumn(STATUS).data().startswith("ok") for i in healthy)
    assert no_dialogs == []


# --- SIGKILL and restart ------------------------------------------------------------

EDIT_AND_RUN = """
import sys
import efex_gui.app.main as app_main
from efex_gui.core.session.exclusions import ExclusionKey

opened = app_main._open_initial

def open_then_edit(args, window, controller, interactive):
    ok = opened(args, window, controller, interactive)
    controller.set_excluded([ExclusionKey("SimCell2", "IV")], True, "killed test")
    return ok

app_main._open_initial = open_then_edit
sys.exit(app_main.main([sys.argv[1], "--no-restore"]))
"""

RESTART = """
import json, sys
from PySide6.QtWidgets import QApplication, QMessageBox
import efex_gui.app.main as app_main

asked, state = [], {}
QMessageBox.question = staticmethod(
    lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
offer = app_main._offer_restore

def offer_and_look(window, controller, autosaver):
    offer(window, controller, autosaver)
    state["controller"] = controller

def report(*args):
    controller = state["controller"]
    session = controller.session
    print(json.dumps({
        "asked": asked,
        "cells": sorted(session.files_metadata),
        "reasons": [str(r) for r in session.exclusions.reasons.values()],
        "dirty": controller.is_dirty(),
    }), flush=True)
    controller.shutdown()  # what closing the window does
    return 0

app_main._offer_restore = offer_and_look
QApplication.exec = report
sys.exit(app_main.main([]))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(ROOT),
    )


def _complete_autosave(folder: Path, text: str) -> Path | None:
    """The instance folder whose autosave holds ``text`` and is complete, if any.

    The autosaver writes ``session.json``, then ``note.json`` (each atomically): a
    copy is only restorable once both are there. Waiting for ``session.json`` alone
    let the kill fall between the two writes under load (then nothing is offered).
    """
    for session in folder.rglob(SESSION_NAME):
        try:
            if text in session.read_text(encoding="utf-8"):
                json.loads((session.parent / NOTE_NAME).read_text(encoding="utf-8"))
                return session.parent
        except (OSError, ValueError):  # not written yet
            pass
    return None


def _wait_for_autosave(folder: Path, text: str, timeout_s: float) -> Path:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        found = _complete_autosave(folder, text)
        if found is not None:
            return found
        time.sleep(0.2)  # polling the condition above, not a fixed delay
    raise AssertionError(f"no complete autosave holding {text!r} in {folder}")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_app_is_restored_from_its_autosave(
    demo_dataset: dict, tmp_path: Path
) -> None:
    config = tmp_path / "files_metadata.json"
    config.write_text(json.dumps(demo_dataset), encoding="utf-8")
    env = _env(tmp_path)
    app = subprocess.Popen(
        [sys.executable, "-c", EDIT_AND_RUN, str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        recovery = _wait_for_autosave(tmp_path / "data", "killed test", 120)
    finally:
        app.send_signal(signal.SIGKILL)
        _, stderr = app.communicate(timeout=60)
    assert app.returncode == -signal.SIGKILL, stderr
    assert recovery.parent.name == "recovery", "one folder per instance"
    restart = subprocess.run(
        [sys.executable, "-c", RESTART],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restart.returncode == 0, restart.stderr
    state = json.loads(restart.stdout.strip().splitlines()[-1])
    assert len(state["asked"]) == 1
    assert "did not close cleanly" in state["asked"][0]
    assert state["cells"] == ["SimCell1", "SimCell2"]
    assert "killed test" in json.dumps(state["reasons"])
    assert state["dirty"] is True
