"""Helpers shared by the GUI tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController
    from efex_gui.widgets.main_window import MainWindow

B6_UNITS = {"i_unit": "pA", "v_unit": "mV", "t_unit": "s", "dt": 0.00025, "ljp": 14.0}


def b6b8_files_metadata(n_per_cell: int = 5) -> dict[str, Any]:
    """BluePyEfe's B6/B8 test cells, paths relative to bluepyefe-exp-data."""
    sweeps = {"B6": range(181, 186), "B8": range(145, 150)}
    return {
        f"MouseNeuron{i + 1}": {"IDRest": [
            {"i_file": f"{cell}/{cell}_Ch0_IDRest_{n}.ibw",
             "v_file": f"{cell}/{cell}_Ch3_IDRest_{n}.ibw", **B6_UNITS}
            for n in list(numbers)[:n_per_cell]
        ]}
        for i, (cell, numbers) in enumerate(sweeps.items())
    }  # fmt: skip


def load_everything(qtbot: Any, controller: SessionController) -> None:
    """Read every entry and wait until the reading task has ended."""
    if not controller.dataset.entry_keys():
        return
    with qtbot.waitSignal(controller.task_finished, timeout=120_000):
        controller.load_all()
    qtbot.waitUntil(lambda: not controller._pending_loaded, timeout=5000)


class Answer:
    """Answers the next modal message box with the button labelled ``button``."""

    def __init__(self, button: str) -> None:
        self.button = button
        self.texts: list[str] = []
        QTimer.singleShot(0, self._click)

    def _click(self) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        self.texts.append(box.text())
        next(b for b in box.buttons() if b.text() == self.button).click()


def main_window(
    qtbot: Any, controller: SessionController | None = None, preferences: Any = None
) -> MainWindow:
    """A main window owned by ``qtbot`` that closes without asking.

    ``controller``: a new one when None; ``preferences``: the window's default.
    """
    from efex_gui.app.controller import SessionController
    from efex_gui.widgets.main_window import MainWindow

    window = MainWindow(controller or SessionController(), preferences)
    window.confirm_close = False
    qtbot.addWidget(window)
    return window
