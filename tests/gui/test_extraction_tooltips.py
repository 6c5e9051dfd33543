"""Every control of the extraction UI explains itself in a tooltip."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from tests.gui.helpers import main_window

CONTROLS = (
    QAbstractButton,
    QComboBox,
    QAbstractSpinBox,
    QLineEdit,
    QProgressBar,
    QAbstractItemView,
)


def _untipped(root: QWidget) -> list[str]:
    missing = []
    for kind in CONTROLS:
        for child in root.findChildren(kind):
            inner = isinstance(child.parent(), QComboBox | QAbstractSpinBox)
            popup = (
                isinstance(child, QAbstractItemView)
                and not child.isWindow()
                and (child.window() is not root.window())
            )
            if (
                inner
                or popup
                or isinstance(child, QHeaderView)
                or child.objectName() == "qt_tableview_cornerbutton"
            ):
                continue
            if not child.toolTip():
                text = getattr(child, "text", lambda: "")()
                missing.append(f"{type(child).__name__} {text!r}")
    return missing


def test_every_extraction_control_has_a_tooltip(
    qtbot: Any, controller: Any, preferences: Any
) -> None:
    window = main_window(qtbot, controller, preferences)
    ui = window.extraction_ui
    settings = ui["settings"]
    missing: dict[str, list[str]] = {}
    for strategy in ("absolute", "flush", "majority", "interpolation"):
        settings.strategy.setCurrentText(strategy)  # each strategy's own fields
        for name in (
            "bar",
            "targets",
            "settings",
            "rheobase",
            "feature_plot",
            "results",
        ):
            untipped = _untipped(ui[name])
            if untipped:
                missing[f"{name} ({strategy})"] = untipped
    assert missing == {}
    assert window.extraction.shutdown()
