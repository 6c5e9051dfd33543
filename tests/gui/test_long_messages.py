"""A long status text or error never widens the window: elided, full text in a tip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.app.extraction_worker import ExtractionError
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController

LONG = "Cannot read /very/long/path/" + "deeply/nested/folder/" * 40 + "cell.nwb"


def test_long_messages_are_elided_with_the_full_text_in_the_tooltip(
    qtbot: Any, controller: SessionController, preferences: Any
) -> None:
    window = main_window(qtbot, controller, preferences)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    width = window.width()
    bar = window.extraction_ui["bar"]
    bar._on_failed(ExtractionError("Extraction", LONG, "traceback"))
    window.task_status.setVisible(True)
    window.task_status.label.setText(LONG)
    qtbot.wait(50)  # let the layouts settle (no timing asserted)
    assert window.width() == width
    assert window.minimumSizeHint().width() < 1200
    assert LONG in bar.state.toolTip()
    assert bar.state.elided_text().endswith("…")
    assert window.task_status.label.toolTip() == LONG
