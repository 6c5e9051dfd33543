"""SettingsPanel: each field edits the session settings; impossible values refused."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.extraction.read_and_extract import (
    DEFAULT_EFEL_SETTINGS,
    PRESET_PROTOCOLS_RHEOBASE,
)
from efex_gui.core.session.document import ExtractionSettings
from efex_gui.resources import load_default
from efex_gui.widgets.settings_panel import SettingsPanel
from tests.gui.extraction_helpers import open_demo

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def panel(controller: Any, demo_dir: Path, qtbot: Any) -> Iterator[SettingsPanel]:
    open_demo(controller, demo_dir)
    extraction = ExtractionController(controller)
    widget = SettingsPanel(extraction)
    qtbot.addWidget(widget)
    yield widget
    assert extraction.shutdown()


def _settings(panel: SettingsPanel) -> ExtractionSettings:
    return panel.controller.settings


def test_defaults_file_matches_the_core() -> None:
    spec = load_default("settings")
    assert spec["default_efel_settings"] == DEFAULT_EFEL_SETTINGS
    assert spec["preset_protocols_rheobase"] == PRESET_PROTOCOLS_RHEOBASE
    assert ExtractionSettings.from_dict(spec["settings"]) == ExtractionSettings()
    from efex_gui.core.rheobase.strategies import STRATEGIES

    assert list(spec["rheobase_strategies"]) == list(STRATEGIES)


def test_shows_the_session_settings(panel: SettingsPanel) -> None:
    settings = _settings(panel)
    assert not panel.efel_default.isChecked()
    assert (
        panel.efel_fields["Threshold"].editor.value()
        == (settings.efel_settings["Threshold"])
    )
    checked = [
        panel.protocol_list.item(i).text()
        for i in range(panel.protocol_list.count())
        if panel.protocol_list.item(i).checkState() == Qt.CheckState.Checked
    ]
    assert sorted(checked) == sorted(settings.protocols_rheobase)
    assert panel.strategy.currentText() == settings.rheobase_strategy
    assert panel.relative.isChecked()


def test_efel_fields(panel: SettingsPanel) -> None:
    panel.efel_fields["Threshold"].editor.setValue(-10.0)
    assert _settings(panel).efel_settings["Threshold"] == -10.0
    panel.efel_fields["Threshold"].enabled.setChecked(False)
    assert "Threshold" not in _settings(panel).efel_settings
    panel.efel_other.setText("max_spike_skip=2")
    panel.efel_other.editingFinished.emit()
    assert _settings(panel).efel_settings["max_spike_skip"] == 2
    panel.efel_default.setChecked(True)
    assert _settings(panel).efel_settings is None
    assert not panel.efel_fields["interp_step"].editor.isEnabled()
    panel.efel_default.setChecked(False)
    assert _settings(panel).efel_settings == DEFAULT_EFEL_SETTINGS


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Treshold=-10", "Treshold"),
        ("Threshold=-10", "own field"),
        ("interp_step", "name=value"),
    ],
)
def test_impossible_efel_text_is_refused(
    panel: SettingsPanel, text: str, reason: str
) -> None:
    before = _settings(panel)
    panel.efel_other.setText(text)
    panel.efel_other.editingFinished.emit()
    assert _settings(panel) == before
    assert reason in panel.message.text()
    assert panel.efel_other.text() == ""  # the shown value is the stored one


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1e9"])
def test_impossible_std_value_is_refused(panel: SettingsPanel, text: str) -> None:
    panel.std_value.setText(text)
    panel.std_value.editingFinished.emit()
    assert _settings(panel).default_std_value == 1e-3
    assert "default_std_value" in panel.message.text()
    panel.std_value.setText("0.01")
    panel.std_value.editingFinished.emit()
    assert _settings(panel).default_std_value == 0.01
    assert panel.message.text() == ""


def test_spin_boxes_cannot_hold_impossible_values(panel: SettingsPanel) -> None:
    panel.nvalue.setValue(0)
    assert _settings(panel).threshold_nvalue_save == 1
    panel.efel_fields["interp_step"].editor.setValue(-1.0)
    assert _settings(panel).efel_settings["interp_step"] > 0


def test_rheobase_strategy_and_its_settings(panel: SettingsPanel) -> None:
    panel.strategy.setCurrentText("majority")
    assert (_settings(panel).rheobase_strategy, _settings(panel).rheobase_settings) == (
        "majority",
        None,
    )
    assert set(panel.strategy_fields) == {"min_step", "majority", "binning"}
    panel.strategy_fields["min_step"].editor.setValue(0.02)
    assert _settings(panel).rheobase_settings == {
        "min_step": 0.02,
        "majority": 0.5,
        "binning": "compat",
    }
    panel.strategy.setCurrentText("flush")
    panel.strategy_fields["upper_bound_spikecount"].enabled.setChecked(True)
    panel.strategy_fields["upper_bound_spikecount"].editor.setValue(4)
    assert _settings(panel).rheobase_settings == {
        "flush_length": 1,
        "upper_bound_spikecount": 4,
    }
    panel.strategy_fields["upper_bound_spikecount"].enabled.setChecked(False)
    assert _settings(panel).rheobase_settings["upper_bound_spikecount"] is None


def test_protocols_amplitude_mode_and_output(panel: SettingsPanel) -> None:
    item = next(
        panel.protocol_list.item(i)
        for i in range(panel.protocol_list.count())
        if panel.protocol_list.item(i).text() == "IV"
    )
    item.setCheckState(Qt.CheckState.Checked)
    assert "IV" in _settings(panel).protocols_rheobase
    panel.protocols_default.setChecked(True)
    assert _settings(panel).protocols_rheobase is None
    panel.absolute.setChecked(True)
    assert _settings(panel).absolute_amplitude
    panel.protocol_mode.setCurrentText("median")
    panel.nvalue.setValue(3)
    settings = _settings(panel)
    assert (settings.protocol_mode, settings.threshold_nvalue_save) == ("median", 3)


def test_reset_and_undo(panel: SettingsPanel) -> None:
    original = _settings(panel)
    panel.reset_button.click()
    assert _settings(panel) == ExtractionSettings()
    assert panel.efel_default.isChecked()
    assert panel.protocols_default.isChecked()
    panel.controller.sc.undo_stack.undo()
    assert _settings(panel) == original
    assert dataclasses.asdict(panel.read_settings()) == dataclasses.asdict(original)


def _wheel(widget: Any) -> bool:
    """Send one notch down to ``widget``; whether it took the event."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    widget.wheelEvent(event)
    return event.isAccepted()


def test_the_wheel_scrolls_the_panel_and_changes_a_spin_box_only_when_focused(
    panel: SettingsPanel, qtbot: Any
) -> None:
    """Scrolling the settings panel over a spin box changed its value."""
    # (Qt's own propagation to the scroll area is not simulated by a sent event)
    from PySide6.QtWidgets import QAbstractSpinBox

    panel.resize(400, 300)
    panel.show()
    qtbot.waitExposed(panel)
    boxes = [b for b in panel.findChildren(QAbstractSpinBox) if b.isEnabled()]
    assert boxes, "the panel has enabled spin boxes"
    for box in boxes:
        box.setValue((box.minimum() + box.maximum()) / 2 if box.maximum() < 1e6 else 5)
        before = box.value()
        assert not _wheel(box), "left to the panel (Qt hands it to the parent)"
        assert box.value() == before
        assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives none
        box.setFocus()
        qtbot.waitUntil(box.hasFocus)
        _wheel(box)
        assert box.value() != before, "a focused spin box takes the wheel"
