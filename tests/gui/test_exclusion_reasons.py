"""Exclusion reasons: a short list of common ones (editable) plus free text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QInputDialog

from efex_gui.app.preferences import DEFAULT_EXCLUSION_REASONS
from tests.gui.helpers import main_window
from tests.gui.test_file_browser import _row

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController


def test_common_reasons_free_text_and_the_edited_list(
    qtbot: Any,
    controller: SessionController,
    preferences: Any,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    window = main_window(qtbot, controller, preferences)
    window.open_path(demo_dir / "config.json")
    controller.cancel_task()
    browser, model = window.browser, window.browser.model
    assert preferences.exclusion_reasons() == list(DEFAULT_EXCLUSION_REASONS)
    assert {"noisy baseline", "drift", "unstable access", "clipped", "failed step",
            "wrong protocol", "other"} <= set(DEFAULT_EXCLUSION_REASONS)  # fmt: skip

    # the list is edited in the window (kept in the preferences)
    monkeypatch.setattr(
        QInputDialog, "getMultiLineText", lambda *a: ("drift\nseal lost\n\n", True)
    )
    window.edit_reasons_action.trigger()
    assert preferences.exclusion_reasons() == ["drift", "seal lost"]

    # one click on a common reason
    iv = _row(model, "SimCell2", "IV")
    browser.tree.setCurrentIndex(iv)
    menu = browser.build_context_menu()
    because = next(a.menu() for a in menu.actions() if a.text() == "Exclude because")
    assert [a.text() for a in because.actions()] == ["drift", "seal lost"]
    next(a for a in because.actions() if a.text() == "seal lost").trigger()
    key = model.exclusion_key(iv)
    assert controller.session.exclusions.reason(key) == "seal lost"

    # or free text in the reason dialog, which offers the same list
    offered: list[list[str]] = []

    def get_item(*args: Any) -> tuple[str, bool]:
        offered.append(list(args[3]))
        return ("bridge balance off", True)

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    apw = _row(model, "SimCell1", "APWaveform")
    browser.tree.setCurrentIndex(apw)
    window.exclude_reason_action.trigger()
    assert offered == [["", "drift", "seal lost"]]
    assert controller.session.exclusions.reason(model.exclusion_key(apw)) == (
        "bridge balance off"
    )

    # saved with the session
    assert window._save_to(tmp_path / "s.json")
    saved = json.loads((tmp_path / "s.json").read_text())["exclusions"]
    assert {e["reason"] for e in saved} == {"seal lost", "bridge balance off"}
